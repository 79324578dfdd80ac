import ArgumentParser
import Foundation
import PolicyLedgerEventLog
import PolicyLedgerProofs

/// The Merkle-tree and checkpoint part of `verify`: the stored tree against the events, and
/// (with `--checkpoint`) that the log still extends a signed checkpoint kept elsewhere.
struct ProofVerification {
  /// Lines for the table format's caption.
  var caption: [String] = []
  /// Members added to the JSON report.
  var json: [String: JSON] = [:]
  /// The problems found, in order (any makes the exit status 1).
  var problems: [String] = []

  /// The checkpoint options, read and checked before the (long) verification starts.
  struct Inputs {
    let checkpoint: SignedCheckpoint?
    let path: String?
    let keys: [NoteVerifier]
    let quorum: Int

    /// - Throws: ``Failure`` 64 (a bad key, --key without --checkpoint), 65 (a malformed note), 66 (no file).
    init(checkpoint path: String?, keys: [String], quorum: Int) throws {
      if path == nil && !keys.isEmpty { throw Failure(.usage, "--key checks a --checkpoint; give both") }
      if path != nil && keys.isEmpty { throw Failure(.usage, "--checkpoint needs --key VERIFIERKEY: a checkpoint is only as good as its signature") }
      guard quorum >= 1, quorum <= max(keys.count, 1) else { throw Failure(.usage, "--quorum \(quorum) must be between 1 and the number of --key options (\(keys.count))") }
      self.path = path
      self.checkpoint = try path.map { try ProofFiles.checkpoint(at: $0, option: "--checkpoint") }
      self.keys = try keys.map(ProofFiles.verifier)
      self.quorum = quorum
    }

    /// A checkpoint already read (the web view's pasted one), checked with `keys`.
    init(signed: SignedCheckpoint, keys: [NoteVerifier], quorum: Int = 1) {
      self.path = nil
      self.checkpoint = signed
      self.keys = keys
      self.quorum = quorum
    }
  }

  /// Checks the stored tree and the checkpoint; `report` is the hash chain's verification.
  static func check(_ log: EventLog, report: VerificationReport, inputs: Inputs) throws -> ProofVerification {
    var out = ProofVerification()
    // The leaf hashes from the events themselves, once: for the tree check and the checkpoint.
    let head = try log.head()?.sequence.rawValue ?? 0
    let leaves: [[UInt8]]
    let tree: LedgerTree.CheckReport
    do {
      leaves = try LedgerTree.leafHashes(log, through: head)
      tree = try LedgerTree.check(log, leaves: leaves)
    } catch let error as LedgerError where !report.isValid {
      // A damaged log, already reported by the chain check: say why the tree was not checked.
      out.problems.append("the Merkle tree was not checked: \(error)")
      return out
    }
    var treeJSON: [String: JSON] = ["storedLeaves": .integer(tree.storedSize), "events": .integer(tree.events), "valid": .bool(tree.mismatch == nil)]
    if let mismatch = tree.mismatch {
      out.problems.append("the stored Merkle tree differs from the events at \(mismatch) (events changed after they were appended? compare with a checkpoint kept elsewhere before any `rebuild`)")
      treeJSON["failure"] = .object(["firstEvent": .integer(mismatch.firstEvent), "lastEvent": .integer(mismatch.lastEvent), "reason": .string(mismatch.reason)])
      out.caption.append("The stored Merkle tree differs from the events at \(mismatch).")
    } else if tree.storedSize < tree.events {
      out.caption.append("The Merkle tree is stored for \(tree.storedSize) of \(tree.events) events (a ledger from before the tree): the next append, or `policy-ledger rebuild`, stores the rest.")
    } else if tree.events > 0 {
      out.caption.append("The stored Merkle tree matches the events.")
    }
    out.json["merkleTree"] = .object(treeJSON)
    guard let signed = inputs.checkpoint else { return out }

    let checkpoint = signed.checkpoint
    var cpJSON: [String: JSON] = ["hashEncoding": .string("base64"), "origin": .string(checkpoint.origin), "size": .integer(checkpoint.size),
                                  "rootHash": ProofFiles.base64(checkpoint.rootHash)]
    func fail(_ message: String, firstDifferingEvent: UInt64? = nil) -> ProofVerification {
      out.problems.append(message)
      cpJSON["extended"] = .bool(false)
      cpJSON["failure"] = .string(message)
      if let firstDifferingEvent { cpJSON["firstDifferingEvent"] = .integer(firstDifferingEvent) }
      out.json["checkpoint"] = .object(cpJSON)
      out.caption.append("The checkpoint does not verify: \(message).")
      return out
    }
    let verified: [NoteVerifier]
    do { verified = try signed.verify(keys: inputs.keys, quorum: inputs.quorum) } catch let error as NoteError {
      return fail(error.description)
    }
    cpJSON["signedBy"] = .array(verified.map { .string($0.description) })
    let origin = ProofFiles.origin(log)
    if checkpoint.origin != origin { return fail(CheckpointMismatch.otherOrigin(expected: origin, found: checkpoint.origin).description) }
    let events = UInt64(leaves.count)
    if checkpoint.size > tree.events { return fail(CheckpointMismatch.largerThanLog(checkpoint: checkpoint.size, log: tree.events).description) }
    // The root recomputed from the events themselves, not from the stored tree a forger may have rewritten.
    let fromEvents = MerkleTree(leafHashes: Array(leaves.prefix(Int(checkpoint.size))))
    guard try fromEvents.root() == checkpoint.rootHash else {
      var first: UInt64?
      if let failure = report.failure, failure.sequence.rawValue <= checkpoint.size { first = failure.sequence.rawValue }
      if let mismatch = tree.mismatch, mismatch.firstEvent <= checkpoint.size { first = min(first ?? .max, mismatch.firstEvent) }
      return fail(CheckpointMismatch.rootDiffers(size: checkpoint.size, firstDifferingEvent: first).description, firstDifferingEvent: first)
    }
    // Extends it: show the RFC 9162 consistency proof from the checkpoint to the head, verified.
    let current = MerkleTree(leafHashes: leaves)
    let proof = try current.consistencyProof(from: checkpoint.size, to: events)
    try MerkleVerification.verifyConsistency(first: checkpoint.size, second: events, firstRoot: checkpoint.rootHash, secondRoot: try current.root(), proof: proof)
    cpJSON["extended"] = .bool(true)
    cpJSON["headSize"] = .integer(events)
    cpJSON["consistencyProof"] = ProofFiles.base64List(proof)
    out.json["checkpoint"] = .object(cpJSON)
    let signers = verified.map(\.name).joined(separator: ", ")
    out.caption.append(checkpoint.size == events
      ? "The ledger's head is the checkpoint of \(checkpoint.size) events signed by \(signers): the same root hash."
      : "The ledger extends the checkpoint of \(checkpoint.size) events signed by \(signers) (consistency proof of \(proof.count) hashes to \(events) events verified).")
    return out
  }
}
