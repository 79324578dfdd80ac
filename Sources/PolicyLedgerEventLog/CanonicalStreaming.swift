/// Writes canonical JSON (see ``CanonicalValue``) straight into bytes, for types that know their
/// own fields: no intermediate ``CanonicalValue`` tree, no `Codable` containers.
///
/// The caller writes each object's keys in canonical order (sorted by their UTF-8 bytes) and
/// leaves absent optional fields out; the writer places the commas and colons. Projections use
/// it for the entity states they store on every event (the `Codable` bridge cost ten times more,
/// BENCHMARKS.md); tests check its bytes against ``CanonicalEncoder`` for the same values.
package struct CanonicalWriter {
  package private(set) var bytes: [UInt8]
  private var needsComma = false

  package init(capacity: Int = 512) {
    bytes = []
    bytes.reserveCapacity(capacity)
  }

  @inline(__always) private mutating func separate() {
    if needsComma { bytes.append(UInt8(ascii: ",")) }
  }

  package mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); needsComma = false }
  package mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma = true }
  package mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); needsComma = false }
  package mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma = true }

  /// A member name known to be ASCII with nothing to escape (a Swift property name).
  package mutating func key(_ name: StaticString) {
    separate()
    bytes.append(UInt8(ascii: "\""))
    name.withUTF8Buffer { bytes.append(contentsOf: $0) }
    bytes.append(UInt8(ascii: "\""))
    bytes.append(UInt8(ascii: ":"))
    needsComma = false
  }

  /// A member name from data (a dictionary key), normalised and escaped like any string.
  package mutating func key(_ name: String) {
    separate()
    CanonicalValue.writeString(name, into: &bytes)
    bytes.append(UInt8(ascii: ":"))
    needsComma = false
  }

  package mutating func string(_ value: String) {
    separate()
    CanonicalValue.writeString(value, into: &bytes)
    needsComma = true
  }

  package mutating func integer(_ value: UInt64) {
    separate()
    if value == 0 {
      bytes.append(UInt8(ascii: "0"))
    } else {
      var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                   UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
      var n = value
      var count = 0
      withUnsafeMutableBytes(of: &digits) { d in
        while n > 0 { d[19 - count] = UInt8(ascii: "0") + UInt8(n % 10); n /= 10; count += 1 }
        bytes.append(contentsOf: d[(20 - count)...])
      }
    }
    needsComma = true
  }

  /// A signed integer (canonical: `-` and the digits of its magnitude, never `-0`).
  package mutating func signedInteger(_ value: Int64) {
    if value < 0 {
      separate()
      bytes.append(UInt8(ascii: "-"))
      needsComma = false
      integer(value.magnitude)
    } else {
      integer(UInt64(value))
    }
  }

  /// A whole value, written by its own canonical rules.
  package mutating func value(_ value: CanonicalValue) throws {
    separate()
    try value.write(into: &bytes)
    needsComma = true
  }

  package mutating func bool(_ value: Bool) {
    separate()
    bytes.append(contentsOf: value ? [0x74, 0x72, 0x75, 0x65] : [0x66, 0x61, 0x6C, 0x73, 0x65])
    needsComma = true
  }
}

