import PolicyLedgerDomain
import PolicyLedgerEventLog

// The binary layout of projection rows (layout version 2). Rows are derived data: they are never
// hashed, never exported, and a rebuild rewrites them all, so the layout favours size and reading
// in place over readability (`policy-ledger rows` prints any row as JSON). ARCHITECTURE.md
// describes every row byte by byte.
//
// Primitives:
// - `varint`: unsigned LEB128 (7 bits a byte, low group first, high bit = more follows);
// - `string`: varint byte length, then UTF-8 (NFC, as the events hold it);
// - `date`: an `EffectiveDate` as its canonical text (`2020-06-D1`, `FY2020~`) in a `string`;
// - `decimal`: a `LedgerDecimal` as its canonical text (`43153`, `30.0`) in a `string`;
// - `optional`: one byte, 0 absent or 1 present, then the value;
// - `bool?`: one byte, 0 absent, 1 false, 2 true;
// - `list`: varint count, then the items.

/// The version byte that starts every state and series row of this layout.
let rowLayoutVersion: UInt8 = 2

/// A row that is not one of this layout (damaged bytes, or a row of another version).
struct RowFormatError: Error, CustomStringConvertible {
  let reason: String
  let offset: Int
  var description: String { "\(reason) at byte \(offset)" }
}

/// Appends the primitives above to a byte array.
struct RowWriter {
  private(set) var bytes: [UInt8] = []

  init(version: UInt8 = rowLayoutVersion) {
    bytes.reserveCapacity(96)
    bytes.append(version)
  }

  mutating func byte(_ b: UInt8) { bytes.append(b) }

  mutating func varint(_ value: UInt64) {
    var v = value
    while v >= 0x80 {
      bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
      v >>= 7
    }
    bytes.append(UInt8(v))
  }

  mutating func string(_ s: String) {
    var s = s
    s.withUTF8 { utf8 in
      varint(UInt64(utf8.count))
      bytes.append(contentsOf: utf8)
    }
  }

  mutating func date(_ d: EffectiveDate) { string(d.description) }
  mutating func decimal(_ d: LedgerDecimal) { string(d.description) }
  mutating func timestamp(_ t: LedgerTimestamp) { varint(UInt64(bitPattern: t.microseconds)) }

  mutating func optional<T>(_ value: T?, _ write: (inout RowWriter, T) -> Void) {
    guard let value else { return byte(0) }
    byte(1)
    write(&self, value)
  }

  mutating func bool(_ value: Bool?) { byte(value.map { $0 ? 2 : 1 } ?? 0) }

  mutating func list<T>(_ items: [T], _ write: (inout RowWriter, T) -> Void) {
    varint(UInt64(items.count))
    for item in items { write(&self, item) }
  }

  mutating func term<E: RawRepresentable>(_ value: E) where E.RawValue == String { string(value.rawValue) }
}

/// Reads the primitives above from a row in place (no copy of the row; strings are made only
/// for the fields read). Every read is bounds-checked: damaged bytes throw ``RowFormatError``.
struct RowReader: ~Copyable {
  private let base: UnsafeRawBufferPointer
  private(set) var offset: Int

  /// Starts after the version byte, which must be ``rowLayoutVersion``.
  init(_ buffer: UnsafeRawBufferPointer) throws {
    base = buffer
    offset = 0
    let version = try byte()
    guard version == rowLayoutVersion else {
      throw RowFormatError(reason: "a row of layout version \(version), not \(rowLayoutVersion) (run `policy-ledger rebuild`)", offset: 0)
    }
  }

  func fail(_ reason: String) -> RowFormatError { RowFormatError(reason: reason, offset: offset) }

  mutating func byte() throws -> UInt8 {
    guard offset < base.count else { throw fail("the row ends early") }
    defer { offset += 1 }
    return base[offset]
  }

  mutating func varint() throws -> UInt64 {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      let b = try byte()
      guard shift < 64, shift < 63 || b <= 1 else { throw fail("a number too long for 64 bits") }
      result |= UInt64(b & 0x7F) << shift
      if b < 0x80 { return result }
      shift += 7
    }
  }

  mutating func count(max: Int = 1 << 24) throws -> Int {
    let n = try varint()
    guard n <= UInt64(max), n <= UInt64(base.count - offset) else { throw fail("a count (\(n)) larger than the row") }
    return Int(n)
  }

  mutating func string() throws -> String {
    let n = try count()
    guard let s = String(validating: UnsafeRawBufferPointer(rebasing: base[offset..<(offset + n)]), as: UTF8.self) else {
      throw fail("text that is not UTF-8")
    }
    offset += n
    return s
  }

  /// Skips a string without making it.
  mutating func skipString() throws { offset += try count() }

  mutating func date() throws -> EffectiveDate {
    let text = try string()
    guard let d = EffectiveDate(canonical: text) else { throw fail("\"\(text)\" is not a canonical effective date") }
    return d
  }

  mutating func decimal() throws -> LedgerDecimal {
    let text = try string()
    guard let d = LedgerDecimal(text) else { throw fail("\"\(text)\" is not a decimal") }
    return d
  }

  mutating func timestamp() throws -> LedgerTimestamp { LedgerTimestamp(microseconds: Int64(bitPattern: try varint())) }

  mutating func optional<T>(_ read: (inout RowReader) throws -> T) throws -> T? {
    switch try byte() {
    case 0: return nil
    case 1: return try read(&self)
    case let b: throw fail("presence byte \(b), not 0 or 1")
    }
  }

  mutating func bool() throws -> Bool? {
    switch try byte() {
    case 0: return nil
    case 1: return false
    case 2: return true
    case let b: throw fail("boolean byte \(b)")
    }
  }

  mutating func list<T>(_ read: (inout RowReader) throws -> T) throws -> [T] {
    let n = try count()
    var out: [T] = []
    out.reserveCapacity(n)
    for _ in 0..<n { out.append(try read(&self)) }
    return out
  }

  mutating func term<E: RawRepresentable>(_ type: E.Type) throws -> E where E.RawValue == String {
    let text = try string()
    guard let value = E(rawValue: text) else { throw fail("\"\(text)\" is not a \(E.self)") }
    return value
  }

  /// The row must end here.
  func finish() throws {
    guard offset == base.count else { throw fail("\(base.count - offset) bytes after the end of the row") }
  }
}

/// Runs `body` over a row's bytes, checking that it reads the whole row.
func readRow<T>(_ bytes: some Collection<UInt8>, _ body: (inout RowReader) throws -> T) throws -> T {
  try withRowBuffer(bytes) { buffer in
    var reader = try RowReader(buffer)
    let value = try body(&reader)
    try reader.finish()
    return value
  }
}

/// Runs `body` over the start of a row, without requiring it to read to the end (for the few
/// fields a validation needs, read in place).
func peekRow<T>(_ bytes: some Collection<UInt8>, _ body: (inout RowReader) throws -> T) throws -> T {
  try withRowBuffer(bytes) { buffer in
    var reader = try RowReader(buffer)
    return try body(&reader)
  }
}

private func withRowBuffer<T>(_ bytes: some Collection<UInt8>, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
  if let result = try bytes.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) { return result }
  return try Array(bytes).withUnsafeBytes(body)
}
