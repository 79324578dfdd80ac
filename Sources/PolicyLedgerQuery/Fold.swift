import PolicyLedgerDomain
import PolicyLedgerEventLog

/// An event as it stands now: the original envelope, with the payload and effective date of its
/// latest correction (if any).
struct EffectiveEvent {
  let original: RecordedEvent
  let event: CouncilEvent
  let effective: EffectiveDate
  let correction: CorrectionNote?
}

/// The projection's fold: the next state of one entity after one event. Total by design: an
/// event that no longer fits (after a backdated event or a correction changed history before it)
/// is applied as far as it can be, never fails, so a replay of any log succeeds.
enum Fold {
  static func apply(_ e: EffectiveEvent, to state: EntityState?, entity: StreamID) -> EntityState? {
    switch (entity.kind, e.event) {
    case ("body", .bodyEstablished(let p)):
      if state != nil { return state }
      var s = BodyState(id: p.body, name: p.name, kind: p.kind, parent: p.parent, mandate: p.mandate,
                        established: e.effective, dissolved: nil, dissolutionReason: nil, formerNames: [], members: [:])
      s.establishedSequence = e.original.sequence
      return .body(s)
    case ("body", .bodyRenamed(let p)):
      guard var s = state?.body else { return state }
      s.formerNames.append(FormerName(name: s.name, until: e.effective))
      s.name = p.name
      return .body(s)
    case ("body", .bodyDissolved(let p)):
      guard var s = state?.body else { return state }
      s.dissolved = e.effective
      s.dissolvedSequence = e.original.sequence
      s.dissolutionReason = p.reason
      return .body(s)
    case ("membership", .memberAppointed(let p)):
      // A second appointment (only in a history made inconsistent by a later change) replaces the seat.
      return .membership(MembershipState(person: p.person, name: p.name, role: p.role, affiliations: p.affiliations,
                                         since: e.effective, roleSince: nil, appointment: e.original.sequence))
    case ("membership", .memberRoleChanged(let p)):
      guard var m = state?.membership else { return state }
      m.role = p.role
      m.roleSince = e.effective
      return .membership(m)
    case ("membership", .memberAffiliationChanged(let p)):
      guard var m = state?.membership else { return state }
      m.affiliations = p.affiliations
      return .membership(m)
    case ("membership", .memberDeparted):
      return nil

    case ("person", .memberAppointed(let p)):
      var s = state?.person ?? PersonState(id: p.person, name: p.name, memberships: [:])
      s.name = p.name
      s.memberships[p.body] = p.role
      return .person(s)
    case ("person", .memberRoleChanged(let p)):
      guard var s = state?.person, s.memberships[p.body] != nil else { return state }
      s.memberships[p.body] = p.role
      return .person(s)
    case ("person", .memberDeparted(let p)):
      guard var s = state?.person else { return state }
      s.memberships[p.body] = nil
      return .person(s)
    case ("person", .memberAffiliationChanged):
      return state

    case ("decision", .decisionScheduled(let p)):
      let planned = PlannedDate(planned: p.planned, setOn: e.effective, sequence: e.original.sequence, reason: nil)
      if var s = state?.decision {
        s.schedule.append(planned)
        return .decision(s)
      }
      return .decision(DecisionState(id: p.decision, body: p.body, kind: p.kind, title: p.title, document: p.document,
                                     schedule: [planned], taken: nil, takenSequence: nil))
    case ("decision", .decisionRescheduled(let p)):
      guard var s = state?.decision else { return state }
      s.schedule.append(PlannedDate(planned: p.planned, setOn: e.effective, sequence: e.original.sequence, reason: p.reason))
      return .decision(s)
    case ("decision", .decisionTaken(let p)):
      var s = state?.decision ?? DecisionState(id: p.decision, body: p.body ?? "", kind: p.kind ?? .other, title: p.title ?? "",
                                               document: nil, schedule: [], taken: nil, takenSequence: nil)
      if let body = p.body { s.body = body }
      if let kind = p.kind { s.kind = kind }
      if let title = p.title { s.title = title }
      if let document = p.document { s.document = document }
      s.taken = e.effective
      s.takenSequence = e.original.sequence
      return .decision(s)

    case ("indicator", .indicatorDefined(let p)):
      if state != nil { return state }
      let targets = p.target.map { [TargetRecord(target: $0, targetPeriod: p.targetPeriod, effective: e.effective, sequence: e.original.sequence)] } ?? []
      var s = IndicatorState(id: p.indicator, name: p.name, unit: p.unit, group: p.group, parent: p.parent, breakdown: p.breakdown,
                             baseline: p.baseline, reference: p.reference, target: p.target, targetPeriod: p.targetPeriod,
                             changeTerms: p.changeTerms, defined: e.effective, retired: nil, targets: targets, latest: nil)
      s.definedSequence = e.original.sequence
      return .indicator(s)
    case ("indicator", .indicatorTargetRevised(let p)):
      guard var s = state?.indicator else { return state }
      s.target = p.target
      s.targetPeriod = p.targetPeriod
      s.targets.append(TargetRecord(target: p.target, targetPeriod: p.targetPeriod, effective: e.effective, sequence: e.original.sequence))
      return .indicator(s)
    case ("indicator", .indicatorRetired):
      guard var s = state?.indicator else { return state }
      s.retired = e.effective
      return .indicator(s)
    default:
      return state
    }
  }
}

