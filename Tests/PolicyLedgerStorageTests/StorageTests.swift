import Foundation
import PolicyLedgerStorage
import PolicyLedgerTestSupport
import Testing

@Suite("LMDB storage layer")
struct StorageTests {
  @Test("one environment per folder per process, even through another path")
  func oneEnvironmentPerFolder() throws {
    let folder = TemporaryFolder("env")
    let a = try LMDBEnvironment.open(path: folder.path)
    let b = try LMDBEnvironment.open(path: folder.path + "/")
    let link = folder.path + "-link"
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: folder.path)
    defer { try? FileManager.default.removeItem(atPath: link) }
    let c = try LMDBEnvironment.open(path: link)
    #expect(a === b)
    #expect(a === c)
  }

  @Test("data files are readable by the owner only")
  func ownerOnlyFiles() throws {
    let folder = TemporaryFolder("perm")
    let path = folder.child("ledger")
    let env = try LMDBEnvironment.open(path: path)
    _ = try env.database(named: "x", create: true)
    for file in ["data.mdb", "lock.mdb"] {
      let attributes = try FileManager.default.attributesOfItem(atPath: "\(path)/\(file)")
      #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(file)")
    }
    let dirAttributes = try FileManager.default.attributesOfItem(atPath: path)
    #expect((dirAttributes[.posixPermissions] as? Int) == 0o700)
  }

  @Test("the map grows instead of failing with MDB_MAP_FULL")
  func mapGrows() throws {
    let folder = TemporaryFolder("grow")
    var options = LMDBEnvironment.Options()
    options.initialMapSize = 64 << 10
    let env = try LMDBEnvironment.open(path: folder.path, options: options)
    let db = try #require(try env.database(named: "blobs", create: true))
    let blob = [UInt8](repeating: 0xAB, count: 100_000)
    for i in 0..<100 {
      try env.write { txn in try txn.put(blob, for: withUnsafeBytes(of: UInt32(i).bigEndian, Array.init), in: db) }
    }
    #expect(env.mapSize > 10_000_000)
    let count = try env.read { txn in try txn.count(db) }
    #expect(count == 100)
    let last = try env.read { txn in try txn.value(for: withUnsafeBytes(of: UInt32(99).bigEndian, Array.init), in: db) }
    #expect(last == blob)
  }

  @Test("MDB_APPEND needs keys in byte order; out of order is MDB_KEYEXIST")
  func appendOrder() throws {
    let folder = TemporaryFolder("append")
    let env = try LMDBEnvironment.open(path: folder.path)
    let db = try #require(try env.database(named: "log", create: true))
    try env.write { txn in
      for i: UInt64 in [1, 2, 255, 256, 65_536] {
        try txn.put([1], for: withUnsafeBytes(of: i.bigEndian, Array.init), in: db, flags: .append)
      }
    }
    #expect(throws: LMDBError.keyExists) {
      try env.write { txn in try txn.put([1], for: withUnsafeBytes(of: UInt64(3).bigEndian, Array.init), in: db, flags: .append) }
    }
    let keys = try env.read { txn in
      try txn.withCursor(db) { c in
        var out: [UInt64] = []
        while let e = try c.next() { out.append(e.key.reduce(0) { $0 << 8 | UInt64($1) }) }
        return out
      }
    }
    #expect(keys == [1, 2, 255, 256, 65_536])
  }

  @Test("read transactions are not tied to a thread (MDB_NOTLS): nested and concurrent reads")
  func readsWithoutThreadLocalSlots() async throws {
    let folder = TemporaryFolder("notls")
    let env = try LMDBEnvironment.open(path: folder.path)
    let db = try #require(try env.database(named: "kv", create: true))
    try env.write { txn in try txn.put([42], for: [1], in: db) }
    // Without MDB_NOTLS a second read transaction on the same thread fails with MDB_BAD_RSLOT.
    let nested = try env.read { outer in
      try env.read { inner in try (outer.value(for: [1], in: db), inner.value(for: [1], in: db)) }
    }
    #expect(nested.0 == [42] && nested.1 == [42])
    // Many tasks on the cooperative pool's threads, reading while a writer commits.
    try await withThrowingTaskGroup(of: Int.self) { group in
      for t in 0..<16 {
        group.addTask {
          var seen = 0
          for _ in 0..<50 { if try env.read({ try $0.value(for: [1], in: db) }) != nil { seen += 1 } }
          if t == 0 { try env.write { txn in try txn.put([43], for: [2], in: db) } }
          return seen
        }
      }
      var total = 0
      for try await seen in group { total += seen }
      #expect(total == 16 * 50)
    }
  }

  @Test("a write that throws leaves nothing behind")
  func abortOnThrow() throws {
    struct Stop: Error {}
    let folder = TemporaryFolder("abort")
    let env = try LMDBEnvironment.open(path: folder.path)
    let db = try #require(try env.database(named: "kv", create: true))
    #expect(throws: Stop.self) {
      try env.write { txn in
        try txn.put([1], for: [1], in: db)
        throw Stop()
      }
    }
    #expect(try env.read { try $0.count(db) } == 0)
  }

  @Test("a file that is not LMDB is refused with MDB_INVALID")
  func notLMDB() throws {
    let folder = TemporaryFolder("invalid")
    try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: folder.child("data.mdb")))
    #expect(throws: LMDBError.invalid) { try LMDBEnvironment.open(path: folder.path) }
  }

  @Test("stale reader slots are cleared at open and on demand")
  func staleReaders() throws {
    let folder = TemporaryFolder("readers")
    let env = try LMDBEnvironment.open(path: folder.path)
    // No process died here, so nothing is stale; the call itself must succeed.
    #expect(try env.clearStaleReaders() == 0)
  }
}
