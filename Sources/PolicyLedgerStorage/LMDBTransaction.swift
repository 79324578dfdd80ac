internal import CLMDB

/// A handle to a named database inside an ``LMDBEnvironment`` (LMDB's `MDB_dbi`).
///
/// Valid for the life of the environment; obtained from ``LMDBEnvironment/database(named:create:)``.
public struct LMDBDatabase: Sendable, Hashable {
  let dbi: MDB_dbi
  /// The database's name.
  public let name: String
}

func openDatabase(_ name: String, flags: UInt32, txn: OpaquePointer) throws -> LMDBDatabase? {
  var dbi: MDB_dbi = 0
  let rc = mdb_dbi_open(txn, name, flags, &dbi)
  if rc == MDB_NOTFOUND { return nil }
  try check(rc, "mdb_dbi_open", context: "database \(name)")
  return LMDBDatabase(dbi: dbi, name: name)
}

/// Flags for ``LMDBWriteTransaction/put(_:for:in:flags:)``.
public struct LMDBPutFlags: OptionSet, Sendable {
  public let rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }
  /// Fail with `MDB_KEYEXIST` if the key exists (`MDB_NOOVERWRITE`).
  public static let noOverwrite = LMDBPutFlags(rawValue: UInt32(MDB_NOOVERWRITE))
  /// The key sorts after every key in the database: a fast append (`MDB_APPEND`). Fails with
  /// `MDB_KEYEXIST` when it does not.
  public static let append = LMDBPutFlags(rawValue: UInt32(MDB_APPEND))
}

@inline(__always)
func withVal<R>(_ bytes: [UInt8], _ body: (inout MDB_val) throws -> R) rethrows -> R {
  try bytes.withUnsafeBytes { buffer in
    var val = MDB_val(mv_size: buffer.count, mv_data: UnsafeMutableRawPointer(mutating: buffer.baseAddress))
    return try body(&val)
  }
}

@inline(__always)
func bytes(of val: MDB_val) -> [UInt8] {
  guard val.mv_size > 0, let base = val.mv_data else { return [] }
  return Array(UnsafeRawBufferPointer(start: base, count: val.mv_size))
}

@inline(__always)
func buffer(of val: MDB_val) -> UnsafeRawBufferPointer {
  UnsafeRawBufferPointer(start: val.mv_data, count: val.mv_size)
}

func getValue(_ txn: OpaquePointer, _ key: [UInt8], _ db: LMDBDatabase) throws -> [UInt8]? {
  try withValue(txn, key, db) { $0.map(Array.init) }
}

func withValue<R>(_ txn: OpaquePointer, _ key: [UInt8], _ db: LMDBDatabase, _ body: (UnsafeRawBufferPointer?) throws -> R) throws -> R {
  var data = MDB_val()
  let rc = withVal(key) { k in mdb_get(txn, db.dbi, &k, &data) }
  if rc == MDB_NOTFOUND { return try body(nil) }
  try check(rc, "mdb_get", context: "database \(db.name)")
  return try body(buffer(of: data))
}

func entryCount(_ txn: OpaquePointer, _ db: LMDBDatabase) throws -> Int {
  var st = MDB_stat()
  try check(mdb_stat(txn, db.dbi, &st), "mdb_stat", context: "database \(db.name)")
  return st.ms_entries
}

func makeCursor(_ txn: OpaquePointer, _ db: LMDBDatabase) throws -> LMDBCursor {
  var cursor: OpaquePointer?
  try check(mdb_cursor_open(txn, db.dbi, &cursor), "mdb_cursor_open", context: "database \(db.name)")
  return LMDBCursor(handle: cursor!, database: db)
}

