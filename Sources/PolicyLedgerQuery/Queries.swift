public import PolicyLedgerDomain
public import PolicyLedgerEventLog
import PolicyLedgerStorage

/// Transaction time for a question: what the ledger knew at some point.
public enum KnowledgeTime: Sendable, Hashable {
  /// Everything recorded so far.
  case latest
  /// What had been recorded at or before this moment (UTC).
  case moment(LedgerTimestamp)
  /// What had been recorded up to and including this event (0: nothing yet). Queries throw
  /// `LedgerError.noSuchEvent` for an event past the head.
  case through(SequenceNumber)
}

/// A body with the bodies under it, as of a date.
public struct BodyNode: Sendable, Hashable {
  public var body: BodyState
  public var children: [BodyNode]
}

/// One row of the progress table (目標値・主要指標の進捗状況) as of a date.
public struct ProgressRow: Sendable, Hashable {
  public var indicator: String
  public var name: LocalizedName
  public var group: String?
  public var parent: String?
  public var breakdown: [String: String]?
  public var unit: IndicatorUnit
  /// 基準年値, when the indicator has one.
  public var baseline: PeriodValue?
  /// 参考値, when the indicator has one.
  public var reference: PeriodValue?
  /// The observation for the latest period known as of the date.
  public var latest: ObservationRecord?
  /// The target as an absolute number, derived from its rule (43,763 × 1.1 = 48,139.3).
  public var target: LedgerDecimal?
  public var targetRule: TargetRule?
  public var targetPeriod: ObservedPeriod?
  /// Whether the latest value reaches the target (the slide's 注1 marks); `nil` without a
  /// latest value or a target.
  public var achieved: Bool?
  /// Change from the baseline in the slide's own terms: `0.1割減少`, `9.2%増加`, `0.9倍`.
  public var change: String?
}

/// The status of an event in an audit trail.
public enum AmendmentStatus: Sendable, Hashable {
  case inForce
  /// A later correction replaced its content.
  case corrected(by: SequenceNumber)
  /// A later retraction withdrew it.
  case retracted(by: SequenceNumber)
  /// A correction that a later correction of the same event replaced.
  case superseded(by: SequenceNumber)
}

/// One event in an entity's audit trail, with both clocks and the actor.
public struct AuditEntry: Sendable, Hashable {
  public var event: RecordedEvent
  /// Whether a later correction or retraction (known at the question's knowledge time) amends it.
  public var status: AmendmentStatus
}

/// The whole state as of a date: every entity that existed then.
public struct LedgerState: Sendable, Hashable {
  public var bodies: [BodyState]
  public var people: [PersonState]
  public var decisions: [DecisionState]
  public var indicators: [IndicatorState]
}

/// What changed for one entity between two dates.
public struct EntityChange: Sendable, Hashable, CustomStringConvertible {
  public enum Kind: String, Sendable { case added, removed, changed }
  public var entity: StreamID
  public var kind: Kind
  /// One line per changed detail, such as `name: 総合科学技術会議 → 総合科学技術・イノベーション会議`.
  public var details: [String]
  public var description: String { "\(kind.rawValue) \(entity): \(details.joined(separator: "; "))" }
}

extension CouncilLedger {
  /// Runs `body` in one read transaction with the knowledge time resolved to a sequence number,
  /// after checking that the projections cover the whole log.
  func reading<R>(_ knownAt: KnowledgeTime, _ body: (borrowing LMDBReadTransaction, UInt64) throws -> R) throws -> R {
    try log.environment.read { txn in
      let head = try log.headDigest(in: txn)?.sequence.rawValue ?? 0
      try Projector.requireCurrentLayout(live, head: head, in: txn)
      let through = try Projector.projectedThrough(live, in: txn)
      guard through == head else { throw try Projector.incompleteError(live, through: through, head: head, in: txn) }
      let knowledge: UInt64
      switch knownAt {
      case .latest: knowledge = UInt64.max - 1
      case .moment(let t): knowledge = try log.sequence(knownAt: t, in: txn)?.rawValue ?? 0
      case .through(let s):
        // As known through an event the ledger does not hold is not a question it can answer.
        guard s.rawValue <= head else { throw LedgerError.noSuchEvent(s) }
        knowledge = s.rawValue
      }
      // Known through the head is known now: the same answers, and the indexes that reflect
      // only the latest knowledge (the tenures) apply.
      return try body(txn, knowledge >= head ? UInt64.max - 1 : knowledge)
    }
  }

