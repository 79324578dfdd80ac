import Foundation

// Reading JSON text into a `CanonicalValue`, strictly: split from CanonicalValue.swift by concept.

/// Text that is not valid JSON, with the byte offset (0-based) where reading stopped.
public struct JSONSyntaxError: Error, CustomStringConvertible, Sendable, Equatable {
  /// What is wrong, in a sentence.
  public let message: String
  /// 0-based byte offset into the input.
  public let offset: Int
  public var description: String { "\(message) (at byte \(offset + 1))" }
}

extension CanonicalValue {
  /// Parses JSON text (RFC 8259) into a value. Whitespace and any key order are accepted; the
  /// text must be valid UTF-8; `null` is read as an absent member (or refused inside an array);
  /// duplicate keys are refused; numbers are kept as written.
  ///
  /// - Parameter bytes: UTF-8 JSON text holding one value.
  /// - Throws: ``JSONSyntaxError`` naming the byte offset.
  /// - Complexity: O(n) in the length of the text.
  public static func parse<C: Collection>(_ bytes: C) throws -> CanonicalValue where C.Element == UInt8 {
    if let result = try bytes.withContiguousStorageIfAvailable({ buffer in
      var parser = JSONParser(buffer: UnsafeRawBufferPointer(buffer))
      return try parser.parseDocument()
    }) { return result }
    let array = Array(bytes)
    return try array.withUnsafeBytes { buffer in
      var parser = JSONParser(buffer: buffer)
      return try parser.parseDocument()
    }
  }

  /// Parses JSON text held in a string.
  public static func parse(_ text: String) throws -> CanonicalValue {
    try parse(Array(text.utf8))
  }
}

struct JSONParser {
  let buffer: UnsafeRawBufferPointer
  var index = 0
  var depth = 0

