import ArgumentParser
import Foundation
import PolicyLedgerEventLog
import PolicyLedgerProofs
import PolicyLedgerQuery

extension PolicyLedger {
  /// `audit-pack`: events, their inclusion proofs, a signed checkpoint and the verifier keys,
  /// in a folder that `Tools/verify-audit-pack.py` checks offline.
  struct AuditPack: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "audit-pack",
      abstract: "Write chosen events with their inclusion proofs, the signed checkpoint of the head and the verifier keys to a new folder, for an auditor to check offline.",
      discussion: """
        The folder holds: checkpoint (the signed note), verifier-keys (one key per line), events.ndjson (each \
        event's canonical bytes, one per line: exactly the Merkle leaves), proofs.json (origin, treeSize, \
        rootHash, and per event seq, leafIndex, leafHash, proof and prev, the previous event's chain hash; hashes \
        in base64). A signed event also has its actor's signature, and the event that registered its key is \
        added to the pack, so that the signature can be checked too. \
        `python3 Tools/verify-audit-pack.py DIR --key VERIFIERKEY` checks it without this program; \
        ARCHITECTURE.md says how, byte for byte.
        """)

    @Option(help: ArgumentHelp("The new folder to write (it must not exist, and not be inside a ledger folder).", valueName: "dir"), completion: .directory)
    var output: String
    @Option(parsing: .upToNextOption, help: ArgumentHelp("The sequence numbers of the events to include.", valueName: "seq"))
    var event: [UInt64]
    @Option(help: ArgumentHelp("The private key file that signs the checkpoint (mode 600).", valueName: "file"), completion: .file())
    var key: String
    @Option(help: ArgumentHelp("Another verifier key to list in verifier-keys (a witness's); repeatable.", valueName: "key"))
    var witnessKey: [String] = []
    @OptionGroup var ledger: LedgerOptions

    func validate() throws {
      guard !event.isEmpty else { throw ValidationError("--event needs at least one sequence number.") }
      guard !event.contains(0) else { throw ValidationError("--event takes sequence numbers, 1 or more.") }
    }

    func run() throws {
      let signer = try ProofFiles.signer(at: key)
      let witnesses = try witnessKey.map(ProofFiles.verifier)
      if FileManager.default.fileExists(atPath: output) { throw Failure(.usage, "--output \(output) already exists; an audit pack is written to a new folder") }
      let parent = URL(fileURLWithPath: output).deletingLastPathComponent().path
      if let enclosing = ledger.enclosingLedgerFolder(of: parent) {
        throw Failure(.usage, "--output \(output) is inside the ledger folder \(enclosing); write the pack somewhere else")
      }
      let opened = try ledger.openForReading()
      let log = opened.log
      let (signed, tree) = try ProofFiles.headCheckpoint(log, signer: signer)
      if let past = event.first(where: { $0 > tree.size }) {
        throw Failure(.usage, "event \(past) is past the end of the ledger: its head is event \(tree.size)")
      }
      // Each signed event brings the registration of its key, which says whose key it is; a
      // registration signed in turn brings its own, back to keys registered unsigned (before the
      // policy): the pack shows who vouched for whom.
      let registry = try opened.signingRegistry()
      var signatures: [UInt64: (stored: EventSignature, registration: SequenceNumber?)] = [:]
      var included = Set<UInt64>()
      var pending = Array(Set(event))
      while let seq = pending.popLast() {
        guard included.insert(seq).inserted else { continue }
        let recorded = try log.event(SequenceNumber(seq))
        let stored = try log.storedSignature(of: recorded.sequence)
        let status = registry.status(of: recorded, stored: stored)
        // A pack proves what it holds, not what is missing from it: an event whose signature
        // fails (or is missing where the policy required one) is not packed as if it were sound.
        if status.isFailure {
          throw Failure(.problemFound, "event \(seq) fails its signature check (\(status.summary)); run `policy-ledger verify`; nothing was written")
        }
        if case .signed(_, let registration) = status, let stored, let signature = EventSignature(bytes: stored) {
          signatures[seq] = (signature, registration)
          pending.append(registration.rawValue)
        }
      }
      let sequences = included.sorted()
      let root = signed.checkpoint.rootHash
      var lines: [UInt8] = []
      var entries: [JSON] = []
      for seq in sequences {
        let recorded = try log.event(SequenceNumber(seq))
        let leaf = LedgerTree.leafHash(of: recorded)
        let proof = try tree.tree.inclusionProof(leaf: seq - 1, treeSize: tree.size)
        try ProofFiles.selfCheck(event: seq) { try MerkleVerification.verifyInclusion(leafHash: leaf, index: seq - 1, treeSize: tree.size, proof: proof, root: root) }
        lines += recorded.canonicalBytes + [0x0A]
        var entry: [String: JSON] = ["seq": .integer(seq), "leafIndex": .integer(seq - 1), "leafHash": ProofFiles.base64(leaf),
                                     "proof": ProofFiles.base64List(proof), "prev": ProofFiles.base64(recorded.previousHash.bytes)]
        if let (signature, registration) = signatures[seq] {
          entry["signature"] = .fields(["keyId": .string(keyIDHex(signature.keyID)), "signature": ProofFiles.base64(signature.signature),
                                        "registration": registration.map { .integer($0.rawValue) }])
        }
        entries.append(.object(entry))
      }
      let proofs = JSON.object([
        "format": .string("policy-ledger-audit-pack/1"), "hashEncoding": .string("base64"), "origin": .string(signed.checkpoint.origin),
        "treeSize": .integer(tree.size), "rootHash": ProofFiles.base64(root), "events": .array(entries),
      ])
      let keys = ([signer.verifier] + witnesses).map { $0.description + "\n" }.joined()
      // Written into a temporary sibling folder and renamed: a pack is complete or absent.
      let staging = output + ".partial-\(getpid())"
      do {
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        try Data(signed.note.rendered.utf8).write(to: URL(fileURLWithPath: staging + "/checkpoint"))
        try Data(keys.utf8).write(to: URL(fileURLWithPath: staging + "/verifier-keys"))
        try Data(lines).write(to: URL(fileURLWithPath: staging + "/events.ndjson"))
        try Data(proofs.rendered().utf8).write(to: URL(fileURLWithPath: staging + "/proofs.json"))
        try FileManager.default.moveItem(atPath: staging, toPath: output)
      } catch {
        try? FileManager.default.removeItem(atPath: staging)
        throw Failure(.ioError, "cannot write the audit pack \(output): \(Failure.reason(error)); nothing was kept")
      }
      let added = sequences.count - Set(event).count
      Console.line("Wrote \(Render.count(sequences.count, "event"))" + (added > 0 ? " (\(added) of them the registrations of signing keys)" : "") + " with inclusion proofs in the tree of \(tree.size) events to \(output).")
      Console.line("Check it with: python3 Tools/verify-audit-pack.py \(output) --key \(signer.verifier.description)")
    }
  }
}