  /// The state of one entity (`body:csti`, `indicator:young-faculty`…) as of `day` (valid time;
  /// `nil` = with every event, whatever its date) as known at `knownAt` (transaction time).
  /// - Returns: `nil` when the entity did not exist then (or was not yet known).
  /// - Complexity: O(log n): one seek in the snapshot index, never a replay.
  public func entity(_ id: StreamID, asOf day: CalendarDay?, knownAt: KnowledgeTime = .latest) throws -> EntityState? {
    try reading(knownAt) { txn, k in try Reader(set: live, knownThrough: k).entity(id, asOf: day, in: txn) }
  }

  /// A body as of `day`.
  public func body(_ id: String, asOf day: CalendarDay?, knownAt: KnowledgeTime = .latest) throws -> BodyState? {
    guard CouncilEvent.localIDError(id) == nil else { return nil }
    return try entity(.body(id), asOf: day, knownAt: knownAt)?.body
  }

  /// The members of a body as of `day`, in the slide's order (chair, executive members, expert
  /// members, advisors); none once the body is dissolved.
  /// - Throws: ``ProjectionError/noSuchEntity(_:)`` when the body did not exist then.
  public func members(of bodyID: String, asOf day: CalendarDay?, knownAt: KnowledgeTime = .latest) throws -> [MembershipState] {
    guard let body = try body(bodyID, asOf: day, knownAt: knownAt) else {
      throw ProjectionError.noSuchEntity("body:\(bodyID)" + (day.map { " on \($0)" } ?? ""))
    }
    return body.dissolved == nil ? body.orderedMembers : []
  }

  /// Every entity of `kind` as of `day`, decoded.
  /// - Complexity: O(e log n) for e entities of that kind: a seek per entity.
  func all<T>(_ kind: String, asOf day: CalendarDay?, knownAt: KnowledgeTime, _ pick: (EntityState) -> T?) throws -> [T] {
    try reading(knownAt) { txn, k in
      let reader = Reader(set: live, knownThrough: k)
      return try Projector.entities(ofKind: kind, set: live, in: txn).compactMap { id in
        try reader.entity(id, asOf: day, in: txn).flatMap(pick)
      }
    }
  }

  /// The bodies that existed on `day` (established on or before it, not dissolved before it).
  public func bodies(asOf day: CalendarDay?, knownAt: KnowledgeTime = .latest, includeDissolved: Bool = false) throws -> [BodyState] {
    try all("body", asOf: day, knownAt: knownAt) { $0.body }
      .filter { includeDissolved || $0.dissolved == nil }
      .sorted { ($0.established, $0.id) < ($1.established, $1.id) }
  }

  /// The tree of bodies and working groups as of `day`, roots first.
  public func bodyTree(asOf day: CalendarDay?, knownAt: KnowledgeTime = .latest) throws -> [BodyNode] {
    let bodies = try self.bodies(asOf: day, knownAt: knownAt)
    let ids = Set(bodies.map(\.id))
    func node(_ b: BodyState) -> BodyNode {
      BodyNode(body: b, children: bodies.filter { $0.parent == b.id }.map(node))
    }
    return bodies.filter { $0.parent == nil || !ids.contains($0.parent!) }.map(node)
  }

