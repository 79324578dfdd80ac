/// Encodes an `Encodable` value into a ``CanonicalValue``.
///
/// `nil` optionals are omitted; integers become numbers; `Double` and `Float` are refused (the
/// ledger keeps no binary floating point: use ``LedgerDecimal``).
public struct CanonicalEncoder: Sendable {
  public init() {}

  /// - Throws: `EncodingError.invalidValue` for a floating-point value or a value that encodes
  ///   nothing.
  public func encode<T: Encodable>(_ value: T) throws -> CanonicalValue {
    let box = EncodingBox(node: nil)
    if let v = try primitiveValue(value, path: { [] }) { return v }
    try value.encode(to: _CanonicalEncoder(box: box))
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

/// A mutable slot the nested containers write into. Primitive members are stored as values
/// directly; only nested objects and arrays get boxes of their own.
final class EncodingBox {
  enum Member { case value(CanonicalValue), box(EncodingBox) }
  var value: CanonicalValue?
  var object: [String: Member] = [:]
  var array: [Member] = []
  enum Kind { case unset, object, array, single }
  var kind: Kind = .unset
  let node: CodingPathNode?
  init(node: CodingPathNode?) { self.node = node }
  var codingPath: [any CodingKey] { CodingPathNode.path(node) }

  func resolved() -> CanonicalValue? {
    switch kind {
    case .unset: return nil
    case .single: return value
    case .object:
      var members: [String: CanonicalValue] = [:]
      members.reserveCapacity(object.count)
      for (k, m) in object {
        switch m {
        case .value(let v): members[k] = v
        case .box(let b): if let r = b.resolved() { members[k] = r }
        }
      }
      return .object(members)
    case .array:
      return .array(array.compactMap { m -> CanonicalValue? in
        switch m {
        case .value(let v): return v
        case .box(let b): return b.resolved()
        }
      })
    }
  }
}

/// The canonical value of a primitive, or `nil` for a type that encodes itself.
@inline(__always)
private func primitiveValue<T: Encodable>(_ value: T, path: () -> [any CodingKey]) throws -> CanonicalValue? {
  switch value {
  case let v as String: return .string(v)
  case let v as Bool: return .bool(v)
  case let v as Int: return .integer(v)
  case let v as UInt64: return .integer(v)
  case let v as Int64: return .integer(v)
  case let v as Int32: return .integer(v)
  case let v as UInt32: return .integer(v)
  case let v as CanonicalValue: return v
  case is Double, is Float:
    throw EncodingError.invalidValue(value, .init(codingPath: path(), debugDescription: "binary floating-point numbers are not allowed; use LedgerDecimal"))
  default: return nil
  }
}

/// Encodes `value` as a member: a primitive directly, anything else into a box of its own.
private func member<T: Encodable>(_ value: T, parent: CodingPathNode?, key: any CodingKey) throws -> EncodingBox.Member {
  if let v = try primitiveValue(value, path: { CodingPathNode.path(parent) + [key] }) { return .value(v) }
  let box = EncodingBox(node: CodingPathNode(parent: parent, key: key))
  try value.encode(to: _CanonicalEncoder(box: box))
  return .box(box)
}

struct _CanonicalEncoder: Encoder {
  let box: EncodingBox
  var codingPath: [any CodingKey] { box.codingPath }
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
    box.kind = .object
    return KeyedEncodingContainer(KeyedContainer<Key>(box: box))
  }
  func unkeyedContainer() -> any UnkeyedEncodingContainer {
    box.kind = .array
    return UnkeyedContainer(box: box)
  }
  func singleValueContainer() -> any SingleValueEncodingContainer {
    SingleContainer(box: box)
  }

  struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: EncodingBox
    var codingPath: [any CodingKey] { box.codingPath }
    func childBox(_ key: Key) -> EncodingBox {
      let child = EncodingBox(node: CodingPathNode(parent: box.node, key: key))
      box.object[key.stringValue] = .box(child)
      return child
    }
    mutating func encodeNil(forKey key: Key) throws {}
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
      box.object[key.stringValue] = try member(value, parent: box.node, key: key)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
      let c = childBox(key); c.kind = .object
      return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: c))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
      let c = childBox(key); c.kind = .array
      return UnkeyedContainer(box: c)
    }
    mutating func superEncoder() -> any Encoder { _CanonicalEncoder(box: childBox(Key(stringValue: "super")!)) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { _CanonicalEncoder(box: childBox(key)) }
  }

  struct UnkeyedContainer: UnkeyedEncodingContainer {
    let box: EncodingBox
    var codingPath: [any CodingKey] { box.codingPath }
    var count: Int { box.array.count }
    func nextBox() -> EncodingBox {
      let c = EncodingBox(node: CodingPathNode(parent: box.node, key: AnyKey(intValue: box.array.count)))
      box.array.append(.box(c))
      return c
    }
    mutating func encodeNil() throws {
      throw EncodingError.invalidValue(Optional<Int>.none as Any, .init(codingPath: codingPath, debugDescription: "null is not allowed in an array"))
    }
    mutating func encode<T: Encodable>(_ value: T) throws {
      box.array.append(try member(value, parent: box.node, key: AnyKey(intValue: box.array.count)))
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
      let c = nextBox(); c.kind = .object
      return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: c))
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
      let c = nextBox(); c.kind = .array
      return UnkeyedContainer(box: c)
    }
    mutating func superEncoder() -> any Encoder { _CanonicalEncoder(box: nextBox()) }
  }

  struct SingleContainer: SingleValueEncodingContainer {
    let box: EncodingBox
    var codingPath: [any CodingKey] { box.codingPath }
    mutating func encodeNil() throws {}
    mutating func encode<T: Encodable>(_ value: T) throws {
      if let v = try primitiveValue(value, path: { box.codingPath }) {
        box.kind = .single
        box.value = v
      } else {
        try value.encode(to: _CanonicalEncoder(box: box))
      }
    }
  }
}

