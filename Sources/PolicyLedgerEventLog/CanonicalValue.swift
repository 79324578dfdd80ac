import Foundation

/// A JSON value in the ledger's canonical form: the one byte-exact encoding that every event's
/// hash is computed over (ARCHITECTURE.md, "Canonical encoding", says it byte by byte).
///
/// - Objects: keys sorted by their UTF-8 bytes, no duplicates, no whitespace anywhere.
/// - Strings: UTF-8 in Unicode Normalization Form C; `"` and `\` escaped as `\"` and `\\`;
///   U+0008, U+0009, U+000A, U+000C, U+000D as `\b \t \n \f \r`; other code points below U+0020
///   as `\u00xx` (lower-case hex); everything else written as itself.
/// - Numbers: integers only (`0`, `-12`, no leading zeros, no fraction or exponent). Decimal
///   quantities are strings (see ``LedgerDecimal``), so no binary floating point ever appears.
/// - `true`, `false`. There is no `null`: an absent field is omitted.
public enum CanonicalValue: Sendable, Hashable {
  case string(String)
  /// A number, kept as its literal text. Canonical bytes only ever hold integers; the parser also
  /// accepts fractions and exponents on input, kept as written, for a decimal field to read.
  case number(String)
  case bool(Bool)
  case array([CanonicalValue])
  case object([String: CanonicalValue])

  /// An integer value.
  public static func integer<I: BinaryInteger>(_ value: I) -> CanonicalValue { .number(String(value)) }

  /// The canonical bytes of this value.
  /// - Throws: ``CanonicalEncodingError`` when a number is not an integer literal.
  public func canonicalBytes() throws -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(256)
    try write(into: &out)
    return out
  }

  /// Appends the canonical bytes of this value to `out`.
  public func write(into out: inout [UInt8]) throws {
    switch self {
    case .string(let s): CanonicalValue.writeString(s, into: &out)
    case .number(let n):
      guard CanonicalValue.isCanonicalInteger(n) else {
        throw CanonicalEncodingError(message: "the number \(n) is not an integer; decimals are written as strings")
      }
      out.append(contentsOf: n.utf8)
    case .bool(let b): out.append(contentsOf: b ? Array("true".utf8) : Array("false".utf8))
    case .array(let items):
      out.append(UInt8(ascii: "["))
      for (i, item) in items.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        try item.write(into: &out)
      }
      out.append(UInt8(ascii: "]"))
    case .object(let members):
      out.append(UInt8(ascii: "{"))
      for (i, key) in CanonicalValue.canonicalOrder(members.keys).enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        CanonicalValue.writeString(key, into: &out)
        out.append(UInt8(ascii: ":"))
        try members[key]!.write(into: &out)
      }
      out.append(UInt8(ascii: "}"))
    }
  }

  /// Object member names in canonical order: sorted by the UTF-8 bytes of their NFC form.
  package static func canonicalOrder(_ keys: some Collection<String>) -> [String] {
    // ASCII keys (every key of the council's payloads) are NFC as they are, and for them the
    // order of Swift's strings is the order of their bytes.
    if keys.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }) {
      return keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
    return keys.map { (key: $0, bytes: Array(normalized($0).utf8)) }
      .sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
      .map(\.key)
  }

  /// NFC, with a fast path for text that is NFC already by construction.
  static func normalized(_ s: String) -> String {
    if s.utf8.allSatisfy({ $0 < 0x80 }) { return s }
    if s.unicodeScalars.allSatisfy(isStableUnderNFC) { return s }
    return s.precomposedStringWithCanonicalMapping
  }

  /// Code points that are NFC on their own and never combine with a neighbour (canonical
  /// combining class 0, no canonical decomposition, not produced by composition with a following
  /// mark): Latin-1, CJK symbols and punctuation, hiragana and katakana (without the combining
  /// sound marks U+3099 and U+309A), CJK ideographs, full- and half-width forms, and the
  /// dashes, quotes and enclosed numbers (①, ❶) the council's documents print. A string made
  /// only of these is NFC as it stands, so Japanese text skips Foundation's normaliser.
  @inline(__always)
  static func isStableUnderNFC(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x0000...0x00FF, 0x2010...0x2027, 0x2460...0x24FF, 0x25A0...0x25FF, 0x2776...0x2793,
         0x3000...0x303F, 0x3041...0x3096, 0x30A1...0x30FA, 0x30FC...0x30FE,
         0x3400...0x4DBF, 0x4E00...0x9FFF, 0xFF01...0xFF9D, 0xFFE0...0xFFE6:
      return true
    default:
      return false
    }
  }

  static func writeString(_ raw: String, into out: inout [UInt8]) {
    var text = raw
    let done = text.withUTF8 { bytes -> Bool in
      guard isCanonicalAsIs(bytes) else { return false }
      out.append(UInt8(ascii: "\""))
      out.append(contentsOf: bytes)
      out.append(UInt8(ascii: "\""))
      return true
    }
    if !done { writeEscaping(raw, into: &out) }
  }

  /// Whether UTF-8 text is written as it stands: nothing to escape (no `"`, `\\` or control
  /// character) and made only of code points that ``isStableUnderNFC(_:)``. One pass over the
  /// bytes, decoding multi-byte sequences by hand; anything else takes the general path.
  @inline(__always)
  static func isCanonicalAsIs(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var i = 0
    let n = bytes.count
    while i < n {
      let b = bytes[i]
      if b < 0x80 {
        if b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return false }
        i += 1
        continue
      }
      let scalar: UInt32
      if b & 0xE0 == 0xC0, i + 1 < n {
        scalar = UInt32(b & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F)
        i += 2
      } else if b & 0xF0 == 0xE0, i + 2 < n {
        scalar = UInt32(b & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F)
        i += 3
      } else {
        return false
      }
      guard let s = Unicode.Scalar(scalar), isStableUnderNFC(s) else { return false }
    }
    return true
  }

  /// The general path: normalise, then escape byte by byte.
  static func writeEscaping(_ raw: String, into out: inout [UInt8]) {
    let s = normalized(raw)
    out.append(UInt8(ascii: "\""))
    for byte in s.utf8 {
      switch byte {
      case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
      case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
      case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
      case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
      case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
      case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
      case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
      case 0..<0x20:
        let hex = Array("0123456789abcdef".utf8)
        out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
      default: out.append(byte)
      }
    }
    out.append(UInt8(ascii: "\""))
  }

  static func isCanonicalInteger(_ n: String) -> Bool {
    var utf8 = Substring(n).utf8[...]
    if utf8.first == UInt8(ascii: "-") { utf8 = utf8.dropFirst() }
    guard let first = utf8.first, utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
    if first == 0x30 { return utf8.count == 1 && n != "-0" }
    return true
  }

  // MARK: Accessors

  /// The members of an object, or `nil`.
  public var objectValue: [String: CanonicalValue]? { if case .object(let o) = self { o } else { nil } }
  /// The text of a string, or `nil`.
  public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
  /// The value of an integer number that fits in `Int64`, or `nil`.
  public var integerValue: Int64? { if case .number(let n) = self { Int64(n) } else { nil } }
  /// The items of an array, or `nil`.
  public var arrayValue: [CanonicalValue]? { if case .array(let a) = self { a } else { nil } }

  /// The member `key` of an object.
  public subscript(key: String) -> CanonicalValue? { objectValue?[key] }

  /// A short name of the value's JSON type, for error messages.
  public var typeName: String {
    switch self {
    case .string: "a string"
    case .number: "a number"
    case .bool: "a boolean"
    case .array: "an array"
    case .object: "an object"
    }
  }
}

