internal import CLMDB

/// An error reported by LMDB, keeping LMDB's own code and message.
///
/// Match a specific code with a pattern, the way GRDB's `DatabaseError` reads:
///
/// ```swift
/// do { try environment.write { txn in try txn.put(value, for: key, in: db, flags: .noOverwrite) } }
/// catch LMDBError.keyExists { … }
/// ```
///
/// Codes are LMDB's (`MDB_KEYEXIST` … `MDB_BAD_DBI`, from `lmdb.h`) or a POSIX `errno` value
/// (`ENOENT`, `EACCES`, `ENOSPC`…) where LMDB passes one through.
/// `MDB_MAP_FULL`, `MDB_MAP_RESIZED` and `MDB_READERS_FULL` are handled inside
/// ``LMDBEnvironment`` (grow and retry; reader check and retry) and reach a caller only when
/// that handling itself failed.
public struct LMDBError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
  /// LMDB's return code: one of the `MDB_*` codes (negative) or a POSIX `errno` (positive).
  public let code: Int32
  /// The LMDB function that returned the code, for example `mdb_env_open`.
  public let operation: String
  /// Extra context added by this library: the path or database concerned.
  public let context: String

  public init(code: Int32, operation: String, context: String = "") {
    self.code = code
    self.operation = operation
    self.context = context
  }

  /// LMDB's own message for the code (`mdb_strerror`).
  public var message: String { String(cString: mdb_strerror(code)) }

  /// The symbolic name of the code, such as `MDB_MAP_FULL` or `ENOENT`.
  public var codeName: String {
    switch code {
    case MDB_KEYEXIST: "MDB_KEYEXIST"
    case MDB_NOTFOUND: "MDB_NOTFOUND"
    case MDB_PAGE_NOTFOUND: "MDB_PAGE_NOTFOUND"
    case MDB_CORRUPTED: "MDB_CORRUPTED"
    case MDB_PANIC: "MDB_PANIC"
    case MDB_VERSION_MISMATCH: "MDB_VERSION_MISMATCH"
    case MDB_INVALID: "MDB_INVALID"
    case MDB_MAP_FULL: "MDB_MAP_FULL"
    case MDB_DBS_FULL: "MDB_DBS_FULL"
    case MDB_READERS_FULL: "MDB_READERS_FULL"
    case MDB_TLS_FULL: "MDB_TLS_FULL"
    case MDB_TXN_FULL: "MDB_TXN_FULL"
    case MDB_CURSOR_FULL: "MDB_CURSOR_FULL"
    case MDB_PAGE_FULL: "MDB_PAGE_FULL"
    case MDB_MAP_RESIZED: "MDB_MAP_RESIZED"
    case MDB_INCOMPATIBLE: "MDB_INCOMPATIBLE"
    case MDB_BAD_RSLOT: "MDB_BAD_RSLOT"
    case MDB_BAD_TXN: "MDB_BAD_TXN"
    case MDB_BAD_VALSIZE: "MDB_BAD_VALSIZE"
    case MDB_BAD_DBI: "MDB_BAD_DBI"
    case 2: "ENOENT"
    case 5: "EIO"
    case 12: "ENOMEM"
    case 13: "EACCES"
    case 16: "EBUSY"
    case 22: "EINVAL"
    case 28: "ENOSPC"
    case 30: "EROFS"
    case 31: "EMLINK"
    case 116: "ESTALE"
    default: "error \(code)"
    }
  }

  /// Two errors are equal when their codes are: `LMDBError.keyExists == error` whatever the
  /// operation and context.
  public static func == (a: LMDBError, b: LMDBError) -> Bool { a.code == b.code }
  public func hash(into hasher: inout Hasher) { hasher.combine(code) }

  public var description: String {
    let place = context.isEmpty ? "" : " (\(context))"
    return "\(operation) failed with \(codeName): \(message)\(place)"
  }

  /// Matches an error against an ``LMDBError`` code pattern, so that
  /// `catch LMDBError.keyExists` works.
  public static func ~= (pattern: LMDBError, error: any Error) -> Bool {
    guard let error = error as? LMDBError else { return false }
    return error.code == pattern.code
  }

  private init(code: Int32) { self.init(code: code, operation: "") }

  /// The key/data pair already exists. The corresponding C error is `MDB_KEYEXIST`.
  public static let keyExists = LMDBError(code: MDB_KEYEXIST)
  /// The key/data pair was not found. The corresponding C error is `MDB_NOTFOUND`.
  /// The Swift layer returns `nil` instead; this constant exists for pattern matching.
  public static let notFound = LMDBError(code: MDB_NOTFOUND)
  /// The file is damaged. The corresponding C error is `MDB_CORRUPTED`.
  public static let corrupted = LMDBError(code: MDB_CORRUPTED)
  /// An unrecoverable error in the environment. The corresponding C error is `MDB_PANIC`.
  public static let panic = LMDBError(code: MDB_PANIC)
  /// The file was written by an incompatible LMDB version. The corresponding C error is
  /// `MDB_VERSION_MISMATCH`.
  public static let versionMismatch = LMDBError(code: MDB_VERSION_MISMATCH)
  /// The file is not an LMDB data file. The corresponding C error is `MDB_INVALID`.
  public static let invalid = LMDBError(code: MDB_INVALID)
  /// The map size was reached. The corresponding C error is `MDB_MAP_FULL`.
  public static let mapFull = LMDBError(code: MDB_MAP_FULL)
  /// Too many named databases. The corresponding C error is `MDB_DBS_FULL`.
  public static let databasesFull = LMDBError(code: MDB_DBS_FULL)
  /// The reader lock table is full. The corresponding C error is `MDB_READERS_FULL`.
  public static let readersFull = LMDBError(code: MDB_READERS_FULL)
  /// Another process grew the map. The corresponding C error is `MDB_MAP_RESIZED`.
  public static let mapResized = LMDBError(code: MDB_MAP_RESIZED)
  /// A database was opened with flags incompatible with its existing ones.
  /// The corresponding C error is `MDB_INCOMPATIBLE`.
  public static let incompatible = LMDBError(code: MDB_INCOMPATIBLE)
  /// A key or value of the wrong size (a key that is empty or longer than 511 bytes).
  /// The corresponding C error is `MDB_BAD_VALSIZE`.
  public static let badValueSize = LMDBError(code: MDB_BAD_VALSIZE)
  /// The transaction must abort (an earlier operation in it failed).
  /// The corresponding C error is `MDB_BAD_TXN`.
  public static let badTransaction = LMDBError(code: MDB_BAD_TXN)
  /// The path does not exist. The corresponding C error is `ENOENT`.
  public static let noSuchFile = LMDBError(code: 2)
  /// Permission denied. The corresponding C error is `EACCES`.
  public static let accessDenied = LMDBError(code: 13)
  /// The device is full. The corresponding C error is `ENOSPC`.
  public static let noSpace = LMDBError(code: 28)
}

/// The single checked choke point through which every LMDB call's result passes.
@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String, context: @autoclosure () -> String = "") throws(LMDBError) {
  if rc != MDB_SUCCESS {
    throw LMDBError(code: rc, operation: operation(), context: context())
  }
}
