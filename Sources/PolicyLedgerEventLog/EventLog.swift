public import PolicyLedgerStorage
import Crypto
import Foundation

/// The ledger's event log: an append-only, hash-chained sequence of events in one LMDB
/// environment (one folder on disk), with indexes by stream, by effective date and by
/// recorded-at moment kept in the same write transaction as each append.
///
/// ```swift
/// let log = try EventLog.open(at: "/var/lib/council-ledger")
/// let recorded = try log.append([event], expectations: [stream: .noStream])
/// let report = try log.verify()
/// ```
///
/// `EventLog` is `Sendable`: any thread may read or append. Appends from any number of threads
/// and processes are serialised by LMDB's single writer lock; each is durable (full fsync) when
/// `append` returns. The layout of every database is in ARCHITECTURE.md.
public final class EventLog: Sendable {
  /// The on-disk format this build reads and writes.
  public static let formatVersion = "1"
  /// The `kind` value in the `meta` database that marks an LMDB environment as a Policy Ledger.
  public static let ledgerKind = "policy-ledger"

  /// The LMDB environment holding the log (and the projections other modules keep beside it).
  public let environment: LMDBEnvironment
  /// The ledger folder.
  public var path: String { environment.path }
  /// A random UUID given to the ledger at creation (lower-case text).
  public let ledgerID: String
  /// When the ledger was created (UTC).
  public let createdAt: LedgerTimestamp

  let meta: LMDBDatabase
  let events: LMDBDatabase
  let streams: LMDBDatabase
  let effective: LMDBDatabase
  let recorded: LMDBDatabase
  /// The stored Merkle tree (MerkleNodes.swift); `nil` only in a ledger written before the tree
  /// existed and opened read-only.
  let merkle: LMDBDatabase?
  /// The idempotency keys (``EventKey``); `nil` only in a ledger written before they existed
  /// and opened read-only (opening one for writing creates and fills it).
  let keys: LMDBDatabase?
  /// Actors' signatures (EventSignatures.swift); `nil` only in a ledger written before they
  /// existed and opened read-only (all its events are unsigned).
  let signatures: LMDBDatabase?
  let clock: @Sendable () -> LedgerTimestamp

  /// How to open a ledger.
  public struct Options: Sendable {
    /// Create a new, empty ledger when the folder has none. Default true.
    public var create = true
    /// Open read-only. Default false.
    public var readOnly = false
    /// LMDB settings (initial map size…).
    public var storage = LMDBEnvironment.Options()
    /// The clock recorded-at moments come from; the ledger still makes them strictly increasing.
    /// Default: the system clock. Tests pass a fixed clock.
    public var clock: @Sendable () -> LedgerTimestamp = { LedgerTimestamp.now() }
    /// The id a ledger created by this open gets (a lower-case UUID), instead of a random one:
    /// to restore a ledger from its export under its own id, the origin its checkpoints name.
    /// Ignored when the ledger exists.
    public var newLedgerID: String?
    public init() {}
  }

