import PolicyLedgerDomain
public import PolicyLedgerEventLog
import PolicyLedgerStorage

extension Projector {
  /// The bytes of the row of `entity` in force on `day` (nil: the latest), as known after event
  /// `knownThrough`; nil when there is none or the entity did not exist then. For reading a few
  /// fields in place (``IndicatorRowHead``) without decoding the state.
  static func rowBytes<T: LMDBReader & ~Copyable>(of entity: StreamID, asOf day: CalendarDay?, knownThrough: UInt64, set: ProjectionSet,
                                                 in txn: borrowing T) throws -> [UInt8]? {
    let prefix = SnapshotKey.prefix(entity)
    let upper = day.map { prefix + EventLog.dayKey(CalendarDay(daysSinceEpoch: $0.daysSinceEpoch + 1)) } ?? Array(entity.rawValue.utf8) + [1]
    return try txn.withCursor(set.snapshots) { c in
      var entry = try c.seek(before: upper)
      while let e = entry, e.key.starts(with: prefix) {
        let row = SnapshotRow(key: e.key, value: e.value, prefixLength: prefix.count)
        if row.isVisible(knownThrough: knownThrough) { return row.stateBytes.isEmpty ? nil : Array(row.stateBytes) }
        entry = try c.previous()
      }
      return nil
    }
  }

  /// Runs `read` over a stored row of `entity`, reporting bytes that are not a row as
  /// ``ProjectionError/damagedSnapshot(entity:reason:)`` (a rebuild repairs it).
  static func damageChecked<R>(_ entity: StreamID, _ read: () throws -> R) throws -> R {
    do { return try read() } catch let error as ProjectionError { throw error } catch {
      throw ProjectionError.damagedSnapshot(entity: entity.rawValue, reason: "\(error)")
    }
  }
}

/// Answers as-of questions from the stored rows, completing each state with what its row does
/// not hold: a body's members (its seats, `membership:BODY/PERSON`, as of the same date) and an
/// indicator's latest value (from its series).
struct Reader {
  let set: ProjectionSet
  /// Transaction time, as a sequence number (`UInt64.max - 1`: everything).
  let knownThrough: UInt64
  /// Whether the tenure index (which reflects everything projected) answers for this knowledge
  /// time: as known now, or through the last projected event (validation inside an append).
  let tenuresApply: Bool

  init(set: ProjectionSet, knownThrough: UInt64, tenuresApply: Bool? = nil) {
    self.set = set
    self.knownThrough = knownThrough
    self.tenuresApply = tenuresApply ?? (knownThrough == .max - 1)
  }

  /// The state of `entity` on `day`, complete.
  func entity<T: LMDBReader & ~Copyable>(_ entity: StreamID, asOf day: CalendarDay?, in txn: borrowing T) throws -> EntityState? {
    guard let stored = try Projector.state(of: entity, asOf: day, knownThrough: knownThrough, set: set, in: txn) else { return nil }
    return try complete(stored, asOf: day, in: txn)
  }

  /// Fills in what a stored state's row leaves out.
  func complete<T: LMDBReader & ~Copyable>(_ state: EntityState, asOf day: CalendarDay?, in txn: borrowing T) throws -> EntityState {
    switch state {
    case .body(var b):
      b.members = try roster(of: b.id, asOf: day, after: (b.established.firstDay, b.establishedSequence), in: txn)
      return .body(b)
    case .indicator(var i):
      i.latest = try Projector.latestObservation(of: .indicator(i.id), asOf: day, knownThrough: knownThrough,
                                                 after: (i.defined.firstDay, i.definedSequence), set: set, in: txn)
      return .indicator(i)
    default:
      return state
    }
  }

  /// The seats on `body` held on `day`, by person id. As known now: one seek in the tenure index
  /// and a step per tenure ending after the day, then each candidate seat's row as of the day.
  /// As known at an earlier moment: every seat the body ever had (its range of the entities
  /// index), each as of the day and that moment. With `after`,
  /// only seats taken after that point (the body's establishment): an appointment that a later
  /// change left before the body existed does not count.
  func roster<T: LMDBReader & ~Copyable>(of body: String, asOf day: CalendarDay?, after establishment: (CalendarDay, SequenceNumber)? = nil,
                                        in txn: borrowing T) throws -> [String: MembershipState] {
    var out: [String: MembershipState] = [:]
    // As known now, the tenure index names the few people who may hold a seat on the day; as
    // known at an earlier moment, every seat the body ever had is read.
    let seats = tenuresApply
      ? try Projector.seatHolders(of: body, on: day, set: set, in: txn).map { StreamID.membership(body, $0) }
      : try Projector.entities(withPrefix: StreamID.membershipPrefix(body), set: set, in: txn)
    for seat in seats {
      guard let m = try Projector.state(of: seat, asOf: day, knownThrough: knownThrough, set: set, in: txn)?.membership else { continue }
      if let (day, sequence) = establishment, (m.since.firstDay, m.appointment.rawValue) <= (day, sequence.rawValue) { continue }
      out[m.person] = m
    }
    return out
  }
}

extension CouncilLedger {
  /// Every entity of `kind` (`body`, `person`, `decision`, `indicator`, `membership`) that
  /// existed on `day` (nil: with every event) as known at `knownAt`, complete, handed to `each`
  /// one at a time in id order as it is read (the entities index a page of 512 ids at a time, one
  /// seek per entity, all in one read transaction): the first is out after one page, and memory
  /// stays flat however many there are.
  /// - Throws: ``ProjectionError``, ``LedgerError``, or what `each` throws.
  public func forEachEntity(ofKind kind: String, asOf day: CalendarDay?, knownAt: KnowledgeTime = .latest,
                            _ each: (EntityState) throws -> Void) throws {
    try reading(knownAt) { txn, k in
      let reader = Reader(set: live, knownThrough: k)
      let prefix = Array((kind + ":").utf8)
      var resume = prefix
      while true {
        let page = try Projector.entities(withPrefix: prefix, from: resume, limit: 512, set: live, in: txn)
        for id in page {
          if let state = try reader.entity(id, asOf: day, in: txn) { try each(state) }
        }
        guard page.count == 512, let last = page.last else { return }
        resume = Array(last.rawValue.utf8) + [0]
      }
    }
  }
}
