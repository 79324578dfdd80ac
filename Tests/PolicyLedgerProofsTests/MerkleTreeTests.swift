import Foundation
import PolicyLedgerEventLog
@testable import PolicyLedgerProofs
import PolicyLedgerTestSupport
import Testing

func hex(_ text: String) -> [UInt8] {
  var out: [UInt8] = []
  var index = text.startIndex
  while index < text.endIndex {
    let next = text.index(index, offsetBy: 2)
    out.append(UInt8(text[index..<next], radix: 16)!)
    index = next
  }
  return out
}

/// The eight leaves of the RFC 6962 reference tests (Certificate Transparency's
/// merkle_tree_test.cc, kept in github.com/transparency-dev/merkle cmd/proofgen/main.go and
/// proof/verify_test.go): "", 00, 10, 2021, 3031, 40414243, 5051525354555657, 606162…6f.
let referenceLeaves: [[UInt8]] = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(hex)

@Suite("Merkle tree (RFC 9162 §2.1)")
struct MerkleTreeTests {
  /// transparency-dev/merkle rfc6962/rfc6962_test.go (commit 417fb0c314750d94e53942e9f92e79b6d35915db).
  @Test("hashing: empty tree, empty leaf, a leaf, a node")
  func hashing() {
    #expect(MerkleHash.empty == hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
    #expect(MerkleHash.leaf([]) == hex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"))
    #expect(MerkleHash.leaf(Array("L123456".utf8)) == hex("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"))
    #expect(MerkleHash.node(Array("N123".utf8), Array("N456".utf8)) == hex("aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"))
  }