/// The path to a value being decoded, as a chain from the value up to the root. Built without
/// copying arrays (one small node per nested container); turned into a `codingPath` array only
/// when someone asks, which is mostly an error message.
final class CodingPathNode: @unchecked Sendable {
  let parent: CodingPathNode?
  let key: any CodingKey
  init(parent: CodingPathNode?, key: any CodingKey) { self.parent = parent; self.key = key }

  static func path(_ node: CodingPathNode?) -> [any CodingKey] {
    var keys: [any CodingKey] = []
    var current = node
    while let n = current { keys.append(n.key); current = n.parent }
    return keys.reversed()
  }
}

struct _CanonicalDecoder: Decoder {
  let value: CanonicalValue
  let node: CodingPathNode?
  var codingPath: [any CodingKey] { CodingPathNode.path(node) }
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  init(value: CanonicalValue, node: CodingPathNode?) { self.value = value; self.node = node }
  init(value: CanonicalValue, codingPath: [any CodingKey]) {
    self.value = value
    var node: CodingPathNode?
    for key in codingPath { node = CodingPathNode(parent: node, key: key) }
    self.node = node
  }

  func mismatch(_ expected: String) -> DecodingError {
    .typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "expected \(expected), got \(value.typeName)"))
  }

  func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
    guard case .object(let members) = value else { throw mismatch("an object") }
    return KeyedDecodingContainer(Keyed<Key>(members: members, node: node))
  }
  func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
    guard case .array(let items) = value else { throw mismatch("an array") }
    return Unkeyed(items: items, node: node)
  }
  func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(value: value, node: node) }

  struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: CanonicalValue]
    let node: CodingPathNode?
    var codingPath: [any CodingKey] { CodingPathNode.path(node) }
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
      try decodeValue(type, from: try child(key), parent: node, key: key)
    }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
      try _CanonicalDecoder(value: try child(key), node: CodingPathNode(parent: node, key: key)).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
      try _CanonicalDecoder(value: try child(key), node: CodingPathNode(parent: node, key: key)).unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder { _CanonicalDecoder(value: .object(members), node: node) }
    func superDecoder(forKey key: Key) throws -> any Decoder { _CanonicalDecoder(value: try child(key), node: CodingPathNode(parent: node, key: key)) }
  }

  struct Unkeyed: UnkeyedDecodingContainer {
    let items: [CanonicalValue]
    let node: CodingPathNode?
    var codingPath: [any CodingKey] { CodingPathNode.path(node) }
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }
    init(items: [CanonicalValue], node: CodingPathNode?) { self.items = items; self.node = node }
    mutating func nextValue() throws -> (CanonicalValue, AnyKey) {
      guard !isAtEnd else {
        throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "the array has too few items"))
      }
      defer { currentIndex += 1 }
      return (items[currentIndex], AnyKey(intValue: currentIndex))
    }
    mutating func decodeNil() throws -> Bool { false }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
      let (v, k) = try nextValue()
      return try decodeValue(type, from: v, parent: node, key: k)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
      let (v, k) = try nextValue()
      return try _CanonicalDecoder(value: v, node: CodingPathNode(parent: node, key: k)).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
      let (v, k) = try nextValue()
      return try _CanonicalDecoder(value: v, node: CodingPathNode(parent: node, key: k)).unkeyedContainer()
    }
    mutating func superDecoder() throws -> any Decoder {
      let (v, k) = try nextValue()
      return _CanonicalDecoder(value: v, node: CodingPathNode(parent: node, key: k))
    }
  }

  struct Single: SingleValueDecodingContainer {
    let value: CanonicalValue
    let node: CodingPathNode?
    var codingPath: [any CodingKey] { CodingPathNode.path(node) }
    func decodeNil() -> Bool { false }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
      // The value is this container's own: decode it at this node's path.
      try decodeValue(type, from: value, node: node)
    }
  }
}