  /// Decisions whose latest planned date or actual date falls between `from` and `to`
  /// (inclusive; either may be open), as known at `knownAt`, ordered by their date.
  public func decisions(from: CalendarDay? = nil, to: CalendarDay? = nil, knownAt: KnowledgeTime = .latest) throws -> [DecisionState] {
    func inRange(_ d: EffectiveDate?) -> Bool {
      guard let d else { return false }
      return (from.map { d.lastDay >= $0 } ?? true) && (to.map { d.firstDay <= $0 } ?? true)
    }
    return try all("decision", asOf: nil, knownAt: knownAt) { $0.decision }
      .filter { inRange($0.taken) || inRange($0.planned) || $0.schedule.contains { inRange($0.planned) } }
      .sorted { (($0.taken ?? $0.planned)?.firstDay ?? CalendarDay(daysSinceEpoch: 0), $0.id) < (($1.taken ?? $1.planned)?.firstDay ?? CalendarDay(daysSinceEpoch: 0), $1.id) }
  }

  /// The indicators defined on `day`, in the slide's order (group mark, then id).
  public func indicators(asOf day: CalendarDay?, knownAt: KnowledgeTime = .latest) throws -> [IndicatorState] {
    try all("indicator", asOf: day, knownAt: knownAt) { $0.indicator }
      .filter { $0.retired == nil }
      .sorted { ($0.group ?? "\u{10FFFF}", $0.defined.firstDay, $0.id) < ($1.group ?? "\u{10FFFF}", $1.defined.firstDay, $1.id) }
  }

  /// Progress of every indicator series as of `day`: baseline, latest value, target as an
  /// absolute number, change in the slide's terms, achieved or not.
  public func progress(asOf day: CalendarDay?, knownAt: KnowledgeTime = .latest) throws -> [ProgressRow] {
    try indicators(asOf: day, knownAt: knownAt).map(CouncilLedger.progressRow)
  }

  /// One progress row from an indicator's state.
  public static func progressRow(_ s: IndicatorState) -> ProgressRow {
    let latest = s.latest
    let target = s.target?.absoluteTarget(baseline: s.baseline?.value)
    var achieved: Bool?
    if let latest, let rule = s.target { achieved = rule.isAchieved(latest: latest.value, baseline: s.baseline?.value) }
    var change: String?
    if let latest, let base = s.baseline?.value, !base.isZero, let terms = s.changeTerms {
      change = changeText(from: base, to: latest.value, terms: terms)
    }
    return ProgressRow(indicator: s.id, name: s.name, group: s.group, parent: s.parent, breakdown: s.breakdown, unit: s.unit,
                       baseline: s.baseline, reference: s.reference, latest: latest, target: target, targetRule: s.target,
                       targetPeriod: s.targetPeriod, achieved: achieved, change: change)
  }

  /// Change from `base` to `value` as the slide writes it: `9.2%増加` (percent, rounded),
  /// `0.1割減少` (tenths, rounded), `0.9倍` (ratio, cut to one decimal).
  public static func changeText(from base: LedgerDecimal, to value: LedgerDecimal, terms: ChangeTerms) -> String? {
    switch terms {
    case .bai:
      return value.divided(by: base, scale: 1, rounding: .towardZero).map { "\($0)倍" }
    case .percent, .wari:
      let scale = LedgerDecimal(terms == .percent ? 100 : 10)
      guard let amount = (value - base).multiplied(by: scale)?.divided(by: base, scale: 1) else { return nil }
      let word = amount.isNegative ? "減少" : "増加"
      let magnitude = amount.isNegative ? LedgerDecimal(0) - amount : amount
      return "\(magnitude)\(terms == .percent ? "%" : "割")\(word)"
    }
  }

