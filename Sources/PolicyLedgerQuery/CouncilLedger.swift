public import PolicyLedgerDomain
public import PolicyLedgerEventLog
public import PolicyLedgerStorage
import Foundation

/// The council's ledger: the event log plus the projections kept beside it, updated in the same
/// write transaction as each append. The entry point for recording and for questions.
///
/// ```swift
/// let ledger = try CouncilLedger.open(at: path)
/// try ledger.record([.init(.bodyEstablished(…), effective: .month(2019, 4)!, actor: "secretariat")])
/// let members = try ledger.members(of: "basic-plan-panel", asOf: day)
/// ```
public final class CouncilLedger: Sendable {
  /// The underlying event log.
  public let log: EventLog
  let live: ProjectionSet
  let projector: Projector

  /// Opens (or creates) the ledger in the folder `path`.
  /// - Throws: what ``EventLog/open(at:options:)`` throws.
  public static func open(at path: String, options: EventLog.Options = EventLog.Options()) throws -> CouncilLedger {
    let log = try EventLog.open(at: path, options: options)
    return try CouncilLedger(log: log, readOnly: options.readOnly)
  }

  init(log: EventLog, readOnly: Bool) throws {
    self.log = log
    self.projector = Projector(log: log)
    if readOnly {
      func db(_ name: String) throws -> LMDBDatabase {
        guard let d = try log.environment.database(named: "proj." + name, create: false) else {
          throw ProjectionError.incomplete(projectedThrough: 0, head: (try? log.head()?.sequence.rawValue) ?? 0)
        }
        return d
      }
      let snapshots = try db("snapshots")
      // Projections written before the series index existed (layout 1) have none: the log can
      // still be read and verified, and every query reports the layout (`reading`).
      let series = try log.environment.database(named: "proj.series", create: false)
      let tenures = try log.environment.database(named: "proj.tenures", create: false)
      live = ProjectionSet(snapshots: snapshots, entities: try db("entities"), amendments: try db("amendments"), meta: try db("meta"),
                           series: series ?? snapshots, tenures: tenures ?? snapshots, prefix: "proj.")
    } else {
      live = try log.environment.write { txn in
        let set = try ProjectionSet.open(prefix: "proj.", in: txn)
        // A new ledger's projections start in the current layout; older ones keep theirs until rebuilt.
        if try Projector.layout(set, in: txn) == nil, try log.headDigest(in: txn) == nil {
          try txn.put([Projector.layoutVersion], for: ProjectionSet.layoutKey, in: set.meta)
        }
        return set
      }
    }
  }

  // MARK: Rebuild and check

  /// Drops the projections and replays every event into them.
  ///
  /// A log of up to `pageSize` events is rebuilt in one write transaction: readers meanwhile see
  /// the old projections, then the new ones, never a mix. A longer log is replayed in pages of
  /// `pageSize` events, each in its own write transaction (one transaction could hold too many
  /// dirty pages); until the last page commits, queries and appends report that a rebuild is
  /// under way, and an interrupted rebuild is finished by running it again.
  ///
  /// The log is verified first (``EventLog/verify(extending:)``): projections are never
  /// rebuilt from a log whose hash chain fails, which would make altered events look
  /// consistent.
  /// - Returns: The number of events replayed.
  /// - Throws: `LedgerError.failsVerification` naming the first event that fails verification.
  @discardableResult
  public func rebuildProjections(pageSize: Int = 100_000) throws -> UInt64 {
    try requireVerifiedLog("the projections are not replayed from it")
    return try replay(into: live, pageSize: pageSize)
  }

  /// Verifies the log (``EventLog/verify(extending:)``) before an operation that must start from
  /// a sound one: a replay, an export, a backup.
  /// - Parameter refusal: What is not done, for the error (`"no backup was made"`).
  /// - Throws: `LedgerError.failsVerification` naming the first event that fails.
  public func requireVerifiedLog(_ refusal: String) throws {
    if let failure = try log.verify().failure {
      throw LedgerError.failsVerification(sequence: failure.sequence, reason: failure.reason + "; " + refusal)
    }
  }

