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
      return .body(BodyState(id: p.body, name: p.name, kind: p.kind, parent: p.parent, mandate: p.mandate,
                             established: e.effective, dissolved: nil, dissolutionReason: nil, formerNames: [], members: [:]))
    case ("body", .bodyRenamed(let p)):
      guard var s = state?.body else { return state }
      s.formerNames.append(FormerName(name: s.name, until: e.effective))
      s.name = p.name
      return .body(s)
    case ("body", .bodyDissolved(let p)):
      guard var s = state?.body else { return state }
      s.dissolved = e.effective
      s.dissolutionReason = p.reason
      return .body(s)
    case ("body", .memberAppointed(let p)):
      guard var s = state?.body else { return state }
      s.members[p.person] = MembershipState(person: p.person, name: p.name, role: p.role, affiliations: p.affiliations,
                                            since: e.effective, roleSince: nil, appointment: e.original.sequence)
      return .body(s)
    case ("body", .memberRoleChanged(let p)):
      guard var s = state?.body, var m = s.members[p.person] else { return state }
      m.role = p.role
      m.roleSince = e.effective
      s.members[p.person] = m
      return .body(s)
    case ("body", .memberAffiliationChanged(let p)):
      guard var s = state?.body, var m = s.members[p.person] else { return state }
      m.affiliations = p.affiliations
      s.members[p.person] = m
      return .body(s)
    case ("body", .memberDeparted(let p)):
      guard var s = state?.body else { return state }
      s.members[p.person] = nil
      return .body(s)

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
      return .indicator(IndicatorState(id: p.indicator, name: p.name, unit: p.unit, group: p.group, parent: p.parent, breakdown: p.breakdown,
                                       baseline: p.baseline, reference: p.reference, target: p.target, targetPeriod: p.targetPeriod,
                                       changeTerms: p.changeTerms, defined: e.effective, retired: nil, targets: targets, latest: nil))
    case ("indicator", .indicatorObserved(let p)):
      guard var s = state?.indicator else { return state }
      let record = ObservationRecord(value: p.value, unit: p.unit, period: p.period, note: p.note, effective: e.effective,
                                     sequence: e.original.sequence, recordedAt: e.original.recordedAt, actor: e.original.actor,
                                     source: e.original.source, correction: e.correction)
      if let latest = s.latest, record.orderKey < latest.orderKey {} else { s.latest = record }
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
    case ("body", .bodyRenamed), ("body", .bodyDissolved), ("body", .memberAppointed), ("body", .memberRoleChanged),
         ("body", .memberAffiliationChanged), ("body", .memberDeparted):
      guard let s = state?.body else { return "the body would not exist on \(day)" }
      if let dissolved = s.dissolved, dissolved.firstDay <= day { return "the body would be dissolved (\(dissolved)) before \(day)" }
      switch e.event {
      case .memberAppointed(let p): return s.members[p.person] == nil ? nil : "\(p.person) would already be a member on \(day)"
      case .memberRoleChanged(let p): return s.members[p.person] != nil ? nil : "\(p.person) would not be a member on \(day)"
      case .memberAffiliationChanged(let p): return s.members[p.person] != nil ? nil : "\(p.person) would not be a member on \(day)"
      case .memberDeparted(let p): return s.members[p.person] != nil ? nil : "\(p.person) would not be a member on \(day)"
      default: return nil
      }
    case ("decision", .decisionScheduled):
      return state == nil ? nil : "the decision would already exist before it is scheduled"
    case ("decision", .decisionRescheduled):
      guard let s = state?.decision else { return "the decision would not be scheduled on \(day)" }
      return s.taken.map { "the decision would already be taken (\($0)) before \(day)" }
    case ("decision", .decisionTaken):
      return state?.decision?.taken.map { "the decision would already be taken (\($0)) before \(day)" }
    case ("indicator", .indicatorDefined):
      return state == nil ? nil : "the indicator would already exist before it is defined"
    case ("indicator", .indicatorObserved), ("indicator", .indicatorTargetRevised), ("indicator", .indicatorRetired):
      guard let s = state?.indicator else { return "the indicator would not be defined on \(day)" }
      if let retired = s.retired, retired.firstDay <= day { return "the indicator would be retired (\(retired)) before \(day)" }
      return nil
    default:
      return nil
    }
  }
}
