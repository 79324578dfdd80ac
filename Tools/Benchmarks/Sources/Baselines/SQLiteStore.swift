import CSQLite
import Foundation

/// A SQLite call that failed.
public struct SQLiteError: Error, CustomStringConvertible {
  public let code: Int32
  public let message: String
  public var description: String { "SQLite \(code): \(message)" }
}

/// One row of the SQLite baseline's table.
public struct SQLiteRow {
  public var seq: Int64
  public var stream: String
  public var effectiveDay: Int32
  public var recorded: Int64
  public var body: [UInt8]
  public init(seq: Int64, stream: String, effectiveDay: Int32, recorded: Int64, body: [UInt8]) {
    self.seq = seq; self.stream = stream; self.effectiveDay = effectiveDay; self.recorded = recorded; self.body = body
  }
}

/// The SQLite baseline: WAL journal, `synchronous=NORMAL`, one table of events with the index an
/// as-of question needs, one transaction per batch, prepared statements throughout.
///
///     CREATE TABLE events(seq INTEGER PRIMARY KEY, stream TEXT NOT NULL,
///                         effective_day INTEGER NOT NULL, recorded INTEGER NOT NULL, body BLOB NOT NULL);
///     CREATE INDEX events_asof ON events(stream, effective_day, seq);
///
/// As-of: `SELECT body FROM events WHERE stream=? AND effective_day<=?
///         ORDER BY effective_day DESC, seq DESC LIMIT 1`.
///
/// Note: in WAL mode with `synchronous=NORMAL`, a commit is not fsynced (only checkpoints are),
/// so SQLite's commits here are not durable the way the ledger's and raw LMDB's are.
public final class SQLiteStore {
  let db: OpaquePointer
  let insert: OpaquePointer
  let asOf: OpaquePointer
  let wholeState: OpaquePointer
  let streamEvents: OpaquePointer
  let begin: OpaquePointer
  let commit: OpaquePointer
  public let path: String

