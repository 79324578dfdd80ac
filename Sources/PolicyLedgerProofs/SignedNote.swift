public import Foundation
public import PolicyLedgerEventLog

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
          throw NoteError.notVerified("the signature by \(verifier.label) does not verify: the note was changed after it was signed, or the signature is damaged")
        }
        if !out.contains(verifier) { out.append(verifier) }
      }
    }
    return out
  }
}
