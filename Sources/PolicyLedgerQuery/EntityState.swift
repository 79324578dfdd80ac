public import PolicyLedgerDomain
public import PolicyLedgerEventLog

/// A member of a body, as of some date.
public struct MembershipState: Codable, Hashable, Sendable {
  public var person: String
  public var name: LocalizedName
  public var role: MemberRole
  public var affiliations: [String]
  /// When the person was appointed.
  public var since: EffectiveDate
  /// When the current role began, if it changed after the appointment.
  public var roleSince: EffectiveDate?
  /// The appointment event.
  public var appointment: SequenceNumber
}

/// A former name of a body and when it stopped being used.
public struct FormerName: Codable, Hashable, Sendable {
  public var name: LocalizedName
  /// The effective date of the rename that replaced it.
  public var until: EffectiveDate
}

/// A body (会議体) as of some date: its name then, its parent, its members.
public struct BodyState: Codable, Hashable, Sendable {
  public var id: String
  public var name: LocalizedName
  public var kind: BodyKind
  public var parent: String?
  public var mandate: String?
  public var established: EffectiveDate
  public var dissolved: EffectiveDate?
  public var dissolutionReason: String?
  public var formerNames: [FormerName]
  /// Current members, by person id. Not part of the body's stored row: each membership is an
  /// entity of its own (`membership:BODY/PERSON`), and the query module fills this in from them
  /// as of the same date and knowledge time.
  public var members: [String: MembershipState]
  /// The establishment event (for the order of events within a day; not in JSON output).
  var establishedSequence = SequenceNumber(0)
  /// The dissolution event, once dissolved (for errors; not in JSON output).
  var dissolvedSequence: SequenceNumber?

  enum CodingKeys: String, CodingKey {
    case id, name, kind, parent, mandate, established, dissolved, dissolutionReason, formerNames, members
  }

  /// Members ordered as the membership slide lists them: chair, executive members, expert
  /// members, advisors, others; then by appointment order.
  public var orderedMembers: [MembershipState] {
    let rank: [MemberRole: Int] = [.chair: 0, .executiveMember: 1, .expertMember: 2, .advisor: 3, .member: 4]
    return members.values.sorted { (rank[$0.role]!, $0.appointment) < (rank[$1.role]!, $1.appointment) }
  }
}

/// A person, and the bodies they sit on.
public struct PersonState: Codable, Hashable, Sendable {
  public var id: String
  public var name: LocalizedName
  /// Role per body id.
  public var memberships: [String: MemberRole]
}

/// One planned date of a decision and when it was set.
public struct PlannedDate: Codable, Hashable, Sendable {
  public var planned: EffectiveDate
  /// The effective date of the event that set it.
  public var setOn: EffectiveDate
  public var sequence: SequenceNumber
  public var reason: String?
}

/// A decision: its schedule (every planned date) and, once taken, its actual date.
public struct DecisionState: Codable, Hashable, Sendable {
  public var id: String
  public var body: String
  public var kind: DecisionKind
  public var title: String
  public var document: String?
  /// Every planned date, oldest first.
  public var schedule: [PlannedDate]
  /// The actual date, once taken.
  public var taken: EffectiveDate?
  public var takenSequence: SequenceNumber?
  /// The latest planned date.
  public var planned: EffectiveDate? { schedule.last?.planned }
}

/// A correction applied to an event: which event corrected it and why.
public struct CorrectionNote: Codable, Hashable, Sendable {
  public var sequence: SequenceNumber
  public var reason: String
  public var recordedAt: LedgerTimestamp
  public var actor: String
}

/// One observed value of an indicator, with both clocks and where it came from.
public struct ObservationRecord: Codable, Hashable, Sendable {
  public var value: LedgerDecimal
  public var unit: IndicatorUnit
  public var period: ObservedPeriod?
  public var note: String?
  /// Valid time: when the value was reported.
  public var effective: EffectiveDate
  public var sequence: SequenceNumber
  /// Transaction time of the original event.
  public var recordedAt: LedgerTimestamp
  public var actor: String
  public var source: String?
  /// The correction in force, if any.
  public var correction: CorrectionNote?

  /// Orders observations by the period they describe (its end), then by effective date, then by
  /// sequence number.
  var orderKey: (CalendarDay, CalendarDay, UInt64) {
    (ObservationRecord.periodDay(period, effective: effective), effective.firstDay, sequence.rawValue)
  }

  /// The day an observation's period is ordered by: the first day of its last period (of its
  /// effective date when it names no period).
  static func periodDay(_ period: ObservedPeriod?, effective: EffectiveDate) -> CalendarDay {
    period?.last?.firstDay ?? period?.first.firstDay ?? effective.firstDay
  }
}

