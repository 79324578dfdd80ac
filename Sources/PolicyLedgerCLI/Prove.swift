import ArgumentParser
import Foundation
import PolicyLedgerEventLog
import PolicyLedgerProofs
import PolicyLedgerQuery

extension PolicyLedger {
  /// `prove`: RFC 9162 inclusion and consistency proofs, as JSON.
  struct Prove: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print RFC 9162 Merkle proofs as JSON (hashes in base64): that an event is in the log, or that the log extends a checkpoint.",
      subcommands: [Inclusion.self, Consistency.self])

    /// `prove inclusion`.
    struct Inclusion: ParsableCommand {
      static let configuration = CommandConfiguration(
        abstract: "Prove that event N is in the tree of the head, or of a checkpoint (RFC 9162 §2.1.3).",
        discussion: """
          Prints one JSON object: hashEncoding ("base64"), origin, seq, leafIndex (seq - 1), treeSize, rootHash, \
          leafHash (SHA-256 of 0x00 and the event's canonical bytes), proof (the audit path, leaf to root), and \
          event (the canonical bytes, as text). Check it with RFC 9162 §2.1.3.2.
          """)

      @Option(help: ArgumentHelp("The event's sequence number.", valueName: "seq"))
      var event: UInt64
      @Option(help: ArgumentHelp("Prove against this signed checkpoint (its size and root) instead of the head.", valueName: "file"), completion: .file())
      var checkpoint: String?
      @Option(help: ArgumentHelp("Verify the checkpoint's signature with this verifier key first.", valueName: "key"))
      var key: String?
      @OptionGroup var ledger: LedgerOptions

      func validate() throws {
        guard event >= 1 else { throw ValidationError("--event must be a sequence number, 1 or more.") }
        if key != nil && checkpoint == nil { throw ValidationError("--key checks a --checkpoint; give both.") }
      }

      func run() throws {
        let log = try ledger.openForReading().log
        let tree = try LedgerTree(log: log)
        var size = tree.size
        var signed: SignedCheckpoint?
        if let checkpoint {
          let parsed = try ProofFiles.checkpoint(at: checkpoint, option: "--checkpoint")
          if let key {
            do { _ = try parsed.verify(keys: [try ProofFiles.verifier(key)]) } catch let error as NoteError { throw Failure(.dataError, "--checkpoint \(checkpoint): \(error)") }
          }
          try ProofFiles.requireFits(parsed, log, size: tree.size, option: "--checkpoint")
          size = parsed.checkpoint.size
          signed = parsed
        }
        guard event <= size else {
          let what = signed == nil ? "the ledger's head is event \(size)" : "the checkpoint covers events 1–\(size)"
          throw Failure(.usage, "event \(event) is past the end of the tree: \(what)")
        }
        let root = try tree.tree.root(size: size)
        if let signed, signed.checkpoint.rootHash != root {
          throw Failure(.problemFound, CheckpointMismatch.rootDiffers(size: size, firstDifferingEvent: nil).description + " (run `policy-ledger verify --checkpoint`)")
        }
        let recorded = try log.event(SequenceNumber(event))
        let leaf = LedgerTree.leafHash(of: recorded)
        let proof = try tree.tree.inclusionProof(leaf: event - 1, treeSize: size)
        try ProofFiles.selfCheck(event: event) { try MerkleVerification.verifyInclusion(leafHash: leaf, index: event - 1, treeSize: size, proof: proof, root: root) }
        Console.out(JSON.object([
          "hashEncoding": .string("base64"), "origin": .string(ProofFiles.origin(log)), "seq": .integer(event), "leafIndex": .integer(event - 1),
          "treeSize": .integer(size), "rootHash": ProofFiles.base64(root), "leafHash": ProofFiles.base64(leaf),
          "proof": ProofFiles.base64List(proof), "event": .string(String(decoding: recorded.canonicalBytes, as: UTF8.self)),
        ]).rendered())
      }
    }

    /// `prove consistency`.
    struct Consistency: ParsableCommand {
      static let configuration = CommandConfiguration(
        abstract: "Prove that the tree of a later checkpoint (or the head) extends an earlier checkpoint's (RFC 9162 §2.1.4).",
        discussion: """
          Prints one JSON object: hashEncoding ("base64"), origin, first and second (tree sizes), firstRoot, \
          secondRoot, proof. Check it with RFC 9162 §2.1.4.2.
          """)

      @Option(help: ArgumentHelp("The earlier signed checkpoint.", valueName: "file"), completion: .file())
      var from: String
      @Option(help: ArgumentHelp("The later signed checkpoint (default: the ledger's head).", valueName: "file"), completion: .file())
      var to: String?
      @OptionGroup var ledger: LedgerOptions

      func run() throws {
        let log = try ledger.openForReading().log
        let tree = try LedgerTree(log: log)
        let first = try ProofFiles.checkpoint(at: from, option: "--from")
        try ProofFiles.requireFits(first, log, size: tree.size, option: "--from")
        var second = tree.size
        if let to {
          let later = try ProofFiles.checkpoint(at: to, option: "--to")
          try ProofFiles.requireFits(later, log, size: tree.size, option: "--to")
          second = later.checkpoint.size
          guard try tree.tree.root(size: second) == later.checkpoint.rootHash else {
            throw Failure(.problemFound, "--to: " + CheckpointMismatch.rootDiffers(size: second, firstDifferingEvent: nil).description)
          }
        }
        let m = first.checkpoint.size
        guard m <= second else { throw Failure(.usage, "--from covers \(m) events, more than the \(second) of the later tree: swap --from and --to") }
        guard m >= 1 else { throw Failure(.usage, "--from is the checkpoint of an empty tree: a consistency proof from it proves nothing") }
        guard try tree.tree.root(size: m) == first.checkpoint.rootHash else {
          throw Failure(.problemFound, "--from: " + CheckpointMismatch.rootDiffers(size: m, firstDifferingEvent: nil).description + " (run `policy-ledger verify --checkpoint`)")
        }
        let secondRoot = try tree.tree.root(size: second)
        let proof = try tree.tree.consistencyProof(from: m, to: second)
        try MerkleVerification.verifyConsistency(first: m, second: second, firstRoot: first.checkpoint.rootHash, secondRoot: secondRoot, proof: proof)
        Console.out(JSON.object([
          "hashEncoding": .string("base64"), "origin": .string(ProofFiles.origin(log)), "first": .integer(m), "second": .integer(second),
          "firstRoot": ProofFiles.base64(first.checkpoint.rootHash), "secondRoot": ProofFiles.base64(secondRoot), "proof": ProofFiles.base64List(proof),
        ]).rendered())
      }
    }
  }
}
