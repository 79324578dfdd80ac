import CBenchLMDB
import Foundation

/// An LMDB call that failed, with LMDB's message.
public struct RawLMDBError: Error, CustomStringConvertible {
  public let code: Int32
  public let operation: String
  public var description: String { "\(operation): \(String(cString: mdb_strerror(code))) (\(code))" }
}

@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws {
  if rc != MDB_SUCCESS { throw RawLMDBError(code: rc, operation: operation()) }
}

/// The raw LMDB baseline: the same record bytes the ledger stores in its `events` database, in a
/// fresh environment with nothing else (no indexes, no projections, no hashing, no validation).
///
/// Opened with `MDB_NOTLS` like the ledger and full sync (no `MDB_NOSYNC`): each write
/// transaction is durable when its commit returns, exactly as the ledger's.
public final class RawLMDB {
  let env: OpaquePointer
  /// The named database holding the event records (8-byte big-endian key → record).
  let events: MDB_dbi
  public let path: String

  /// Creates (or opens) an environment in the folder `path` (created if missing).
  public init(path: String, mapSize: Int) throws {
    self.path = path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    var e: OpaquePointer?
    try check(mdb_env_create(&e), "mdb_env_create")
    env = e!
    try check(mdb_env_set_maxdbs(env, 4), "mdb_env_set_maxdbs")
    try check(mdb_env_set_mapsize(env, mapSize), "mdb_env_set_mapsize")
    try check(mdb_env_open(env, path, UInt32(MDB_NOTLS), 0o600), "mdb_env_open \(path)")
    var txn: OpaquePointer?
    try check(mdb_txn_begin(env, nil, 0, &txn), "mdb_txn_begin")
    var a: MDB_dbi = 0
    try check(mdb_dbi_open(txn, "events", UInt32(MDB_CREATE), &a), "mdb_dbi_open events")
    try check(mdb_txn_commit(txn), "mdb_txn_commit")
    events = a
  }

  deinit { mdb_env_close(env) }

  /// Writes `records` under the keys `firstKey, firstKey+1, …` (8-byte big-endian) with
  /// `MDB_APPEND`, in one write transaction, and commits it (full sync).
  public func appendBatch(firstKey: UInt64, records: ArraySlice<[UInt8]>) throws {
    try write(events, firstKey: firstKey, records: records, flags: UInt32(MDB_APPEND))
  }

  private func write(_ dbi: MDB_dbi, firstKey: UInt64, records: ArraySlice<[UInt8]>, flags: UInt32) throws {
    var txn: OpaquePointer?
    try check(mdb_txn_begin(env, nil, 0, &txn), "mdb_txn_begin")
    var key = firstKey
    for record in records {
      var be = key.bigEndian
      let rc = withUnsafeMutableBytes(of: &be) { kb in
        record.withUnsafeBytes { vb in
          var k = MDB_val(mv_size: 8, mv_data: kb.baseAddress)
          var v = MDB_val(mv_size: vb.count, mv_data: UnsafeMutableRawPointer(mutating: vb.baseAddress))
          return mdb_put(txn, dbi, &k, &v, flags)
        }
      }
      if rc != MDB_SUCCESS { mdb_txn_abort(txn); throw RawLMDBError(code: rc, operation: "mdb_put") }
      key += 1
    }
    try check(mdb_txn_commit(txn), "mdb_txn_commit")
  }

