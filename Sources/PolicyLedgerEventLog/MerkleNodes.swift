public import PolicyLedgerStorage
import Crypto

/// RFC 9162 §2.1.1 hashing: the leaf and interior-node hashes of the ledger's Merkle tree.
///
/// The leaf of event N is its canonical bytes, exactly the bytes hashed in the chain (not the
/// chain hash, not the stored record). The tree over events 1…n is the Merkle Tree Hash
/// `MTH(D[n])` of RFC 9162 with leaf i = event i + 1.
public enum MerkleHash {
  /// `SHA-256(0x00 ‖ leaf)`.
  public static func leaf(_ bytes: some Sequence<UInt8>) -> [UInt8] {
    var hasher = SHA256()
    hasher.update(data: [0])
    hasher.update(data: Array(bytes))
    return Array(hasher.finalize())
  }

  /// `SHA-256(0x01 ‖ left ‖ right)`.
  public static func node(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
    var hasher = SHA256()
    hasher.update(data: [1])
    hasher.update(data: left)
    hasher.update(data: right)
    return Array(hasher.finalize())
  }

  /// The hash of the empty tree: SHA-256 of no bytes.
  public static let empty: [UInt8] = Array(SHA256.hash(data: [UInt8]()))
}

/// The stored Merkle tree: the `merkle` database holds the hash of every complete perfect subtree.
///
/// Node (level, index) is the perfect subtree over leaves `index·2^level ..< (index+1)·2^level`.
/// Key: its **post-order position** (8 bytes, big-endian): the number of complete perfect
/// subtrees (of any level) that the tree held before it was completed, so that every node
/// appended gets a key above every earlier one and is written with `MDB_APPEND` (full pages).
/// With m = (index+1)·2^level, the position is `2m − popcount(index+1) − tz(index+1) − 1`
/// (`tz`: trailing zero bits). Value: the node's 32-byte hash. Appending leaf j writes node
/// (0, j) and then, while the new node is a right child, its parent: on average two 40-byte
/// entries per event, at most log₂(n)+1. A tree of n leaves holds `2n − popcount(n)` nodes, so
/// its size follows from its last key. Every leaf is written in its event's write transaction.
extension EventLog {
  /// The name of the LMDB database holding the tree.
  public static let merkleDatabaseName = "merkle"

  /// The key of node (level, index): its post-order position, 8 bytes big-endian.
  public static func merkleKey(level: UInt8, index: UInt64) -> [UInt8] {
    withUnsafeBytes(of: merklePosition(level: level, index: index).bigEndian, Array.init)
  }

  /// The post-order position of node (level, index): `2m − popcount(index+1) − tz(index+1) − 1`
  /// with m = (index+1)·2^level.
  public static func merklePosition(level: UInt8, index: UInt64) -> UInt64 {
    let next = index + 1
    return 2 * (next << level) - UInt64(next.nonzeroBitCount) - UInt64(next.trailingZeroBitCount) - 1
  }

  /// The number of leaves of a tree whose last node has post-order position `position`:
  /// the n with `2n − popcount(n) − 1 = position`.
  static func merkleLeafCount(lastPosition position: UInt64) -> UInt64 {
    var low: UInt64 = 1, high = position + 1  // 2n − popcount(n) − 1 ≥ n − 1
    while low < high {
      let middle = low + (high - low) / 2
      if 2 * middle - UInt64(middle.nonzeroBitCount) - 1 < position { low = middle + 1 } else { high = middle }
    }
    return low
  }

  /// The number of leaves the stored tree holds (0 when the ledger has no tree yet).
  /// - Complexity: O(log n).
  public func merkleTreeSize<T: LMDBReader & ~Copyable>(in txn: borrowing T) throws -> UInt64 {
    guard let merkle else { return 0 }
    return try txn.withCursor(merkle) { c in
      guard let last = try c.last(), last.key.count == 8 else { return 0 }
      return EventLog.merkleLeafCount(lastPosition: SequenceNumber(keyBytes: last.key).rawValue)
    }
  }

  /// The stored hash of the perfect subtree (level, index), or `nil` when it is not stored.
  public func merkleNode<T: LMDBReader & ~Copyable>(level: UInt8, index: UInt64, in txn: borrowing T) throws -> [UInt8]? {
    guard let merkle else { return nil }
    return try txn.value(for: EventLog.merkleKey(level: level, index: index), in: merkle)
  }

