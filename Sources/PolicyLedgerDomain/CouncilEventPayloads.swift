public import PolicyLedgerEventLog

// The typed payloads of the council's events, one struct per event type (split from
// CouncilEvent.swift, which holds the enum over them, their coding and their checks).

/// `body.established` v1: a body (会議体) is set up.
public struct BodyEstablished: Codable, Hashable, Sendable {
  public var body: String
  public var name: LocalizedName
  public var kind: BodyKind
  /// The body it sits under (a panel's council, a working group's panel).
  public var parent: String?
  public var mandate: String?
  public init(body: String, name: LocalizedName, kind: BodyKind, parent: String? = nil, mandate: String? = nil) {
    self.body = body; self.name = name; self.kind = kind; self.parent = parent; self.mandate = mandate
  }
}

/// `body.renamed` v1 (CSTP → CSTI, May 2014).
public struct BodyRenamed: Codable, Hashable, Sendable {
  public var body: String
  public var name: LocalizedName
  public init(body: String, name: LocalizedName) { self.body = body; self.name = name }
}

/// `body.dissolved` v1.
public struct BodyDissolved: Codable, Hashable, Sendable {
  public var body: String
  public var reason: String?
  public init(body: String, reason: String? = nil) { self.body = body; self.reason = reason }
}

/// `decision.scheduled` v1: a decision is planned for a date (the schedule slide's dates).
/// The event's effective date is when the schedule was set; `planned` is the date planned.
public struct DecisionScheduled: Codable, Hashable, Sendable {
  public var decision: String
  public var body: String
  public var kind: DecisionKind
  public var title: String
  public var document: String?
  public var planned: EffectiveDate
  public init(decision: String, body: String, kind: DecisionKind, title: String, document: String? = nil, planned: EffectiveDate) {
    self.decision = decision; self.body = body; self.kind = kind; self.title = title; self.document = document; self.planned = planned
  }
}

/// `decision.rescheduled` v1: a planned date moves (スケジュール見直し).
public struct DecisionRescheduled: Codable, Hashable, Sendable {
  public var decision: String
  public var planned: EffectiveDate
  public var reason: String?
  public init(decision: String, planned: EffectiveDate, reason: String? = nil) { self.decision = decision; self.planned = planned; self.reason = reason }
}

/// `decision.taken` v1: the decision happened; the event's effective date is the actual date.
/// `body`, `kind` and `title` are required unless the decision was scheduled before.
public struct DecisionTaken: Codable, Hashable, Sendable {
  public var decision: String
  public var body: String?
  public var kind: DecisionKind?
  public var title: String?
  public var document: String?
  public init(decision: String, body: String? = nil, kind: DecisionKind? = nil, title: String? = nil, document: String? = nil) {
    self.decision = decision; self.body = body; self.kind = kind; self.title = title; self.document = document
  }
}

/// `indicator.defined` v1: an indicator series (目標値・主要指標) with its baseline, reference
/// value and target.
public struct IndicatorDefined: Codable, Hashable, Sendable {
  public var indicator: String
  public var name: LocalizedName
  public var unit: IndicatorUnit
  /// The slide's mark, such as ❶.
  public var group: String?
  /// The indicator this one is a sub-indicator of.
  public var parent: String?
  /// Breakdown dimensions, such as `sector: 大学等`, `field: 理学系`.
  public var breakdown: [String: String]?
  /// 基準年値.
  public var baseline: PeriodValue?
  /// 参考値 (the 2013 figure, per the slide's 注2).
  public var reference: PeriodValue?
  public var target: TargetRule?
  /// 目標値の年度, such as FY2020.
  public var targetPeriod: ObservedPeriod?
  public var changeTerms: ChangeTerms?
  public init(indicator: String, name: LocalizedName, unit: IndicatorUnit, group: String? = nil, parent: String? = nil, breakdown: [String: String]? = nil, baseline: PeriodValue? = nil, reference: PeriodValue? = nil, target: TargetRule? = nil, targetPeriod: ObservedPeriod? = nil, changeTerms: ChangeTerms? = nil) {
    self.indicator = indicator; self.name = name; self.unit = unit; self.group = group; self.parent = parent
    self.breakdown = breakdown; self.baseline = baseline; self.reference = reference; self.target = target
    self.targetPeriod = targetPeriod; self.changeTerms = changeTerms
  }
}