  init(buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

  func fail(_ message: String, at offset: Int? = nil) -> JSONSyntaxError {
    JSONSyntaxError(message: message, offset: offset ?? index)
  }

  mutating func skipWhitespace() {
    while index < buffer.count {
      switch buffer[index] {
      case 0x20, 0x09, 0x0A, 0x0D: index += 1
      default: return
      }
    }
  }

  mutating func parseDocument() throws -> CanonicalValue {
    if buffer.count >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { index = 3 }
    skipWhitespace()
    guard index < buffer.count else { throw fail("no JSON value: the text is empty") }
    guard let value = try parseValue() else { throw fail("null is not a value here") }
    skipWhitespace()
    guard index == buffer.count else { throw fail("unexpected text after the JSON value") }
    return value
  }

  /// Returns nil for `null`.
  mutating func parseValue() throws -> CanonicalValue? {
    skipWhitespace()
    guard index < buffer.count else { throw fail("unexpected end of the text") }
    switch buffer[index] {
    case UInt8(ascii: "{"): return try parseObject()
    case UInt8(ascii: "["): return try parseArray()
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
    case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
    case UInt8(ascii: "n"): try expectLiteral("null"); return nil
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
    default:
      throw fail("unexpected character '\(String(decoding: [buffer[index]], as: UTF8.self))'; expected a JSON value")
    }
  }

  mutating func expectLiteral(_ literal: StaticString) throws {
    let count = literal.utf8CodeUnitCount
    let start = index
    guard index + count <= buffer.count else { throw fail("unexpected end of the text") }
    for i in 0..<count where buffer[index + i] != literal.utf8Start[i] {
      throw fail("unknown word; expected \(literal)", at: start)
    }
    index += count
  }

  mutating func enter() throws {
    depth += 1
    if depth > 64 { throw fail("nested more than 64 levels deep") }
  }

  mutating func parseObject() throws -> CanonicalValue {
    try enter(); defer { depth -= 1 }
    index += 1
    var members: [String: CanonicalValue] = [:]
    skipWhitespace()
    if index < buffer.count && buffer[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
    while true {
      skipWhitespace()
      guard index < buffer.count, buffer[index] == UInt8(ascii: "\"") else { throw fail("expected a quoted member name") }
      let keyStart = index
      let key = try parseString()
      skipWhitespace()
      guard index < buffer.count, buffer[index] == UInt8(ascii: ":") else { throw fail("expected ':' after member name \"\(key)\"") }
      index += 1
      let value = try parseValue()
      if members[key] != nil { throw fail("duplicate member \"\(key)\"", at: keyStart) }
      if let value { members[key] = value }
      skipWhitespace()
      guard index < buffer.count else { throw fail("unexpected end of the text inside an object") }
      if buffer[index] == UInt8(ascii: ",") { index += 1; continue }
      if buffer[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
      throw fail("expected ',' or '}' in an object")
    }
  }

  mutating func parseArray() throws -> CanonicalValue {
    try enter(); defer { depth -= 1 }
    index += 1
    var items: [CanonicalValue] = []
    skipWhitespace()
    if index < buffer.count && buffer[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
    while true {
      let start = index
      guard let value = try parseValue() else { throw fail("null is not allowed in an array", at: start) }
      items.append(value)
      skipWhitespace()
      guard index < buffer.count else { throw fail("unexpected end of the text inside an array") }
      if buffer[index] == UInt8(ascii: ",") { index += 1; continue }
      if buffer[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
      throw fail("expected ',' or ']' in an array")
    }
  }

  mutating func parseNumber() throws -> String {
    let start = index
    func digits() -> Int {
      let s = index
      while index < buffer.count, buffer[index] >= 0x30, buffer[index] <= 0x39 { index += 1 }
      return index - s
    }
    if buffer[index] == UInt8(ascii: "-") { index += 1 }
    let intStart = index
    let intDigits = digits()
    guard intDigits > 0 else { throw fail("a number needs digits", at: start) }
    if intDigits > 1 && buffer[intStart] == 0x30 { throw fail("a number cannot have a leading zero", at: start) }
    if index < buffer.count, buffer[index] == UInt8(ascii: ".") {
      index += 1
      guard digits() > 0 else { throw fail("a number needs digits after '.'", at: start) }
    }
    if index < buffer.count, buffer[index] == UInt8(ascii: "e") || buffer[index] == UInt8(ascii: "E") {
      index += 1
      if index < buffer.count, buffer[index] == UInt8(ascii: "+") || buffer[index] == UInt8(ascii: "-") { index += 1 }
      guard digits() > 0 else { throw fail("a number needs digits in its exponent", at: start) }
    }
    return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[start..<index]), as: UTF8.self)
  }

  mutating func parseString() throws -> String {
    let start = index
    index += 1
    // Fast path: no escape before the closing quote, so the string is the bytes as they stand
    // (validated as UTF-8), with no intermediate buffer.
    var end = index
    while end < buffer.count {
      let byte = buffer[end]
      if byte == UInt8(ascii: "\"") {
        guard let text = String(validating: UnsafeRawBufferPointer(rebasing: buffer[index..<end]), as: UTF8.self) else {
          throw fail("the string is not valid UTF-8", at: start)
        }
        index = end + 1
        return text
      }
      if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
      end += 1
    }
    var out: [UInt8] = []
    var runStart = index
    while true {
      guard index < buffer.count else { throw fail("unterminated string", at: start) }
      let byte = buffer[index]
      if byte == UInt8(ascii: "\"") {
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[runStart..<index]))
        index += 1
        break
      }
      if byte < 0x20 { throw fail("a control character must be escaped inside a string") }
      if byte == UInt8(ascii: "\\") {
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[runStart..<index]))
        index += 1
        guard index < buffer.count else { throw fail("unterminated escape", at: start) }
        let escape = buffer[index]
        index += 1
        switch escape {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
          var scalar = try hex4()
          if (0xD800...0xDBFF).contains(scalar) {
            guard index + 6 <= buffer.count, buffer[index] == 0x5C, buffer[index + 1] == UInt8(ascii: "u") else {
              throw fail("a lone surrogate \\u escape")
            }
            index += 2
            let low = try hex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw fail("a lone surrogate \\u escape") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          } else if (0xDC00...0xDFFF).contains(scalar) {
            throw fail("a lone surrogate \\u escape")
          }
          out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
        default: throw fail("unknown escape '\\\(String(decoding: [escape], as: UTF8.self))'")
        }
        runStart = index
        continue
      }
      index += 1
    }
    guard let s = String(validating: out, as: UTF8.self) else {
      throw fail("the string is not valid UTF-8", at: start)
    }
    return s
  }

  mutating func hex4() throws -> UInt32 {
    guard index + 4 <= buffer.count else { throw fail("a \\u escape needs four hex digits") }
    var value: UInt32 = 0
    for _ in 0..<4 {
      let c = buffer[index]
      let digit: UInt32
      switch c {
      case 0x30...0x39: digit = UInt32(c - 0x30)
      case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
      case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
      default: throw fail("a \\u escape needs four hex digits")
      }
      value = value << 4 | digit
      index += 1
    }
    return value
  }
}