/// A read-only transaction: a consistent snapshot of the environment, lent to the closure given
/// to ``LMDBEnvironment/read(_:)``. It cannot be copied or kept; it aborts itself when the
/// closure returns. Not `Sendable`: use it on the thread that runs the closure.
public struct LMDBReadTransaction: ~Copyable {
  let handle: OpaquePointer
  init(handle: OpaquePointer) { self.handle = handle }
  // A read-only transaction is ended with mdb_txn_commit rather than mdb_txn_abort: both free it,
  // but only a commit keeps the database handles opened inside it (lmdb.h, mdb_dbi_open).
  deinit { mdb_txn_commit(handle) }

  /// The value stored under `key`, copied out, or `nil` when there is none.
  /// - Throws: ``LMDBError``. The corresponding LMDB function is `mdb_get`.
  /// - Complexity: O(log n) in the number of keys.
  public func value(for key: [UInt8], in db: LMDBDatabase) throws -> [UInt8]? {
    try getValue(handle, key, db)
  }

  /// Lends the bytes stored under `key` (or `nil`) to `body` without copying. The buffer is
  /// valid only during `body`.
  /// - Throws: ``LMDBError``, or what `body` throws. The corresponding LMDB function is `mdb_get`.
  public func withValue<R>(for key: [UInt8], in db: LMDBDatabase, _ body: (UnsafeRawBufferPointer?) throws -> R) throws -> R {
    try PolicyLedgerStorage.withValue(handle, key, db, body)
  }

  /// Runs `body` with a cursor over `db`; the cursor is closed when `body` returns.
  /// - Throws: ``LMDBError``. The corresponding LMDB function is `mdb_cursor_open`.
  public func withCursor<R>(_ db: LMDBDatabase, _ body: (borrowing LMDBCursor) throws -> R) throws -> R {
    let cursor = try makeCursor(handle, db)
    return try body(cursor)
  }

  /// The number of entries in `db`. The corresponding LMDB function is `mdb_stat`.
  public func count(_ db: LMDBDatabase) throws -> Int { try entryCount(handle, db) }

  /// Opens an existing named database; `nil` when it does not exist.
  public func database(named name: String) throws -> LMDBDatabase? {
    try openDatabase(name, flags: 0, txn: handle)
  }

  /// The number of entries in the unnamed main database, which lists the named databases:
  /// 0 for a fresh environment.
  public func mainDatabaseEntryCount() throws -> Int {
    var dbi: MDB_dbi = 0
    try check(mdb_dbi_open(handle, nil, 0, &dbi), "mdb_dbi_open", context: "main database")
    return try entryCount(handle, LMDBDatabase(dbi: dbi, name: "(main)"))
  }
}

@available(*, unavailable, message: "an LMDB transaction belongs to the thread that runs its closure")
extension LMDBReadTransaction: Sendable {}

/// A write transaction, lent to the closure given to ``LMDBEnvironment/write(_:)``, which
/// commits it when the closure returns and aborts it when the closure throws. It cannot be copied
/// or kept. Not `Sendable`: a write transaction must begin and end on one thread.
public struct LMDBWriteTransaction: ~Copyable {
  let handle: OpaquePointer
  init(handle: OpaquePointer) { self.handle = handle }
  deinit { mdb_txn_abort(handle) }

  /// Commits; the handle is freed whatever the outcome (LMDB frees a transaction even when its
  /// commit fails), so this consumes the transaction and returns LMDB's code.
  consuming func commit() -> Int32 {
    let rc = mdb_txn_commit(handle)
    discard self
    return rc
  }

  /// Aborts, freeing the handle.
  consuming func abort() {
    mdb_txn_abort(handle)
    discard self
  }

  /// The value stored under `key`, copied out, or `nil` when there is none. Sees this
  /// transaction's own writes.
  /// - Throws: ``LMDBError``. The corresponding LMDB function is `mdb_get`.
  /// - Complexity: O(log n) in the number of keys.
  public func value(for key: [UInt8], in db: LMDBDatabase) throws -> [UInt8]? {
    try getValue(handle, key, db)
  }

