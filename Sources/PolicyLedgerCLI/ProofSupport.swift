import ArgumentParser
#if canImport(CDispatch)
// Linux: with SwiftNIO in the build, `struct stat` is owned by libdispatch's C module.
import CDispatch
#endif
import Foundation
import PolicyLedgerEventLog
import PolicyLedgerProofs
import PolicyLedgerQuery

// Shared by `keys`, `checkpoint`, `prove`, `audit-pack` and `verify --checkpoint`: reading key
// files and checkpoint notes, and turning the proofs module's errors into `Failure`s.

enum ProofFiles {
  /// Reads a private key file: it must exist, be a regular file readable by its owner only, and
  /// hold one `PRIVATE+KEY+…` line.
  /// - Throws: ``Failure`` 66 (missing), 64 (readable by others), 65 (not a key).
  static func signer(at path: String) throws -> NoteSigner {
    var info = stat()
    guard stat(path, &info) == 0 else { throw Failure(.noInput, "no key file at \(path) (`policy-ledger keys generate --name NAME --output \(path)` makes one)") }
    guard info.st_mode & S_IFMT == S_IFREG else { throw Failure(.usage, "the key file \(path) is not a regular file") }
    let mode = info.st_mode & 0o777
    if mode & 0o077 != 0 {
      throw Failure(.usage, "the key file \(path) is readable by others (mode \(String(mode, radix: 8))); a private key must be mode 600: run `chmod 600 \(path)` if nobody else has read it, else generate a new key")
    }
    let text: String
    do { text = try String(contentsOfFile: path, encoding: .utf8) } catch { throw Failure(Failure.fileStatus(error as? CocoaError ?? CocoaError(.fileReadUnknown)), "cannot read the key file \(path): \(Failure.reason(error))") }
    do { return try NoteSigner(text) } catch let error as NoteError {
      throw Failure(.dataError, "the key file \(path) does not hold a private key: \(error)")
    }
  }

  /// A verifier key given on the command line: the key itself (`NAME+KEYID+BASE64`), or a file holding it.
  static func verifier(_ argument: String) throws -> NoteVerifier {
    var text = argument
    if !argument.contains("+"), FileManager.default.fileExists(atPath: argument) {
      text = (try? String(contentsOfFile: argument, encoding: .utf8)) ?? ""
    }
    if text.hasPrefix("PRIVATE+KEY+") { throw Failure(.usage, "--key was given a private key; give the verifier key (NAME+KEYID+BASE64) that `keys generate` printed") }
    do { return try NoteVerifier(text) } catch let error as NoteError {
      throw Failure(.usage, "--key \(argument.prefix(80)): \(error)")
    }
  }

  /// Reads a signed checkpoint note from a file ("-" for standard input), byte for byte.
  static func checkpoint(at path: String, option: String) throws -> SignedCheckpoint {
    let data: Data
    if path == "-" {
      data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
      guard FileManager.default.fileExists(atPath: path) else { throw Failure(.noInput, "no checkpoint file at \(path) (\(option))") }
      do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw Failure(.ioError, "cannot read \(path): \(Failure.reason(error))") }
    }
    do { return try SignedCheckpoint(parsing: Array(data)) } catch let error as NoteError {
      throw Failure(.dataError, "\(option) \(path): \(error)")
    }
  }

  /// Throws (exit 1) when the stored Merkle tree differs from the events: the one trace of
  /// events rewritten with their hashes recomputed that the ledger itself keeps, which a rebuild
  /// or a restore from an export would wipe out. `refusing` says what is not done, and how to go on.
  static func requireStoredTreeMatches(_ log: EventLog, refusing: String) throws {
    if let mismatch = try LedgerTree.check(log).mismatch {
      throw Failure(.problemFound, "the stored Merkle tree differs from the events at \(mismatch): evidence that events were rewritten after they were appended; " + refusing)
    }
  }

  /// The ledger's checkpoint origin.
  static func origin(_ log: EventLog) -> String { Checkpoint.origin(ledgerID: log.ledgerID) }

  /// Refuses a checkpoint of another ledger or larger than the log (status 65).
  static func requireFits(_ signed: SignedCheckpoint, _ log: EventLog, size: UInt64, option: String) throws {
    let origin = origin(log)
    if signed.checkpoint.origin != origin {
      throw Failure(.dataError, "\(option): " + CheckpointMismatch.otherOrigin(expected: origin, found: signed.checkpoint.origin).description)
    }
    if signed.checkpoint.size > size {
      throw Failure(.dataError, "\(option): " + CheckpointMismatch.largerThanLog(checkpoint: signed.checkpoint.size, log: size).description)
    }
  }

  /// The signed checkpoint of the ledger's head.
  static func headCheckpoint(_ log: EventLog, signer: NoteSigner) throws -> (SignedCheckpoint, LedgerTree) {
    let tree = try LedgerTree(log: log)
    guard tree.size > 0 else { throw Failure(.noInput, "the ledger at \(log.path) holds no events, so it has no checkpoint yet") }
    // A checkpoint is a public statement about the events: never sign a stored root they do not have.
    try requireStoredTreeMatches(log, refusing: "a checkpoint of it would sign a root the events do not have; run `policy-ledger verify`; nothing was signed")
    let checkpoint = Checkpoint(origin: origin(log), size: tree.size, rootHash: try tree.tree.root())
    return (try SignedCheckpoint(signing: checkpoint, with: signer), tree)
  }

  /// Checks a proof the ledger made from its stored tree before handing it out: when it does
  /// not lead to the root, the stored tree disagrees with itself or the events (exit 1).
  static func selfCheck(event: UInt64, _ check: () throws -> Void) throws {
    do { try check() } catch let error as MerkleProofError {
      throw Failure(.problemFound, "the inclusion proof of event \(event) made from the stored Merkle tree does not hold (\(error.description)): the stored tree differs from the events; run `policy-ledger verify`; nothing was written")
    }
  }

  static func base64(_ bytes: [UInt8]) -> JSON { .string(Data(bytes).base64EncodedString()) }
  static func base64List(_ list: [[UInt8]]) -> JSON { .array(list.map(base64)) }
}

extension Failure {
  /// The proofs module's errors, for ``Failure/classify(_:)``.
  static func classifyProofs(_ error: any Error) -> Failure? {
    switch error {
    case let error as NoteError: return Failure(.dataError, error.description)
    case let error as CheckpointMismatch: return Failure(.dataError, error.description)
    case let error as MerkleProofError: return Failure(.usage, error.description)
    default: return nil
    }
  }
}
