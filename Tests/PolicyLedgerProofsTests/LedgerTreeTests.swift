import Foundation
@testable import PolicyLedgerEventLog
@testable import PolicyLedgerProofs
import PolicyLedgerStorage
import PolicyLedgerTestSupport
import Testing

func sampleEvent(_ i: Int) -> ProposedEvent {
  ProposedEvent(type: "test.noted", schemaVersion: 1, streams: [StreamID("body:panel")!], effective: .day(2020, 3, 26)!,
                actor: "secretariat", source: "slide \(i)", payload: .object(["n": .integer(i)]))
}

func openLog(_ folder: TemporaryFolder, readOnly: Bool = false) throws -> EventLog {
  let clock = SteppingClock()
  var options = EventLog.Options()
  options.clock = { LedgerTimestamp(microseconds: clock.tick()) }
  options.readOnly = readOnly
  options.create = !readOnly
  return try EventLog.open(at: folder.path, options: options)
}

/// The tree by the definition, from the events' canonical bytes.
func expectedTree(_ log: EventLog) throws -> MerkleTree {
  guard let head = try log.head() else { return MerkleTree(leafHashes: []) }
  return MerkleTree(leafHashes: try log.events(in: 1...head.sequence.rawValue).map { MerkleHash.leaf($0.canonicalBytes) })
}

/// Rewrites event `target` as a forger with write access to data.mdb would: new canonical bytes,
/// and every later hash and link recomputed, so the hash chain still verifies.
func forge(_ log: EventLog, event target: UInt64) throws {
  let events = try #require(try log.environment.database(named: "events", create: false))
  try log.environment.write { txn in
    var previous: [UInt8]? = nil
    var sequence = target
    while let record = try txn.value(for: SequenceNumber(sequence).keyBytes, in: events) {
      var canonical = Array(record[65...])
      if sequence == target {
        canonical = Array(String(decoding: canonical, as: UTF8.self).replacingOccurrences(of: "secretariat", with: "forger").utf8)
      }
      let prev = previous ?? Array(record[1..<33])
      let hash = EventLog.hash(previous: EventHash(hex: prev.map { String(format: "%02x", $0) }.joined())!, canonical: canonical).bytes
      try txn.put([1] + prev + hash + canonical, for: SequenceNumber(sequence).keyBytes, in: events)
      previous = hash
      sequence += 1
    }
  }
}

@Suite("The stored Merkle tree of a ledger")
struct LedgerTreeTests {
  @Test("appends in batches of 1…9: the stored tree equals the tree by the definition, every proof verifies")
  func storedTreeFollowsAppends() throws {
    let folder = TemporaryFolder("tree")
    let log = try openLog(folder)
    var next = 1
    batches: for batchSize in [1, 2, 1, 3, 9, 1, 4, 5, 7, 8, 2, 6] {
      try log.append((next..<next + batchSize).map(sampleEvent))
      next += batchSize
      let stored = try LedgerTree(log: log)
      #expect(stored.isStored)
      let expected = try expectedTree(log)
      #expect(stored.size == UInt64(next - 1))
      let root = try expected.root()
      guard try stored.tree.root() == root else { Issue.record("root differs at size \(next - 1)"); break batches }
      #expect(try LedgerTree.check(log).mismatch == nil)
      let leaves = try log.events(in: 1...UInt64(next - 1)).map { MerkleHash.leaf($0.canonicalBytes) }
      for index in 0..<UInt64(next - 1) {
        let proof = try stored.tree.inclusionProof(leaf: index, treeSize: stored.size)
        try MerkleVerification.verifyInclusion(leafHash: leaves[Int(index)], index: index, treeSize: stored.size, proof: proof, root: root)
      }
      for first in 1..<UInt64(next) {
        let proof = try stored.tree.consistencyProof(from: first, to: stored.size)
        try MerkleVerification.verifyConsistency(first: first, second: stored.size, firstRoot: try expected.root(size: first), secondRoot: root, proof: proof)
      }
    }
    // At most log2(n)+1 nodes per event, about two on average.
    let merkle = try #require(try log.environment.database(named: "merkle", create: false))
    let nodes = try log.environment.read { txn in try txn.count(merkle) }
    #expect(nodes == 2 * (next - 1) - (next - 1).nonzeroBitCount)
  }

