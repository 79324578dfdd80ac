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
}

/// Tests that need a second process: a small C program against the same liblmdb, compiled with
/// the system C compiler at test time.
@Suite("LMDB across processes")
struct CrossProcessTests {
  static var compilerAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/cc") }

  static func compile(_ source: String, in folder: TemporaryFolder) throws -> String {
    let c = folder.child("helper.c")
    let exe = folder.child("helper")
    try source.write(toFile: c, atomically: true, encoding: .utf8)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
    p.arguments = ["-o", exe, c, "-llmdb"]
    try p.run()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
    return exe
  }

  @Test("reader slots left by a killed process are cleared (mdb_reader_check)", .enabled(if: compilerAvailable))
  func staleReaderSlotCleared() throws {
    let tools = TemporaryFolder("cc")
    let exe = try Self.compile(#"""
      #include <lmdb.h>
      #include <stdio.h>
      #include <unistd.h>
      int main(int argc, char **argv) {
        MDB_env *env; MDB_txn *txn;
        if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 32) || mdb_env_open(env, argv[1], MDB_NOTLS, 0600)) return 2;
        if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) return 3;
        printf("reading\n"); fflush(stdout);
        sleep(60);
        return 0;
      }
      """#, in: tools)
    let folder = TemporaryFolder("stale")
    let env = try LMDBEnvironment.open(path: folder.path)
    _ = try env.database(named: "x", create: true)
    let reader = Process()
    reader.executableURL = URL(fileURLWithPath: exe)
    reader.arguments = [folder.path]
    let out = Pipe()
    reader.standardOutput = out
    try reader.run()
    let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
    #expect(line.hasPrefix("reading"))
    #expect(try env.clearStaleReaders() == 0)  // alive: its slot is kept
    kill(reader.processIdentifier, SIGKILL)
    reader.waitUntilExit()
    #expect(try env.clearStaleReaders() == 1)  // dead: its slot is freed
  }

  @Test("a hot copy while another process has grown the map past ours adopts the new size (MDB_MAP_RESIZED)", .enabled(if: compilerAvailable))
  func copyAfterMapResized() throws {
    let tools = TemporaryFolder("cc-grow")
    // Writes 4 MiB into a named database with a 64 MiB map, so the file outgrows a 1 MiB map.
    let exe = try Self.compile(#"""
      #include <lmdb.h>
      #include <string.h>
      int main(int argc, char **argv) {
        MDB_env *env; MDB_txn *txn; MDB_dbi dbi; char buf[4000]; memset(buf, 'x', sizeof buf);
        if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 32) || mdb_env_set_mapsize(env, 64 << 20)
            || mdb_env_open(env, argv[1], MDB_NOTLS, 0600)) return 2;
        if (mdb_txn_begin(env, NULL, 0, &txn) || mdb_dbi_open(txn, "big", MDB_CREATE, &dbi)) return 3;
        for (unsigned i = 0; i < 1000; i++) {
          MDB_val k = { sizeof i, &i }, v = { sizeof buf, buf };
          if (mdb_put(txn, dbi, &k, &v, 0)) return 4;
        }
        if (mdb_txn_commit(txn)) return 5;
        mdb_env_close(env);
        return 0;
      }
      """#, in: tools)
    let folder = TemporaryFolder("resized")
    var options = LMDBEnvironment.Options()
    options.initialMapSize = 1 << 20
    let env = try LMDBEnvironment.open(path: folder.child("ledger"), options: options)
    let db = try #require(try env.database(named: "x", create: true))
    try env.write { txn in try txn.put([1], for: [1], in: db) }
    let grower = Process()
    grower.executableURL = URL(fileURLWithPath: exe)
    grower.arguments = [folder.child("ledger")]
    try grower.run()
    grower.waitUntilExit()
    #expect(grower.terminationStatus == 0)
    let copy = folder.child("copy")
    try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
    try env.copy(to: copy, compact: false)
    #expect(env.mapSize >= 4 << 20)
    let copied = try LMDBEnvironment.open(path: copy)
    let big = try #require(try copied.database(named: "big", create: false))
    #expect(try copied.read { txn in try txn.value(for: withUnsafeBytes(of: UInt32(999)) { Array($0) }, in: big)?.count } == 4000)
  }
}