  public init(path: String) throws {
    self.path = path
    var handle: OpaquePointer?
    let rc = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
    guard rc == SQLITE_OK, let handle else { throw SQLiteError(code: rc, message: "open \(path)") }
    db = handle
    func exec(_ sql: String) throws {
      let rc = sqlite3_exec(handle, sql, nil, nil, nil)
      if rc != SQLITE_OK { throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)) + " in " + sql) }
    }
    try exec("PRAGMA journal_mode=WAL")
    try exec("PRAGMA synchronous=NORMAL")
    try exec("""
      CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY, stream TEXT NOT NULL, effective_day INTEGER NOT NULL,
                                        recorded INTEGER NOT NULL, body BLOB NOT NULL)
      """)
    try exec("CREATE INDEX IF NOT EXISTS events_asof ON events(stream, effective_day, seq)")
    func prepare(_ sql: String) throws -> OpaquePointer {
      var stmt: OpaquePointer?
      let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
      guard rc == SQLITE_OK, let stmt else { throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)) + " in " + sql) }
      return stmt
    }
    insert = try prepare("INSERT INTO events(seq, stream, effective_day, recorded, body) VALUES (?, ?, ?, ?, ?)")
    asOf = try prepare("SELECT body FROM events WHERE stream=? AND effective_day<=? ORDER BY effective_day DESC, seq DESC LIMIT 1")
    // Whole state: the latest event of every stream on or before a day, in one query.
    wholeState = try prepare("""
      SELECT stream, body FROM (SELECT stream, body, row_number() OVER (PARTITION BY stream ORDER BY effective_day DESC, seq DESC) AS rn
      FROM events WHERE effective_day<=?) WHERE rn=1
      """)
    streamEvents = try prepare("SELECT seq, body FROM events WHERE stream=? ORDER BY effective_day, seq")
    begin = try prepare("BEGIN")
    commit = try prepare("COMMIT")
  }

  deinit {
    for s in [insert, asOf, begin, commit] { sqlite3_finalize(s) }
    sqlite3_close_v2(db)
  }

  private func step(_ stmt: OpaquePointer, expect: Int32 = SQLITE_DONE) throws {
    let rc = sqlite3_step(stmt)
    sqlite3_reset(stmt)
    if rc != expect { throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(db))) }
  }

  /// Inserts `rows` in one transaction.
  public func insertBatch(_ rows: ArraySlice<SQLiteRow>) throws {
    try step(begin)
    do {
      for row in rows {
        sqlite3_bind_int64(insert, 1, row.seq)
        let rc: Int32 = row.stream.withCString { s in
          sqlite3_bind_text(insert, 2, s, -1, nil)  // SQLITE_STATIC: the text outlives the step below
          sqlite3_bind_int(insert, 3, row.effectiveDay)
          sqlite3_bind_int64(insert, 4, row.recorded)
          return row.body.withUnsafeBytes { b in
            sqlite3_bind_blob(insert, 5, b.baseAddress, Int32(b.count), nil)
            let rc = sqlite3_step(insert)
            sqlite3_reset(insert)
            return rc
          }
        }
        if rc != SQLITE_DONE { throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(db))) }
      }
      sqlite3_clear_bindings(insert)
      try step(commit)
    } catch {
      sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
      throw error
    }
  }

  /// The as-of query: the body of the latest event of `stream` effective on or before `day`,
  /// lent to `body` (nil when there is none).
  @inline(__always)
  public func latest<R>(stream: String, onOrBefore day: Int32, _ body: (UnsafeRawBufferPointer?) throws -> R) throws -> R {
    defer { sqlite3_reset(asOf) }
    return try stream.withCString { s in
      sqlite3_bind_text(asOf, 1, s, -1, nil)
      sqlite3_bind_int(asOf, 2, day)
      let rc = sqlite3_step(asOf)
      if rc == SQLITE_ROW {
        let count = Int(sqlite3_column_bytes(asOf, 0))
        return try body(UnsafeRawBufferPointer(start: sqlite3_column_blob(asOf, 0), count: count))
      }
      if rc == SQLITE_DONE { return try body(nil) }
      throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(db)))
    }
  }

  /// The whole-state query: the latest event of every stream effective on or before `day`
  /// (latest events, not folded states). Returns the number of streams and the bytes read.
  public func latestOfEveryStream(onOrBefore day: Int32) throws -> (streams: Int, bytes: Int) {
    defer { sqlite3_reset(wholeState) }
    sqlite3_bind_int(wholeState, 1, day)
    var streams = 0, bytes = 0
    while true {
      let rc = sqlite3_step(wholeState)
      if rc == SQLITE_DONE { return (streams, bytes) }
      guard rc == SQLITE_ROW else { throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(db))) }
      streams += 1
      bytes += Int(sqlite3_column_bytes(wholeState, 1))
    }
  }

  /// One stream's events in effective-date order (the history query). Returns their count.
  public func events(ofStream stream: String) throws -> Int {
    defer { sqlite3_reset(streamEvents) }
    return try stream.withCString { s in
      sqlite3_bind_text(streamEvents, 1, s, -1, nil)
      var count = 0
      while true {
        let rc = sqlite3_step(streamEvents)
        if rc == SQLITE_DONE { return count }
        guard rc == SQLITE_ROW else { throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(db))) }
        if sqlite3_column_bytes(streamEvents, 1) > 0 { count += 1 }
      }
    }
  }

  /// Bytes on disk: the database file plus its WAL.
  public var fileSize: Int {
    func size(_ p: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int) ?? 0 }
    return size(path) + size(path + "-wal")
  }

  /// Runs a passive WAL checkpoint (so that the main file holds the data), for the size figure.
  public func checkpoint() {
    sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_TRUNCATE, nil, nil)
  }

  public static var version: String { String(cString: sqlite3_libversion()) }
}
