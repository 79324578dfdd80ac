import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerStorage

extension Projector {
  /// Applies one recorded event to the projection set, inside the append's write transaction.
  ///
  /// An observation adds one row to its indicator's series. Any other event adds a snapshot row
  /// at its point in the history of each entity it changes (``CouncilEvent/snapshotEntities``).
  /// When the event is backdated, or corrects or retracts an earlier one, the current rows of
  /// the entity after the affected point are closed (their `knownTo` set to this event's
  /// sequence number) and rewritten with `knownFrom` = this event, until the first one whose
  /// state does not change: the old answers stay available to known-at questions.
  ///
  /// - Parameters:
  ///   - decoded: The event's typed form when the caller already has it (saves decoding the
  ///     payload again).
  ///   - strict: Refuse (``ProjectionError/wouldInvalidate(sequence:type:reason:)``) a change of
  ///     history that leaves a later event of the same entity inconsistent. Appends are strict;
  ///     a replay of events already in the log is not, so it never fails.
  func project(_ recorded: RecordedEvent, decoded: CouncilEvent? = nil, strict: Bool = false, set: ProjectionSet, cache: StateCache = StateCache(), in txn: borrowing LMDBWriteTransaction) throws {
    let s = recorded.sequence
    let event = try decoded ?? Projector.decode(recorded)
    // Also after an amendment of an event that is retracted already, which changes nothing.
    try txn.put(s.keyBytes, for: Array("projected-through".utf8), in: set.meta)
    switch event {
    case .eventCorrected(let c):
      guard let before = try effectiveVersion(of: c.corrects, set: set, in: txn) else { return }
      try Projector.putAmendment(.corrected(s), of: c.corrects, set: set, in: txn)
      guard let after = try effectiveVersion(of: c.corrects, set: set, in: txn) else { return }
      if let old = ObservationRecord(before), let new = ObservationRecord(after), case .indicatorObserved(let p) = after.event {
        try Projector.closeObservation(old, indicator: .indicator(p.indicator), by: s, set: set, in: txn)
        try Projector.addObservation(new, indicator: .indicator(p.indicator), knownFrom: s, set: set, in: txn)
        return
      }
      let oldPoint = SnapshotKey.point(before.effective.firstDay, c.corrects)
      let newPoint = SnapshotKey.point(after.effective.firstDay, c.corrects)
      let afterEntities = after.event.snapshotEntities
      // In a fixed order, so that a refusal names the same entity every time.
      for entity in Set(before.event.snapshotEntities + afterEntities).sorted() {
        try recompute(entity, by: s, removing: oldPoint, adding: afterEntities.contains(entity) ? newPoint : nil,
                      known: [c.corrects: after], strict: strict, checkingAdded: true, set: set, cache: cache, in: txn)
      }
    case .eventRetracted(let r):
      guard let before = try effectiveVersion(of: r.retracts, set: set, in: txn) else { return }
      try Projector.putAmendment(.retracted(s), of: r.retracts, set: set, in: txn)
      if let old = ObservationRecord(before), case .indicatorObserved(let p) = before.event {
        return try Projector.closeObservation(old, indicator: .indicator(p.indicator), by: s, set: set, in: txn)
      }
      let oldPoint = SnapshotKey.point(before.effective.firstDay, r.retracts)
      for entity in before.event.snapshotEntities {
        try recompute(entity, by: s, removing: oldPoint, adding: nil, known: [:], strict: strict, set: set, cache: cache, in: txn)
      }
    case .indicatorObserved(let p):
      let effective = EffectiveEvent(original: recorded, event: event, effective: recorded.effective, correction: nil)
      try Projector.addObservation(ObservationRecord(effective)!, indicator: .indicator(p.indicator), knownFrom: s, set: set, in: txn)
    default:
      let point = SnapshotKey.point(recorded.effective.firstDay, s)
      let effective = EffectiveEvent(original: recorded, event: event, effective: recorded.effective, correction: nil)
      for entity in event.snapshotEntities {
        let key = Array(entity.rawValue.utf8)
        if try txn.value(for: key, in: set.entities) == nil { try txn.put(s.keyBytes, for: key, in: set.entities) }
        try recompute(entity, by: s, removing: nil, adding: point, known: [s: effective], strict: strict, set: set, cache: cache, in: txn)
      }
    }
  }

