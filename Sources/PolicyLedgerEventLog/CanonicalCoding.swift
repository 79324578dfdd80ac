/// Encodes an `Encodable` value into a ``CanonicalValue``.
///
/// `nil` optionals are omitted; integers become numbers; `Double` and `Float` are refused (the
/// ledger keeps no binary floating point: use ``LedgerDecimal``).
public struct CanonicalEncoder: Sendable {
  public init() {}

  /// - Throws: `EncodingError.invalidValue` for a floating-point value or a value that encodes
  ///   nothing.
  public func encode<T: Encodable>(_ value: T) throws -> CanonicalValue {
    let box = EncodingBox(path: [])
    try value.encode(to: _CanonicalEncoder(box: box, codingPath: []))
    guard let result = box.resolved() else {
      throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "the value encoded nothing"))
    }
    return result
  }
}

/// Decodes a `Decodable` value from a ``CanonicalValue``.
///
/// Errors are `DecodingError`s whose coding path names the field; ``describe(_:)`` turns one into
/// a sentence such as `field "baseline.value": expected a decimal such as 43763 or 24.7`.
public struct CanonicalDecoder: Sendable {
  public init() {}

  public func decode<T: Decodable>(_ type: T.Type, from value: CanonicalValue) throws -> T {
    try T(from: _CanonicalDecoder(value: value, codingPath: []))
  }

  /// A one-line description of a decoding error naming the field, for users.
  public static func describe(_ error: any Error) -> String {
    func path(_ p: [any CodingKey]) -> String {
      p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
        .reduce(into: "") { acc, part in acc += (acc.isEmpty || part.hasPrefix("[")) ? part : ".\(part)" }
    }
    guard let error = error as? DecodingError else { return String(describing: error) }
    switch error {
    case .keyNotFound(let key, let context):
      let p = path(context.codingPath + [key])
      return "field \"\(p)\" is missing"
    case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
      let p = path(context.codingPath)
      return p.isEmpty ? context.debugDescription : "field \"\(p)\": \(context.debugDescription)"
    @unknown default:
      return String(describing: error)
    }
  }
}

struct AnyKey: CodingKey {
  var stringValue: String
  var intValue: Int?
  init(stringValue: String) { self.stringValue = stringValue }
  init(intValue: Int) { self.stringValue = String(intValue); self.intValue = intValue }
}

/// A mutable slot the nested containers write into.
final class EncodingBox {
  var value: CanonicalValue?
  var object: [String: EncodingBox] = [:]
  var array: [EncodingBox] = []
  enum Kind { case unset, object, array, single }
  var kind: Kind = .unset
  let path: [any CodingKey]
  init(path: [any CodingKey]) { self.path = path }

  func resolved() -> CanonicalValue? {
    switch kind {
    case .unset: return nil
    case .single: return value
    case .object:
      var members: [String: CanonicalValue] = [:]
      for (k, v) in object { if let r = v.resolved() { members[k] = r } }
      return .object(members)
    case .array: return .array(array.compactMap { $0.resolved() })
    }
  }
}

struct _CanonicalEncoder: Encoder {
  let box: EncodingBox
  var codingPath: [any CodingKey]
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
    box.kind = .object
    return KeyedEncodingContainer(KeyedContainer<Key>(box: box, codingPath: codingPath))
  }
  func unkeyedContainer() -> any UnkeyedEncodingContainer {
    box.kind = .array
    return UnkeyedContainer(box: box, codingPath: codingPath)
  }
  func singleValueContainer() -> any SingleValueEncodingContainer {
    SingleContainer(box: box, codingPath: codingPath)
  }

  struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: EncodingBox
    var codingPath: [any CodingKey]
    func child(_ key: Key) -> EncodingBox {
      let child = EncodingBox(path: codingPath + [key])
      box.object[key.stringValue] = child
      return child
    }
    mutating func encodeNil(forKey key: Key) throws {}
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
      let c = child(key)
      try encodeValue(value, into: c, path: codingPath + [key])
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
      let c = child(key); c.kind = .object
      return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: c, codingPath: codingPath + [key]))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
      let c = child(key); c.kind = .array
      return UnkeyedContainer(box: c, codingPath: codingPath + [key])
    }
    mutating func superEncoder() -> any Encoder { _CanonicalEncoder(box: child(Key(stringValue: "super")!), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { _CanonicalEncoder(box: child(key), codingPath: codingPath + [key]) }
  }

  struct UnkeyedContainer: UnkeyedEncodingContainer {
    let box: EncodingBox
    var codingPath: [any CodingKey]
    var count: Int { box.array.count }
    func next() -> EncodingBox {
      let c = EncodingBox(path: codingPath + [AnyKey(intValue: box.array.count)])
      box.array.append(c)
      return c
    }
    mutating func encodeNil() throws {
      throw EncodingError.invalidValue(Optional<Int>.none as Any, .init(codingPath: codingPath, debugDescription: "null is not allowed in an array"))
    }
    mutating func encode<T: Encodable>(_ value: T) throws {
      let c = next()
      try encodeValue(value, into: c, path: c.path)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
      let c = next(); c.kind = .object
      return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: c, codingPath: c.path))
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
      let c = next(); c.kind = .array
      return UnkeyedContainer(box: c, codingPath: c.path)
    }
    mutating func superEncoder() -> any Encoder { let c = next(); return _CanonicalEncoder(box: c, codingPath: c.path) }
  }

  struct SingleContainer: SingleValueEncodingContainer {
    let box: EncodingBox
    var codingPath: [any CodingKey]
    mutating func encodeNil() throws {}
    mutating func encode<T: Encodable>(_ value: T) throws {
      try encodeValue(value, into: box, path: codingPath)
    }
  }
}