  /// Lends the bytes stored under `key` (or `nil`) to `body` without copying.
  public func withValue<R>(for key: [UInt8], in db: LMDBDatabase, _ body: (UnsafeRawBufferPointer?) throws -> R) throws -> R {
    try PolicyLedgerStorage.withValue(handle, key, db, body)
  }

  /// Runs `body` with a cursor over `db`; the cursor is closed when `body` returns.
  public func withCursor<R>(_ db: LMDBDatabase, _ body: (borrowing LMDBCursor) throws -> R) throws -> R {
    let cursor = try makeCursor(handle, db)
    return try body(cursor)
  }

  /// The number of entries in `db`. The corresponding LMDB function is `mdb_stat`.
  public func count(_ db: LMDBDatabase) throws -> Int { try entryCount(handle, db) }

  /// Opens a named database inside this transaction, creating it when `create` is true.
  /// - Returns: The handle, or `nil` when it does not exist and `create` is false.
  /// - Throws: ``LMDBError`` (`MDB_DBS_FULL`). The corresponding LMDB function is `mdb_dbi_open`.
  public func database(named name: String, create: Bool) throws -> LMDBDatabase? {
    try openDatabase(name, flags: create ? UInt32(MDB_CREATE) : 0, txn: handle)
  }

  /// Stores `value` under `key`.
  ///
  /// - Parameters:
  ///   - value: The bytes to store (any length the map can hold).
  ///   - key: 1 to ``LMDBEnvironment/maximumKeySize`` bytes, compared byte by byte.
  ///   - flags: `.noOverwrite` to refuse an existing key, `.append` when `key` sorts last.
  /// - Throws: ``LMDBError``: `MDB_KEYEXIST` (with `.noOverwrite`, or `.append` out of order),
  ///   `MDB_BAD_VALSIZE` (empty or too long key). `MDB_MAP_FULL` is caught by
  ///   ``LMDBEnvironment/write(_:)``. The corresponding LMDB function is `mdb_put`.
  public func put(_ value: [UInt8], for key: [UInt8], in db: LMDBDatabase, flags: LMDBPutFlags = []) throws {
    let rc = withVal(key) { k in withVal(value) { v in mdb_put(handle, db.dbi, &k, &v, flags.rawValue) } }
    try check(rc, "mdb_put", context: "database \(db.name)")
  }

  /// Deletes the entry under `key`.
  /// - Returns: `false` when there was no such key.
  /// - Throws: ``LMDBError``. The corresponding LMDB function is `mdb_del`.
  @discardableResult
  public func delete(_ key: [UInt8], in db: LMDBDatabase) throws -> Bool {
    let rc = withVal(key) { k in mdb_del(handle, db.dbi, &k, nil) }
    if rc == MDB_NOTFOUND { return false }
    try check(rc, "mdb_del", context: "database \(db.name)")
    return true
  }

  /// Removes every entry of `db`, keeping the database itself.
  /// - Throws: ``LMDBError``. The corresponding LMDB function is `mdb_drop` with `del = 0`.
  public func empty(_ db: LMDBDatabase) throws {
    try check(mdb_drop(handle, db.dbi, 0), "mdb_drop", context: "database \(db.name)")
  }
}

@available(*, unavailable, message: "an LMDB transaction belongs to the thread that runs its closure")
extension LMDBWriteTransaction: Sendable {}

/// A cursor over one database, lent to the closure given to `withCursor`. Positions move with
/// each call; each call returns the entry it lands on (copied out), or `nil` past either end.
public struct LMDBCursor: ~Copyable {
  let handle: OpaquePointer
  let database: LMDBDatabase
  init(handle: OpaquePointer, database: LMDBDatabase) {
    self.handle = handle
    self.database = database
  }
  deinit { mdb_cursor_close(handle) }

  /// A key and its value, copied out of the transaction.
  public typealias Entry = (key: [UInt8], value: [UInt8])

  private func move(_ op: MDB_cursor_op, key: [UInt8]? = nil) throws -> Entry? {
    try moveRaw(op, key: key) { k, v in (Array(k), Array(v)) }
  }

