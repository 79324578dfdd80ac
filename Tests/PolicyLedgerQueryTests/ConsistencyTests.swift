import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery
import PolicyLedgerTestSupport
import Testing

/// Runs `body`, which must be refused with a ``ProjectionError`` whose message contains `text`.
func expectRefusal(mentioning text: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
  do {
    try body()
    Issue.record("not refused (expected a message containing \(text))", sourceLocation: sourceLocation)
  } catch let error as ProjectionError {
    #expect(error.description.contains(text), "\(error)", sourceLocation: sourceLocation)
  } catch {
    Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
  }
}

/// A change of history (a backdated event, a correction, a retraction) must not leave a later
/// event inconsistent, and values must make sense in their unit.
@Suite("Consistency of history")
struct ConsistencyTests {
  func ledger(_ folder: TemporaryFolder) throws -> CouncilLedger {
    let ledger = try openTestLedger(folder)
    try ledger.record([
      .init(.bodyEstablished(.init(body: "panel", name: .init(ja: "専門調査会"), kind: .expertPanel)), effective: .month(2019, 4)!, actor: actor),
      .init(.memberAppointed(.init(body: "panel", person: "p", name: .init(ja: "P"), role: .expertMember, affiliations: ["A"])), effective: .month(2019, 4)!, actor: actor),
      .init(.memberRoleChanged(.init(body: "panel", person: "p", role: .chair)), effective: .day(2020, 10, 1)!, actor: actor),
      .init(.indicatorDefined(.init(indicator: "i", name: .init(ja: "指標"), unit: .people)), effective: .year(2016)!, actor: actor),
    ])
    return ledger
  }