  /// One read transaction; `body` gets a reader for point gets inside it.
  public func read<R>(_ body: (RawReader) throws -> R) throws -> R {
    var txn: OpaquePointer?
    try check(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn), "mdb_txn_begin(read)")
    defer { mdb_txn_abort(txn) }
    return try body(RawReader(txn: txn!, events: events))
  }

  /// The size of `data.mdb` in bytes.
  public var fileSize: Int {
    (try? FileManager.default.attributesOfItem(atPath: path + "/data.mdb")[.size] as? Int) ?? 0
  }

  /// One named database's size.
  public struct DatabaseStatistics: Sendable {
    public let name: String
    public let entries: Int
    /// Branch + leaf + overflow pages × page size.
    public let bytes: Int
    public let overflowPages: Int
    public let pageSize: Int
    /// The sum of every key's and value's length (what the entries hold, without LMDB's pages).
    public let payloadBytes: Int
  }

  /// Per named database of the environment at `path` (opened read-only): entries, bytes in
  /// pages, overflow pages and the bytes the entries themselves hold. The environment must not
  /// be open elsewhere in this process.
  public static func databaseStatistics(path: String) throws -> [DatabaseStatistics] {
    try readOnly(path) { txn, names in
      try names.map { name, dbi in
        var st = MDB_stat()
        try check(mdb_stat(txn, dbi, &st), "mdb_stat \(name)")
        var payload = 0
        try scan(txn, dbi) { k, v in payload += k.count + v.count }
        return DatabaseStatistics(name: name, entries: st.ms_entries,
                                  bytes: (st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) * Int(st.ms_psize),
                                  overflowPages: st.ms_overflow_pages, pageSize: Int(st.ms_psize), payloadBytes: payload)
      }
    }
  }

  /// Opens the environment at `path` read-only and runs `body` in one read transaction with
  /// every named database (name, handle). The environment must not be open elsewhere in this process.
  static func readOnly<R>(_ path: String, _ body: (OpaquePointer, [(name: String, dbi: MDB_dbi)]) throws -> R) throws -> R {
    var e: OpaquePointer?
    try check(mdb_env_create(&e), "mdb_env_create")
    defer { mdb_env_close(e) }
    try check(mdb_env_set_maxdbs(e, 64), "mdb_env_set_maxdbs")
    try check(mdb_env_open(e, path, UInt32(MDB_NOTLS | MDB_RDONLY), 0o600), "mdb_env_open \(path)")
    var txn: OpaquePointer?
    try check(mdb_txn_begin(e, nil, UInt32(MDB_RDONLY), &txn), "mdb_txn_begin")
    defer { mdb_txn_abort(txn) }
    var main: MDB_dbi = 0
    try check(mdb_dbi_open(txn, nil, 0, &main), "mdb_dbi_open main")
    var names: [String] = []
    try scan(txn!, main) { k, _ in names.append(String(decoding: k, as: UTF8.self)) }
    var databases: [(name: String, dbi: MDB_dbi)] = []
    for name in names {
      var dbi: MDB_dbi = 0
      guard mdb_dbi_open(txn, name, 0, &dbi) == MDB_SUCCESS else { continue }
      databases.append((name, dbi))
    }
    return try body(txn!, databases)
  }

  /// Every key and value of one database, in key order.
  static func scan(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
    var cursor: OpaquePointer?
    try check(mdb_cursor_open(txn, dbi, &cursor), "mdb_cursor_open")
    defer { mdb_cursor_close(cursor) }
    var k = MDB_val()
    var v = MDB_val()
    var rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
    while rc == MDB_SUCCESS {
      try body(UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size), UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
      rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
    }
    if rc != MDB_NOTFOUND { throw RawLMDBError(code: rc, operation: "mdb_cursor_get") }
  }
}

extension RawLMDB {
  /// What ``copyRows(from:to:transactions:mapSize:)`` wrote.
  public struct RowCopy: Sendable {
    public let rows: Int
    public let bytes: Int
    public let seconds: Double
  }