  func replay(into set: ProjectionSet, pageSize: Int) throws -> UInt64 {
    var next = SequenceNumber(1)
    var count: UInt64 = 0
    var first = true
    while true {
      let done = try log.environment.write { txn -> Bool in
        // Made inside the transaction: a retry after the map grew starts from a fresh cache.
        let cache = StateCache()
        if first {
          for db in set.all { try txn.empty(db) }
          try txn.put([Projector.layoutVersion], for: ProjectionSet.layoutKey, in: set.meta)
          try txn.put(Array(LedgerTimestamp.now().description.utf8), for: Array("rebuild-started".utf8), in: set.meta)
        }
        var processed = 0
        var sequence = next
        while processed < pageSize, let event = try log.event(sequence, in: txn) {
          try projector.project(event, set: set, cache: cache, in: txn)
          processed += 1
          sequence = sequence.next
        }
        next = sequence
        count += UInt64(processed)
        if processed < pageSize {
          // The events database ended early: an event the log's head says exists cannot be found
          // (a damaged page). Finishing here would leave projections short of the log.
          let head = try log.headDigest(in: txn)?.sequence.rawValue ?? 0
          if sequence.rawValue <= head {
            throw LedgerError.corruptEvent(sequence: sequence, reason: "it cannot be found in the events database although the log's head is event \(head): the file is damaged")
          }
          try txn.delete(Array("rebuild-started".utf8), in: set.meta)
        }
        return processed < pageSize
      }
      first = false
      if done { break }
    }
    return count
  }

  /// One difference between the stored projections and a fresh replay.
  public struct ProjectionDifference: Sendable, Hashable, CustomStringConvertible {
    /// `snapshots`, `entities`, `amendments`, `meta` or `series`.
    public let database: String
    /// The key, printed (stream id and point for snapshot rows).
    public let key: String
    /// `missing from the stored projections`, `not produced by a replay`, or `different value`.
    public let problem: String
    public var description: String { "\(database) \(key): \(problem)" }
  }

  /// Replays every event into scratch databases and compares them, key by key and byte by byte,
  /// with the stored projections. The scratch databases are emptied afterwards.
  /// The log is verified first, as for a rebuild.
  /// - Returns: The differences (empty when the projections equal a fresh replay).
  /// - Throws: `LedgerError.failsVerification` when the hash chain does not verify.
  public func checkProjections() throws -> [ProjectionDifference] {
    try requireVerifiedLog("the projections are not replayed from it")
    let scratch = try log.environment.write { txn in try ProjectionSet.open(prefix: "check.", in: txn) }
    _ = try replay(into: scratch, pageSize: 100_000)
    defer { _ = try? log.environment.write { txn in for db in scratch.all { try txn.empty(db) } } }
    var differences: [ProjectionDifference] = []
    try log.environment.read { txn in
      for i in ProjectionSet.names.indices {
        let (name, stored, fresh) = (ProjectionSet.names[i], live.all[i], scratch.all[i])
        try txn.withCursor(stored) { a in
          try txn.withCursor(fresh) { b in
            var x = try a.first()
            var y = try b.first()
            while x != nil || y != nil {
              if differences.count >= 100 { return }
              if let ex = x, let ey = y, ex.key == ey.key {
                if ex.value != ey.value { differences.append(.init(database: name, key: RowText.key(ex.key, in: name), problem: "different value")) }
                x = try a.next(); y = try b.next()
              } else if let ex = x, y == nil || ex.key.lexicographicallyPrecedes(y!.key) {
                differences.append(.init(database: name, key: RowText.key(ex.key, in: name), problem: "not produced by a replay"))
                x = try a.next()
              } else if let ey = y {
                differences.append(.init(database: name, key: RowText.key(ey.key, in: name), problem: "missing from the stored projections"))
                y = try b.next()
              }
            }
          }
        }
      }
    }
    return differences
  }


}