  /// Opens the ledger in the folder `path`, creating it if allowed.
  ///
  /// - Throws: ``LedgerError/noLedger(path:)`` (missing and `create` false),
  ///   ``LedgerError/notALedger(path:reason:)`` (a file, a non-LMDB file, or an LMDB environment
  ///   that is not a ledger), ``LedgerError/unsupportedFormat(path:found:supported:)``,
  ///   ``LedgerError/storage(_:)`` (permissions, disk).
  public static func open(at path: String, options: Options = Options()) throws -> EventLog {
    var storageOptions = options.storage
    storageOptions.readOnly = options.readOnly
    storageOptions.createIfMissing = options.create && !options.readOnly
    var isDirectory: ObjCBool = false
    let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
    if exists && !isDirectory.boolValue {
      throw LedgerError.notALedger(path: path, reason: "it is a file; a ledger is a folder")
    }
    if !exists && !storageOptions.createIfMissing { throw LedgerError.noLedger(path: path) }
    if exists && !FileManager.default.fileExists(atPath: path + "/data.mdb") && !storageOptions.createIfMissing {
      throw LedgerError.noLedger(path: path)
    }
    // A read-only reader of an archived ledger whose lock file it cannot write: no writer can
    // exist there either, so LMDB's locking is not needed (MDB_NOLOCK).
    if options.readOnly && access(path + "/lock.mdb", W_OK) != 0 { storageOptions.withoutLocking = true }
    // LMDB maps data.mdb into memory; a file cut short (a partial copy, a full disk) would make
    // a read past its end crash the process (SIGBUS) instead of failing. Check its size first.
    var fileInfo = stat()
    if stat(path + "/data.mdb", &fileInfo) == 0 {
      let size = Int(fileInfo.st_size)
      if size == 0 && !storageOptions.createIfMissing {
        throw LedgerError.notALedger(path: path, reason: "its data.mdb is empty")
      }
      if size > 0 && size < 2 * 4096 {
        throw LedgerError.damaged(path: path, reason: "its data.mdb is \(size) bytes long, shorter than LMDB's two meta pages: it is truncated or not an LMDB file")
      }
    }
    let environment: LMDBEnvironment
    do {
      environment = try LMDBEnvironment.open(path: path, options: storageOptions)
    } catch {
      switch error.code {
      // Both are read from the meta pages, which a damaged byte can change: damage, not "no ledger".
      case LMDBError.invalid.code:
        throw LedgerError.damaged(path: path, reason: "its data.mdb is not a valid LMDB file (a meta page is damaged, or it never was one)")
      case LMDBError.versionMismatch.code:
        throw LedgerError.damaged(path: path, reason: "its data.mdb gives another LMDB format version (a meta page is damaged, or an incompatible LMDB wrote it)")
      case ENOMEM where FileManager.default.fileExists(atPath: path + "/data.mdb"):
        // LMDB maps at least as many bytes as the meta page says are in use.
        throw LedgerError.damaged(path: path, reason: "LMDB could not map its data.mdb (ENOMEM): the meta page asks for an impossible size, so it is probably damaged")
      default:
        throw LedgerError.storage(error)
      }
    }
    // Every number read from the file is untrusted: a damaged meta page can hold any value, so
    // none of this arithmetic may overflow.
    guard let bytesInUse = environment.bytesInUse else {
      throw LedgerError.damaged(path: path, reason: "LMDB's meta page gives an impossible last page number or page size: the meta page is damaged")
    }
    if stat(path + "/data.mdb", &fileInfo) == 0, Int(fileInfo.st_size) < bytesInUse {
      throw LedgerError.damaged(path: path, reason: "its data.mdb is truncated or its meta page damaged: \(fileInfo.st_size) bytes, but LMDB's meta page says it uses \(bytesInUse) (a partial copy, or a full disk?)")
    }
    return try EventLog(environment: environment, options: options)
  }