  /// Rewrites the current rows of `entity` from the earlier of `removing` and `adding` on: the
  /// row at `removing` is closed and not replaced, a row is added at `adding`, and each later
  /// row is refolded, until (past both points) a refolded state equals the stored one: every
  /// later row was folded from that same state, so it is unchanged too. The rows are read a few
  /// at a time, so that a backdated event costs O(log n) plus the rows it really changes.
  private func recompute(_ entity: StreamID, by s: SequenceNumber, removing: [UInt8]?, adding: [UInt8]?,
                         known: [SequenceNumber: EffectiveEvent], strict: Bool, checkingAdded: Bool = false, set: ProjectionSet, cache: StateCache,
                         in txn: borrowing LMDBWriteTransaction) throws {
    // A seat's tenure rows follow its snapshot rows, whatever rewrote them.
    try Projector.trackingTenures(of: entity, strict: strict, set: set, cache: cache, in: txn) {
      try rewriteRows(entity, by: s, removing: removing, adding: adding, known: known, strict: strict, checkingAdded: checkingAdded,
                      set: set, cache: cache, in: txn)
    }
  }

  private func rewriteRows(_ entity: StreamID, by s: SequenceNumber, removing: [UInt8]?, adding: [UInt8]?,
                           known: [SequenceNumber: EffectiveEvent], strict: Bool, checkingAdded: Bool, set: ProjectionSet, cache: StateCache,
                           in txn: borrowing LMDBWriteTransaction) throws {
    let prefix = SnapshotKey.prefix(entity)
    let points = [removing, adding].compactMap { $0 }
    let start = points.min { $0.lexicographicallyPrecedes($1) }!
    let lastChanged = points.max { $0.lexicographicallyPrecedes($1) }!
    // The current state just before the start point.
    var state = try txn.withCursor(set.snapshots) { c -> EntityState? in
      var entry = try c.seek(before: prefix + start)
      while let e = entry, e.key.starts(with: prefix) {
        let row = SnapshotRow(key: e.key, value: e.value, prefixLength: prefix.count)
        if row.knownTo == SnapshotKey.current { return try cache.state(for: row.key, entity: entity, bytes: row.stateBytes) }
        entry = try c.previous()
      }
      return nil
    }
    var pendingAdd = adding

    /// Folds the event at `point` into `state` and writes its row (closing `existing`); returns
    /// false when the rewrite can stop here.
    func step(_ point: [UInt8], existing: SnapshotRow?) throws -> Bool {
      let sequence = SequenceNumber(keyBytes: point, at: 4)
      guard let event = try known[sequence] ?? effectiveVersion(of: sequence, set: set, in: txn) else { return true }
      // A new event was validated already; a corrected one is checked at its (new) place too.
      if strict, point != adding || checkingAdded, let reason = Fold.misfit(event, in: state, entity: entity) {
        throw ProjectionError.wouldInvalidate(sequence: sequence, type: event.original.type, reason: reason)
      }
      state = Fold.apply(event, to: state, entity: entity)
      // No state (the entity's creation was retracted or moved later, or a seat was left): the
      // row is kept with an empty state, so that the point, and its event, stay in the history.
      let encoded = state?.encoded() ?? []
      if let row = existing {
        if lastChanged.lexicographicallyPrecedes(point), row.stateBytes.elementsEqual(encoded) { return false }
        try txn.put(s.keyBytes + Array(row.stateBytes), for: row.key, in: set.snapshots)
      }
      let key = SnapshotKey.key(entity, point: point, knownFrom: s.rawValue)
      try txn.put(SnapshotKey.current.bigEndianBytes + encoded, for: key, in: set.snapshots)
      if let state { cache.remember(state, for: key) }
      return true
    }

    var resume = prefix + start
    while true {
      // A page of the current rows from `resume` on. Rows this event wrote (known from `s`) are
      // skipped: they are the rewrites themselves.
      let page = try txn.withCursor(set.snapshots) { c -> [SnapshotRow] in
        var rows: [SnapshotRow] = []
        var entry = try c.seek(atLeast: resume)
        while rows.count < 32, let e = entry, e.key.starts(with: prefix) {
          let row = SnapshotRow(key: e.key, value: e.value, prefixLength: prefix.count)
          if row.knownTo == SnapshotKey.current && row.knownFrom != s.rawValue { rows.append(row) }
          resume = e.key + [0]
          entry = try c.next()
        }
        return rows
      }
      for row in page {
        if let add = pendingAdd, add.lexicographicallyPrecedes(row.point) {
          pendingAdd = nil
          guard try step(add, existing: nil) else { return }
        }
        if row.point == removing {
          // The row of a removed point is closed and not replaced.
          try txn.put(s.keyBytes + Array(row.stateBytes), for: row.key, in: set.snapshots)
          continue
        }
        guard try step(row.point, existing: row) else { return }
      }
      if page.count < 32 { break }
    }
    if let add = pendingAdd { _ = try step(add, existing: nil) }
  }
}
