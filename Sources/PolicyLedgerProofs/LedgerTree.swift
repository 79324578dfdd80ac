public import PolicyLedgerEventLog
import PolicyLedgerStorage

/// The Merkle tree over a ledger's events, read from the stored tree (`merkle` database).
///
/// ```swift
/// let tree = try LedgerTree(log: log)
/// let root = try tree.tree.root()
/// let path = try tree.tree.inclusionProof(leaf: 41, treeSize: tree.size)  // event 42
/// ```
///
/// Stored nodes never change once written (the log is append-only), so each lookup may use its
/// own short read transaction. A ledger opened read-only whose tree lags its head (written before
/// the tree existed and not appended to since) is hashed in memory instead: O(n) per command.
public struct LedgerTree {
  /// The number of events (leaves) the tree covers: the head when it was opened.
  public let size: UInt64
  /// The proofs over it.
  public let tree: MerkleTree
  /// True when the stored tree answers; false when it was hashed in memory from the events.
  public let isStored: Bool

  /// Opens the tree of `log` at its current head.
  /// - Throws: ``LedgerError`` from reading the log.
  public init(log: EventLog) throws {
    let (head, stored) = try log.environment.read { txn in
      (try log.headDigest(in: txn)?.sequence.rawValue ?? 0, try log.merkleTreeSize(in: txn))
    }
    size = head
    if stored >= head {
      isStored = true
      tree = MerkleTree(size: head) { start, count in try LedgerTree.storedHash(log, start: start, count: count) }
    } else {
      isStored = false
      tree = MerkleTree(leafHashes: try LedgerTree.leafHashes(log, through: head))
    }
  }

  /// The leaf hash of every event 1…`head`, computed from the events themselves (not read from
  /// the stored tree).
  /// - Complexity: O(n), reading in pages.
  public static func leafHashes(_ log: EventLog, through head: UInt64) throws -> [[UInt8]] {
    try log.merkleLeafHashes(through: head)
  }

  static func storedHash(_ log: EventLog, start: UInt64, count: UInt64) throws -> [UInt8] {
    if count & (count - 1) == 0 && start % count == 0 {
      let level = UInt8(count.trailingZeroBitCount)
      let node = try log.environment.read { txn in try log.merkleNode(level: level, index: start / count, in: txn) }
      guard let node, node.count == 32 else {
        throw LedgerError.corruptEvent(sequence: SequenceNumber(start + 1), reason: "the stored Merkle tree lacks node (level \(level), index \(start / count)); run `policy-ledger rebuild`")
      }
      return node
    }
    let k = count == 1 ? 1 : MerkleTree.largestPowerOfTwo(below: count)
    return MerkleHash.node(try storedHash(log, start: start, count: k), try storedHash(log, start: start + k, count: count - k))
  }

  /// The leaf hash of event `sequence`.
  public static func leafHash(of event: RecordedEvent) -> [UInt8] { MerkleHash.leaf(event.canonicalBytes) }

  /// A difference between the stored tree and the events.
  public struct Mismatch: Sendable, Equatable, CustomStringConvertible {
    /// The first event the differing node covers.
    public let firstEvent: UInt64
    /// The last event it covers.
    public let lastEvent: UInt64
    public let reason: String
    public var description: String {
      firstEvent == lastEvent ? "event \(firstEvent): \(reason)" : "events \(firstEvent)–\(lastEvent): \(reason)"
    }
  }

  /// The outcome of ``LedgerTree/check(_:)``.
  public struct CheckReport: Sendable, Equatable {
    /// Leaves in the stored tree.
    public let storedSize: UInt64
    /// Events in the log.
    public let events: UInt64
    /// The first stored node that differs from the events (lowest level first), if any.
    public let mismatch: Mismatch?
  }

  /// Recomputes every stored node from the events (leaf hashes, then each level from the one
  /// below) and compares it with the stored one: the first that differs is reported, lowest
  /// level first. A tree that lags the head (an old ledger) is not a failure; a tree longer
  /// than the log is.
  /// - Parameter leaves: The leaf hashes of events 1… as ``leafHashes(_:through:)`` gives them,
  ///   when the caller has them already (at least as many as the stored tree holds).
  /// - Complexity: O(n) time and O(n) memory (32 bytes per event).
  public static func check(_ log: EventLog, leaves: [[UInt8]]? = nil) throws -> CheckReport {
    let (head, stored) = try log.environment.read { txn in
      (try log.headDigest(in: txn)?.sequence.rawValue ?? 0, try log.merkleTreeSize(in: txn))
    }
    if stored > head {
      return CheckReport(storedSize: stored, events: head, mismatch: Mismatch(firstEvent: head + 1, lastEvent: stored, reason: "the stored Merkle tree has leaves for events the log does not hold"))
    }
    var level = try leaves.flatMap { $0.count >= stored ? Array($0.prefix(Int(stored))) : nil } ?? leafHashes(log, through: stored)
    var height: UInt8 = 0
    let mismatch: Mismatch? = try log.environment.read { txn in
      while !level.isEmpty {
        for (index, expected) in level.enumerated() {
          let node = try log.merkleNode(level: height, index: UInt64(index), in: txn)
          if node != expected {
            let first = UInt64(index) << height + 1
            return Mismatch(firstEvent: first, lastEvent: first + (UInt64(1) << height) - 1,
                            reason: node == nil ? "the stored Merkle tree lacks node (level \(height), index \(index))" : "the stored Merkle node (level \(height), index \(index)) differs from the hash of the events")
          }
        }
        level = stride(from: 0, to: level.count - 1, by: 2).map { MerkleHash.node(level[$0], level[$0 + 1]) }
        height += 1
      }
      return nil
    }
    return CheckReport(storedSize: stored, events: head, mismatch: mismatch)
  }
}
