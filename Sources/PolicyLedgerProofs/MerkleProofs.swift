public import PolicyLedgerEventLog

/// Why a Merkle proof could not be made or did not verify.
public struct MerkleProofError: Error, Equatable, Sendable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// RFC 9162 §2.1 proofs over a tree whose subtree hashes come from `subtreeHash`.
///
/// `subtreeHash(start, count)` must return `MTH(D[start ..< start+count])`; ``MerkleTree`` only
/// asks for ranges that start at a multiple of the largest power of two not above `count`, the
/// ranges the RFC's recursion visits, so a store of perfect subtrees answers them with
/// O(log n) lookups.
public struct MerkleTree {
  /// The number of leaves.
  public let size: UInt64
  let subtreeHash: (UInt64, UInt64) throws -> [UInt8]

  /// - Parameters:
  ///   - size: The number of leaves.
  ///   - subtreeHash: `MTH` of the leaves `start ..< start + count` (count ≥ 1).
  public init(size: UInt64, subtreeHash: @escaping (_ start: UInt64, _ count: UInt64) throws -> [UInt8]) {
    self.size = size
    self.subtreeHash = subtreeHash
  }

  /// A tree over leaf hashes held in memory (tests, and ledgers opened read-only without a stored
  /// tree), keeping every perfect subtree's hash as the `merkle` database does.
  /// - Complexity: building is O(n); each root or proof is O(log n).
  public init(leafHashes: [[UInt8]]) {
    var levels = [leafHashes]
    while levels[levels.count - 1].count > 1 {
      let below = levels[levels.count - 1]
      levels.append(stride(from: 0, to: below.count - 1, by: 2).map { MerkleHash.node(below[$0], below[$0 + 1]) })
    }
    func hash(_ start: UInt64, _ count: UInt64) -> [UInt8] {
      if count & (count - 1) == 0 && start % count == 0 { return levels[count.trailingZeroBitCount][Int(start / count)] }
      let k = MerkleTree.largestPowerOfTwo(below: count)
      return MerkleHash.node(hash(start, k), hash(start + k, count - k))
    }
    self.init(size: UInt64(leafHashes.count), subtreeHash: hash)
  }

  /// `MTH` of a slice of leaf hashes, by the definition (RFC 9162 §2.1.1).
  public static func hash(_ leaves: ArraySlice<[UInt8]>) -> [UInt8] {
    switch leaves.count {
    case 0: return MerkleHash.empty
    case 1: return leaves[leaves.startIndex]
    default:
      let k = largestPowerOfTwo(below: UInt64(leaves.count))
      let middle = leaves.startIndex + Int(k)
      return MerkleHash.node(hash(leaves[..<middle]), hash(leaves[middle...]))
    }
  }

  /// The largest power of two strictly below `n` (n ≥ 2).
  static func largestPowerOfTwo(below n: UInt64) -> UInt64 {
    precondition(n >= 2)
    return UInt64(1) << (63 - (n - 1).leadingZeroBitCount)
  }

  /// The root hash of the first `count` leaves (`MTH(D[count])`); the empty tree's for 0.
  /// - Throws: ``MerkleProofError`` when `count` exceeds the tree's size.
  public func root(size count: UInt64) throws -> [UInt8] {
    guard count <= size else { throw MerkleProofError("the tree has \(size) leaves, not \(count)") }
    return count == 0 ? MerkleHash.empty : try subtreeHash(0, count)
  }

  /// The root hash of the whole tree.
  public func root() throws -> [UInt8] { try root(size: size) }

  /// The inclusion proof (audit path) of leaf `index` in the tree of the first `treeSize`
  /// leaves: RFC 9162 §2.1.3.1 `PATH(m, D[n])`.
  /// - Throws: ``MerkleProofError`` when `index ≥ treeSize` or `treeSize > size`.
  /// - Complexity: O(log n) subtree hashes.
  public func inclusionProof(leaf index: UInt64, treeSize: UInt64) throws -> [[UInt8]] {
    guard treeSize <= size else { throw MerkleProofError("the tree has \(size) leaves, not \(treeSize)") }
    guard index < treeSize else { throw MerkleProofError("leaf \(index) is not in a tree of \(treeSize) leaves") }
    return try path(index, start: 0, count: treeSize)
  }

  private func path(_ m: UInt64, start: UInt64, count n: UInt64) throws -> [[UInt8]] {
    if n == 1 { return [] }
    let k = MerkleTree.largestPowerOfTwo(below: n)
    if m < k { return try path(m, start: start, count: k) + [subtreeHash(start + k, n - k)] }
    return try path(m - k, start: start + k, count: n - k) + [subtreeHash(start, k)]
  }