/// Decodes `value` found under `key` of the container at `parent`. The child path node is made
/// only for values that need a decoder of their own; primitives make none.
private func decodeValue<T: Decodable>(_ type: T.Type, from value: CanonicalValue, parent: CodingPathNode?, key: any CodingKey) throws -> T {
  if let primitive: T = try decodePrimitive(type, from: value, path: { CodingPathNode.path(parent) + [key] }) { return primitive }
  return try T(from: _CanonicalDecoder(value: value, node: CodingPathNode(parent: parent, key: key)))
}

private func decodeValue<T: Decodable>(_ type: T.Type, from value: CanonicalValue, node: CodingPathNode?) throws -> T {
  if let primitive: T = try decodePrimitive(type, from: value, path: { CodingPathNode.path(node) }) { return primitive }
  return try T(from: _CanonicalDecoder(value: value, node: node))
}

/// Strings, booleans, integers and raw values, without a decoder; `nil` for any other type.
@inline(__always)
private func decodePrimitive<T: Decodable>(_ type: T.Type, from value: CanonicalValue, path: () -> [any CodingKey]) throws -> T? {
  func mismatch(_ expected: String) -> DecodingError {
    .typeMismatch(T.self, .init(codingPath: path(), debugDescription: "expected \(expected), got \(value.typeName)"))
  }
  func integer<I: FixedWidthInteger>(_: I.Type) throws -> I {
    guard case .number(let n) = value else { throw mismatch("an integer") }
    guard let i = I(n) else {
      throw DecodingError.dataCorrupted(.init(codingPath: path(), debugDescription: "\(n) is not a whole number in range"))
    }
    return i
  }
  if T.self == String.self {
    guard case .string(let s) = value else { throw mismatch("a string") }
    return unsafeBitCast(s, to: T.self)
  }
  if T.self == Bool.self {
    guard case .bool(let b) = value else { throw mismatch("true or false") }
    return unsafeBitCast(b, to: T.self)
  }
  if T.self == Int.self { return unsafeBitCast(try integer(Int.self), to: T.self) }
  if T.self == UInt64.self { return unsafeBitCast(try integer(UInt64.self), to: T.self) }
  if T.self == Int64.self { return unsafeBitCast(try integer(Int64.self), to: T.self) }
  if T.self == Int32.self { return unsafeBitCast(try integer(Int32.self), to: T.self) }
  if T.self == UInt32.self { return unsafeBitCast(try integer(UInt32.self), to: T.self) }
  if T.self == CanonicalValue.self { return (value as! T) }
  if T.self == Double.self || T.self == Float.self {
    throw DecodingError.dataCorrupted(.init(codingPath: path(), debugDescription: "binary floating-point numbers are not allowed"))
  }
  return nil
}
