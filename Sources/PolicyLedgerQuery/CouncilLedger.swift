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
      live = ProjectionSet(snapshots: snapshots, entities: try db("entities"), amendments: try db("amendments"), meta: try db("meta"),
                           series: series ?? snapshots, prefix: "proj.")
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

  // MARK: Recording

  /// One event to record: the council event, its effective date, who records it and the source.
  public struct Entry: Sendable, Hashable {
    public var event: CouncilEvent
    public var effective: EffectiveDate
    public var actor: String
    public var source: String?
    /// The sequence number the event had in an export it was read from (`seq` of an export
    /// line). Such an event must get the same number again: an export's corrections and
    /// retractions name events by number, so it can only be imported where its numbers continue
    /// the ledger (into an empty ledger, to restore it).
    public var exportedSequence: SequenceNumber?
    /// The `prev` and `hash` of the export line it was read from, once ``NDJSON`` has checked
    /// that the hash matches the line's content (the ledger assigns new ones when it records).
    public var exportedLink: ExportedLink?
    /// An export line's place in the exported hash chain.
    public struct ExportedLink: Sendable, Hashable {
      public var previous: EventHash
      public var hash: EventHash
    }
    public init(_ event: CouncilEvent, effective: EffectiveDate, actor: String, source: String? = nil, exportedSequence: SequenceNumber? = nil) {
      self.event = event; self.effective = effective; self.actor = actor; self.source = source
      self.exportedSequence = exportedSequence
    }
  }

  /// Validates and appends `entries` in one write transaction (all or nothing), updating the
  /// projections in the same transaction.
  ///
  /// Each entry is validated against the state as of its effective date, including the entries
  /// before it in the batch: references to bodies, people, indicators and events must exist then;
  /// a member must be appointed before a role change or departure; an observation's unit must be
  /// the indicator's. A change of history (a backdated event, a correction, a retraction) must not
  /// leave a later event inconsistent, and everything in a body stays within its life.
  ///
  /// - Parameters:
  ///   - entries: The events, in order.
  ///   - expectations: Optimistic concurrency per stream (``ExpectedVersion``).
  ///   - dryRun: Validate everything and return what would be recorded, then roll back.
  /// - Returns: The recorded events (with sequence numbers and hashes; for a dry run, the ones
  ///   that would have been recorded).
  /// - Throws: ``ProjectionError/invalid(index:field:reason:)`` naming the entry and field,
  ///   ``LedgerError`` for envelope or concurrency errors. Nothing is written when it throws.
  @discardableResult
  public func record(_ entries: [Entry], expectations: [StreamID: ExpectedVersion] = [:], dryRun: Bool = false) throws -> [RecordedEvent] {
    try record(entries, expectations: expectations, dryRun: dryRun, checkingLaterEvents: true)
  }

  /// `checkingLaterEvents: false` lets a test build histories that a change made inconsistent
  /// (as a log written before the check existed may hold), to test that projections of such
  /// histories still equal a replay.
  func record(_ entries: [Entry], expectations: [StreamID: ExpectedVersion], dryRun: Bool, checkingLaterEvents: Bool) throws -> [RecordedEvent] {
    var proposed: [ProposedEvent] = []
    var typed: [CouncilEvent] = []
    proposed.reserveCapacity(entries.count)
    let head = try log.head()?.sequence.rawValue ?? 0
    for (index, entry) in entries.enumerated() {
      // Checked first (and again inside the transaction): an export's corrections name events by
      // number, so reading them against shifted numbers would only produce misleading errors.
      if let exported = entry.exportedSequence, exported.rawValue != head + UInt64(index) + 1 {
        throw ProjectionError.invalid(index: index, field: "seq", reason: Self.exportedSequenceReason(exported, wouldBe: SequenceNumber(head + UInt64(index) + 1)))
      }
      if let error = entry.event.idValidationError() { throw ProjectionError.invalid(index: index, field: error.field, reason: error.reason) }
      var streams = entry.event.streams
      var event = entry.event
      switch entry.event {
      case .eventCorrected(var c):
        let original = try amendedEvent(c.corrects, index: index, field: "corrects", head: head, earlier: proposed)
        if original.type.hasPrefix("event.") {
          throw ProjectionError.invalid(index: index, field: "corrects", reason: "event \(c.corrects) is itself an amendment (\(original.type)); amend the original event instead")
        }
        streams = original.streams
        // The replacement is stored in the original type's canonical form (dates and periods
        // normalised, numbers as decimal strings), exactly as a new event of that type would be.
        do {
          c.payload = try CouncilEvent.decode(type: original.type, schemaVersion: original.schemaVersion, payload: c.payload).payload()
        } catch let error as CouncilEventError {
          throw ProjectionError.invalid(index: index, field: "payload." + error.field, reason: error.reason)
        }
        event = .eventCorrected(c)
      case .eventRetracted(let r):
        streams = try amendedEvent(r.retracts, index: index, field: "retracts", head: head, earlier: proposed).streams
      case .decisionRescheduled(let p):
        // A decision's later steps concern its body too (its audit trail, its dissolution check).
        if let body = try decisionBody(p.decision, earlier: typed) { streams.append(.body(body)) }
      case .decisionTaken(var p) where p.body == nil:
        if let body = try decisionBody(p.decision, earlier: typed) {
          p.body = body
          event = .decisionTaken(p)
          streams = event.streams
        }
      default: break
      }
      let payload: CanonicalValue
      do { payload = try event.payload() } catch {
        throw ProjectionError.invalid(index: index, field: "payload", reason: "\(error)")
      }
      if let error = CouncilEvent.textValidationError(in: payload) {
        throw ProjectionError.invalid(index: index, field: "payload." + error.field, reason: error.reason)
      }
      typed.append(event)
      proposed.append(ProposedEvent(type: event.typeName, schemaVersion: event.schemaVersion, streams: streams,
                                    effective: entry.effective, actor: entry.actor, source: entry.source, payload: payload))
    }
    struct DryRunFinished: Error { let events: [RecordedEvent] }
    do {
      return try log.append(proposed, expectations: expectations) { txn, recorded in
        let (live, projector, typed) = (self.live, self.projector, typed)
        let before = recorded[0].sequence.rawValue - 1
        try Projector.requireCurrentLayout(live, head: before, in: txn)
        let through = try Projector.projectedThrough(live, in: txn)
        guard through == before else { throw try Projector.incompleteError(live, through: through, head: before, in: txn) }
        let cache = StateCache()
        let validator = Validator(projector: projector, set: live, cache: cache)
        for (index, event) in recorded.enumerated() {
          if let exported = entries[index].exportedSequence, exported != event.sequence {
            throw ProjectionError.invalid(index: index, field: "seq", reason: Self.exportedSequenceReason(exported, wouldBe: event.sequence))
          }
          try validator.validate(entries[index], recorded: event, index: index, in: txn)
          do {
            try projector.project(event, decoded: typed[index], strict: checkingLaterEvents, set: live, cache: cache, in: txn)
          } catch let error as ProjectionError {
            if case .wouldInvalidate = error {
              let field = switch typed[index] { case .eventCorrected: "corrects"; case .eventRetracted: "retracts"; default: "effective" }
              throw ProjectionError.invalid(index: index, field: field, reason: error.description)
            }
            throw error
          }
        }
        if dryRun { throw DryRunFinished(events: recorded) }
      }
    } catch let finished as DryRunFinished {
      return finished.events
    } catch let LedgerError.invalidEvent(index, field, reason) {
      throw ProjectionError.invalid(index: index, field: field, reason: reason)
    }
  }

  static func exportedSequenceReason(_ exported: SequenceNumber, wouldBe: SequenceNumber) -> String {
    "this line was exported as event \(exported), but this ledger would record it as event \(wouldBe); an export keeps its sequence numbers (its corrections name events by number), so import it only where they continue the ledger, such as into an empty ledger to restore it"
  }

  /// The body of a decision already recorded (in the ledger or earlier in the batch).
  private func decisionBody(_ decision: String, earlier: [CouncilEvent]) throws -> String? {
    for event in earlier.reversed() {
      switch event {
      case .decisionScheduled(let p) where p.decision == decision: return p.body
      case .decisionTaken(let p) where p.decision == decision && p.body != nil: return p.body
      default: continue
      }
    }
    return try entity(.decision(decision), asOf: nil)?.decision?.body
  }

  private func amendedEvent(_ target: SequenceNumber, index: Int, field: String, head: UInt64, earlier: [ProposedEvent]) throws -> (streams: [StreamID], type: String, schemaVersion: Int) {
    if target.rawValue == 0 || target.rawValue > head + UInt64(earlier.count) {
      let known = head + UInt64(earlier.count)
      let holds = known == 0 ? "there are no events before it" : "the ledger and the events before it in this batch are events 1–\(known)"
      throw ProjectionError.invalid(index: index, field: field, reason: "there is no event \(target) to amend (\(holds))")
    }
    if target.rawValue > head {
      let e = earlier[Int(target.rawValue - head - 1)]
      return (e.streams, e.type, e.schemaVersion)
    }
    let e = try log.event(target)
    return (e.streams, e.type, e.schemaVersion)
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

