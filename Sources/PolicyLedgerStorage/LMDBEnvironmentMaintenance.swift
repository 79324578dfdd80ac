internal import CLMDB
import Foundation
import Synchronization

// The environment's maintenance: stale readers, hot copies, the meta page's account of the file,
// and room in the map for a long write transaction.

extension LMDBEnvironment {
  /// Clears reader slots left behind by processes that died while reading.
  ///
  /// - Returns: How many stale slots were cleared.
  /// - Throws: ``LMDBError``. The corresponding LMDB function is `mdb_reader_check`.
  @discardableResult
  public func clearStaleReaders() throws(LMDBError) -> Int {
    var dead: Int32 = 0
    try check(mdb_reader_check(handle, &dead), "mdb_reader_check", context: path)
    return Int(dead)
  }

  /// Writes a consistent, compacted copy of the environment into the empty folder `destination`,
  /// while other transactions go on (a hot backup). Never copy a live `data.mdb` with `cp`.
  ///
  /// - Throws: ``LMDBError`` (`ENOENT`, `EEXIST` when the folder already holds a `data.mdb`,
  ///   `ENOSPC`). The corresponding LMDB function is `mdb_env_copy2` with `MDB_CP_COMPACT`.
  ///
  /// The copy's `data.mdb` is made readable by the owner only (mode `0600`), like the original.
  ///   `MDB_MAP_RESIZED` (another process grew the map while the copy began) is met by adopting the
  ///   new size and copying again.
  public func copy(to destination: String, compact: Bool = true) throws(LMDBError) {
    var attempts = 0
    while true {
      attempts += 1
      resizeLock.lockShared()
      let rc = mdb_env_copy2(handle, destination, compact ? UInt32(MDB_CP_COMPACT) : 0)
      resizeLock.unlockShared()
      if rc == MDB_MAP_RESIZED && attempts < 5 {
        // mdb_env_copy2 created the copy's data.mdb before its read transaction failed.
        unlink(destination + "/data.mdb")
        try adoptMapSize()
        continue
      }
      try check(rc, "mdb_env_copy2", context: destination)
      break
    }
    if chmod(destination + "/data.mdb", 0o600) != 0 {
      throw LMDBError(code: errno, operation: "chmod", context: destination + "/data.mdb")
    }
  }

  /// The pages in use (last page number + 1) and the page size, as the meta page says.
  ///
  /// Both come from the file and are untrusted: a damaged meta page can hold any value, so
  /// `pagesInUse` is `nil` when the last page number cannot be a page count (negative as a signed
  /// number, or overflowing), and ``bytesInUse`` is `nil` when pages × page size overflows.
  public func fileStatistics() -> (pagesInUse: Int?, pageSize: Int) {
    var info = MDB_envinfo()
    mdb_env_info(handle, &info)
    var st = MDB_stat()
    mdb_env_stat(handle, &st)
    let last = Int(bitPattern: UInt(bitPattern: info.me_last_pgno))
    let pages = last.addingReportingOverflow(1)
    return (last < 0 || pages.overflow ? nil : pages.partialValue, Int(st.ms_psize))
  }

  /// The bytes in use by the meta page's account (pages in use × page size), or `nil` when that
  /// number cannot be right (a damaged meta page: see ``fileStatistics()``).
  public var bytesInUse: Int? {
    let (pages, pageSize) = fileStatistics()
    guard let pages, pageSize > 0 else { return nil }
    let bytes = pages.multipliedReportingOverflow(by: pageSize)
    return bytes.overflow ? nil : bytes.partialValue
  }

  /// The largest key LMDB accepts in this environment, in bytes (511 for Debian's build).
  public var maximumKeySize: Int { Int(mdb_env_get_maxkeysize(handle)) }
}

extension LMDBEnvironment {
  /// Grows the map, if needed, so that it holds the data file's current size plus `bytes`
  /// (rounded up to a MiB, at most ``Options/maximumMapSize``): a long write transaction then
  /// does not hit `MDB_MAP_FULL` and start over. The map is address space, not disk: the file
  /// grows only as pages are used. Call it outside any transaction of this process.
  /// - Throws: ``LMDBError`` from `mdb_env_set_mapsize`.
  public func reserveMapSize(forAnother bytes: Int) throws {
    var info = MDB_envinfo()
    var stat = MDB_stat()
    mdb_env_info(handle, &info)
    mdb_env_stat(handle, &stat)
    let used = (Int(info.me_last_pgno) + 1).multipliedReportingOverflow(by: Int(stat.ms_psize))
    let (wanted, overflow) = (used.overflow ? options.maximumMapSize : used.partialValue).addingReportingOverflow(bytes)
    let target = min(overflow ? options.maximumMapSize : (wanted + (1 << 20) - 1) & ~((1 << 20) - 1), options.maximumMapSize)
    guard target > info.me_mapsize else { return }
    resizeLock.lockExclusive()
    defer { resizeLock.unlockExclusive() }
    try check(mdb_env_set_mapsize(handle, target), "mdb_env_set_mapsize", context: path)
  }
}
