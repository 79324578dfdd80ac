/// A position in the event log: gap-free, assigned by the ledger, starting at 1.
public struct SequenceNumber: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
  public let rawValue: UInt64
  public init(rawValue: UInt64) { self.rawValue = rawValue }
  public init(_ value: UInt64) { self.rawValue = value }
  public static func < (a: SequenceNumber, b: SequenceNumber) -> Bool { a.rawValue < b.rawValue }
  public var description: String { String(rawValue) }
  /// The next sequence number.
  public var next: SequenceNumber { SequenceNumber(rawValue + 1) }

  /// 8 bytes, big-endian: byte order equals numeric order, so LMDB's `MDB_APPEND` works.
  public var keyBytes: [UInt8] { withUnsafeBytes(of: rawValue.bigEndian, Array.init) }

  /// Reads 8 big-endian bytes at `offset`.
  public init(keyBytes bytes: some Collection<UInt8>, at offset: Int = 0) {
    var value: UInt64 = 0
    for byte in bytes.dropFirst(offset).prefix(8) { value = value << 8 | UInt64(byte) }
    self.rawValue = value
  }
}

/// The id of a stream: the entity an event concerns, such as `body:csti` or
/// `indicator:young-faculty`. 1 to 200 bytes of `A–Z a–z 0–9 . _ : / -`, starting with a letter
/// or digit (so that ids never hold the 0x00 separator that index keys use).
public struct StreamID: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
  public let rawValue: String

  /// Longest id, in bytes.
  public static let maximumLength = 200

  /// A validated id, or `nil` (see ``validationError(_:)`` for why).
  public init?(_ rawValue: String) {
    guard StreamID.validationError(rawValue) == nil else { return nil }
    self.rawValue = rawValue
  }

  /// Longest id of an entity that projections keep but that is not a stream (``init(entity:)``).
  public static let maximumEntityLength = 255

  /// The id of an entity that projections keep but that is no stream of its own, such as a
  /// membership `membership:BODY/PERSON`: the stream grammar, up to ``maximumEntityLength``
  /// bytes (LMDB keys hold at most 511).
  public init?(entity rawValue: String) {
    guard StreamID.validationError(rawValue, maximumLength: StreamID.maximumEntityLength) == nil else { return nil }
    self.rawValue = rawValue
  }

  /// Why `text` is not a stream id, or `nil` when it is one.
  public static func validationError(_ text: String) -> String? { validationError(text, maximumLength: maximumLength) }

  static func validationError(_ text: String, maximumLength: Int) -> String? {
    if text.isEmpty { return "an id cannot be empty" }
    if text.utf8.count > maximumLength { return "an id is at most \(maximumLength) bytes long" }
    for (i, byte) in text.utf8.enumerated() {
      let alnum = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
      if i == 0 && !alnum { return "an id starts with a letter or digit" }
      if !alnum && !".:_/-".utf8.contains(byte) {
        return "an id holds only letters a–z, A–Z, digits and . _ : / - (found '\(Character(Unicode.Scalar(byte)))')"
      }
    }
    return nil
  }

  /// The part before the first `:` (`body` in `body:csti`), or the whole id.
  public var kind: String { rawValue.split(separator: ":", maxSplits: 1).first.map(String.init) ?? rawValue }
  /// The part after the first `:` (`csti` in `body:csti`).
  public var localID: String {
    guard let colon = rawValue.firstIndex(of: ":") else { return rawValue }
    return String(rawValue[rawValue.index(after: colon)...])
  }

  public var description: String { rawValue }
  public static func < (a: StreamID, b: StreamID) -> Bool { Array(a.rawValue.utf8).lexicographicallyPrecedes(Array(b.rawValue.utf8)) }

  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    if let problem = StreamID.validationError(text) {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\"\(text)\" is not a valid id: \(problem)"))
    }
    self.rawValue = text
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(rawValue)
  }
}

/// A SHA-256 digest (32 bytes), printed as 64 lower-case hex digits.
public struct EventHash: Hashable, Sendable, CustomStringConvertible {
  /// The 32 bytes.
  public let bytes: [UInt8]

  /// The previous hash of event 1: 32 zero bytes.
  public static let genesis = EventHash(unchecked: [UInt8](repeating: 0, count: 32))

  init(unchecked bytes: [UInt8]) { self.bytes = bytes }

  /// From exactly 32 bytes; `nil` otherwise.
  public init?(bytes: [UInt8]) {
    guard bytes.count == 32 else { return nil }
    self.bytes = bytes
  }

  /// From 64 hex digits (either case); `nil` otherwise.
  public init?(hex: String) {
    let utf8 = Array(hex.utf8)
    guard utf8.count == 64 else { return nil }
    var out = [UInt8]()
    out.reserveCapacity(32)
    func nibble(_ c: UInt8) -> UInt8? {
      switch c {
      case 0x30...0x39: c - 0x30
      case 0x61...0x66: c - 0x61 + 10
      case 0x41...0x46: c - 0x41 + 10
      default: nil
      }
    }
    for i in stride(from: 0, to: 64, by: 2) {
      guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
      out.append(hi << 4 | lo)
    }
    self.bytes = out
  }

  public var description: String {
    let hex = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(64)
    for b in bytes { out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 0xF)]) }
    return String(decoding: out, as: UTF8.self)
  }
}
