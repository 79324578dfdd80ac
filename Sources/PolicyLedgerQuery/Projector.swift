import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerStorage

/// The LMDB databases of one set of projections. The live set uses the prefix `proj.`; a check
/// replays into a scratch set `check.` and compares.
struct ProjectionSet {
  /// Bitemporal snapshot rows: see ARCHITECTURE.md, "Projections".
  let snapshots: LMDBDatabase
  /// Every entity ever projected: stream id → the sequence number that created it.
  let entities: LMDBDatabase
  /// Latest correction or retraction of an event: original sequence → kind byte + sequence.
  let amendments: LMDBDatabase
  /// `projected-through`: the last sequence number the set reflects.
  let meta: LMDBDatabase
  let prefix: String

  static let names = ["snapshots", "entities", "amendments", "meta"]

  static func open(prefix: String, in txn: borrowing LMDBWriteTransaction) throws -> ProjectionSet {
    func db(_ name: String) throws -> LMDBDatabase { try txn.database(named: prefix + name, create: true)! }
    return ProjectionSet(snapshots: try db("snapshots"), entities: try db("entities"), amendments: try db("amendments"), meta: try db("meta"), prefix: prefix)
  }

  var all: [LMDBDatabase] { [snapshots, entities, amendments, meta] }
}

/// Keys of the snapshot database.
enum SnapshotKey {
  static let current: UInt64 = .max

  /// `entity` UTF-8, 0x00.
  static func prefix(_ entity: StreamID) -> [UInt8] { Array(entity.rawValue.utf8) + [0] }

  /// The point of an event in an entity's history: its effective first day (4 bytes, see
  /// `EventLog.dayKey`) and its sequence number (8 bytes, big-endian).
  static func point(_ day: CalendarDay, _ sequence: SequenceNumber) -> [UInt8] { EventLog.dayKey(day) + sequence.keyBytes }

  static func key(_ entity: StreamID, point: [UInt8], knownFrom: UInt64) -> [UInt8] {
    prefix(entity) + point + withUnsafeBytes(of: knownFrom.bigEndian, Array.init)
  }

  static func u64(_ bytes: some Collection<UInt8>) -> UInt64 { bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) } }
}

/// One row of the snapshot database, decoded.
struct SnapshotRow {
  let key: [UInt8]
  let point: [UInt8]
  let knownFrom: UInt64
  let knownTo: UInt64
  let stateBytes: ArraySlice<UInt8>

  init(key: [UInt8], value: [UInt8], prefixLength p: Int) {
    self.key = key
    point = Array(key[p..<(p + 12)])
    knownFrom = SnapshotKey.u64(key[(p + 12)...])
    knownTo = SnapshotKey.u64(value)
    stateBytes = value[8...]
  }

  func isVisible(knownThrough s: UInt64) -> Bool { knownFrom <= s && s < knownTo }
}

/// Decoded entity states by snapshot row key, for one batch of appends or one page of a replay.
/// A row's key fixes its state for good (closing a row rewrites only its known-to), so a cached
/// state can never be stale within one ledger; the cache only saves decoding the same JSON again.
final class StateCache {
  private var states: [[UInt8]: EntityState] = [:]
  static let capacity = 50_000

  func state(for key: [UInt8], entity: StreamID, bytes: ArraySlice<UInt8>) throws -> EntityState? {
    if bytes.isEmpty { return nil }
    if let hit = states[key] { return hit }
    let decoded = try Projector.decodeRow(of: entity, bytes)
    remember(decoded, for: key)
    return decoded
  }

  func remember(_ state: EntityState, for key: [UInt8]) {
    if states.count >= StateCache.capacity { states.removeAll(keepingCapacity: true) }
    states[key] = state
  }
}

/// Maintains the projections inside the event log's write transactions, and answers as-of
/// lookups from them.
struct Projector {
  let log: EventLog

  // MARK: Reads

