public import Crypto
public import Foundation

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
let ed25519Algorithm: UInt8 = 0x01

/// A key name as C2SP signed-note allows it: non-empty, no Unicode white space, no `+`.
public func isValidKeyName(_ name: String) -> Bool {
  !name.isEmpty && !name.contains("+") && !name.unicodeScalars.contains { $0.properties.isWhitespace }
    && !name.unicodeScalars.contains { $0.value < 0x20 }
}

/// The key id: the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key), big-endian.
public func noteKeyID(name: String, publicKey: [UInt8]) -> UInt32 {
  let digest = Array(SHA256.hash(data: Array(name.utf8) + [0x0A, ed25519Algorithm] + publicKey))
  return digest[0..<4].reduce(0) { $0 << 8 | UInt32($1) }
}

func hex8(_ id: UInt32) -> String {
  let s = String(id, radix: 16)
  return String(repeating: "0", count: 8 - s.count) + s
}

func parseHex8(_ text: Substring) -> UInt32? {
  guard text.count == 8, text.allSatisfy({ $0.isHexDigit && ($0.isNumber || $0.isLowercase) }) else { return nil }
  return UInt32(text, radix: 16)
}

/// An Ed25519 verifier key in C2SP signed-note form: `<name>+<hex key id>+<base64(0x01 ‖ public key)>`.
public struct NoteVerifier: Sendable, Equatable {
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

  /// `<name>+<hex key id>+<base64(0x01 ‖ public key)>`.
  public var description: String { "\(name)+\(hex8(keyID))+\(Data([ed25519Algorithm] + publicKey).base64EncodedString())" }

  /// Whether `signature` is this key's Ed25519 signature over `message`.
  public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
    guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
    return key.isValidSignature(signature, for: message)
  }
}

/// An Ed25519 signing key in C2SP signed-note form: `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>`.
public struct NoteSigner: Sendable {
  public let name: String
  /// The 32-byte Ed25519 seed (the key itself is not `Sendable`, so it is made when needed).
  let seed: [UInt8]
  var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: seed) }

  /// A new random key.
  /// - Throws: ``NoteError/malformedKey(_:)`` for an invalid name.
  public static func generate(name: String) throws -> NoteSigner {
    guard isValidKeyName(name) else { throw NoteError.malformedKey("the key name \"\(name)\" must be non-empty, without white space or +") }
    return NoteSigner(name: name, key: Curve25519.Signing.PrivateKey())
  }

  init(name: String, key: Curve25519.Signing.PrivateKey) {
    self.name = name
    self.seed = Array(key.rawRepresentation)
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

  /// The matching verifier key.
  public var verifier: NoteVerifier { NoteVerifier(name: name, publicKey: Array(key.publicKey.rawRepresentation)) }

  /// `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>`.
  public var privateKeyString: String {
    "PRIVATE+KEY+\(name)+\(hex8(verifier.keyID))+\(Data([ed25519Algorithm] + Array(key.rawRepresentation)).base64EncodedString())"
  }

  /// The Ed25519 signature (64 bytes) over `message`.
  public func signature(for message: [UInt8]) throws -> [UInt8] { Array(try key.signature(for: message)) }
}

/// One signature line of a note: `— <name> <base64(key id (4, big-endian) ‖ signature)>`.
public struct NoteSignature: Sendable, Equatable {
  public let name: String
  public let keyID: UInt32
  public let signature: [UInt8]

  public var line: String {
    let id = withUnsafeBytes(of: keyID.bigEndian, Array.init)
    return "— \(name) \(Data(id + signature).base64EncodedString())\n"
  }
}

/// A C2SP signed note: text (non-empty, ending in a newline), a blank line, signature lines.
public struct SignedNote: Sendable, Equatable {
  /// The signed text, ending in `\n`.
  public let text: String
  /// The signatures, in order.
  public private(set) var signatures: [NoteSignature]

  /// A note of `text` with no signature yet.
  public init(text: String) { self.text = text; self.signatures = [] }

  /// Parses a note's bytes exactly: valid UTF-8, no control characters but `\n`, text ending in
  /// `\n`, then `\n`, then 1–100 lines `— NAME BASE64\n`, the last ending with `\n`.
  /// - Throws: ``NoteError/malformedNote(_:)``.
  public init(parsing bytes: [UInt8]) throws {
    guard let message = String(validating: bytes, as: UTF8.self) else { throw NoteError.malformedNote("it is not valid UTF-8") }
    if message.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\n") || $0.value == 0x7F }) {
      throw NoteError.malformedNote("it holds control characters (a carriage return? a tab?); keep the file byte for byte as it was printed")
    }
    guard let split = message.range(of: "\n\n", options: .backwards) else {
      throw NoteError.malformedNote("it has no blank line before its signatures (truncated, or re-wrapped?)")
    }
    text = String(message[..<split.lowerBound]) + "\n"
    let block = message[split.upperBound...]
    guard block.hasSuffix("\n") else { throw NoteError.malformedNote("its last signature line does not end with a newline (truncated?)") }
    let lines = block.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
    guard !lines.isEmpty, lines.count <= 100 else { throw NoteError.malformedNote("it must have 1 to 100 signature lines") }
    signatures = []
    for line in lines {
      guard line.hasPrefix("— ") else { throw NoteError.malformedNote("a signature line must begin with an em dash and a space: \"\(line.prefix(40))\"") }
      let fields = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
      guard fields.count == 2, isValidKeyName(String(fields[0])),
            let raw = Data(base64Encoded: String(fields[1])).map(Array.init), raw.count >= 5 else {
        throw NoteError.malformedNote("a signature line is not \"— NAME BASE64\": \"\(line.prefix(40))\"")
      }
      signatures.append(NoteSignature(name: String(fields[0]), keyID: raw[0..<4].reduce(0) { $0 << 8 | UInt32($1) }, signature: Array(raw[4...])))
    }
  }

  /// Adds `signer`'s signature over the text (replacing an earlier one by the same key).
  public mutating func sign(with signer: NoteSigner) throws {
    let verifier = signer.verifier
    signatures.removeAll { $0.name == verifier.name && $0.keyID == verifier.keyID }
    signatures.append(NoteSignature(name: signer.name, keyID: verifier.keyID, signature: try signer.signature(for: Array(text.utf8))))
  }

  /// The note's bytes: text, `\n`, the signature lines.
  public var rendered: String { text + "\n" + signatures.map(\.line).joined() }

  /// The keys among `verifiers` whose signature on the note verifies. A signature by a known key
  /// (same name and key id) that does not verify throws: it is a forgery or damage, not noise.
  /// Signatures by unknown keys are ignored, as C2SP signed-note requires.
  /// - Throws: ``NoteError/notVerified(_:)`` for a bad signature by a known key.
  public func verifiedKeys(_ verifiers: [NoteVerifier]) throws -> [NoteVerifier] {
    var out: [NoteVerifier] = []
    for signature in signatures {
      for verifier in verifiers where verifier.name == signature.name && verifier.keyID == signature.keyID {
        guard signature.signature.count == 64, verifier.isValidSignature(signature.signature, for: Array(text.utf8)) else {
          throw NoteError.notVerified("the signature by \(verifier.name)+\(hex8(verifier.keyID)) does not verify: the note was changed after it was signed, or the signature is damaged")
        }
        if !out.contains(verifier) { out.append(verifier) }
      }
    }
    return out
  }
}
