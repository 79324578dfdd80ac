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
  /// Every correction and retraction: original sequence ‖ amending sequence → kind byte.
  let amendments: LMDBDatabase
  /// `projected-through`: the last sequence number the set reflects; `layout`: the row layout.
  let meta: LMDBDatabase
  /// Every observed value of every indicator (``SeriesKey``).
  let series: LMDBDatabase
  /// Every holding of a seat, by when it ended (``TenureKey``).
  let tenures: LMDBDatabase
  let prefix: String

  static let names = ["snapshots", "entities", "amendments", "meta", "series", "tenures"]

  static func open(prefix: String, in txn: borrowing LMDBWriteTransaction) throws -> ProjectionSet {
    func db(_ name: String) throws -> LMDBDatabase { try txn.database(named: prefix + name, create: true)! }
    return ProjectionSet(snapshots: try db("snapshots"), entities: try db("entities"), amendments: try db("amendments"), meta: try db("meta"),
                         series: try db("series"), tenures: try db("tenures"), prefix: prefix)
  }

  var all: [LMDBDatabase] { [snapshots, entities, amendments, meta, series, tenures] }

  static let layoutKey = Array("layout".utf8)
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
  static func decodeRow(of entity: StreamID, _ bytes: some Collection<UInt8>) throws -> EntityState {
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
    try entities(withPrefix: Array((kind + ":").utf8), set: set, in: txn)
  }

  /// The ids of every entity whose id starts with `prefix` (`membership:BODY/`: a body's seats).
  static func entities<T: LMDBReader & ~Copyable>(withPrefix prefix: [UInt8], set: ProjectionSet, in txn: borrowing T) throws -> [StreamID] {
    try entities(withPrefix: prefix, from: prefix, limit: .max, set: set, in: txn)
  }

  /// Up to `limit` ids starting with `prefix`, from the key `start` on.
  static func entities<T: LMDBReader & ~Copyable>(withPrefix prefix: [UInt8], from start: [UInt8], limit: Int, set: ProjectionSet,
                                                 in txn: borrowing T) throws -> [StreamID] {
    return try txn.withCursor(set.entities) { c in
      var out: [StreamID] = []
      var entry = try c.seek(atLeast: start)
      while out.count < limit, let e = entry, e.key.starts(with: prefix) {
        // Never skipped: an id that is not one means a damaged page, and skipping it would drop
        // the entity from every listing without a word.
        guard let id = StreamID(entity: String(decoding: e.key, as: UTF8.self)) else {
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

  /// The latest correction or retraction of `sequence` recorded up to event `knownThrough`
  /// (nil: all): one seek in `amendments`, whose keys are original ‖ amending sequence.
  static func amendment<T: LMDBReader & ~Copyable>(of sequence: SequenceNumber, knownThrough: UInt64 = .max - 1, set: ProjectionSet, in txn: borrowing T) throws -> Amendment? {
    let prefix = sequence.keyBytes
    return try txn.withCursor(set.amendments) { c in
      guard let e = try c.seek(before: prefix + (knownThrough + 1).bigEndianBytes), e.key.count == 16, e.key.starts(with: prefix) else { return nil }
      let by = SequenceNumber(keyBytes: e.key, at: 8)
      return e.value.first == 2 ? .retracted(by) : .corrected(by)
    }
  }

  static func putAmendment(_ kind: Amendment, of sequence: SequenceNumber, set: ProjectionSet, in txn: borrowing LMDBWriteTransaction) throws {
    switch kind {
    case .corrected(let by): try txn.put([1], for: sequence.keyBytes + by.keyBytes, in: set.amendments)
    case .retracted(let by): try txn.put([2], for: sequence.keyBytes + by.keyBytes, in: set.amendments)
    }
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
}

extension UInt64 {
  var bigEndianBytes: [UInt8] { withUnsafeBytes(of: self.bigEndian, Array.init) }
}

extension Projector {
  /// The row layout this build writes and reads (`proj.meta/layout`, one byte).
  static let layoutVersion: UInt8 = rowLayoutVersion

  /// The layout of a projection set: its `layout` value, or 1 for projections written before
  /// the key existed (JSON states), or `nil` for a set that holds nothing yet.
  static func layout<T: LMDBReader & ~Copyable>(_ set: ProjectionSet, in txn: borrowing T) throws -> Int? {
    if let v = try txn.value(for: ProjectionSet.layoutKey, in: set.meta), v.count == 1 { return Int(v[0]) }
    return try projectedThrough(set, in: txn) > 0 ? 1 : nil
  }

  /// Refuses projections of another layout (a ledger written by an older version, not rebuilt).
  static func requireCurrentLayout<T: LMDBReader & ~Copyable>(_ set: ProjectionSet, head: UInt64, in txn: borrowing T) throws {
    if let found = try layout(set, in: txn), found != Int(layoutVersion) {
      throw ProjectionError.outdatedLayout(found: found, expected: Int(layoutVersion))
    }
  }
}