  /// The state of `entity` as of `day` (valid time; nil = the latest), as known after event
  /// `knownThrough` (transaction time).
  ///
  /// One seek in the snapshot database to the last row at or before `day`, then a step back per
  /// row that the knowledge time hides: O(log n), never a replay.
  static func state<T: LMDBReader & ~Copyable>(of entity: StreamID, asOf day: CalendarDay?, knownThrough: UInt64, set: ProjectionSet, cache: StateCache? = nil, in txn: borrowing T) throws -> EntityState? {
    let prefix = SnapshotKey.prefix(entity)
    let upper: [UInt8]
    if let day { upper = prefix + EventLog.dayKey(CalendarDay(daysSinceEpoch: day.daysSinceEpoch + 1)) }
    else { upper = Array(entity.rawValue.utf8) + [1] }
    return try txn.withCursor(set.snapshots) { c in
      var entry = try c.seek(before: upper)
      while let e = entry, e.key.starts(with: prefix) {
        let row = SnapshotRow(key: e.key, value: e.value, prefixLength: prefix.count)
        if row.isVisible(knownThrough: knownThrough) {
          if let cache { return try cache.state(for: row.key, entity: entity, bytes: row.stateBytes) }
          return row.stateBytes.isEmpty ? nil : try Projector.decodeRow(of: entity, row.stateBytes)
        }
        entry = try c.previous()
      }
      return nil
    }
  }

  /// A snapshot row's state; bytes that are not one (a damaged page) throw
  /// ``ProjectionError/damagedSnapshot(entity:reason:)``, which a rebuild repairs.
  static func decodeRow(of entity: StreamID, _ bytes: ArraySlice<UInt8>) throws -> EntityState {
    do { return try EntityState.decode(kind: entity.kind, bytes: bytes) } catch let error as ProjectionError { throw error } catch {
      throw ProjectionError.damagedSnapshot(entity: entity.rawValue, reason: "\(error)")
    }
  }

  /// The error for projections that lag the log: a rebuild under way, or one that was interrupted.
  static func incompleteError<T: LMDBReader & ~Copyable>(_ set: ProjectionSet, through: UInt64, head: UInt64, in txn: borrowing T) throws -> ProjectionError {
    if let started = try txn.value(for: Array("rebuild-started".utf8), in: set.meta) {
      return .rebuilding(since: String(decoding: started, as: UTF8.self), projectedThrough: through, head: head)
    }
    return .incomplete(projectedThrough: through, head: head)
  }

  static func projectedThrough<T: LMDBReader & ~Copyable>(_ set: ProjectionSet, in txn: borrowing T) throws -> UInt64 {
    try txn.value(for: Array("projected-through".utf8), in: set.meta).map(SnapshotKey.u64) ?? 0
  }

  /// The ids of every entity of `kind` (`body`, `person`, `decision`, `indicator`) ever projected.
  static func entities<T: LMDBReader & ~Copyable>(ofKind kind: String, set: ProjectionSet, in txn: borrowing T) throws -> [StreamID] {
    let prefix = Array((kind + ":").utf8)
    return try txn.withCursor(set.entities) { c in
      var out: [StreamID] = []
      var entry = try c.seek(atLeast: prefix)
      while let e = entry, e.key.starts(with: prefix) {
        // Never skipped: an id that is not one means a damaged page, and skipping it would drop
        // the entity from every listing without a word.
        guard let id = StreamID(String(decoding: e.key, as: UTF8.self)) else {
          throw ProjectionError.damagedSnapshot(entity: String(decoding: e.key, as: UTF8.self), reason: "the entities index holds a key that is not an entity id")
        }
        out.append(id)
        entry = try c.next()
      }
      return out
    }
  }

  // MARK: Effective versions

  enum Amendment: Equatable { case corrected(SequenceNumber), retracted(SequenceNumber) }

  static func amendment<T: LMDBReader & ~Copyable>(of sequence: SequenceNumber, set: ProjectionSet, in txn: borrowing T) throws -> Amendment? {
    guard let v = try txn.value(for: sequence.keyBytes, in: set.amendments), v.count == 9 else { return nil }
    let by = SequenceNumber(keyBytes: v, at: 1)
    return v[0] == 2 ? .retracted(by) : .corrected(by)
  }