  /// Every event that touched an entity (its stream), oldest first, with both clocks, the actor
  /// and whether it was later corrected or retracted, as known at `knownAt`.
  /// - Complexity: O(log n + k) for k events in the stream.
  public func audit(_ id: StreamID, knownAt: KnowledgeTime = .latest) throws -> [AuditEntry] {
    try reading(knownAt) { txn, k in
      let sequences = try log.sequences(inStream: id, in: txn).filter { $0.rawValue <= k }
      var events: [RecordedEvent] = []
      for s in sequences {
        guard let e = try log.event(s, in: txn) else { throw LedgerError.corruptEvent(sequence: s, reason: "the stream index names it but the log does not hold it") }
        events.append(e)
      }
      // Amendments of an event are in the same stream, so the trail itself says which are in force.
      var status: [SequenceNumber: AmendmentStatus] = [:]
      for e in events {
        switch try? Projector.decode(e) {
        case .eventCorrected(let c)?:
          if case .corrected(let earlier)? = status[c.corrects] { status[earlier] = .superseded(by: e.sequence) }
          if case .retracted = status[c.corrects] {} else { status[c.corrects] = .corrected(by: e.sequence) }
        case .eventRetracted(let r)?: status[r.retracts] = .retracted(by: e.sequence)
        default: break
        }
      }
      return events.map { AuditEntry(event: $0, status: status[$0.sequence] ?? .inForce) }
    }
  }

  /// The whole state as of `day`: every body, person, decision and indicator that existed.
  /// - Complexity: O(e log n) for e entities: one seek each, never a replay of the log.
  public func state(asOf day: CalendarDay?, knownAt: KnowledgeTime = .latest) throws -> LedgerState {
    try reading(knownAt) { txn, k in
      let reader = Reader(set: live, knownThrough: k)
      var found: [String: [EntityState]] = [:]
      for kind in ["body", "person", "decision", "indicator"] {
        for id in try Projector.entities(ofKind: kind, set: live, in: txn) {
          if let s = try reader.entity(id, asOf: day, in: txn) { found[kind, default: []].append(s) }
        }
      }
      // (``forEachEntity(ofKind:asOf:knownAt:_:)`` hands them over one at a time instead.)
      return LedgerState(
        bodies: (found["body"] ?? []).compactMap(\.body).sorted { $0.id < $1.id },
        people: (found["person"] ?? []).compactMap(\.person).sorted { $0.id < $1.id },
        decisions: (found["decision"] ?? []).compactMap(\.decision).sorted { $0.id < $1.id },
        indicators: (found["indicator"] ?? []).compactMap(\.indicator).sorted { $0.id < $1.id })
    }
  }

