public import Crypto
public import Foundation

// Ed25519 keys in the C2SP signed-note format. They sign checkpoints (PolicyLedgerProofs) and
// actors' events (EventSignatures.swift), so they live with the log that both need.

/// A malformed or unverifiable note, key or checkpoint.
public enum NoteError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A key string or key file that does not parse.
  case malformedKey(String)
  /// A signed note that does not parse (truncated, re-wrapped, control characters…).
  case malformedNote(String)
  /// A checkpoint body that does not parse.
  case malformedCheckpoint(String)
  /// No signature by enough of the given keys verifies.
  case notVerified(String)

  public var description: String {
    switch self {
    case .malformedKey(let s): return "malformed key: \(s)"
    case .malformedNote(let s): return "malformed signed note: \(s)"
    case .malformedCheckpoint(let s): return "malformed checkpoint: \(s)"
    case .notVerified(let s): return s
    }
  }
}

/// The signed-note signature algorithm byte for Ed25519 (C2SP signed-note).
public let ed25519Algorithm: UInt8 = 0x01

/// A key name as C2SP signed-note allows it (non-empty, no Unicode white space, no `+`), at most
/// 200 bytes (a key string must fit an event's text), and in
/// Unicode NFC: the ledger stores text in NFC, and a name whose bytes changed there would no
/// longer match its key id.
public func isValidKeyName(_ name: String) -> Bool {
  !name.isEmpty && name.utf8.count <= 200 && !name.contains("+") && !name.unicodeScalars.contains { $0.properties.isWhitespace }
    && !name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    && name.unicodeScalars.elementsEqual(name.precomposedStringWithCanonicalMapping.unicodeScalars)
}

/// The key id: the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key), big-endian.
public func noteKeyID(name: String, publicKey: [UInt8]) -> UInt32 {
  let digest = Array(SHA256.hash(data: Array(name.utf8) + [0x0A, ed25519Algorithm] + publicKey))
  return digest[0..<4].reduce(0) { $0 << 8 | UInt32($1) }
}

/// A key id as 8 lower-case hex digits, as verifier keys and key files write it.
public func keyIDHex(_ id: UInt32) -> String {
  let s = String(id, radix: 16)
  return String(repeating: "0", count: 8 - s.count) + s
}

func parseHex8(_ text: Substring) -> UInt32? {
  guard text.count == 8, text.allSatisfy({ $0.isHexDigit && ($0.isNumber || $0.isLowercase) }) else { return nil }
  return UInt32(text, radix: 16)
}

/// An Ed25519 verifier key in C2SP signed-note form: `<name>+<hex key id>+<base64(0x01 ‖ public key)>`.
public struct NoteVerifier: Sendable, Hashable {
  public let name: String
  public let keyID: UInt32
  public let publicKey: [UInt8]

  /// Parses a verifier key string (surrounding white space is ignored).
  /// - Throws: ``NoteError/malformedKey(_:)`` for a wrong shape, algorithm, length or key id.
  public init(_ text: String) throws {
    // The base64 key may itself hold `+`: split at the first two only.
    let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
    guard parts.count == 3 else { throw NoteError.malformedKey("a verifier key is NAME+KEYID+BASE64 (three parts joined by +)") }
    let name = String(parts[0])
    guard isValidKeyName(name) else { throw NoteError.malformedKey("the key name \"\(name)\" is empty or holds white space") }
    guard let id = parseHex8(parts[1]) else { throw NoteError.malformedKey("the key id must be 8 lower-case hex digits") }
    guard let raw = Data(base64Encoded: String(parts[2])).map(Array.init), raw.count == 33, raw[0] == ed25519Algorithm else {
      throw NoteError.malformedKey("the key must be base64 of 0x01 (Ed25519) and 32 bytes")
    }
    let key = Array(raw[1...])
    guard noteKeyID(name: name, publicKey: key) == id else { throw NoteError.malformedKey("the key id \(parts[1]) does not match the name and key") }
    self.init(name: name, publicKey: key)
  }