  /// The consistency proof between the trees of the first `first` and `second` leaves:
  /// RFC 9162 §2.1.4.1 `PROOF(m, D[n])`; empty when `first` is 0 or equals `second`.
  /// - Throws: ``MerkleProofError`` when `first > second` or `second > size`.
  /// - Complexity: O(log n) subtree hashes.
  public func consistencyProof(from first: UInt64, to second: UInt64) throws -> [[UInt8]] {
    guard second <= size else { throw MerkleProofError("the tree has \(size) leaves, not \(second)") }
    guard first <= second else { throw MerkleProofError("a tree of \(first) leaves cannot precede one of \(second)") }
    if first == 0 || first == second { return [] }
    return try subproof(first, start: 0, count: second, complete: true)
  }

  private func subproof(_ m: UInt64, start: UInt64, count n: UInt64, complete b: Bool) throws -> [[UInt8]] {
    if m == n { return b ? [] : [try subtreeHash(start, n)] }
    let k = MerkleTree.largestPowerOfTwo(below: n)
    if m <= k { return try subproof(m, start: start, count: k, complete: b) + [subtreeHash(start + k, n - k)] }
    return try subproof(m - k, start: start + k, count: n - k, complete: false) + [subtreeHash(start, k)]
  }
}

/// RFC 9162 verification, needing nothing but hashes: what an auditor runs.
public enum MerkleVerification {
  /// RFC 9162 §2.1.3.2: checks that `leafHash` is leaf `index` of the tree of `treeSize` leaves
  /// whose root is `root`.
  /// - Throws: ``MerkleProofError`` saying what does not hold.
  public static func verifyInclusion(leafHash: [UInt8], index: UInt64, treeSize: UInt64, proof: [[UInt8]], root: [UInt8]) throws {
    guard index < treeSize else { throw MerkleProofError("leaf index \(index) is not below the tree size \(treeSize)") }
    guard leafHash.count == 32 else { throw MerkleProofError("the leaf hash is \(leafHash.count) bytes long, not 32") }
    var fn = index, sn = treeSize - 1
    var r = leafHash
    for p in proof {
      guard p.count == 32 else { throw MerkleProofError("a proof hash is \(p.count) bytes long, not 32") }
      if sn == 0 { throw MerkleProofError("the inclusion proof is longer than the tree allows") }
      if fn & 1 == 1 || fn == sn {
        r = MerkleHash.node(p, r)
        if fn & 1 == 0 {
          while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
        }
      } else {
        r = MerkleHash.node(r, p)
      }
      fn >>= 1; sn >>= 1
    }
    guard sn == 0 else { throw MerkleProofError("the inclusion proof is shorter than the tree needs") }
    guard r == root else { throw MerkleProofError("the inclusion proof leads to another root hash") }
  }

  /// RFC 9162 §2.1.4.2: checks that the tree of `second` leaves with root `secondRoot` extends
  /// the tree of `first` leaves with root `firstRoot`. As in transparency-dev/merkle, a proof
  /// from the empty tree is refused (it proves nothing), and equal sizes need equal roots and an
  /// empty proof.
  /// - Throws: ``MerkleProofError`` saying what does not hold.
  public static func verifyConsistency(first: UInt64, second: UInt64, firstRoot: [UInt8], secondRoot: [UInt8], proof: [[UInt8]]) throws {
    guard first <= second else { throw MerkleProofError("the first tree (\(first) leaves) is larger than the second (\(second))") }
    guard first > 0 else { throw MerkleProofError("a consistency proof from the empty tree proves nothing") }
    if first == second {
      guard proof.isEmpty else { throw MerkleProofError("trees of equal size need an empty consistency proof") }
      guard firstRoot == secondRoot else { throw MerkleProofError("trees of equal size have different root hashes") }
      return
    }
    guard !proof.isEmpty else { throw MerkleProofError("the consistency proof is empty") }
    guard proof.allSatisfy({ $0.count == 32 }) else { throw MerkleProofError("a proof hash is not 32 bytes long") }
    var path = proof
    if first & (first - 1) == 0 { path.insert(firstRoot, at: 0) }
    var fn = first - 1, sn = second - 1
    while fn & 1 == 1 { fn >>= 1; sn >>= 1 }
    var fr = path[0], sr = path[0]
    for c in path.dropFirst() {
      if sn == 0 { throw MerkleProofError("the consistency proof is longer than the trees allow") }
      if fn & 1 == 1 || fn == sn {
        fr = MerkleHash.node(c, fr)
        sr = MerkleHash.node(c, sr)
        if fn & 1 == 0 {
          while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
        }
      } else {
        sr = MerkleHash.node(sr, c)
      }
      fn >>= 1; sn >>= 1
    }
    guard sn == 0 else { throw MerkleProofError("the consistency proof is shorter than the trees need") }
    guard fr == firstRoot else { throw MerkleProofError("the consistency proof does not lead to the first root hash: the first tree is not a prefix of the second") }
    guard sr == secondRoot else { throw MerkleProofError("the consistency proof does not lead to the second root hash") }
  }
}