  private init(environment: LMDBEnvironment, options: Options) throws {
    self.environment = environment
    self.clock = options.clock
    let path = environment.path
    // Find out what the environment holds before creating anything in it.
    let hasMeta = try environment.read { txn in try txn.database(named: "meta") != nil }
    if !hasMeta {
      guard options.create && !options.readOnly else {
        throw LedgerError.notALedger(path: path, reason: "it has no ledger metadata")
      }
      let isEmpty = try environment.read { txn in try txn.mainDatabaseEntryCount() == 0 }
      guard isEmpty else {
        throw LedgerError.notALedger(path: path, reason: "it holds LMDB data but no ledger metadata (a foreign LMDB file)")
      }
      let id = options.newLedgerID ?? UUID().uuidString.lowercased()
      guard UUID(uuidString: id)?.uuidString.lowercased() == id else {
        throw LedgerError.notALedger(path: path, reason: "the ledger id \"\(id)\" is not a lower-case UUID")
      }
      let created = options.clock()
      try environment.write { txn in
        let meta = try txn.database(named: "meta", create: true)!
        for name in ["events", "streams", "effective", "recorded", "keys", EventLog.merkleDatabaseName, EventLog.signaturesDatabaseName] { _ = try txn.database(named: name, create: true) }
        try txn.put(Array(EventLog.ledgerKind.utf8), for: Array("kind".utf8), in: meta)
        try txn.put(Array(EventLog.formatVersion.utf8), for: Array("format-version".utf8), in: meta)
        try txn.put(Array(id.utf8), for: Array("ledger-id".utf8), in: meta)
        try txn.put(Array(created.description.utf8), for: Array("created-at".utf8), in: meta)
      }
    }
    guard let meta = try environment.database(named: "meta", create: false) else {
      throw LedgerError.notALedger(path: path, reason: "it has no ledger metadata")
    }
    let info = try environment.read { txn -> [String: String] in
      var out: [String: String] = [:]
      for key in ["kind", "format-version", "ledger-id", "created-at"] {
        if let v = try txn.value(for: Array(key.utf8), in: meta) { out[key] = String(decoding: v, as: UTF8.self) }
      }
      return out
    }
    guard info["kind"] == EventLog.ledgerKind else {
      throw LedgerError.notALedger(path: path, reason: "its meta database does not name it a \(EventLog.ledgerKind)")
    }
    guard let format = info["format-version"], format == EventLog.formatVersion else {
      throw LedgerError.unsupportedFormat(path: path, found: info["format-version"] ?? "(none)", supported: EventLog.formatVersion)
    }
    guard let id = info["ledger-id"], let createdText = info["created-at"], let created = LedgerTimestamp(canonical: createdText) else {
      throw LedgerError.notALedger(path: path, reason: "its ledger metadata is incomplete")
    }
    self.meta = meta
    self.ledgerID = id
    self.createdAt = created
    func db(_ name: String) throws -> LMDBDatabase {
      guard let d = try environment.database(named: name, create: false) else {
        throw LedgerError.notALedger(path: path, reason: "its \(name) database is missing")
      }
      return d
    }
    self.events = try db("events")
    self.streams = try db("streams")
    self.effective = try db("effective")
    self.recorded = try db("recorded")
    // Created on the first writable open of a ledger that predates it (a write transaction only
    // then); filled on its next append.
    let merkle = try environment.database(named: EventLog.merkleDatabaseName, create: false)
    self.merkle = try merkle ?? (options.readOnly ? nil : environment.database(named: EventLog.merkleDatabaseName, create: true))
    let signatures = try environment.database(named: EventLog.signaturesDatabaseName, create: false)
    self.signatures = try signatures ?? (options.readOnly ? nil : environment.database(named: EventLog.signaturesDatabaseName, create: true))
    // A ledger written before idempotency keys existed has no `keys` database: opened for
    // writing, it gets one, filled from its events (once). If that fails (a damaged event, a
    // write refused), the ledger opens without it and `rebuild` makes it.
    var keys = try environment.database(named: "keys", create: false)
    if keys == nil && !options.readOnly {
      let events = self.events
      keys = try? environment.write { txn in
        let keys = try txn.database(named: "keys", create: true)!
        try EventLog.fillKeyIndex(events: events, keys: keys, txn: txn)
        return keys
      }
    }
    self.keys = keys
  }

  // MARK: Keys

  static func effectiveKey(_ day: CalendarDay, _ sequence: SequenceNumber) -> [UInt8] {
    dayKey(day) + sequence.keyBytes
  }

  /// 4 bytes: days since 1970-01-01 plus 2³¹, big-endian, so that byte order is date order.
  public static func dayKey(_ day: CalendarDay) -> [UInt8] {
    let biased = UInt32(bitPattern: Int32(day.daysSinceEpoch)) ^ 0x8000_0000
    return withUnsafeBytes(of: biased.bigEndian, Array.init)
  }

  static func timestampKey(_ t: LedgerTimestamp) -> [UInt8] {
    let biased = UInt64(bitPattern: t.microseconds) ^ 0x8000_0000_0000_0000
    return withUnsafeBytes(of: biased.bigEndian, Array.init)
  }

  static func streamPrefix(_ stream: StreamID) -> [UInt8] { Array(stream.rawValue.utf8) + [0] }

  func storageErrors<R>(_ body: () throws -> R) throws -> R {
    do { return try body() } catch let error as LMDBError { throw LedgerError.storage(error) }
  }

  // MARK: Reading inside a transaction