  /// Writes every key and value of every named database of the environment at `source` into a
  /// fresh environment at `destination` (full sync, plain `mdb_put`, each database's rows in key
  /// order), spread evenly over `transactions` write transactions, and times the writes only.
  ///
  /// This is the ledger's storage floor: the final rows its import leaves (events, indexes,
  /// projections), written with no encoding, hashing, validation or folding, in the cheapest
  /// order. The ledger writes more than that (rows it later closes are written twice).
  public static func copyRows(from source: String, to destination: String, transactions: Int, mapSize: Int) throws -> RowCopy {
    // Read everything first, so that only the writes are timed.
    var rows: [(db: Int, key: [UInt8], value: [UInt8])] = []
    let names = try readOnly(source) { txn, databases in
      for (index, database) in databases.enumerated() {
        try scan(txn, database.dbi) { k, v in rows.append((index, Array(k), Array(v))) }
      }
      return databases.map(\.name)
    }
    try? FileManager.default.removeItem(atPath: destination)
    try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
    var e: OpaquePointer?
    try check(mdb_env_create(&e), "mdb_env_create")
    defer { mdb_env_close(e) }
    try check(mdb_env_set_maxdbs(e, 64), "mdb_env_set_maxdbs")
    try check(mdb_env_set_mapsize(e, mapSize), "mdb_env_set_mapsize")
    try check(mdb_env_open(e, destination, UInt32(MDB_NOTLS), 0o600), "mdb_env_open \(destination)")
    var dbis: [MDB_dbi] = []
    var txn: OpaquePointer?
    try check(mdb_txn_begin(e, nil, 0, &txn), "mdb_txn_begin")
    for name in names {
      var dbi: MDB_dbi = 0
      try check(mdb_dbi_open(txn, name, UInt32(MDB_CREATE), &dbi), "mdb_dbi_open \(name)")
      dbis.append(dbi)
    }
    try check(mdb_txn_commit(txn), "mdb_txn_commit")
    let perTransaction = max(1, (rows.count + transactions - 1) / max(1, transactions))
    var bytes = 0
    let started = DispatchTime.now().uptimeNanoseconds
    for start in stride(from: 0, to: rows.count, by: perTransaction) {
      try check(mdb_txn_begin(e, nil, 0, &txn), "mdb_txn_begin")
      for row in rows[start..<min(rows.count, start + perTransaction)] {
        bytes += row.key.count + row.value.count
        let rc = row.key.withUnsafeBytes { kb in
          row.value.withUnsafeBytes { vb in
            var k = MDB_val(mv_size: kb.count, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
            var v = MDB_val(mv_size: vb.count, mv_data: UnsafeMutableRawPointer(mutating: vb.baseAddress))
            return mdb_put(txn, dbis[row.db], &k, &v, 0)
          }
        }
        if rc != MDB_SUCCESS { mdb_txn_abort(txn); throw RawLMDBError(code: rc, operation: "mdb_put") }
      }
      try check(mdb_txn_commit(txn), "mdb_txn_commit")
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    return RowCopy(rows: rows.count, bytes: bytes, seconds: seconds)
  }
}

/// Point reads inside one read transaction of a ``RawLMDB``.
public struct RawReader {
  let txn: OpaquePointer
  let events: MDB_dbi

  /// `mdb_get` of the event record under `key`; lends the bytes to `body` (nil when absent).
  @inline(__always)
  public func event<R>(_ key: UInt64, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
    try get(events, key, body)
  }

  @inline(__always)
  func get<R>(_ dbi: MDB_dbi, _ key: UInt64, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
    var be = key.bigEndian
    var data = MDB_val()
    let rc = withUnsafeMutableBytes(of: &be) { kb in
      var k = MDB_val(mv_size: 8, mv_data: kb.baseAddress)
      return mdb_get(txn, dbi, &k, &data)
    }
    if rc != MDB_SUCCESS { return try body(nil) }
    return try body(UnsafeRawBufferPointer(start: data.mv_data, count: data.mv_size))
  }

  /// Walks the events database with a cursor from the first key, lending each value to `body`.
  public func scanEvents(_ body: (UInt64, UnsafeRawBufferPointer) throws -> Void) throws {
    var cursor: OpaquePointer?
    try check(mdb_cursor_open(txn, events, &cursor), "mdb_cursor_open")
    defer { mdb_cursor_close(cursor) }
    var k = MDB_val()
    var v = MDB_val()
    var rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
    while rc == MDB_SUCCESS {
      let key = UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
      try body(key, UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
      rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
    }
    if rc != MDB_NOTFOUND { throw RawLMDBError(code: rc, operation: "mdb_cursor_get") }
  }
}

/// The versions of the C libraries, as they report themselves.
public enum LibraryVersions {
  public static var lmdb: String { String(cString: mdb_version(nil, nil, nil)) }
}