  /// What changed between `from` and `to` (valid time), as known at `knownAt`: entities added,
  /// removed or changed, with one line per changed detail.
  public func diff(from: CalendarDay, to: CalendarDay, knownAt: KnowledgeTime = .latest) throws -> [EntityChange] {
    let a = try state(asOf: from, knownAt: knownAt)
    let b = try state(asOf: to, knownAt: knownAt)
    var out: [EntityChange] = []
    func compare<T: Encodable>(_ kind: String, _ before: [T], _ after: [T], id: (T) -> String, details: (T, T) -> [String]) {
      let old = Dictionary(uniqueKeysWithValues: before.map { (id($0), $0) })
      let new = Dictionary(uniqueKeysWithValues: after.map { (id($0), $0) })
      for key in Set(old.keys).union(new.keys).sorted() {
        let stream = StreamID(kind + ":" + key)!
        switch (old[key], new[key]) {
        case (nil, let n?): out.append(EntityChange(entity: stream, kind: .added, details: [summary(n)]))
        case (_?, nil): out.append(EntityChange(entity: stream, kind: .removed, details: []))
        case (let o?, let n?):
          let d = details(o, n)
          if !d.isEmpty { out.append(EntityChange(entity: stream, kind: .changed, details: d)) }
        default: break
        }
      }
    }
    func summary<T: Encodable>(_ v: T) -> String {
      switch v {
      case let s as BodyState: return "\(s.name.ja), \(s.members.count) member\(s.members.count == 1 ? "" : "s")"
      case let s as PersonState: return s.name.ja
      case let s as DecisionState: return "\(s.kind.japanese) \(s.title)"
      case let s as IndicatorState: return s.name.ja
      default: return ""
      }
    }
    compare("body", a.bodies, b.bodies, id: \.id) { o, n in
      var d: [String] = []
      if o.name != n.name { d.append("name: \(o.name.ja) → \(n.name.ja)") }
      if o.dissolved != n.dissolved { d.append("dissolved: \(o.dissolved?.description ?? "no") → \(n.dissolved?.description ?? "no")") }
      if o.parent != n.parent { d.append("parent: \(o.parent ?? "—") → \(n.parent ?? "—")") }
      for p in Set(n.members.keys).subtracting(o.members.keys).sorted() { d.append("member joined: \(n.members[p]!.name.ja) (\(n.members[p]!.role.japanese))") }
      for p in Set(o.members.keys).subtracting(n.members.keys).sorted() { d.append("member left: \(o.members[p]!.name.ja)") }
      for p in Set(o.members.keys).intersection(n.members.keys).sorted() {
        let (x, y) = (o.members[p]!, n.members[p]!)
        if x.role != y.role { d.append("role of \(y.name.ja): \(x.role.japanese) → \(y.role.japanese)") }
        if x.affiliations != y.affiliations {
          d.append("affiliations of \(y.name.ja): \(x.affiliations.isEmpty ? "—" : x.affiliations.joined(separator: "、")) → \(y.affiliations.isEmpty ? "—" : y.affiliations.joined(separator: "、"))")
        }
      }
      return d.isEmpty && o == n ? [] : (d.isEmpty && o != n ? ["details changed"] : d)
    }
    compare("person", a.people, b.people, id: \.id) { o, n in
      o == n ? [] : (o.name != n.name ? ["name: \(o.name.ja) → \(n.name.ja)"] : [])
        + n.memberships.keys.sorted().filter { o.memberships[$0] != n.memberships[$0] }.map { "\($0): \(o.memberships[$0]?.rawValue ?? "—") → \(n.memberships[$0]!.rawValue)" }
        + o.memberships.keys.sorted().filter { n.memberships[$0] == nil }.map { "left \($0)" }
    }
    compare("decision", a.decisions, b.decisions, id: \.id) { o, n in
      var d: [String] = []
      if o.title != n.title { d.append("title: \(o.title) → \(n.title)") }
      if o.planned != n.planned { d.append("planned: \(o.planned?.description ?? "—") → \(n.planned?.description ?? "—")") }
      if o.taken != n.taken { d.append("taken: \(o.taken?.description ?? "no") → \(n.taken?.description ?? "no")") }
      return d.isEmpty && o != n ? ["details changed"] : d
    }
    compare("indicator", a.indicators, b.indicators, id: \.id) { o, n in
      var d: [String] = []
      func text(_ obs: ObservationRecord?) -> String {
        guard let obs else { return "—" }
        return "\(obs.value)\(obs.unit.rawValue)" + (obs.period.map { " for \($0)" } ?? "")
      }
      if o.latest != n.latest { d.append("latest: \(text(o.latest)) → \(text(n.latest))") }
      if o.name != n.name { d.append("name: \(o.name.ja) → \(n.name.ja)") }
      if o.target != n.target {
        let (x, y) = (o.target?.absoluteTarget(baseline: o.baseline?.value), n.target?.absoluteTarget(baseline: n.baseline?.value))
        d.append("target: \(x?.description ?? "—")\(o.unit.rawValue) → \(y?.description ?? "—")\(n.unit.rawValue)")
      }
      if o.baseline != n.baseline { d.append("baseline: \(o.baseline?.value.description ?? "—") → \(n.baseline?.value.description ?? "—")") }
      if o.retired != n.retired { d.append("retired: \(o.retired?.description ?? "no") → \(n.retired?.description ?? "no")") }
      return d.isEmpty && o != n ? ["details changed"] : d
    }
    return out
  }
}
