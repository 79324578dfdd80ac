public import Foundation
public import PolicyLedgerEventLog

/// A C2SP tlog-checkpoint: the body of a signed note naming a log, its size and its root hash.
///
/// ```
/// policy-ledger/0f1e…-…          origin
/// 42                             tree size, decimal, no leading zeros
/// 3q2+7w…=                       root hash, standard base64 with padding
/// ```
/// Each line ends with `\n`. Extension lines may follow; this ledger writes none and keeps any
/// it reads.
public struct Checkpoint: Sendable, Equatable {
  public let origin: String
  public let size: UInt64
  public let rootHash: [UInt8]
  public let extensionLines: [String]

  public init(origin: String, size: UInt64, rootHash: [UInt8], extensionLines: [String] = []) {
    self.origin = origin
    self.size = size
    self.rootHash = rootHash
    self.extensionLines = extensionLines
  }

  /// The origin of the checkpoints of the ledger `ledgerID`: `policy-ledger/<ledger id>`.
  public static func origin(ledgerID: String) -> String { "policy-ledger/\(ledgerID)" }

  /// The checkpoint's text (the note body that is signed).
  public var text: String {
    "\(origin)\n\(size)\n\(Data(rootHash).base64EncodedString())\n" + extensionLines.map { $0 + "\n" }.joined()
  }

  /// Parses a checkpoint body.
  /// - Throws: ``NoteError/malformedCheckpoint(_:)``.
  public init(text: String) throws {
    guard text.hasSuffix("\n") else { throw NoteError.malformedCheckpoint("it does not end with a newline") }
    let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard lines.count >= 3 else { throw NoteError.malformedCheckpoint("it needs an origin line, a tree size line and a root hash line") }
    guard !lines[0].isEmpty else { throw NoteError.malformedCheckpoint("its origin line is empty") }
    guard let size = UInt64(lines[1]), String(size) == lines[1] else {
      throw NoteError.malformedCheckpoint("its second line \"\(lines[1].prefix(30))\" is not a tree size in decimal without leading zeros")
    }
    guard let root = Data(base64Encoded: lines[2]).map(Array.init), root.count == 32, Data(root).base64EncodedString() == lines[2] else {
      throw NoteError.malformedCheckpoint("its third line is not the base64 of a 32-byte root hash")
    }
    if lines.dropFirst(3).contains(where: \.isEmpty) { throw NoteError.malformedCheckpoint("it holds an empty line") }
    self.init(origin: lines[0], size: size, rootHash: root, extensionLines: Array(lines.dropFirst(3)))
  }
}

/// A checkpoint with its signed note, as printed by `policy-ledger checkpoint`.
public struct SignedCheckpoint: Sendable, Equatable {
  public let checkpoint: Checkpoint
  public let note: SignedNote

  /// Parses a signed checkpoint note (signatures are not verified here).
  /// - Throws: ``NoteError``.
  public init(parsing bytes: [UInt8]) throws {
    note = try SignedNote(parsing: bytes)
    checkpoint = try Checkpoint(text: note.text)
  }

  /// Signs `checkpoint` with `signer`.
  public init(signing checkpoint: Checkpoint, with signer: NoteSigner) throws {
    var note = SignedNote(text: checkpoint.text)
    try note.sign(with: signer)
    self.checkpoint = checkpoint
    self.note = note
  }

  init(checkpoint: Checkpoint, note: SignedNote) {
    self.checkpoint = checkpoint
    self.note = note
  }

  /// Adds a cosignature (a witness's signed-note Ed25519 signature over the same text).
  public func cosigned(with signer: NoteSigner) throws -> SignedCheckpoint {
    var note = self.note
    try note.sign(with: signer)
    return SignedCheckpoint(checkpoint: checkpoint, note: note)
  }

  /// Checks that at least `quorum` of `keys` signed the checkpoint and that it names `origin`.
  /// - Returns: The keys whose signatures verified.
  /// - Throws: ``NoteError/notVerified(_:)`` (too few signatures, or a bad one by a known key),
  ///   ``CheckpointMismatch/otherOrigin(expected:found:)``.
  public func verify(keys: [NoteVerifier], quorum: Int = 1, origin: String? = nil) throws -> [NoteVerifier] {
    let verified = try note.verifiedKeys(keys)
    guard verified.count >= max(quorum, 1) else {
      let names = keys.map(\.description).joined(separator: ", ")
      throw NoteError.notVerified(verified.isEmpty
        ? "the checkpoint carries no signature by the given key\(keys.count == 1 ? "" : "s") (\(names)): wrong key, or a note signed by someone else"
        : "only \(verified.count) of the required \(quorum) keys signed the checkpoint")
    }
    if let origin, checkpoint.origin != origin { throw CheckpointMismatch.otherOrigin(expected: origin, found: checkpoint.origin) }
    return verified
  }
}

/// A checkpoint that does not fit this ledger.
public enum CheckpointMismatch: Error, Equatable, Sendable, CustomStringConvertible {
  /// The checkpoint is of another log.
  case otherOrigin(expected: String, found: String)
  /// The checkpoint covers more events than the log holds: the log was cut, or it is another log.
  case largerThanLog(checkpoint: UInt64, log: UInt64)
  /// The log's tree of the checkpoint's size has another root: history up to it was rewritten.
  case rootDiffers(size: UInt64, firstDifferingEvent: UInt64?)

  public var description: String {
    switch self {
    case let .otherOrigin(expected, found):
      return "the checkpoint is of another ledger: its origin is \"\(found)\", this ledger's is \"\(expected)\""
    case let .largerThanLog(checkpoint, log):
      return "the checkpoint covers \(checkpoint) events but the ledger holds only \(log): events were removed from its end, or it is another ledger"
    case let .rootDiffers(size, first):
      let base = "the ledger's first \(size) events no longer have the checkpoint's root hash: history up to event \(size) was rewritten"
      guard let first else { return base + " (the checkpoint alone cannot say which event; `verify` names it when the stored tree was not rewritten too)" }
      return base + "; the first differing event is \(first)"
    }
  }
}