  /// The event at `sequence` as it stands: `nil` when retracted, its latest correction applied.
  func effectiveVersion<T: LMDBReader & ~Copyable>(of sequence: SequenceNumber, set: ProjectionSet, in txn: borrowing T) throws -> EffectiveEvent? {
    guard let original = try log.event(sequence, in: txn) else { throw LedgerError.noSuchEvent(sequence) }
    let event = try Projector.decode(original)
    switch try Projector.amendment(of: sequence, set: set, in: txn) {
    case .retracted: return nil
    case .corrected(let by):
      guard let correctionEvent = try log.event(by, in: txn), case .eventCorrected(let c) = try Projector.decode(correctionEvent) else {
        throw LedgerError.corruptEvent(sequence: by, reason: "the amendments index names it as a correction, but it is not one")
      }
      let replaced = try CouncilEvent.decode(type: original.type, schemaVersion: original.schemaVersion, payload: c.payload)
      let note = CorrectionNote(sequence: by, reason: c.reason, recordedAt: correctionEvent.recordedAt, actor: correctionEvent.actor)
      return EffectiveEvent(original: original, event: replaced, effective: c.effective ?? original.effective, correction: note)
    case nil:
      return EffectiveEvent(original: original, event: event, effective: original.effective, correction: nil)
    }
  }

  static func decode(_ event: RecordedEvent) throws -> CouncilEvent {
    do {
      return try CouncilEvent.decode(type: event.type, schemaVersion: event.schemaVersion, payload: event.payload)
    } catch {
      throw LedgerError.corruptEvent(sequence: event.sequence, reason: "its payload is not a valid \(event.type): \(error)")
    }
  }

  // MARK: Writes