/// Reads canonical JSON written by ``CanonicalWriter`` (or ``CanonicalValue``) field by field,
/// in one pass over the bytes, without building a ``CanonicalValue`` tree.
///
/// Strict: no whitespace, no `null`; any other input is refused with a ``JSONSyntaxError``
/// naming the byte offset. Callers refuse unknown member names, so a snapshot written by a
/// different version of the ledger is reported, not misread.
package struct CanonicalReader: ~Copyable {
  private var parser: JSONParser
  /// Just inside an object or array, before its first member or element.
  private var first = false

  /// A reader over `buffer`, which must outlive it and hold exactly one value (call
  /// ``finish()`` after reading it). Not generic, so that callers in other modules run
  /// specialised code.
  package init(_ buffer: UnsafeRawBufferPointer) { parser = JSONParser(buffer: buffer) }

  /// Refuses bytes left after the value.
  package func finish() throws {
    guard parser.index == parser.buffer.count else { throw fail("unexpected bytes after the value") }
  }

  package func fail(_ message: String) -> JSONSyntaxError { parser.fail(message) }

  private mutating func expect(_ byte: UInt8, _ what: String) throws {
    guard parser.index < parser.buffer.count, parser.buffer[parser.index] == byte else { throw fail("expected \(what)") }
    parser.index += 1
  }

  private mutating func peek(_ byte: UInt8) -> Bool {
    parser.index < parser.buffer.count && parser.buffer[parser.index] == byte
  }

  /// Enters an object; then call ``nextKey()`` until it returns `nil`, reading each member's
  /// value after its name. (A loop, not a callback: closures that capture the caller's
  /// variables cost a heap box and a metadata lookup each.)
  package mutating func beginObject() throws {
    try expect(UInt8(ascii: "{"), "'{'")
    first = true
  }

  /// The next member name of the object being read, or `nil` after its closing brace.
  package mutating func nextKey() throws -> String? {
    if peek(UInt8(ascii: "}")) { parser.index += 1; first = false; return nil }
    if !first { try expect(UInt8(ascii: ","), "',' or '}'") }
    first = false
    guard peek(UInt8(ascii: "\"")) else { throw fail("expected a member name") }
    let name = try parser.parseString()
    try expect(UInt8(ascii: ":"), "':'")
    return name
  }

  /// Enters an array; then call ``nextElement()`` until it returns `false`, reading one
  /// element each time it returns `true`.
  package mutating func beginArray() throws {
    try expect(UInt8(ascii: "["), "'['")
    first = true
  }

  /// Whether another element follows (`false` after the closing bracket).
  package mutating func nextElement() throws -> Bool {
    if peek(UInt8(ascii: "]")) { parser.index += 1; first = false; return false }
    if !first { try expect(UInt8(ascii: ","), "',' or ']'") }
    first = false
    return true
  }

  package mutating func string() throws -> String {
    guard peek(UInt8(ascii: "\"")) else { throw fail("expected a string") }
    return try parser.parseString()
  }

  package mutating func integer() throws -> UInt64 {
    var value: UInt64 = 0
    let start = parser.index
    while parser.index < parser.buffer.count, case let b = parser.buffer[parser.index], b >= 0x30, b <= 0x39 {
      let (m, o1) = value.multipliedReportingOverflow(by: 10)
      let (s, o2) = m.addingReportingOverflow(UInt64(b - 0x30))
      guard !o1, !o2 else { throw fail("integer out of range") }
      value = s
      parser.index += 1
    }
    guard parser.index > start else { throw fail("expected an unsigned integer") }
    return value
  }

  package mutating func bool() throws -> Bool {
    if peek(UInt8(ascii: "t")) { try parser.expectLiteral("true"); return true }
    try parser.expectLiteral("false")
    return false
  }

  /// A string converted by `convert`; `what` names the expected form in the error.
  package mutating func string<T>(as what: String, _ convert: (String) -> T?) throws -> T {
    let start = parser.index
    let text = try string()
    guard let value = convert(text) else { throw parser.fail("\"\(text)\" is not \(what)", at: start) }
    return value
  }

  /// A string that `convert` accepts; `what` names the expected form in the error.
  package mutating func string(as what: String, _ convert: (String) -> Bool) throws -> String {
    let start = parser.index
    let text = try string()
    guard convert(text) else { throw parser.fail("\"\(text)\" is not \(what)", at: start) }
    return text
  }

  package mutating func decimal() throws -> LedgerDecimal { try string(as: "a decimal") { LedgerDecimal($0) } }
  package mutating func date() throws -> EffectiveDate { try string(as: "a canonical date", EffectiveDate.init(canonical:)) }
  package mutating func timestamp() throws -> LedgerTimestamp { try string(as: "a UTC timestamp", LedgerTimestamp.init(canonical:)) }
  package mutating func sequence() throws -> SequenceNumber { SequenceNumber(try integer()) }
}

extension CanonicalWriter {
  package mutating func decimal(_ value: LedgerDecimal) { string(value.description) }
  package mutating func date(_ value: EffectiveDate) { string(value.description) }
  package mutating func timestamp(_ value: LedgerTimestamp) { string(value.description) }
  package mutating func sequence(_ value: SequenceNumber) { integer(value.rawValue) }
}
