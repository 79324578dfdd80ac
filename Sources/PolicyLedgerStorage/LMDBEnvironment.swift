internal import CLMDB
import Foundation
import Synchronization

/// An LMDB environment: one folder on disk holding `data.mdb` and `lock.mdb`, with its named
/// databases.
///
/// There is exactly one `LMDBEnvironment` per folder per process: ``open(path:options:)``
/// returns the environment already open for the same folder (identified by device and inode, not
/// by path string), because LMDB's locking breaks when one process opens a file twice.
///
/// Transactions are scoped by synchronous closures, so a transaction can neither escape nor hop
/// threads: ``read(_:)`` and ``write(_:)``. The environment is opened with `MDB_NOTLS`, so read
/// transactions are not tied to a thread's reader slot.
///
/// Traps handled inside:
/// - `MDB_MAP_FULL`: the write transaction is aborted, the map doubled (while no transaction of
///   this process is active) and the whole unit of work retried; a caller never sees it unless
///   the map cannot grow past ``Options/maximumMapSize``.
/// - `MDB_MAP_RESIZED` (another process grew the map): the new size is adopted and the
///   transaction retried.
/// - Reader slots left by crashed processes: `mdb_reader_check` runs at open and on
///   `MDB_READERS_FULL`.
///
/// Data files are created with mode `0600` (owner only), the folder with `0700`.
public final class LMDBEnvironment: @unchecked Sendable {
  /// How to open an environment.
  public struct Options: Sendable {
    /// Initial map size in bytes. The map is sparse on Linux, so a large value costs nothing; it
    /// grows by doubling when full. Default 64 MiB.
    public var initialMapSize: Int = 64 << 20
    /// The map never grows past this many bytes. Default 1 TiB.
    public var maximumMapSize: Int = 1 << 40
    /// Maximum number of named databases. Default 32.
    public var maximumDatabases: UInt32 = 32
    /// Maximum simultaneous read transactions across all processes. Default 126 (LMDB's).
    public var maximumReaders: UInt32 = 126
    /// Open read-only (`MDB_RDONLY`). Writes then fail with `EACCES`.
    public var readOnly: Bool = false
    /// Create the folder if it does not exist.
    public var createIfMissing: Bool = true
    /// Open without LMDB's lock file (`MDB_NOLOCK`): only for a read-only environment on
    /// read-only media (an archived ledger), where no writer can exist. Requires `readOnly`.
    public var withoutLocking: Bool = false

    public init() {}
  }

  /// The folder, as given at open.
  public let path: String
  /// The options the environment was opened with.
  public let options: Options
  let handle: OpaquePointer
  /// Read/write transactions hold this shared; growing the map holds it exclusively.
  let resizeLock = ReadWriteLock()
  private let databases = Mutex<[String: LMDBDatabase]>([:])

  private struct FileIdentity: Hashable { let device: UInt64; let inode: UInt64 }
  private final class WeakEnvironment { weak var environment: LMDBEnvironment? ; init(_ e: LMDBEnvironment) { environment = e } }
  private static let registry = Mutex<[FileIdentity: WeakEnvironment]>([:])
  private let identity: FileIdentity

