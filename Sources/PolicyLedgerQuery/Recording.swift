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
    /// The `prev`, `recorded` and `hash` of the export line it was read from, once ``NDJSON`` has
    /// checked that the hash matches the line's content. Recorded right after the event whose
    /// hash is `previous` (a restore), the event keeps its moment and hash exactly; elsewhere it
    /// is recorded anew.
    public var exportedLink: ExportedLink?
    /// The actor's signature the export line carried (`signature`): kept when the event is
    /// restored exactly and the signature holds there (see ``SigningRegistry``), else refused.
    public var exportedSignature: EventSignature?
    /// The idempotency key the caller gave (``EventKey``), stored in the event. Without one, the
    /// event is known by its content (type, schema, effective date and payload: not the actor or
    /// the source). Recording an entry whose key (or content) the ledger already holds records
    /// nothing and reports the earlier event (``Duplicate``); the same key with other content is
    /// refused.
    public var key: String?
    /// An export line's place in the exported hash chain.
    public struct ExportedLink: Sendable, Hashable {
      public var previous: EventHash
      public var hash: EventHash
      /// When the event was recorded in the ledger it was exported from (UTC).
      public var recordedAt: LedgerTimestamp
    }
    public init(_ event: CouncilEvent, effective: EffectiveDate, actor: String, source: String? = nil, exportedSequence: SequenceNumber? = nil, key: String? = nil) {
      self.event = event; self.effective = effective; self.actor = actor; self.source = source
      self.exportedSequence = exportedSequence; self.key = key
    }
  }

  /// An entry the ledger already held (a retry): it was acknowledged, and nothing was recorded.
  public struct Duplicate: Sendable, Hashable {
    /// The entry's 0-based index in what was given to record (the whole stream for an import).
    public var index: Int
    /// The event that already records it (possibly an earlier entry of the same import).
    public var sequence: SequenceNumber
    /// How it was recognised: `true` by its explicit key, `false` by its content.
    public var byKey: Bool
  }

  /// What ``recordReporting(_:expectations:dryRun:)`` did: the events recorded, and the entries
  /// already recorded before (acknowledged without a second event).
  public struct Outcome: Sendable, Hashable {
    public var recorded: [RecordedEvent]
    public var duplicates: [Duplicate]
  }

  /// As ``record(_:expectations:dryRun:)``, also saying which entries were already recorded.
  public func recordReporting(_ entries: [Entry], expectations: [StreamID: ExpectedVersion] = [:], dryRun: Bool = false,
                              signedBy signer: NoteSigner? = nil) throws -> Outcome {
    var recorded: [RecordedEvent] = []
    var duplicates: [Duplicate] = []
    _ = try record(expectations: expectations, dryRun: dryRun, checkingLaterEvents: true, signedBy: signer,
                   chunks: {
                     // An attempt that starts over (the map grew) reports everything afresh.
                     var given = false
                     recorded = []
                     duplicates = []
                     return { if given { return nil }; given = true; return entries }
                   },
                   recorded: { recorded += $0 }, duplicates: { duplicates += $0 })
    return Outcome(recorded: recorded, duplicates: duplicates)
  }

  /// Validates and appends `entries` in one write transaction (all or nothing), updating the
  /// projections in the same transaction. An entry the ledger already holds (same key, or
  /// without a key the same content) is acknowledged and not recorded again
  /// (``recordReporting(_:expectations:dryRun:)`` says which).
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
  ///   - signer: The actors' key that signs every event (``EventSignature``): registered to
  ///     each entry's actor (``SigningRegistry``). Without one, events are unsigned, which a
  ///     ledger whose policy requires signatures refuses.
  /// - Returns: The recorded events (with sequence numbers and hashes; for a dry run, the ones
  ///   that would have been recorded).
  /// - Throws: ``ProjectionError/invalid(index:field:reason:)`` naming the entry and field
  ///   (`signature` for a signing problem), ``LedgerError`` for envelope or concurrency errors.
  ///   Nothing is written when it throws.
  @discardableResult
  public func record(_ entries: [Entry], expectations: [StreamID: ExpectedVersion] = [:], dryRun: Bool = false,
                     signedBy signer: NoteSigner? = nil) throws -> [RecordedEvent] {
    try record(entries, expectations: expectations, dryRun: dryRun, checkingLaterEvents: true, signedBy: signer)
  }

  /// `checkingLaterEvents: false` lets a test build histories that a change made inconsistent
  /// (as a log written before the check existed may hold), to test that projections of such
  /// histories still equal a replay.
  func record(_ entries: [Entry], expectations: [StreamID: ExpectedVersion], dryRun: Bool, checkingLaterEvents: Bool,
              signedBy signer: NoteSigner? = nil) throws -> [RecordedEvent] {
    var recorded: [RecordedEvent] = []
    _ = try record(expectations: expectations, dryRun: dryRun, checkingLaterEvents: checkingLaterEvents, signedBy: signer,
                   chunks: {
                     var given = false
                     recorded = []
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
  ///   - signer: The key that signs every event (as in ``record(_:expectations:dryRun:signedBy:)``).
  ///   - recorded: Called with each chunk's recorded events (for progress, or to collect them).
  ///     For a dry run, what would have been recorded.
  ///   - duplicates: Called with each chunk's entries that were already recorded (acknowledged,
  ///     not recorded again) as soon as the chunk is read, before `chunks` gives the next one.
  ///     An attempt that starts over calls `chunks` again first, so collect them afresh there.
  /// - Returns: How many events, their range and the head after the commit (for a dry run, the
  ///   head they would have made).
  /// - Throws: as ``record(_:expectations:dryRun:)``; an entry's `index` counts from the start
  ///   of the stream.
  @discardableResult
  public func record(expectations: [StreamID: ExpectedVersion] = [:], dryRun: Bool = false, signedBy signer: NoteSigner? = nil,
                     chunks: () throws -> () throws -> [Entry]?, recorded: ([RecordedEvent]) throws -> Void = { _ in },
                     duplicates: ([Duplicate]) throws -> Void = { _ in }) throws -> StreamedAppend {
    try record(expectations: expectations, dryRun: dryRun, checkingLaterEvents: true, signedBy: signer, chunks: chunks, recorded: recorded, duplicates: duplicates)
  }

  func record(expectations: [StreamID: ExpectedVersion], dryRun: Bool, checkingLaterEvents: Bool, signedBy signer: NoteSigner?,
              chunks: () throws -> () throws -> [Entry]?, recorded report: ([RecordedEvent]) throws -> Void,
              duplicates reportDuplicates: ([Duplicate]) throws -> Void = { _ in }) throws -> StreamedAppend {
    struct DryRunFinished: Error { let summary: StreamedAppend }
    // The chunk being recorded: the entries kept (not already recorded), their typed events and
    // their indexes in the whole stream, prepared inside the transaction.
    var current: (entries: [Entry], typed: [CouncilEvent], indexes: [Int]) = ([], [], [])
    // Entries read so far (kept or not), and those already recorded.
    var consumed = 0
    var keptBefore = 0
    // Working groups set up in this stream under a parent (child, parent, entry index): checked
    // at the end, so that a working group backdated under a parent dissolved later can be
    // recorded with its own dissolution in the same import.
    var underParents: [(String, String, Int)] = []
    // Who may sign, as of the head (read in the transaction at its first chunk), kept up to date
    // with the events recorded.
    var signing = EventSigning(signer: signer)
    do {
      // The chunk producer outlives `open` in form only: it runs within appendStream.
      let summary = try withoutActuallyEscaping(reportDuplicates) { reportDuplicates in try log.appendStream(expectations: expectations, open: {
        let next = try chunks()
        consumed = 0
        keptBefore = 0
        underParents = []
        current = ([], [], [])
        signing.registry = nil
        return { txn in
          guard let entries = try next() else { return nil }
          let prepared = try self.prepare(entries, offset: consumed, in: txn)
          keptBefore += current.entries.count
          current = (prepared.kept, prepared.typed, prepared.indexes)
          if !prepared.duplicates.isEmpty { try reportDuplicates(prepared.duplicates) }
          consumed += entries.count
          return prepared.proposed
        }
      }, afterChunk: { txn, events, _ in
        let (live, projector) = (self.live, self.projector)
        let before = events[0].sequence.rawValue - 1
        try Projector.requireCurrentLayout(live, head: before, in: txn)
        let through = try Projector.projectedThrough(live, in: txn)
        guard through == before else { throw try Projector.incompleteError(live, through: through, head: before, in: txn) }
        let cache = StateCache()
        let validator = Validator(projector: projector, set: live, cache: cache)
        for (i, event) in events.enumerated() {
          let index = current.indexes[i]
          if let exported = current.entries[i].exportedSequence, exported != event.sequence {
            throw ProjectionError.invalid(index: index, field: "seq", reason: Self.exportedSequenceReason(exported, wouldBe: event.sequence))
          }
          try validator.validate(current.entries[i], recorded: event, index: index, in: txn)
          if case .bodyEstablished(let p) = current.typed[i], let parent = p.parent { underParents.append((p.body, parent, index)) }
          do {
            try projector.project(event, decoded: current.typed[i], strict: checkingLaterEvents, set: live, cache: cache, in: txn)
          } catch let error as ProjectionError {
            if case .wouldInvalidate = error {
              let field = switch current.typed[i] { case .eventCorrected: "corrects"; case .eventRetracted: "retracts"; default: "effective" }
              throw ProjectionError.invalid(index: index, field: field, reason: error.description)
            }
            throw error
          }
          try signing.sign(event, decoded: current.typed[i], index: index, entry: current.entries[i], log: self.log, in: txn)
        }
        try report(events)
      }, beforeCommit: { txn, summary in
        // No working group outlives its parent: a parent dissolved on a date dissolves nothing
        // under it, so the working group must be dissolved by then.
        for (child, parent, index) in underParents where checkingLaterEvents {
          guard let p = try Projector.state(of: .body(parent), asOf: nil, knownThrough: .max - 1, set: self.live, in: txn)?.body,
                let parentEnd = p.dissolved else { continue }
          let c = try Projector.state(of: .body(child), asOf: nil, knownThrough: .max - 1, set: self.live, in: txn)?.body
          if let childEnd = c?.dissolved, childEnd.firstDay <= parentEnd.firstDay { continue }
          throw ProjectionError.invalid(index: index, field: "parent", reason: "body \"\(parent)\" is dissolved on \(parentEnd), and \"\(child)\" under it would outlive it; record its dissolution (on or before \(parentEnd)) in the same import, or set it up under another body")
        }
        if dryRun { throw DryRunFinished(summary: summary) }
      }) }
      return summary
    } catch let finished as DryRunFinished {
      return finished.summary
    } catch let LedgerError.invalidEvent(index, field, reason) {
      // Envelope errors are caught in `prepare`, which knows each entry's index; one found here
      // is counted among the events kept, so it is mapped back to its entry.
      let entry = current.indexes.indices.contains(index - keptBefore) ? current.indexes[index - keptBefore] : index
      throw ProjectionError.invalid(index: entry, field: field, reason: reason)
    }
  }

  /// The events to append for `entries` (the `offset`-th entry of the stream first): ids
  /// checked, streams derived (a correction or retraction takes its original's, a decision's
  /// later steps their decision's body), payloads encoded, text checked. Reads what the
  /// transaction has written so far, so that an entry may amend one recorded earlier in the
  /// same import.
  ///
  /// An entry the ledger already holds (its explicit key, or without one its content, is in the
  /// `keys` index or earlier in this chunk) is dropped and reported as a ``Duplicate``; the same
  /// explicit key with other content is refused. The events kept are numbered without gaps.
  private func prepare(_ entries: [Entry], offset: Int, in txn: borrowing LMDBWriteTransaction) throws
    -> (proposed: [ProposedEvent], typed: [CouncilEvent], kept: [Entry], indexes: [Int], duplicates: [Duplicate]) {
    var proposed: [ProposedEvent] = []
    var typed: [CouncilEvent] = []
    var kept: [Entry] = []
    var indexes: [Int] = []
    var duplicates: [Duplicate] = []
    // Keys and contents of the events kept in this chunk (not yet in the index): where, and the digest.
    var chunkKeys: [String: (sequence: SequenceNumber, digest: [UInt8])] = [:]
    var chunkContents: [[UInt8]: SequenceNumber] = [:]
    proposed.reserveCapacity(entries.count)
    typed.reserveCapacity(entries.count)
    let head = try log.headDigest(in: txn)?.sequence.rawValue ?? 0
    for (i, entry) in entries.enumerated() {
      let index = offset + i
      let position = UInt64(proposed.count)
      // An export's corrections name events by number, so reading them against shifted numbers
      // would only produce misleading errors: checked first.
      // A restore run again (or resumed after a partial one): a line whose event the ledger holds
      // with the same hash is acknowledged, like any line already recorded.
      if position == 0, let exported = entry.exportedSequence, exported.rawValue <= head, let link = entry.exportedLink,
         try log.event(exported, in: txn)?.hash == link.hash {
        duplicates.append(Duplicate(index: index, sequence: exported, byKey: false))
        continue
      }
      if let exported = entry.exportedSequence, exported.rawValue != head + position + 1 {
        throw ProjectionError.invalid(index: index, field: "seq", reason: Self.exportedSequenceReason(exported, wouldBe: SequenceNumber(head + position + 1)))
      }
      if let key = entry.key, let reason = EventKey.validationError(key) { throw ProjectionError.invalid(index: index, field: "key", reason: reason) }
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
        // The replacement is the whole payload: a field the original has and the replacement
        // lacks would be dropped without a word, so it is refused.
        if let missing = Self.omittedField(original: original.payload, replacement: c.payload) {
          throw ProjectionError.invalid(index: index, field: "payload." + missing, reason: "event \(c.corrects) has \"\(missing)\", which this correction's payload omits: a correction's payload replaces the whole payload, so give every field (the ones that do not change as they were), or correct single fields with `record correct --event \(c.corrects) --value … --period … --note …`, which keeps the others; to drop the field, retract event \(c.corrects) and record it anew")
        }
        event = .eventCorrected(c)
      case .actorKeyRegistered, .actorKeyRevoked:
        // The rules its stored payload is read back with (the actor, the key in its one
        // spelling), applied to an event built in code too: refused as input, never found later
        // as damage.
        do { event = try entry.event.normalisingActorKey() } catch {
          throw ProjectionError.invalid(index: index, field: error.field, reason: error.reason)
        }
        streams = event.streams
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
      var candidate = ProposedEvent(type: event.typeName, schemaVersion: event.schemaVersion, streams: streams,
                                    effective: entry.effective, actor: entry.actor, source: entry.source, payload: payload, key: entry.key)
      candidate.restoring = entry.exportedLink.map { .init(previous: $0.previous, recordedAt: $0.recordedAt, hash: $0.hash) }
      if let (field, reason) = candidate.validationError() { throw ProjectionError.invalid(index: index, field: field, reason: reason) }
      let digest: [UInt8]
      do { digest = try EventKey.contentDigest(of: candidate) } catch {
        throw ProjectionError.invalid(index: index, field: "payload", reason: "\(error)")
      }
      candidate.contentDigest = digest
      // Already recorded? By its key, else (a new event, not an export line) by its content.
      var match = KeyMatch.new
      if let key = entry.key {
        if let earlier = chunkKeys[key] { match = earlier.digest == digest ? .duplicate(earlier.sequence) : .conflict(earlier.sequence) }
        else { match = try log.keyMatch(for: candidate, contentDigest: digest, in: txn) }
      } else if entry.exportedSequence == nil && !entry.event.isAboutSigning {
        // (A key registered, revoked or a policy set again is a new act with its own rules, never
        // a retry: matched by content, a re-registration after a revocation would be dropped.)
        if let earlier = chunkContents[digest] { match = .duplicate(earlier) }
        else { match = try log.keyMatch(for: candidate, contentDigest: digest, in: txn) }
      }
      switch match {
      case .new: break
      case .duplicate(let earlier) where entry.exportedSequence == nil:
        duplicates.append(Duplicate(index: index, sequence: earlier, byKey: entry.key != nil))
        continue
      case .duplicate(let earlier), .conflict(let earlier):
        let what = entry.exportedSequence != nil ? "an export line's key must be new to this ledger"
          : "give this event another key, or correct event \(earlier) with `record correct --event \(earlier)` if it was wrong"
        throw ProjectionError.invalid(index: index, field: "key", reason: "the key \"\(entry.key ?? "")\" was already recorded as event \(earlier) with other content (the type, effective date or payload differ); nothing was recorded: \(what)")
      }
      let sequence = SequenceNumber(head + position + 1)
      if let key = entry.key { chunkKeys[key] = (sequence, digest) }
      if chunkContents[digest] == nil { chunkContents[digest] = sequence }
      typed.append(event)
      proposed.append(candidate)
      kept.append(entry)
      indexes.append(index)
    }
    return (proposed, typed, kept, indexes, duplicates)
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

  /// The first field (a dotted path through objects) that `original` has and `replacement` lacks.
  static func omittedField(original: CanonicalValue, replacement: CanonicalValue, path: String = "") -> String? {
    guard case .object(let old) = original, case .object(let new) = replacement else { return nil }
    for key in old.keys.sorted() {
      let here = path.isEmpty ? key : path + "." + key
      guard let value = new[key] else { return here }
      if let deeper = omittedField(original: old[key]!, replacement: value, path: here) { return deeper }
    }
    return nil
  }

  private func amendedEvent(_ target: SequenceNumber, index: Int, field: String, head: UInt64, earlier: [ProposedEvent],
                            in txn: borrowing LMDBWriteTransaction) throws -> (streams: [StreamID], type: String, schemaVersion: Int, payload: CanonicalValue) {
    if target.rawValue == 0 || target.rawValue > head + UInt64(earlier.count) {
      let known = head + UInt64(earlier.count)
      let holds = known == 0 ? "there are no events before it" : "the ledger and the events before it in this batch are events 1–\(known)"
      throw ProjectionError.invalid(index: index, field: field, reason: "there is no event \(target) to amend (\(holds))")
    }
    if target.rawValue > head {
      let e = earlier[Int(target.rawValue - head - 1)]
      return (e.streams, e.type, e.schemaVersion, e.payload)
    }
    guard let e = try log.event(target, in: txn) else { throw LedgerError.noSuchEvent(target) }
    return (e.streams, e.type, e.schemaVersion, e.payload)
  }
}