  @Test("the tree is written in the append's transaction: an append that fails leaves no node behind")
  func sameTransaction() throws {
    struct Refused: Error {}
    let folder = TemporaryFolder("atomic-tree")
    let log = try openLog(folder)
    try log.append((1...3).map(sampleEvent))
    #expect(throws: Refused.self) { try log.append((4...9).map(sampleEvent)) { _, _ in throw Refused() } }
    #expect(try log.environment.read { txn in try log.merkleTreeSize(in: txn) } == 3)
    let merkle = try #require(try log.environment.database(named: "merkle", create: false))
    #expect(try log.environment.read { txn in try txn.count(merkle) } == 4)  // leaves 0, 1, 2 and node (1, 0)
    try log.append([sampleEvent(4)])
    #expect(try LedgerTree.check(log) == LedgerTree.CheckReport(storedSize: 4, events: 4, mismatch: nil))
  }

  @Test("a ledger without a tree (written before it existed) is hashed in memory read-only, and gets its tree on the next append or rebuild")
  func oldLedger() throws {
    let folder = TemporaryFolder("old")
    let writer = try openLog(folder)
    try writer.append((1...20).map(sampleEvent))
    let merkle = try #require(try writer.environment.database(named: "merkle", create: false))
    try writer.environment.write { txn in try txn.empty(merkle) }
    // (One environment per folder per process: the same handle stands for a read-only reader.)
    let reader = writer
    let lazy = try LedgerTree(log: reader)
    #expect(!lazy.isStored)
    #expect(try lazy.tree.root() == (try expectedTree(reader)).root())
    #expect(try LedgerTree.check(reader).storedSize == 0)
    #expect(try LedgerTree.check(reader).mismatch == nil)
    try writer.append([sampleEvent(21)])
    let stored = try LedgerTree(log: writer)
    #expect(stored.isStored && stored.size == 21)
    #expect(try stored.tree.root() == (try expectedTree(writer)).root())
    #expect(try LedgerTree.check(writer) == LedgerTree.CheckReport(storedSize: 21, events: 21, mismatch: nil))
    #expect(try writer.rebuildMerkleTree() == 21)
    #expect(try LedgerTree.check(writer).mismatch == nil)
  }

  @Test("a forger who rewrites event 5 and recomputes the chain: the chain verifies, the stored tree names event 5, an old root no longer matches")
  func forgery() throws {
    let folder = TemporaryFolder("forged")
    let log = try openLog(folder)
    try log.append((1...12).map(sampleEvent))
    let before = try LedgerTree(log: log).tree.root(size: 10)
    try forge(log, event: 5)
    #expect(try log.verify().isValid)
    let report = try LedgerTree.check(log)
    #expect(report.mismatch?.firstEvent == 5 && report.mismatch?.lastEvent == 5)
    #expect(try expectedTree(log).root(size: 10) != before)
    #expect(try expectedTree(log).root(size: 4) == (try LedgerTree(log: log)).tree.root(size: 4))
  }
}

@Suite("Merkle node keys")
struct MerkleKeyTests {
  @Test("post-order positions: every node appended gets the next position, and the size follows from the last")
  func positions() {
    var expected: UInt64 = 0
    nodes: for leaf in UInt64(0)..<5000 {
      var level: UInt8 = 0, index = leaf
      while true {
        guard EventLog.merklePosition(level: level, index: index) == expected else { Issue.record("node (\(level), \(index))"); break nodes }
        expected += 1
        guard index & 1 == 1 else { break }
        level += 1; index >>= 1
      }
      #expect(EventLog.merkleLeafCount(lastPosition: expected - 1) == leaf + 1)
    }
  }
}