/// A target as set or revised.
public struct TargetRecord: Codable, Hashable, Sendable {
  public var target: TargetRule
  public var targetPeriod: ObservedPeriod?
  public var effective: EffectiveDate
  public var sequence: SequenceNumber
}

/// An indicator series as of some date: definition, target history and observations.
public struct IndicatorState: Codable, Hashable, Sendable {
  public var id: String
  public var name: LocalizedName
  public var unit: IndicatorUnit
  public var group: String?
  public var parent: String?
  public var breakdown: [String: String]?
  public var baseline: PeriodValue?
  public var reference: PeriodValue?
  public var target: TargetRule?
  public var targetPeriod: ObservedPeriod?
  public var changeTerms: ChangeTerms?
  public var defined: EffectiveDate
  public var retired: EffectiveDate?
  public var targets: [TargetRecord]
  /// The observation in force describing the latest period (ties: the later effective date,
  /// then the later event).
  ///
  /// The other observations are read from the indicator's stream
  /// (``CouncilLedger/indicatorHistory(_:knownAt:)``), so that a snapshot stays the same size
  /// however long the series grows, and a backdated observation of an older period leaves the
  /// later snapshots as they are.
  public var latest: ObservationRecord?
  /// The definition event (observations before it do not count; not in JSON output).
  var definedSequence = SequenceNumber(0)

  enum CodingKeys: String, CodingKey {
    case id, name, unit, group, parent, breakdown, baseline, reference, target, targetPeriod, changeTerms, defined, retired, targets, latest
  }
}

/// The state of one entity, by kind.
public enum EntityState: Hashable, Sendable {
  case body(BodyState)
  case person(PersonState)
  case decision(DecisionState)
  case indicator(IndicatorState)
  /// A person's seat on a body (`membership:BODY/PERSON`), while they hold it.
  case membership(MembershipState)

  public var body: BodyState? { if case .body(let s) = self { s } else { nil } }
  public var person: PersonState? { if case .person(let s) = self { s } else { nil } }
  public var decision: DecisionState? { if case .decision(let s) = self { s } else { nil } }
  public var indicator: IndicatorState? { if case .indicator(let s) = self { s } else { nil } }
  public var membership: MembershipState? { if case .membership(let s) = self { s } else { nil } }
}

/// An error from the projections or the query module.
public enum ProjectionError: Error, CustomStringConvertible, Sendable, Equatable {
  /// A council event failed validation; `index` is its 0-based position in the batch.
  case invalid(index: Int, field: String, reason: String)
  /// The projections do not cover the whole log (a rebuild was interrupted).
  case incomplete(projectedThrough: UInt64, head: UInt64)
  /// A rebuild started at `since` (UTC) has replayed `projectedThrough` of `head` events.
  case rebuilding(since: String, projectedThrough: UInt64, head: UInt64)
  /// No entity with that id.
  case noSuchEntity(String)
  case unknownEntityKind(String)
  /// A stored snapshot row of `entity` is not a state (its bytes were damaged): the projections
  /// need a rebuild (the log itself is checked by `verify`).
  case damagedSnapshot(entity: String, reason: String)
  /// A backdated event, correction or retraction would leave a later event inconsistent.
  case wouldInvalidate(sequence: SequenceNumber, type: String, reason: String)
  /// The projections were written in another row layout (`found`; 1 for the JSON states of
  /// format 1) than this build reads: `policy-ledger rebuild` rewrites them from the log.
  case outdatedLayout(found: Int, expected: Int)

  public var description: String {
    switch self {
    case let .invalid(index, field, reason): "event \(index + 1), field \"\(field)\": \(reason)"
    case let .incomplete(through, head): "the projections cover events 1–\(through) of \(head) (an interrupted rebuild?): run `policy-ledger rebuild`"
    case let .rebuilding(since, through, head): "the projections are being rebuilt (started \(since), \(through) of \(head) events replayed): retry when the rebuild finishes, or run `policy-ledger rebuild` again if it was interrupted"
    case let .noSuchEntity(id): "no entity \(id)"
    case let .unknownEntityKind(kind): "unknown entity kind \"\(kind)\""
    case let .damagedSnapshot(entity, reason): "a stored state of \(entity) is damaged (\(reason)): run `policy-ledger verify`, then `policy-ledger rebuild` to replay the projections from the log"
    case let .wouldInvalidate(sequence, type, reason): "it would leave event \(sequence) (\(type)) inconsistent: \(reason)"
    case let .outdatedLayout(found, expected): "the projections are in row layout \(found), and this version reads layout \(expected): run `policy-ledger rebuild` to rewrite them from the log (the events themselves do not change)"
    }
  }
}