  /// Applies one recorded event to the projection set, inside the append's write transaction.
  ///
  /// A new event adds a snapshot row at its point in each entity's history. When the event is
  /// backdated, or corrects or retracts an earlier one, every current row of the entity from the
  /// affected point on is closed (its `knownTo` set to this event's sequence number) and
  /// rewritten with `knownFrom` = this event: the old answers stay available to known-at queries.
  ///
  /// - Parameters:
  ///   - decoded: The event's typed form when the caller already has it (saves decoding the
  ///     payload again).
  ///   - strict: Refuse (``ProjectionError/wouldInvalidate(sequence:reason:)``) a change of
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
      try txn.put([1] + s.keyBytes, for: c.corrects.keyBytes, in: set.amendments)
      guard let after = try effectiveVersion(of: c.corrects, set: set, in: txn) else { return }
      let oldPoint = SnapshotKey.point(before.effective.firstDay, c.corrects)
      let newPoint = SnapshotKey.point(after.effective.firstDay, c.corrects)
      // In a fixed order, so that a refusal names the same entity every time.
      for entity in Set(before.event.projectedEntities + after.event.projectedEntities).sorted() {
        try recompute(entity, by: s, from: oldPoint.lexicographicallyPrecedes(newPoint) ? oldPoint : newPoint,
                      removing: oldPoint, adding: after.event.projectedEntities.contains(entity) ? newPoint : nil,
                      known: [c.corrects: after], strict: strict, checkingAdded: true, set: set, cache: cache, in: txn)
      }
    case .eventRetracted(let r):
      guard let before = try effectiveVersion(of: r.retracts, set: set, in: txn) else { return }
      try txn.put([2] + s.keyBytes, for: r.retracts.keyBytes, in: set.amendments)
      let oldPoint = SnapshotKey.point(before.effective.firstDay, r.retracts)
      for entity in before.event.projectedEntities {
        try recompute(entity, by: s, from: oldPoint, removing: oldPoint, adding: nil, known: [:], strict: strict, set: set, cache: cache, in: txn)
      }
    default:
      let point = SnapshotKey.point(recorded.effective.firstDay, s)
      let effective = EffectiveEvent(original: recorded, event: event, effective: recorded.effective, correction: nil)
      for entity in event.projectedEntities {
        let key = Array(entity.rawValue.utf8)
        if try txn.value(for: key, in: set.entities) == nil { try txn.put(s.keyBytes, for: key, in: set.entities) }
        try recompute(entity, by: s, from: point, removing: nil, adding: point, known: [s: effective], strict: strict, set: set, cache: cache, in: txn)
      }
    }
  }

  private func recompute(_ entity: StreamID, by s: SequenceNumber, from start: [UInt8], removing: [UInt8]?, adding: [UInt8]?,
                         known: [SequenceNumber: EffectiveEvent], strict: Bool, checkingAdded: Bool = false, set: ProjectionSet, cache: StateCache,
                         in txn: borrowing LMDBWriteTransaction) throws {
    let prefix = SnapshotKey.prefix(entity)
    // Current rows at or after the start point, and the current state just before it.
    let (rows, prior) = try txn.withCursor(set.snapshots) { c -> ([SnapshotRow], EntityState?) in
      var rows: [SnapshotRow] = []
      var entry = try c.seek(atLeast: prefix + start)
      while let e = entry, e.key.starts(with: prefix) {
        let row = SnapshotRow(key: e.key, value: e.value, prefixLength: prefix.count)
        if row.knownTo == SnapshotKey.current { rows.append(row) }
        entry = try c.next()
      }
      var prior: EntityState?
      entry = try c.seek(before: prefix + start)
      while let e = entry, e.key.starts(with: prefix) {
        let row = SnapshotRow(key: e.key, value: e.value, prefixLength: prefix.count)
        if row.knownTo == SnapshotKey.current {
          prior = try cache.state(for: row.key, entity: entity, bytes: row.stateBytes)
          break
        }
        entry = try c.previous()
      }
      return (rows, prior)
    }
    let current = Dictionary(rows.map { ($0.point, $0) }, uniquingKeysWith: { a, _ in a })
    var points = rows.map(\.point).filter { $0 != removing }
    if let adding { points.append(adding) }
    points.sort { $0.lexicographicallyPrecedes($1) }
    // The row of a removed point is closed and not replaced.
    if let removing, let row = current[removing] {
      try txn.put(s.keyBytes + Array(row.stateBytes), for: row.key, in: set.snapshots)
    }
    // Past the points this event adds or removes, a row whose refolded state equals its stored
    // state ends the work: every later row was folded from that same state, so it is unchanged
    // too. (A backdated observation of an old period rewrites nothing after itself.)
    let lastChanged = [removing, adding].compactMap { $0 }.max { $0.lexicographicallyPrecedes($1) }
    var state = prior
    for point in points {
      let sequence = SequenceNumber(keyBytes: point, at: 4)
      guard let event = try known[sequence] ?? effectiveVersion(of: sequence, set: set, in: txn) else { continue }
      // A new event was validated already; a corrected one is checked at its (new) place too.
      if strict, point != adding || checkingAdded, let reason = Fold.misfit(event, in: state, entity: entity) {
        throw ProjectionError.wouldInvalidate(sequence: sequence, type: event.original.type, reason: reason)
      }
      state = Fold.apply(event, to: state, entity: entity)
      // No state (the entity's creation was retracted or moved later): the row is kept with an
      // empty state, so that the point, and its event, stay part of the entity's history.
      let encoded = state?.encoded() ?? []
      if let row = current[point] {
        if let lastChanged, lastChanged.lexicographicallyPrecedes(point), row.stateBytes.elementsEqual(encoded) { return }
        try txn.put(s.keyBytes + Array(row.stateBytes), for: row.key, in: set.snapshots)
      }
      let key = SnapshotKey.key(entity, point: point, knownFrom: s.rawValue)
      try txn.put(SnapshotKey.current.bigEndianBytes + encoded, for: key, in: set.snapshots)
      if let state { cache.remember(state, for: key) }
    }
  }
}

extension UInt64 {
  var bigEndianBytes: [UInt8] { withUnsafeBytes(of: self.bigEndian, Array.init) }
}