  /// Appends the leaves of `events` (which must follow the stored tree's last leaf, or follow
  /// events not yet in the tree, which are then read from the log and added first).
  func extendMerkleTree(with events: [RecordedEvent], in txn: borrowing LMDBWriteTransaction) throws {
    guard let merkle, let first = events.first else { return }
    var size = try merkleTreeSize(in: txn)
    guard size < first.sequence.rawValue else {
      throw LedgerError.corruptEvent(sequence: first.sequence, reason: "the stored Merkle tree already holds a leaf for it (run `policy-ledger rebuild`)")
    }
    // A ledger written before the tree existed: add its older events first (once).
    while size + 1 < first.sequence.rawValue {
      let sequence = SequenceNumber(size + 1)
      guard let record = try txn.value(for: sequence.keyBytes, in: self.events), record.count > 65 else {
        throw LedgerError.corruptEvent(sequence: sequence, reason: "the Merkle tree cannot be built: the record is missing or malformed")
      }
      try appendMerkleLeaf(MerkleHash.leaf(record[65...]), at: size, in: txn, database: merkle)
      size += 1
    }
    for event in events {
      try appendMerkleLeaf(MerkleHash.leaf(event.canonicalBytes), at: event.sequence.rawValue - 1, in: txn, database: merkle)
    }
  }

  private func appendMerkleLeaf(_ leafHash: [UInt8], at leafIndex: UInt64, in txn: borrowing LMDBWriteTransaction, database: LMDBDatabase) throws {
    var hash = leafHash
    var level: UInt8 = 0
    var index = leafIndex
    try txn.put(hash, for: EventLog.merkleKey(level: 0, index: index), in: database, flags: .append)
    while index & 1 == 1 {
      guard let left = try txn.value(for: EventLog.merkleKey(level: level, index: index - 1), in: database), left.count == 32 else {
        throw LedgerError.corruptEvent(sequence: SequenceNumber(leafIndex + 1), reason: "the Merkle tree lacks node (\(level), \(index - 1)); run `policy-ledger rebuild`")
      }
      hash = MerkleHash.node(left, hash)
      level += 1
      index >>= 1
      try txn.put(hash, for: EventLog.merkleKey(level: level, index: index), in: database, flags: .append)
    }
  }

  /// The leaf hashes of events 1…`last`, computed from the records' canonical bytes as stored
  /// (not decoded, so a damaged event still gets a hash), in pages of `pageSize` events, each in
  /// its own read transaction. Stops early at a gap in the sequence numbers.
  /// - Throws: ``LedgerError/corruptEvent(sequence:reason:)`` for a record shorter than its
  ///   header, ``LedgerError/storage(_:)``.
  /// - Complexity: O(n) time, 32 bytes of hash per event.
  public func merkleLeafHashes(through last: UInt64, pageSize: Int = 50_000) throws -> [[UInt8]] {
    var leaves: [[UInt8]] = []
    leaves.reserveCapacity(Int(min(last, 1 << 24)))
    while UInt64(leaves.count) < last {
      let before = leaves.count
      try storageErrors {
        try environment.read { txn in
          try txn.withCursor(events) { c in
            guard try c.seek(atLeast: SequenceNumber(UInt64(before) + 1).keyBytes) != nil else { return }
            func hash(_ key: UnsafeRawBufferPointer, _ record: UnsafeRawBufferPointer) throws -> Bool {
              let sequence = SequenceNumber(keyBytes: key)
              guard key.count == 8, sequence.rawValue == UInt64(leaves.count) + 1, sequence.rawValue <= last else { return false }
              guard record.count > 65 else { throw LedgerError.corruptEvent(sequence: sequence, reason: "its record is shorter than its header") }
              var hasher = SHA256()
              hasher.update(data: [0])
              hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: record[65...]))
              leaves.append(Array(hasher.finalize()))
              return true
            }
            var more = try c.withCurrent(hash) ?? false
            while more && leaves.count - before < pageSize { more = try c.withNext(hash) ?? false }
          }
        }
      }
      if leaves.count == before { break }
    }
    return leaves
  }

  /// Empties the stored tree and rebuilds it from every event, in one write transaction.
  /// - Returns: The number of leaves.
  /// - Complexity: O(n).
  @discardableResult
  public func rebuildMerkleTree() throws -> UInt64 {
    guard let merkle else { return 0 }
    return try storageErrors {
      try environment.write { txn in
        try txn.empty(merkle)
        var size: UInt64 = 0
        var leaves: [[UInt8]] = []
        try txn.withCursor(events) { c in
          var entry = try c.first()
          while let e = entry {
            guard e.value.count > 65 else { throw LedgerError.corruptEvent(sequence: SequenceNumber(keyBytes: e.key), reason: "its record header is malformed") }
            leaves.append(MerkleHash.leaf(e.value[65...]))
            entry = try c.next()
          }
        }
        for leaf in leaves {
          try appendMerkleLeaf(leaf, at: size, in: txn, database: merkle)
          size += 1
        }
        return size
      }
    }
  }
}