  /// Opens (or creates) the environment in the folder at `path`, or returns the one this process
  /// already has open for that folder.
  ///
  /// - Parameters:
  ///   - path: A folder. Created with mode `0700` if missing and `options.createIfMissing`.
  ///   - options: Map size, limits and read-only mode. Ignored when the environment is already
  ///     open in this process.
  /// - Returns: The shared environment for that folder.
  /// - Throws: ``LMDBError`` with `ENOENT` (folder missing), `EACCES` (permissions),
  ///   `MDB_INVALID` (not an LMDB file), `MDB_VERSION_MISMATCH` (written by another LMDB
  ///   version), `ENOTDIR`. The corresponding LMDB function is `mdb_env_open`.
  public static func open(path: String, options: Options = Options()) throws(LMDBError) -> LMDBEnvironment {
    var isDirectory: ObjCBool = false
    if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
      guard options.createIfMissing, !options.readOnly else {
        throw LMDBError(code: ENOENT, operation: "open", context: "no ledger folder at \(path)")
      }
      if mkdir(path, 0o700) != 0 && errno != EEXIST {
        throw LMDBError(code: errno, operation: "mkdir", context: path)
      }
    } else if !isDirectory.boolValue {
      throw LMDBError(code: ENOTDIR, operation: "open", context: "\(path) is a file, not a ledger folder")
    }
    var info = stat()
    guard stat(path, &info) == 0 else { throw LMDBError(code: errno, operation: "stat", context: path) }
    let identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))

    return try registry.withLock { (registry) throws(LMDBError) -> LMDBEnvironment in
      if let existing = registry[identity]?.environment { return existing }
      let environment = try LMDBEnvironment(path: path, options: options, identity: identity)
      registry[identity] = WeakEnvironment(environment)
      return environment
    }
  }

  private init(path: String, options: Options, identity: FileIdentity) throws(LMDBError) {
    var env: OpaquePointer?
    try check(mdb_env_create(&env), "mdb_env_create")
    guard let env else { preconditionFailure("mdb_env_create returned no handle") }
    do {
      // A failed LMDB assertion (a damaged page) is reported before LMDB aborts (LMDBDamage).
      _ = mdb_env_set_assert(env, lmdbAssertionFailed)
      try check(mdb_env_set_maxdbs(env, options.maximumDatabases), "mdb_env_set_maxdbs")
      try check(mdb_env_set_maxreaders(env, options.maximumReaders), "mdb_env_set_maxreaders")
      try check(mdb_env_set_mapsize(env, options.initialMapSize), "mdb_env_set_mapsize")
      var flags = UInt32(MDB_NOTLS)
      if options.readOnly { flags |= UInt32(MDB_RDONLY) }
      if options.readOnly && options.withoutLocking { flags |= UInt32(MDB_NOLOCK) }
      if !options.readOnly { try LMDBEnvironment.reserveLockFile(in: path, readers: options.maximumReaders) }
      try check(mdb_env_open(env, path, flags, 0o600), "mdb_env_open", context: path)
      var dead: Int32 = 0
      try check(mdb_reader_check(env, &dead), "mdb_reader_check", context: path)
    } catch {
      mdb_env_close(env)
      throw error
    }
    self.handle = env
    self.path = path
    self.options = options
    self.identity = identity
  }

  deinit {
    mdb_env_close(handle)
  }

  /// Creates a missing `lock.mdb` with its blocks allocated. LMDB sizes the lock file with
  /// `ftruncate` and then writes it through a memory map: on a full disk (a full tmpfs) that
  /// write is a `SIGBUS`, not an error. Allocating the blocks first turns it into `ENOSPC`.
  private static func reserveLockFile(in folder: String, readers: UInt32) throws(LMDBError) {
    let file = folder + "/lock.mdb"
    let fd = Glibc.open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    if fd < 0 {
      if errno == EEXIST { return }
      throw LMDBError(code: errno, operation: "open", context: file)
    }
    defer { close(fd) }
    // LMDB's size for `readers` slots: a 64-byte slot each after a header of two slots' size,
    // rounded up to whole pages.
    let bytes = (Int(readers) + 2) * 64
    let size = (bytes + 4095) / 4096 * 4096
    let rc = posix_fallocate(fd, 0, off_t(size))
    if rc != 0 && rc != EOPNOTSUPP && rc != EINVAL {
      unlink(file)
      throw LMDBError(code: rc, operation: "posix_fallocate", context: file)
    }
  }

  // MARK: Databases

  /// Opens a named database, creating it if `create` is true, and caches its handle.
  ///
  /// - Parameters:
  ///   - name: The database name (at most 511 bytes of UTF-8).
  ///   - create: Create the database if it does not exist (needs a writable environment).
  /// - Returns: The handle, or `nil` when the database does not exist and `create` is false.
  /// - Throws: ``LMDBError`` (`MDB_DBS_FULL`, `MDB_INCOMPATIBLE`, `EACCES`). The corresponding
  ///   LMDB function is `mdb_dbi_open`.
  public func database(named name: String, create: Bool) throws -> LMDBDatabase? {
    if let cached = databases.withLock({ $0[name] }) { return cached }
    let opened: LMDBDatabase?
    if create && !options.readOnly {
      opened = try write { txn in try openDatabase(name, flags: UInt32(MDB_CREATE), txn: txn.handle) }
    } else {
      opened = try read { txn in try openDatabase(name, flags: 0, txn: txn.handle) }
    }
    if let opened { databases.withLock { $0[name] = opened } }
    return opened
  }


  // MARK: Transactions

  /// Runs `body` in a read-only transaction: a consistent snapshot of the whole environment.
  ///
  /// The transaction cannot outlive the closure, and values read from it are copied out (or lent
  /// to a nested closure). Keep reads short: a long read transaction stops LMDB from reusing pages.
  ///
  /// - Throws: Whatever `body` throws, or ``LMDBError`` from `mdb_txn_begin`.
  ///   `MDB_READERS_FULL` is met by `mdb_reader_check` and a retry; `MDB_MAP_RESIZED` by
  ///   adopting the new map size and retrying.
  public func read<R>(_ body: (borrowing LMDBReadTransaction) throws -> R) throws -> R {
    let txn = try beginRead()
    defer { resizeLock.unlockShared() }
    return try body(txn)
  }

  private func beginRead() throws(LMDBError) -> LMDBReadTransaction {
    var attempts = 0
    while true {
      attempts += 1
      resizeLock.lockShared()
      var txn: OpaquePointer?
      let rc = mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &txn)
      if rc == MDB_SUCCESS, let txn { return LMDBReadTransaction(handle: txn) }
      resizeLock.unlockShared()
      if rc == MDB_READERS_FULL && attempts < 3 {
        var dead: Int32 = 0
        _ = mdb_reader_check(handle, &dead)
        continue
      }
      if rc == MDB_MAP_RESIZED && attempts < 5 {
        try adoptMapSize()
        continue
      }
      try check(rc, "mdb_txn_begin", context: path)
    }
  }

  /// Runs `body` in a write transaction and commits it when `body` returns; aborts it when `body`
  /// throws. All or nothing: nothing `body` wrote is visible to anyone unless the commit succeeds,
  /// and a committed transaction is on disk (full sync) when this returns.
  ///
  /// LMDB allows one writer at a time across all processes; this call waits for the others.
  /// `body` may run more than once: when the map fills up, the transaction is aborted, the map
  /// grown and `body` run again from the start. Keep side effects outside the database out of it.
  /// Do not call `write` or `read` from inside `body` (use the transaction you are given).
  ///
  /// - Throws: Whatever `body` throws, or ``LMDBError`` (`EACCES` when read-only, `ENOSPC`,
  ///   `EIO`, or `MDB_MAP_FULL` when the map cannot grow past ``Options/maximumMapSize``).
  ///   The corresponding LMDB functions are `mdb_txn_begin` and `mdb_txn_commit`.
  public func write<R>(_ body: (borrowing LMDBWriteTransaction) throws -> R) throws -> R {
    // LMDB's writer lock lives in lock.mdb, one per folder: a second folder holding a hard link
    // to this data.mdb would have its own, and its writer would run beside ours. The data file's
    // own lock (taken before LMDB's, released after the commit) excludes it however it is reached.
    let writerLock = try lockDataFileForWriting()
    defer { close(writerLock) }
    var attempts = 0
    while true {
      attempts += 1
      resizeLock.lockShared()
      var raw: OpaquePointer?
      let rc = mdb_txn_begin(handle, nil, 0, &raw)
      if rc != MDB_SUCCESS {
        resizeLock.unlockShared()
        if rc == MDB_MAP_RESIZED && attempts < 5 { try adoptMapSize(); continue }
        try check(rc, "mdb_txn_begin", context: path)
      }
      let txn = LMDBWriteTransaction(handle: raw!)
      let result: R
      do {
        result = try body(txn)
      } catch let error as LMDBError where error.code == MDB_MAP_FULL {
        txn.abort()
        resizeLock.unlockShared()
        try grow()
        continue
      } catch {
        txn.abort()
        resizeLock.unlockShared()
        throw error
      }
      let commitCode = txn.commit()
      resizeLock.unlockShared()
      if commitCode == MDB_MAP_FULL { try grow(); continue }
      try check(commitCode, "mdb_txn_commit", context: path)
      return result
    }
  }

  // MARK: The data file's writer lock

  /// Opens `data.mdb` anew (a new open file description, so that threads of this process exclude
  /// each other too) and takes an exclusive `flock` on it, waiting for any other writer through
  /// any path to the same file. Refuses a data file with more than one link: writers through
  /// another folder's lock file would not see this folder's readers, and could overwrite pages
  /// they are still reading. Closing the returned descriptor releases the lock.
  private func lockDataFileForWriting() throws(LMDBError) -> Int32 {
    let file = path + "/data.mdb"
    let fd = Glibc.open(file, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw LMDBError(code: errno, operation: "open", context: file) }
    while flock(fd, LOCK_EX) != 0 {
      if errno == EINTR { continue }
      let code = errno
      close(fd)
      throw LMDBError(code: code, operation: "flock", context: file)
    }
    var info = stat()
    if fstat(fd, &info) != 0 {
      let code = errno
      close(fd)
      throw LMDBError(code: code, operation: "fstat", context: file)
    }
    if info.st_nlink > 1 {
      close(fd)
      throw LMDBError(code: EMLINK, operation: "open for writing",
                      context: "\(file) has \(info.st_nlink) hard links: another folder shares this ledger's data file, and LMDB's lock file is per folder, so writers through the two folders would not exclude each other")
    }
    var mapped = stat()
    if fstat(mdbDataDescriptor, &mapped) == 0, mapped.st_dev != info.st_dev || mapped.st_ino != info.st_ino {
      close(fd)
      throw LMDBError(code: ESTALE, operation: "open for writing",
                      context: "\(file) is no longer the data file this ledger was opened with (it was replaced or moved)")
    }
    return fd
  }

  /// The descriptor LMDB holds on `data.mdb`.
  private var mdbDataDescriptor: Int32 {
    var fd: Int32 = -1
    _ = mdb_env_get_fd(handle, &fd)
    return fd
  }

  // MARK: Map size

  /// The current map size in bytes.
  public var mapSize: Int {
    var info = MDB_envinfo()
    mdb_env_info(handle, &info)
    return info.me_mapsize
  }

  private func grow() throws(LMDBError) {
    resizeLock.lockExclusive()
    defer { resizeLock.unlockExclusive() }
    let current = mapSize
    guard current < options.maximumMapSize else {
      throw LMDBError(code: MDB_MAP_FULL, operation: "mdb_env_set_mapsize",
                      context: "\(path): the map is at its maximum of \(options.maximumMapSize) bytes")
    }
    let doubled = current.multipliedReportingOverflow(by: 2)
    let next = doubled.overflow ? options.maximumMapSize : min(max(doubled.partialValue, current + (1 << 20)), options.maximumMapSize)
    try check(mdb_env_set_mapsize(handle, next), "mdb_env_set_mapsize", context: path)
  }

  func adoptMapSize() throws(LMDBError) {
    resizeLock.lockExclusive()
    defer { resizeLock.unlockExclusive() }
    try check(mdb_env_set_mapsize(handle, 0), "mdb_env_set_mapsize", context: path)
  }
}