extension Fold {
  /// Why `e` does not fit the entity's state just before it, or `nil` when it does. Used when a
  /// backdated event, a correction or a retraction changes the history before later events: the
  /// change is refused if a later event would no longer make sense (a role change after the
  /// person's departure, an observation after the indicator's retirement…).
  static func misfit(_ e: EffectiveEvent, in state: EntityState?, entity: StreamID) -> String? {
    let day = e.effective.firstDay
    switch (entity.kind, e.event) {
    case ("body", .bodyEstablished):
      return state == nil ? nil : "the body would already exist before it is established"
    case ("body", .bodyRenamed), ("body", .bodyDissolved):
      guard let s = state?.body else { return "the body would not exist on \(day)" }
      if let dissolved = s.dissolved, dissolved.firstDay <= day { return "the body would be dissolved (\(dissolved)) before \(day)" }
      return nil
    case ("membership", .memberAppointed(let p)):
      return state == nil ? nil : "\(p.person) would already be a member of \(p.body) on \(day)"
    case ("membership", .memberRoleChanged), ("membership", .memberAffiliationChanged), ("membership", .memberDeparted):
      guard state == nil, let seat = e.event.seat else { return nil }
      return "\(seat.person) would not be a member of \(seat.body) on \(day)"
    case ("decision", .decisionScheduled):
      return state == nil ? nil : "the decision would already exist before it is scheduled"
    case ("decision", .decisionRescheduled):
      guard let s = state?.decision else { return "the decision would not be scheduled on \(day)" }
      return s.taken.map { "the decision would already be taken (\($0)) before \(day)" }
    case ("decision", .decisionTaken):
      return state?.decision?.taken.map { "the decision would already be taken (\($0)) before \(day)" }
    case ("indicator", .indicatorDefined):
      return state == nil ? nil : "the indicator would already exist before it is defined"
    case ("indicator", .indicatorTargetRevised), ("indicator", .indicatorRetired):
      guard let s = state?.indicator else { return "the indicator would not be defined on \(day)" }
      if let retired = s.retired, retired.firstDay <= day { return "the indicator would be retired (\(retired)) before \(day)" }
      return nil
    default:
      return nil
    }
  }
}

extension CouncilEvent {
  /// The seat (body, person) a membership event concerns.
  var seat: (body: String, person: String)? {
    switch self {
    case .memberAppointed(let p): (p.body, p.person)
    case .memberRoleChanged(let p): (p.body, p.person)
    case .memberAffiliationChanged(let p): (p.body, p.person)
    case .memberDeparted(let p): (p.body, p.person)
    default: nil
    }
  }

  /// The entities whose snapshot rows the event changes. A membership event changes the seat
  /// (`membership:BODY/PERSON`) and, except an affiliation change, the person; never the body,
  /// whose row holds no roster. An observation changes no snapshot: it is a row of its
  /// indicator's series.
  var snapshotEntities: [StreamID] {
    switch self {
    case .memberAffiliationChanged(let p): [.membership(p.body, p.person)]
    case .memberAppointed, .memberRoleChanged, .memberDeparted: [.membership(seat!.body, seat!.person), .person(seat!.person)]
    case .indicatorObserved, .eventCorrected, .eventRetracted: []
    default: projectedEntities
    }
  }
}

extension StreamID {
  /// `membership:BODY/PERSON`: one person's seat on one body, an entity of the projections (not
  /// a stream: membership events are in the body's and the person's streams).
  static func membership(_ body: String, _ person: String) -> StreamID {
    guard let id = StreamID(entity: "membership:\(body)/\(person)") else { preconditionFailure("invalid membership id \(body)/\(person)") }
    return id
  }

  /// The entity prefix of every seat on `body`: `membership:BODY/`.
  static func membershipPrefix(_ body: String) -> [UInt8] { Array("membership:\(body)/".utf8) }
}