/// `indicator.observed` v1: a value of an indicator (最新値), for the period it describes.
public struct IndicatorObserved: Codable, Hashable, Sendable {
  public var indicator: String
  public var value: LedgerDecimal
  /// Must equal the indicator's unit.
  public var unit: IndicatorUnit
  public var period: ObservedPeriod?
  public var note: String?
  public init(indicator: String, value: LedgerDecimal, unit: IndicatorUnit, period: ObservedPeriod? = nil, note: String? = nil) {
    self.indicator = indicator; self.value = value; self.unit = unit; self.period = period; self.note = note
  }
}

/// `indicator.target-revised` v1.
public struct IndicatorTargetRevised: Codable, Hashable, Sendable {
  public var indicator: String
  public var target: TargetRule
  public var targetPeriod: ObservedPeriod?
  public init(indicator: String, target: TargetRule, targetPeriod: ObservedPeriod? = nil) { self.indicator = indicator; self.target = target; self.targetPeriod = targetPeriod }
}

/// `indicator.retired` v1.
public struct IndicatorRetired: Codable, Hashable, Sendable {
  public var indicator: String
  public var reason: String?
  public init(indicator: String, reason: String? = nil) { self.indicator = indicator; self.reason = reason }
}

/// `member.appointed` v1: a person joins a body.
public struct MemberAppointed: Codable, Hashable, Sendable {
  public var body: String
  public var person: String
  public var name: LocalizedName
  public var role: MemberRole
  /// One or more affiliations, as printed.
  public var affiliations: [String]
  /// `true` when the person is already recorded under another name and this appointment records
  /// that their name changed (omitted otherwise, so events written before keep their bytes).
  /// Without it, appointing a known person id under another name is refused.
  public var renamed: Bool?
  public init(body: String, person: String, name: LocalizedName, role: MemberRole, affiliations: [String], renamed: Bool? = nil) {
    self.body = body; self.person = person; self.name = name; self.role = role; self.affiliations = affiliations
    self.renamed = renamed
  }
}

/// `member.role-changed` v1.
public struct MemberRoleChanged: Codable, Hashable, Sendable {
  public var body: String
  public var person: String
  public var role: MemberRole
  public init(body: String, person: String, role: MemberRole) { self.body = body; self.person = person; self.role = role }
}

/// `member.affiliation-changed` v1.
public struct MemberAffiliationChanged: Codable, Hashable, Sendable {
  public var body: String
  public var person: String
  public var affiliations: [String]
  public init(body: String, person: String, affiliations: [String]) { self.body = body; self.person = person; self.affiliations = affiliations }
}

/// `member.departed` v1.
public struct MemberDeparted: Codable, Hashable, Sendable {
  public var body: String
  public var person: String
  public var reason: String?
  public init(body: String, person: String, reason: String? = nil) { self.body = body; self.person = person; self.reason = reason }
}

/// `event.corrected` v1: replaces the payload (and optionally the effective date) of an earlier
/// event. The original stays in the log; state honours the latest correction.
public struct EventCorrected: Codable, Hashable, Sendable {
  public var corrects: SequenceNumber
  public var reason: String
  /// The replacement payload, of the original event's type.
  public var payload: CanonicalValue
  /// A corrected effective date, when the date itself was wrong.
  public var effective: EffectiveDate?
  public init(corrects: SequenceNumber, reason: String, payload: CanonicalValue, effective: EffectiveDate? = nil) {
    self.corrects = corrects; self.reason = reason; self.payload = payload; self.effective = effective
  }
}

/// `event.retracted` v1: withdraws an earlier event. The original stays in the log; state
/// ignores it from the retraction's recording on.
public struct EventRetracted: Codable, Hashable, Sendable {
  public var retracts: SequenceNumber
  public var reason: String
  public init(retracts: SequenceNumber, reason: String) { self.retracts = retracts; self.reason = reason }
}