/// A POSIX read/write lock (heap-allocated so that its address never moves).
final class ReadWriteLock: @unchecked Sendable {
  private let lock: UnsafeMutablePointer<pthread_rwlock_t>
  init() {
    lock = .allocate(capacity: 1)
    pthread_rwlock_init(lock, nil)
  }
  deinit {
    pthread_rwlock_destroy(lock)
    lock.deallocate()
  }
  func lockShared() { pthread_rwlock_rdlock(lock) }
  func unlockShared() { pthread_rwlock_unlock(lock) }
  func lockExclusive() { pthread_rwlock_wrlock(lock) }
  func unlockExclusive() { pthread_rwlock_unlock(lock) }
}

/// What happens when LMDB meets a page it cannot follow.
///
/// LMDB keeps no page checksums; in a damaged file it usually fails an internal assertion
/// (`mdb.c: Assertion 'IS_LEAF(mp)' failed in mdb_cursor_next()`) and calls `abort()`, a crash
/// with no word about the cause. Every environment gets an assertion callback that, when
/// ``exitStatus`` is set (the command-line tool sets it), writes one `error:` line naming the
/// file and LMDB's message to standard error and ends the process with that status instead.
/// The file is left as it was: the process was reading, or its write transaction is abandoned
/// as by any crash. Library callers that leave it `nil` keep LMDB's `abort()`.
public enum LMDBDamage {
  /// The exit status after a damaged page, or `nil` for LMDB's own `abort()`.
  nonisolated(unsafe) public static var exitStatus: Int32?
}

private func lmdbAssertionFailed(_ env: OpaquePointer?, _ message: UnsafePointer<CChar>?) {
  guard let status = LMDBDamage.exitStatus else { return }
  var path: UnsafePointer<CChar>?
  if let env { _ = mdb_env_get_path(env, &path) }
  let folder = path.map { String(cString: $0) } ?? "the ledger"
  let detail = message.map { String(cString: $0) } ?? "an internal check failed"
  let line = "error: \(folder) is damaged: LMDB met a page it cannot follow (\(detail)); restore the ledger from a backup (`policy-ledger backup` makes verified copies)\n"
  _ = line.withCString { write(2, $0, strlen($0)) }
  _exit(status)
}