  /// A verifier for an Ed25519 public key (32 bytes).
  public init(name: String, publicKey: [UInt8]) {
    self.name = name
    self.publicKey = publicKey
    self.keyID = noteKeyID(name: name, publicKey: publicKey)
  }

  /// `<name>+<hex key id>`: how messages and tables name the key.
  public var label: String { "\(name)+\(keyIDHex(keyID))" }

  /// `<name>+<hex key id>+<base64(0x01 ‖ public key)>`.
  public var description: String { "\(name)+\(keyIDHex(keyID))+\(Data([ed25519Algorithm] + publicKey).base64EncodedString())" }

  /// Whether `signature` is this key's Ed25519 signature over `message`.
  public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
    guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
    return key.isValidSignature(signature, for: message)
  }
}

/// An Ed25519 signing key in C2SP signed-note form: `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>`.
public struct NoteSigner: Sendable {
  public let name: String
  /// The key, made from its seed once: making it derives the public key (a scalar
  /// multiplication), which would otherwise double the cost of every signature.
  private let box: KeyBox
  var key: Curve25519.Signing.PrivateKey { box.key }

  /// swift-crypto's key is not `Sendable`; this one is never mutated after it is made, and
  /// BoringSSL signs with a key it only reads.
  private final class KeyBox: @unchecked Sendable {
    let key: Curve25519.Signing.PrivateKey
    let verifier: NoteVerifier
    init(_ key: Curve25519.Signing.PrivateKey, name: String) {
      self.key = key
      self.verifier = NoteVerifier(name: name, publicKey: Array(key.publicKey.rawRepresentation))
    }
  }

  /// A new random key.
  /// - Throws: ``NoteError/malformedKey(_:)`` for an invalid name.
  public static func generate(name: String) throws -> NoteSigner {
    guard isValidKeyName(name) else { throw NoteError.malformedKey("the key name \"\(name)\" must be non-empty, in Unicode NFC, without white space, control characters or +") }
    return NoteSigner(name: name, key: Curve25519.Signing.PrivateKey())
  }

  init(name: String, key: Curve25519.Signing.PrivateKey) {
    self.name = name
    self.box = KeyBox(key, name: name)
  }

  /// Parses a private key string.
  /// - Throws: ``NoteError/malformedKey(_:)``.
  public init(_ text: String) throws {
    let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
    guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY" else {
      throw NoteError.malformedKey("a private key is PRIVATE+KEY+NAME+KEYID+BASE64")
    }
    let name = String(parts[2])
    guard isValidKeyName(name) else { throw NoteError.malformedKey("the key name \"\(name)\" is empty or holds white space") }
    guard let id = parseHex8(parts[3]) else { throw NoteError.malformedKey("the key id must be 8 lower-case hex digits") }
    guard let raw = Data(base64Encoded: String(parts[4])).map(Array.init), raw.count == 33, raw[0] == ed25519Algorithm,
          let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw[1...]) else {
      throw NoteError.malformedKey("the key must be base64 of 0x01 (Ed25519) and a 32-byte seed")
    }
    self.init(name: name, key: key)
    guard verifier.keyID == id else { throw NoteError.malformedKey("the key id \(parts[3]) does not match the name and key") }
  }

  /// The matching verifier key (made with the key, once: its key id is a SHA-256).
  public var verifier: NoteVerifier { box.verifier }

  /// `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>`.
  public var privateKeyString: String {
    "PRIVATE+KEY+\(name)+\(keyIDHex(verifier.keyID))+\(Data([ed25519Algorithm] + Array(key.rawRepresentation)).base64EncodedString())"
  }

  /// The Ed25519 signature (64 bytes) over `message`.
  public func signature(for message: [UInt8]) throws -> [UInt8] { Array(try key.signature(for: message)) }
}