private func encodeValue<T: Encodable>(_ value: T, into box: EncodingBox, path: [any CodingKey]) throws {
  func set(_ v: CanonicalValue) { box.kind = .single; box.value = v }
  switch value {
  case let v as String: set(.string(v))
  case let v as Bool: set(.bool(v))
  case let v as Int: set(.integer(v))
  case let v as Int64: set(.integer(v))
  case let v as Int32: set(.integer(v))
  case let v as UInt64: set(.integer(v))
  case let v as UInt32: set(.integer(v))
  case let v as CanonicalValue: set(v)
  case is Double, is Float:
    throw EncodingError.invalidValue(value, .init(codingPath: path, debugDescription: "binary floating-point numbers are not allowed; use LedgerDecimal"))
  default:
    try value.encode(to: _CanonicalEncoder(box: box, codingPath: path))
  }
}

struct _CanonicalDecoder: Decoder {
  let value: CanonicalValue
  var codingPath: [any CodingKey]
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  func mismatch(_ expected: String) -> DecodingError {
    .typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "expected \(expected), got \(value.typeName)"))
  }

  func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
    guard case .object(let members) = value else { throw mismatch("an object") }
    return KeyedDecodingContainer(Keyed<Key>(members: members, codingPath: codingPath))
  }
  func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
    guard case .array(let items) = value else { throw mismatch("an array") }
    return Unkeyed(items: items, codingPath: codingPath)
  }
  func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(value: value, codingPath: codingPath) }

  struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: CanonicalValue]
    var codingPath: [any CodingKey]
    var allKeys: [Key] { members.keys.compactMap(Key.init(stringValue:)) }
    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }
    func child(_ key: Key) throws -> CanonicalValue {
      guard let v = members[key.stringValue] else {
        throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "field \"\(key.stringValue)\" is missing"))
      }
      return v
    }
    func decodeNil(forKey key: Key) throws -> Bool { members[key.stringValue] == nil }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
      try decodeValue(type, from: try child(key), path: codingPath + [key])
    }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
      try _CanonicalDecoder(value: try child(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
      try _CanonicalDecoder(value: try child(key), codingPath: codingPath + [key]).unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder { _CanonicalDecoder(value: .object(members), codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder { _CanonicalDecoder(value: try child(key), codingPath: codingPath + [key]) }
  }

  struct Unkeyed: UnkeyedDecodingContainer {
    let items: [CanonicalValue]
    var codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }
    init(items: [CanonicalValue], codingPath: [any CodingKey]) { self.items = items; self.codingPath = codingPath }
    mutating func nextValue() throws -> (CanonicalValue, [any CodingKey]) {
      guard !isAtEnd else {
        throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "the array has too few items"))
      }
      defer { currentIndex += 1 }
      return (items[currentIndex], codingPath + [AnyKey(intValue: currentIndex)])
    }
    mutating func decodeNil() throws -> Bool { false }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
      let (v, p) = try nextValue()
      return try decodeValue(type, from: v, path: p)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
      let (v, p) = try nextValue()
      return try _CanonicalDecoder(value: v, codingPath: p).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
      let (v, p) = try nextValue()
      return try _CanonicalDecoder(value: v, codingPath: p).unkeyedContainer()
    }
    mutating func superDecoder() throws -> any Decoder {
      let (v, p) = try nextValue()
      return _CanonicalDecoder(value: v, codingPath: p)
    }
  }

  struct Single: SingleValueDecodingContainer {
    let value: CanonicalValue
    var codingPath: [any CodingKey]
    func decodeNil() -> Bool { false }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type, from: value, path: codingPath) }
  }
}

private func decodeValue<T: Decodable>(_ type: T.Type, from value: CanonicalValue, path: [any CodingKey]) throws -> T {
  func mismatch(_ expected: String) -> DecodingError {
    .typeMismatch(T.self, .init(codingPath: path, debugDescription: "expected \(expected), got \(value.typeName)"))
  }
  func integer<I: FixedWidthInteger>(_: I.Type) throws -> I {
    guard case .number(let n) = value else { throw mismatch("an integer") }
    guard let i = I(n) else {
      throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(n) is not a whole number in range"))
    }
    return i
  }
  switch type {
  case is String.Type:
    guard case .string(let s) = value else { throw mismatch("a string") }
    return s as! T
  case is Bool.Type:
    guard case .bool(let b) = value else { throw mismatch("true or false") }
    return b as! T
  case is Int.Type: return try integer(Int.self) as! T
  case is Int64.Type: return try integer(Int64.self) as! T
  case is Int32.Type: return try integer(Int32.self) as! T
  case is UInt64.Type: return try integer(UInt64.self) as! T
  case is UInt32.Type: return try integer(UInt32.self) as! T
  case is CanonicalValue.Type: return value as! T
  case is Double.Type, is Float.Type:
    throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "binary floating-point numbers are not allowed"))
  default:
    return try T(from: _CanonicalDecoder(value: value, codingPath: path))
  }
}