  /// Roots and proofs from transparency-dev/merkle cmd/proofgen/main.go (commit
  /// 417fb0c314750d94e53942e9f92e79b6d35915db), the RFC 6962 reference values; leaf numbers there
  /// are 1-based.
  @Test("roots and proofs of the reference tree equal the published ones")
  func referenceVectors() throws {
    let roots = [
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ].map(hex)
    let tree = MerkleTree(leafHashes: referenceLeaves.map { MerkleHash.leaf($0) })
    for size in 1...8 { #expect(try tree.root(size: UInt64(size)) == roots[size - 1], "size \(size)") }
    let inclusion: [(leaf: UInt64, size: UInt64, path: [String])] = [
      (1, 1, []),
      (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
      (6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
      (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
      (2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    ]
    for vector in inclusion {
      let proof = try tree.inclusionProof(leaf: vector.leaf - 1, treeSize: vector.size)
      #expect(proof == vector.path.map(hex), "leaf \(vector.leaf) of \(vector.size)")
      try MerkleVerification.verifyInclusion(leafHash: MerkleHash.leaf(referenceLeaves[Int(vector.leaf - 1)]), index: vector.leaf - 1,
                                             treeSize: vector.size, proof: proof, root: roots[Int(vector.size - 1)])
    }
    let consistency: [(first: UInt64, second: UInt64, path: [String])] = [
      (1, 1, []),
      (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
      (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
      (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
      (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    ]
    for vector in consistency {
      let proof = try tree.consistencyProof(from: vector.first, to: vector.second)
      #expect(proof == vector.path.map(hex), "\(vector.first) → \(vector.second)")
      try MerkleVerification.verifyConsistency(first: vector.first, second: vector.second, firstRoot: roots[Int(vector.first - 1)],
                                               secondRoot: roots[Int(vector.second - 1)], proof: proof)
    }
  }

  /// Every inclusion and consistency probe of transparency-dev/merkle testdata/ (good proofs and
  /// their mutations), copied into Fixtures/merkle/transparency-dev-probes.json with its commit.
  @Test("the transparency-dev/merkle verification probes: each accepted or refused as published")
  func probes() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/Fixtures/merkle/transparency-dev-probes.json"))
    let probes = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    func bytes(_ any: Any?) -> [UInt8] { (any as? String).flatMap { Data(base64Encoded: $0) }.map(Array.init) ?? [] }
    func list(_ any: Any?) -> [[UInt8]] { (any as? [Any])?.map(bytes) ?? [] }
    let inclusion = try #require(probes["inclusion"] as? [[String: Any]])
    let consistency = try #require(probes["consistency"] as? [[String: Any]])
    #expect(inclusion.count == 98 && consistency.count == 98)
    for p in inclusion {
      let wantError = p["wantErr"] as! Bool
      let accepted = (try? MerkleVerification.verifyInclusion(
        leafHash: bytes(p["leafHash"]), index: (p["leafIdx"] as! NSNumber).uint64Value, treeSize: (p["treeSize"] as! NSNumber).uint64Value,
        proof: list(p["proof"]), root: bytes(p["root"]))) != nil
      #expect(accepted == !wantError, "\(p["file"]!)")
    }
    for p in consistency {
      let wantError = p["wantErr"] as! Bool
      let accepted = (try? MerkleVerification.verifyConsistency(
        first: (p["size1"] as! NSNumber).uint64Value, second: (p["size2"] as! NSNumber).uint64Value,
        firstRoot: bytes(p["root1"]), secondRoot: bytes(p["root2"]), proof: list(p["proof"]))) != nil
      #expect(accepted == !wantError, "\(p["file"]!)")
    }
  }

  /// Every size 1…300, every leaf: the proof from stored-style subtree lookups verifies against the
  /// root computed by the definition; a flipped bit or a wrong index does not.
  @Test("brute force: every inclusion proof of every tree of 1…300 leaves")
  func bruteForceInclusion() throws {
    let leaves = (0..<300).map { MerkleHash.leaf(Array("leaf \($0)".utf8)) }
    let tree = MerkleTree(leafHashes: leaves)
    sizes: for n in 1...300 {
      let root = MerkleTree.hash(leaves[0..<n])
      #expect(try tree.root(size: UInt64(n)) == root)
      for i in 0..<n {
        let proof = try tree.inclusionProof(leaf: UInt64(i), treeSize: UInt64(n))
        do {
          try MerkleVerification.verifyInclusion(leafHash: leaves[i], index: UInt64(i), treeSize: UInt64(n), proof: proof, root: root)
        } catch {
          Issue.record("leaf \(i) of \(n): \(error)"); break sizes
        }
        if n > 1 && i % 17 == 0 {
          var bad = proof
          bad[0][0] ^= 1
          #expect(throws: MerkleProofError.self) { try MerkleVerification.verifyInclusion(leafHash: leaves[i], index: UInt64(i), treeSize: UInt64(n), proof: bad, root: root) }
          #expect(throws: MerkleProofError.self) { try MerkleVerification.verifyInclusion(leafHash: leaves[i], index: UInt64((i + 1) % n), treeSize: UInt64(n), proof: proof, root: root) }
        }
      }
    }
    #expect(throws: MerkleProofError.self) { try tree.inclusionProof(leaf: 5, treeSize: 5) }
    #expect(throws: MerkleProofError.self) { try tree.inclusionProof(leaf: 0, treeSize: 301) }
  }

  /// Every pair 1 ≤ m ≤ n ≤ 300 (45,150 pairs): the consistency proof verifies; a proof between
  /// a tree and a tree with one other leaf does not.
  @Test("brute force: every consistency proof between trees of 1…300 leaves")
  func bruteForceConsistency() throws {
    let leaves = (0..<300).map { MerkleHash.leaf(Array("leaf \($0)".utf8)) }
    let tree = MerkleTree(leafHashes: leaves)
    var roots: [[UInt8]] = [MerkleHash.empty]
    for n in 1...300 { roots.append(MerkleTree.hash(leaves[0..<n])) }
    var forged = leaves
    forged[40] = MerkleHash.leaf(Array("rewritten".utf8))
    let forgedTree = MerkleTree(leafHashes: forged)
    pairs: for n in 1...300 {
      for m in 1...n {
        let proof = try tree.consistencyProof(from: UInt64(m), to: UInt64(n))
        do {
          try MerkleVerification.verifyConsistency(first: UInt64(m), second: UInt64(n), firstRoot: roots[m], secondRoot: roots[n], proof: proof)
        } catch {
          Issue.record("\(m) → \(n): \(error)"); break pairs
        }
        if m > 40 && m < n && (m + n) % 13 == 0 {
          // The forger's log (event 41 rewritten, everything recomputed) cannot prove it extends m.
          let forgedProof = try forgedTree.consistencyProof(from: UInt64(m), to: UInt64(n))
          #expect(throws: MerkleProofError.self) {
            try MerkleVerification.verifyConsistency(first: UInt64(m), second: UInt64(n), firstRoot: roots[m], secondRoot: try forgedTree.root(size: UInt64(n)), proof: forgedProof)
          }
        }
      }
    }
  }
}