  private func moveRaw<R>(_ op: MDB_cursor_op, key: [UInt8]?, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> R) throws -> R? {
    var k = MDB_val()
    var v = MDB_val()
    let rc: Int32
    if let key {
      // With MDB_SET_RANGE and MDB_SET_KEY, LMDB points `k` at the key inside the map on
      // success, so it stays valid after the search key's buffer is gone.
      rc = key.withUnsafeBytes { buffer in
        k = MDB_val(mv_size: buffer.count, mv_data: UnsafeMutableRawPointer(mutating: buffer.baseAddress))
        return mdb_cursor_get(handle, &k, &v, op)
      }
    } else {
      rc = mdb_cursor_get(handle, &k, &v, op)
    }
    if rc == MDB_SUCCESS { return try body(buffer(of: k), buffer(of: v)) }
    if rc == MDB_NOTFOUND { return nil }
    try check(rc, "mdb_cursor_get", context: "database \(database.name)")
    return nil
  }

  /// The first entry. The corresponding LMDB call is `mdb_cursor_get` with `MDB_FIRST`.
  public func first() throws -> Entry? { try move(MDB_FIRST) }
  /// The last entry (`MDB_LAST`).
  public func last() throws -> Entry? { try move(MDB_LAST) }
  /// The entry after the current one (`MDB_NEXT`); the first one on a fresh cursor.
  public func next() throws -> Entry? { try move(MDB_NEXT) }
  /// The entry before the current one (`MDB_PREV`); the last one on a fresh cursor.
  public func previous() throws -> Entry? { try move(MDB_PREV) }
  /// The entry at the current position (`MDB_GET_CURRENT`).
  public func current() throws -> Entry? { try move(MDB_GET_CURRENT) }
  /// The first entry whose key is greater than or equal to `key` (`MDB_SET_RANGE`).
  /// - Complexity: O(log n).
  public func seek(atLeast key: [UInt8]) throws -> Entry? { try move(MDB_SET_RANGE, key: key) }
  /// The entry whose key is exactly `key` (`MDB_SET_KEY`).
  public func seek(exactly key: [UInt8]) throws -> Entry? { try move(MDB_SET_KEY, key: key) }

  /// The last entry whose key is less than `key`: a seek followed by one step back.
  /// - Complexity: O(log n).
  public func seek(before key: [UInt8]) throws -> Entry? {
    if try seek(atLeast: key) != nil { return try previous() }
    return try last()
  }

  /// Lends the current entry's key and value to `body` without copying (`MDB_GET_CURRENT`).
  public func withCurrent<R>(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> R) throws -> R? {
    try moveRaw(MDB_GET_CURRENT, key: nil, body)
  }

  /// Lends the next entry's key and value to `body` without copying (`MDB_NEXT`); `nil` at the end.
  public func withNext<R>(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> R) throws -> R? {
    try moveRaw(MDB_NEXT, key: nil, body)
  }
}

/// What both kinds of transaction can do: read. Lets code that only reads take either a read
/// or a write transaction: `func load<T: LMDBReader & ~Copyable>(in txn: borrowing T)`.
public protocol LMDBReader: ~Copyable {
  /// The value under `key`, copied out, or `nil`.
  func value(for key: [UInt8], in db: LMDBDatabase) throws -> [UInt8]?
  /// Lends the value under `key` (or `nil`) to `body` without copying.
  func withValue<R>(for key: [UInt8], in db: LMDBDatabase, _ body: (UnsafeRawBufferPointer?) throws -> R) throws -> R
  /// Runs `body` with a cursor over `db`.
  func withCursor<R>(_ db: LMDBDatabase, _ body: (borrowing LMDBCursor) throws -> R) throws -> R
  /// The number of entries in `db`.
  func count(_ db: LMDBDatabase) throws -> Int
}

extension LMDBReadTransaction: LMDBReader {}
extension LMDBWriteTransaction: LMDBReader {}