  /// The head of the log (last sequence number and its hash), or `nil` when it is empty.
  public func headDigest<T: LMDBReader & ~Copyable>(in txn: borrowing T) throws -> LedgerDigest? {
    try txn.withCursor(events) { c in
      guard let last = try c.last() else { return nil }
      guard last.value.count >= 65 else { throw LedgerError.corruptEvent(sequence: SequenceNumber(keyBytes: last.key), reason: "its record is shorter than its header") }
      return LedgerDigest(sequence: SequenceNumber(keyBytes: last.key), hash: EventHash(unchecked: Array(last.value[33..<65])))
    }
  }

  /// The number of events in `stream` (0 when it has none).
  /// - Complexity: O(log n).
  public func streamVersion<T: LMDBReader & ~Copyable>(_ stream: StreamID, in txn: borrowing T) throws -> UInt64 {
    let prefix = EventLog.streamPrefix(stream)
    return try txn.withCursor(streams) { c in
      guard let entry = try c.seek(before: Array(stream.rawValue.utf8) + [1]), entry.key.starts(with: prefix) else { return 0 }
      return SequenceNumber(keyBytes: entry.key, at: prefix.count).rawValue
    }
  }

  /// The event at `sequence`, or `nil`.
  /// - Throws: ``LedgerError/corruptEvent(sequence:reason:)`` when its record cannot be decoded.
  public func event<T: LMDBReader & ~Copyable>(_ sequence: SequenceNumber, in txn: borrowing T) throws -> RecordedEvent? {
    guard let record = try txn.value(for: sequence.keyBytes, in: events) else { return nil }
    return try EventLog.decodeRecord(record, sequence: sequence)
  }

  static func decodeRecord(_ record: [UInt8], sequence: SequenceNumber) throws -> RecordedEvent {
    guard record.count > 65, record[0] == 1 else {
      throw LedgerError.corruptEvent(sequence: sequence, reason: "its record header is malformed")
    }
    return try EventCodec.decode(Array(record[65...]), sequence: sequence,
                                 previousHash: EventHash(unchecked: Array(record[1..<33])),
                                 hash: EventHash(unchecked: Array(record[33..<65])))
  }

  /// The sequence numbers of `stream`'s events, in order.
  public func sequences<T: LMDBReader & ~Copyable>(inStream stream: StreamID, in txn: borrowing T) throws -> [SequenceNumber] {
    let prefix = EventLog.streamPrefix(stream)
    return try txn.withCursor(streams) { c in
      var out: [SequenceNumber] = []
      var entry = try c.seek(atLeast: prefix)
      while let e = entry, e.key.starts(with: prefix) {
        out.append(SequenceNumber(keyBytes: e.value))
        entry = try c.next()
      }
      return out
    }
  }
}

/// The head of a ledger at one moment: its last sequence number and that event's hash.
/// Text form: `SEQ:HEX`, such as `42:9f86d0…` (64 hex digits).
public struct LedgerDigest: Hashable, Sendable, CustomStringConvertible {
  public let sequence: SequenceNumber
  public let hash: EventHash
  public init(sequence: SequenceNumber, hash: EventHash) { self.sequence = sequence; self.hash = hash }
  public var description: String { "\(sequence):\(hash)" }

  /// Reads `SEQ:HEX`; `nil` for anything else.
  public init?(_ text: String) {
    let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":")
    guard parts.count == 2, let seq = UInt64(parts[0]), seq > 0, let hash = EventHash(hex: String(parts[1])) else { return nil }
    self.init(sequence: SequenceNumber(seq), hash: hash)
  }
}

/// The outcome of ``EventLog/verify(extending:)``.
public struct VerificationReport: Sendable, Equatable {
  /// The first event that failed and why.
  public struct Failure: Sendable, Equatable {
    public let sequence: SequenceNumber
    public let reason: String
  }
  /// How many events were checked before the first failure (or in all).
  public let eventsChecked: UInt64
  /// The verified head, when the whole chain is valid and not empty.
  public let head: LedgerDigest?
  /// The first failure, or `nil` when the chain is valid.
  public let failure: Failure?
  /// True when no failure was found.
  public var isValid: Bool { failure == nil }
}