  @Test("a backdated departure before a later role change is refused, naming the later event")
  func backdatedDeparture() throws {
    let folder = TemporaryFolder("consistency-departure")
    let ledger = try ledger(folder)
    let head = try ledger.log.head()
    #expect(throws: ProjectionError.invalid(index: 0, field: "effective", reason: "it would leave event 3 (member.role-changed) inconsistent: p would not be a member of panel on 2020-10-01")) {
      try ledger.record([.init(.memberDeparted(.init(body: "panel", person: "p")), effective: .day(2020, 6, 1)!, actor: actor)])
    }
    #expect(try ledger.log.head() == head)
    // After the role change, a departure is fine.
    try ledger.record([.init(.memberDeparted(.init(body: "panel", person: "p")), effective: .day(2020, 12, 1)!, actor: actor)])
    // A second, earlier departure would leave the first one departing a non-member.
    expectRefusal(mentioning: "(member.departed) inconsistent") {
      try ledger.record([.init(.memberDeparted(.init(body: "panel", person: "p")), effective: .day(2020, 11, 1)!, actor: actor)])
    }
  }

  @Test("a rename to the name the body already has is refused; a target that overflows a decimal is refused when defined or revised")
  func noOpRenameAndOverflowingTarget() throws {
    let folder = TemporaryFolder("consistency-rename")
    let ledger = try ledger(folder)
    expectRefusal(mentioning: "is already called 専門調査会") {
      try ledger.record([.init(.bodyRenamed(.init(body: "panel", name: .init(ja: "専門調査会"))), effective: .year(2021)!, actor: actor)])
    }
    try ledger.record([.init(.bodyRenamed(.init(body: "panel", name: .init(ja: "新専門調査会"))), effective: .year(2021)!, actor: actor)])
    let huge = LedgerDecimal("9999999999999999999.999999999999999999")!
    expectRefusal(mentioning: "does not fit in a decimal") {
      try ledger.record([.init(.indicatorDefined(.init(indicator: "big", name: .init(ja: "大"), unit: .count, baseline: .init(value: huge),
                                                        target: .init(rule: .relative, factor: LedgerDecimal("9999999999999999999")!))),
                               effective: .year(2021)!, actor: actor)])
    }
    try ledger.record([.init(.indicatorDefined(.init(indicator: "big", name: .init(ja: "大"), unit: .count, baseline: .init(value: huge))), effective: .year(2021)!, actor: actor)])
    expectRefusal(mentioning: "does not fit in a decimal") {
      try ledger.record([.init(.indicatorTargetRevised(.init(indicator: "big", target: .init(rule: .relative, factor: LedgerDecimal(2)))), effective: .year(2022)!, actor: actor)])
    }
  }

  @Test("a correction that moves an establishment after the body's activity is refused; so is retracting it")
  func movingEstablishment() throws {
    let folder = TemporaryFolder("consistency-move")
    let ledger = try ledger(folder)
    let establishment = try CouncilEvent.bodyEstablished(.init(body: "panel", name: .init(ja: "専門調査会"), kind: .expertPanel)).payload()
    #expect(throws: ProjectionError.invalid(index: 0, field: "corrects", reason: "event 2 (member.appointed, 2019-04) concerns body \"panel\" before 2022-01-01, when it would not yet exist; correct or retract that event first")) {
      try ledger.record([.init(.eventCorrected(.init(corrects: SequenceNumber(1), reason: "wrong date", payload: establishment, effective: .year(2022)!)), effective: .year(2022)!, actor: actor)])
    }
    expectRefusal(mentioning: "event 2 (member.appointed, 2019-04) concerns body \"panel\", which would then never have been established") {
      try ledger.record([.init(.eventRetracted(.init(retracts: SequenceNumber(1), reason: "never existed")), effective: .year(2022)!, actor: actor)])
    }
    // Moving it earlier is fine.
    try ledger.record([.init(.eventCorrected(.init(corrects: SequenceNumber(1), reason: "set up in March", payload: establishment, effective: .month(2019, 3)!)), effective: .month(2019, 3)!, actor: actor)])
    #expect(try ledger.body("panel", asOf: CalendarDay(year: 2019, month: 3, day: 15)) != nil)
    #expect(try ledger.checkProjections().isEmpty)
  }

  @Test("a body cannot be dissolved before things that happen in it")
  func dissolution() throws {
    let folder = TemporaryFolder("consistency-dissolve")
    let ledger = try ledger(folder)
    #expect(throws: ProjectionError.invalid(index: 0, field: "effective", reason: "event 3 (member.role-changed, 2020-10-01) concerns body \"panel\" after 2020-07-01; dissolve it after that, or correct that event first")) {
      try ledger.record([.init(.bodyDissolved(.init(body: "panel")), effective: .day(2020, 7, 1)!, actor: actor)])
    }
    // A body that still seats someone is not dissolved: they leave first (the same day is fine).
    #expect(throws: ProjectionError.invalid(index: 0, field: "effective", reason: "body \"panel\" would still have 1 member on 2021-03-31: P (p); record their departures (member.departed) on or before 2021-03-31 first")) {
      try ledger.record([.init(.bodyDissolved(.init(body: "panel")), effective: .day(2021, 3, 31)!, actor: actor)])
    }
    try ledger.record([
      .init(.memberDeparted(.init(body: "panel", person: "p")), effective: .day(2021, 3, 31)!, actor: actor),
      .init(.bodyDissolved(.init(body: "panel")), effective: .day(2021, 3, 31)!, actor: actor),
    ])
    #expect(try ledger.bodies(asOf: CalendarDay(year: 2021, month: 4, day: 1)).isEmpty)
    // Nor can a departure be moved after the dissolution.
    expectRefusal(mentioning: "body \"panel\" was dissolved on 2021-03-31 before 2021-04-02") {
      try ledger.record([.init(.memberDeparted(.init(body: "panel", person: "p")), effective: .day(2021, 4, 2)!, actor: actor)])
    }
  }

  @Test("counts are whole and never negative; money is never negative; percentages may be")
  func units() throws {
    let folder = TemporaryFolder("consistency-units")
    let ledger = try ledger(folder)
    for (value, reason) in [("-5", "a count in 人 cannot be negative (-5)"), ("12.5", "a count in 人 is a whole number (12.5)")] {
      #expect(throws: ProjectionError.invalid(index: 0, field: "value", reason: reason)) {
        try ledger.record([.init(.indicatorObserved(.init(indicator: "i", value: LedgerDecimal(value)!, unit: .people)), effective: .year(2020)!, actor: actor)])
      }
    }
    try ledger.record([.init(.indicatorObserved(.init(indicator: "i", value: LedgerDecimal("43763.0")!, unit: .people)), effective: .year(2020)!, actor: actor)])
    #expect(IndicatorUnit.percent.problem(with: LedgerDecimal("-0.1")!) == nil)
    #expect(IndicatorUnit.oku.problem(with: LedgerDecimal("-1")!) == "an amount in 億円 cannot be negative (-1)")
  }

  @Test("thousands separators only in groups of three")
  func commas() {
    #expect(LedgerDecimal(lenient: "43,763")?.description == "43763")
    #expect(LedgerDecimal(lenient: "1,234,567.5")?.description == "1234567.5")
    #expect(LedgerDecimal(lenient: "－１，０００")?.description == "-1000")
    for bad in ["24,7", "12,34", "1,,000", ",100", "100,", "1,000.5,0", "1234,567"] { #expect(LedgerDecimal(lenient: bad) == nil, "\(bad)") }
  }

  @Test("an export line keeps its sequence number: imported elsewhere it is refused, into an empty ledger it restores")
  func exportedSequences() throws {
    let source = TemporaryFolder("export-source")
    let a = try ledger(source)
    let fix = try CouncilEvent.memberAppointed(.init(body: "panel", person: "p", name: .init(ja: "P"), role: .expertMember, affiliations: ["B"])).payload()
    try a.record([.init(.eventCorrected(.init(corrects: SequenceNumber(2), reason: "affiliation", payload: fix)), effective: .month(2019, 4)!, actor: actor)])
    let lines = try a.log.events(in: 1...100).map { try NDJSON.exportLine($0) }
    let file = Array(lines.joined(separator: [0x0A]))
    let entries = try NDJSON.entries(from: file, defaultActor: "import")
    // Into a ledger that already holds an event: the numbers would shift, so nothing is imported.
    let other = TemporaryFolder("export-other")
    let b = try openTestLedger(other)
    try b.record([.init(.bodyEstablished(.init(body: "x", name: .init(ja: "X"), kind: .other)), effective: .year(2000)!, actor: actor)])
    expectRefusal(mentioning: "event 1, field \"seq\": this line was exported as event 1, but this ledger would record it as event 2") { try b.record(entries) }
    #expect(try b.log.head()?.sequence == SequenceNumber(1))
    // Into an empty ledger: the same events, the correction still names event 2.
    let empty = TemporaryFolder("export-empty")
    let c = try openTestLedger(empty)
    try c.record(entries)
    #expect(try c.members(of: "panel", asOf: CalendarDay(year: 2020, month: 1, day: 1)).first?.affiliations == ["B"])
    #expect(try c.log.events(in: 1...100).map(\.payload) == a.log.events(in: 1...100).map(\.payload))
  }

  @Test("a correction's payload is stored in the original type's canonical form")
  func correctionPayloadNormalised() throws {
    let folder = TemporaryFolder("consistency-canonical")
    let ledger = try ledger(folder)
    try ledger.record([.init(.indicatorObserved(.init(indicator: "i", value: LedgerDecimal("100")!, unit: .people)), effective: .year(2020)!, actor: actor)])
    let raw = try CanonicalValue.parse(#"{"indicator":"i","value":101,"unit":"人","period":"令和元年度"}"#)
    let recorded = try ledger.record([.init(.eventCorrected(.init(corrects: SequenceNumber(5), reason: "typo", payload: raw)), effective: .year(2020)!, actor: actor)])
    let stored = try #require(recorded.first?.payload["payload"])
    #expect(stored["value"] == .string("101"))
    #expect(stored["period"] == .string("FY2019"))
  }

  @Test("a correction that moves a departure before the appointment, or a reschedule before the schedule, is refused")
  func correctionsAreCheckedWhereTheyLand() throws {
    let folder = TemporaryFolder("consistency-corrections")
    let ledger = try ledger(folder)
    let departed = try ledger.record([.init(.memberDeparted(.init(body: "panel", person: "p")), effective: .day(2021, 6, 30)!, actor: actor)])
    let head = try ledger.log.head()
    let departure = try CouncilEvent.memberDeparted(.init(body: "panel", person: "p")).payload()
    expectRefusal(mentioning: "(member.departed) inconsistent: p would not be a member of panel on 2019-03-01") {
      try ledger.record([.init(.eventCorrected(.init(corrects: departed[0].sequence, reason: "date", payload: departure, effective: .day(2019, 3, 1)!)), effective: .day(2019, 3, 1)!, actor: actor)])
    }
    // Before the role change (2020-10-01) but after the appointment: the role change would be lost.
    expectRefusal(mentioning: "(member.role-changed) inconsistent") {
      try ledger.record([.init(.eventCorrected(.init(corrects: departed[0].sequence, reason: "date", payload: departure, effective: .day(2020, 6, 1)!)), effective: .day(2020, 6, 1)!, actor: actor)])
    }
    #expect(try ledger.log.head() == head)
    try ledger.record([
      .init(.decisionScheduled(.init(decision: "d", body: "panel", kind: .report, title: "報告", planned: .month(2020, 9)!)), effective: .day(2020, 5, 1)!, actor: actor),
      .init(.decisionRescheduled(.init(decision: "d", planned: .month(2020, 10)!)), effective: .day(2020, 8, 1)!, actor: actor),
    ])
    let reschedule = try CouncilEvent.decisionRescheduled(.init(decision: "d", planned: .month(2020, 10)!)).payload()
    let rescheduled = try #require(try ledger.log.head()).sequence
    expectRefusal(mentioning: "would not be scheduled on 2020-04-15") {
      try ledger.record([.init(.eventCorrected(.init(corrects: rescheduled, reason: "date", payload: reschedule, effective: .day(2020, 4, 15)!)), effective: .day(2020, 4, 15)!, actor: actor)])
    }
  }

  @Test("a decision's later steps concern its body: they show in its audit and hold back its dissolution")
  func decisionStepsConcernTheBody() throws {
    let folder = TemporaryFolder("consistency-decision-body")
    let ledger = try ledger(folder)
    try ledger.record([
      .init(.decisionScheduled(.init(decision: "d", body: "panel", kind: .report, title: "報告", planned: .month(2020, 9)!)), effective: .day(2020, 5, 1)!, actor: actor),
      .init(.decisionRescheduled(.init(decision: "d", planned: .month(2021, 1)!)), effective: .day(2020, 8, 1)!, actor: actor),
      .init(.decisionTaken(.init(decision: "d")), effective: .day(2021, 1, 20)!, actor: actor),
    ])
    let types = try ledger.audit(.body("panel")).map(\.event.type)
    #expect(types.filter { $0.hasPrefix("decision.") } == ["decision.scheduled", "decision.rescheduled", "decision.taken"])
    expectRefusal(mentioning: "after 2020-12-31") {
      try ledger.record([.init(.bodyDissolved(.init(body: "panel")), effective: .day(2020, 12, 31)!, actor: actor)])
    }
    #expect(try ledger.log.event(SequenceNumber(7)).payload["body"] == .string("panel"))
  }

  @Test("a dissolved body has no members; a parent cannot be dissolved before its working groups")
  func dissolvedBodies() throws {
    let folder = TemporaryFolder("consistency-dissolved")
    let ledger = try ledger(folder)
    try ledger.record([.init(.bodyEstablished(.init(body: "wg", name: .init(ja: "WG"), kind: .workingGroup, parent: "panel")), effective: .year(2020)!, actor: actor)])
    #expect(throws: ProjectionError.invalid(index: 0, field: "effective", reason: "working group \"wg\" under \"panel\" is still active on 2021-03-31; dissolve it first")) {
      try ledger.record([.init(.bodyDissolved(.init(body: "panel")), effective: .day(2021, 3, 31)!, actor: actor)])
    }
    try ledger.record([
      .init(.bodyDissolved(.init(body: "wg")), effective: .day(2021, 3, 1)!, actor: actor),
      .init(.memberDeparted(.init(body: "panel", person: "p")), effective: .day(2021, 3, 30)!, actor: actor),
      .init(.bodyDissolved(.init(body: "panel")), effective: .day(2021, 3, 31)!, actor: actor),
    ])
    #expect(try ledger.members(of: "panel", asOf: CalendarDay(year: 2021, month: 1, day: 1)).count == 1)
    #expect(try ledger.members(of: "panel", asOf: CalendarDay(year: 2021, month: 4, day: 1)).isEmpty)
  }
}
