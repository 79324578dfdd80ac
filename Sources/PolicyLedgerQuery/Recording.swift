public import PolicyLedgerDomain
public import PolicyLedgerEventLog
import PolicyLedgerStorage

extension CouncilLedger {
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
    var recorded: [RecordedEvent] = []
    _ = try record(expectations: expectations, dryRun: dryRun, checkingLaterEvents: checkingLaterEvents,
                   chunks: {
                     var given = false
                     return { if given { return nil }; given = true; return entries }
                   },
                   recorded: { recorded += $0 })
    return recorded
  }

  /// Records a stream of entries, read chunk by chunk, in **one** write transaction: all of them
  /// or none, with memory bounded by one chunk (an import of any length). Each chunk is prepared
  /// against everything recorded before it in the same transaction, validated entry by entry as
  /// of each entry's date, and projected.
  ///
  /// - Parameters:
  ///   - chunks: Called at the start of every attempt (LMDB may need the whole transaction
  ///     rerun after growing its map), it returns the producer of chunks: each call gives the
  ///     next entries, or `nil` at the end. It must give the same entries every time.
  ///   - dryRun: Validate and project everything, then roll back.
  ///   - recorded: Called with each chunk's recorded events (for progress, or to collect them).
  ///     For a dry run, what would have been recorded.
  /// - Returns: How many events, their range and the head after the commit (for a dry run, the
  ///   head they would have made).
  /// - Throws: as ``record(_:expectations:dryRun:)``; an entry's `index` counts from the start
  ///   of the stream.
  @discardableResult
  public func record(expectations: [StreamID: ExpectedVersion] = [:], dryRun: Bool = false,
                     chunks: () throws -> () throws -> [Entry]?, recorded: ([RecordedEvent]) throws -> Void = { _ in }) throws -> StreamedAppend {
    try record(expectations: expectations, dryRun: dryRun, checkingLaterEvents: true, chunks: chunks, recorded: recorded)
  }

  func record(expectations: [StreamID: ExpectedVersion], dryRun: Bool, checkingLaterEvents: Bool,
              chunks: () throws -> () throws -> [Entry]?, recorded report: ([RecordedEvent]) throws -> Void) throws -> StreamedAppend {
    struct DryRunFinished: Error { let summary: StreamedAppend }
    // The chunk being recorded: its entries and their typed events, prepared inside the transaction.
    var current: (entries: [Entry], typed: [CouncilEvent]) = ([], [])
    var total = 0
    var last: RecordedEvent?
    do {
      let summary = try log.appendStream(expectations: expectations, open: {
        let next = try chunks()
        total = 0
        last = nil
        return { txn in
          guard let entries = try next() else { return nil }
          let (proposed, typed) = try self.prepare(entries, offset: total, in: txn)
          current = (entries, typed)
          return proposed
        }
      }, afterChunk: { txn, events, offset in
        let (live, projector) = (self.live, self.projector)
        let before = events[0].sequence.rawValue - 1
        try Projector.requireCurrentLayout(live, head: before, in: txn)
        let through = try Projector.projectedThrough(live, in: txn)
        guard through == before else { throw try Projector.incompleteError(live, through: through, head: before, in: txn) }
        let cache = StateCache()
        let validator = Validator(projector: projector, set: live, cache: cache)
        for (i, event) in events.enumerated() {
          let index = offset + i
          if let exported = current.entries[i].exportedSequence, exported != event.sequence {
            throw ProjectionError.invalid(index: index, field: "seq", reason: Self.exportedSequenceReason(exported, wouldBe: event.sequence))
          }
          try validator.validate(current.entries[i], recorded: event, index: index, in: txn)
          do {
            try projector.project(event, decoded: current.typed[i], strict: checkingLaterEvents, set: live, cache: cache, in: txn)
          } catch let error as ProjectionError {
            if case .wouldInvalidate = error {
              let field = switch current.typed[i] { case .eventCorrected: "corrects"; case .eventRetracted: "retracts"; default: "effective" }
              throw ProjectionError.invalid(index: index, field: field, reason: error.description)
            }
            throw error
          }
        }
        total = offset + events.count
        last = events.last
        try report(events)
      }, beforeCommit: { _, summary in
        if dryRun { throw DryRunFinished(summary: summary) }
      })
      return summary
    } catch let finished as DryRunFinished {
      return finished.summary
    } catch let LedgerError.invalidEvent(index, field, reason) {
      throw ProjectionError.invalid(index: index, field: field, reason: reason)
    }
  }

  /// The events to append for `entries` (the `offset`-th entry of the stream first): ids
  /// checked, streams derived (a correction or retraction takes its original's, a decision's
  /// later steps their decision's body), payloads encoded, text checked. Reads what the
  /// transaction has written so far, so that an entry may amend one recorded earlier in the
  /// same import.
  private func prepare(_ entries: [Entry], offset: Int, in txn: borrowing LMDBWriteTransaction) throws -> ([ProposedEvent], [CouncilEvent]) {
    var proposed: [ProposedEvent] = []
    var typed: [CouncilEvent] = []
    proposed.reserveCapacity(entries.count)
    typed.reserveCapacity(entries.count)
    let head = try log.headDigest(in: txn)?.sequence.rawValue ?? 0
    for (i, entry) in entries.enumerated() {
      let index = offset + i
      // An export's corrections name events by number, so reading them against shifted numbers
      // would only produce misleading errors: checked first.
      if let exported = entry.exportedSequence, exported.rawValue != head + UInt64(i) + 1 {
        throw ProjectionError.invalid(index: index, field: "seq", reason: Self.exportedSequenceReason(exported, wouldBe: SequenceNumber(head + UInt64(i) + 1)))
      }
      if let error = entry.event.idValidationError() { throw ProjectionError.invalid(index: index, field: error.field, reason: error.reason) }
      var streams = entry.event.streams
      var event = entry.event
      switch entry.event {
      case .eventCorrected(var c):
        let original = try amendedEvent(c.corrects, index: index, field: "corrects", head: head, earlier: proposed, in: txn)
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
        streams = try amendedEvent(r.retracts, index: index, field: "retracts", head: head, earlier: proposed, in: txn).streams
      case .decisionRescheduled(let p):
        // A decision's later steps concern its body too (its audit trail, its dissolution check).
        if let body = try decisionBody(p.decision, earlier: typed, in: txn) { streams.append(.body(body)) }
      case .decisionTaken(var p) where p.body == nil:
        if let body = try decisionBody(p.decision, earlier: typed, in: txn) {
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
    return (proposed, typed)
  }

  static func exportedSequenceReason(_ exported: SequenceNumber, wouldBe: SequenceNumber) -> String {
    "this line was exported as event \(exported), but this ledger would record it as event \(wouldBe); an export keeps its sequence numbers (its corrections name events by number), so import it only where they continue the ledger, such as into an empty ledger to restore it"
  }

  /// The body of a decision already recorded (earlier in the chunk, or in the transaction).
  private func decisionBody(_ decision: String, earlier: [CouncilEvent], in txn: borrowing LMDBWriteTransaction) throws -> String? {
    for event in earlier.reversed() {
      switch event {
      case .decisionScheduled(let p) where p.decision == decision: return p.body
      case .decisionTaken(let p) where p.decision == decision && p.body != nil: return p.body
      default: continue
      }
    }
    guard CouncilEvent.localIDError(decision) == nil else { return nil }
    return try Projector.state(of: .decision(decision), asOf: nil, knownThrough: .max - 1, set: live, in: txn)?.decision?.body
  }

  private func amendedEvent(_ target: SequenceNumber, index: Int, field: String, head: UInt64, earlier: [ProposedEvent],
                            in txn: borrowing LMDBWriteTransaction) throws -> (streams: [StreamID], type: String, schemaVersion: Int) {
    if target.rawValue == 0 || target.rawValue > head + UInt64(earlier.count) {
      let known = head + UInt64(earlier.count)
      let holds = known == 0 ? "there are no events before it" : "the ledger and the events before it in this batch are events 1–\(known)"
      throw ProjectionError.invalid(index: index, field: field, reason: "there is no event \(target) to amend (\(holds))")
    }
    if target.rawValue > head {
      let e = earlier[Int(target.rawValue - head - 1)]
      return (e.streams, e.type, e.schemaVersion)
    }
    guard let e = try log.event(target, in: txn) else { throw LedgerError.noSuchEvent(target) }
    return (e.streams, e.type, e.schemaVersion)
  }
}