/// A value could not be put in canonical form.
public struct CanonicalEncodingError: Error, CustomStringConvertible, Sendable {
  public let message: String
  public var description: String { message }
}

extension CanonicalValue: Codable {
  /// Decodes from any decoder. ``CanonicalDecoder`` hands the value over directly; other decoders
  /// are probed for an object, an array, a string, a boolean, then an integer.
  public init(from decoder: any Decoder) throws {
    if let direct = decoder as? _CanonicalDecoder { self = direct.value; return }
    if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
      var members: [String: CanonicalValue] = [:]
      for key in keyed.allKeys { members[key.stringValue] = try keyed.decode(CanonicalValue.self, forKey: key) }
      self = .object(members)
    } else if var unkeyed = try? decoder.unkeyedContainer() {
      var items: [CanonicalValue] = []
      while !unkeyed.isAtEnd { items.append(try unkeyed.decode(CanonicalValue.self)) }
      self = .array(items)
    } else {
      let single = try decoder.singleValueContainer()
      if let s = try? single.decode(String.self) { self = .string(s) }
      else if let b = try? single.decode(Bool.self) { self = .bool(b) }
      else { self = .integer(try single.decode(Int64.self)) }
    }
  }

  public func encode(to encoder: any Encoder) throws {
    switch self {
    case .string(let s): var c = encoder.singleValueContainer(); try c.encode(s)
    case .bool(let b): var c = encoder.singleValueContainer(); try c.encode(b)
    case .number(let n):
      var c = encoder.singleValueContainer()
      guard let i = Int64(n) else { throw CanonicalEncodingError(message: "the number \(n) is not an integer") }
      try c.encode(i)
    case .array(let items):
      var c = encoder.unkeyedContainer()
      for item in items { try c.encode(item) }
    case .object(let members):
      var c = encoder.container(keyedBy: AnyKey.self)
      for (k, v) in members { try c.encode(v, forKey: AnyKey(stringValue: k)) }
    }
  }
}
