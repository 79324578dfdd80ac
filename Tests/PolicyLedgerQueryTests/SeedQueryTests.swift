import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery
import PolicyLedgerTestSupport
import Testing

let actor = "secretariat"

@Suite("Queries on the seed's real data")
struct SeedQueryTests {
  @Test("the panel's membership on 2020-03-26: 19 members in the slide's order")
  func panelMembership() throws {
    let folder = TemporaryFolder("seed-members")
    let ledger = try openTestLedger(folder)
    try importSeed(into: ledger)
    let members = try ledger.members(of: "basic-plan-panel", asOf: day("2020-03-26"))
    #expect(members.count == 19)
    #expect(members.first?.name.ja == "上山 隆大")
    #expect(members.first?.role == .chair)
    #expect(members.filter { $0.role == .executiveMember }.count == 7)
    #expect(members.filter { $0.role == .expertMember }.count == 10)
    #expect(members.filter { $0.role == .advisor }.map(\.name.ja) == ["久能 祐子"])
    let ataka = try #require(members.first { $0.name.ja == "安宅 和人" })
    #expect(ataka.affiliations == ["慶應義塾大学環境情報学部教授", "ヤフー株式会社チーフストラテジーオフィサー"])
    // Ids that cannot exist are simply not found (never a crash).
    #expect(try ledger.body("Not An Id", asOf: nil) == nil)
    #expect(throws: ProjectionError.noSuchEntity("body:../x")) { try ledger.members(of: "../x", asOf: nil) }
    #expect(throws: ProjectionError.noSuchEntity("indicator:")) { try ledger.indicatorHistory("") }
    // Before the panel was set up (April 2019) it did not exist.
    #expect(throws: ProjectionError.noSuchEntity("body:basic-plan-panel on 2019-03-31")) {
      try ledger.members(of: "basic-plan-panel", asOf: day("2019-03-31"))
    }
  }

  @Test("a rename seen by as-of: CSTP before May 2014, CSTI after")
  func rename() throws {
    let folder = TemporaryFolder("seed-rename")
    let ledger = try openTestLedger(folder)
    try importSeed(into: ledger)
    #expect(try ledger.body("csti", asOf: day("2014-04-30"))?.name.ja == "総合科学技術会議")
    #expect(try ledger.body("csti", asOf: day("2014-05-01"))?.name.ja == "総合科学技術・イノベーション会議")
    #expect(try ledger.body("csti", asOf: day("2000-12-31")) == nil)
    let tree = try ledger.bodyTree(asOf: day("2020-07-01"))
    let csti = try #require(tree.first { $0.body.id == "csti" })
    #expect(csti.children.map(\.body.id).contains("basic-plan-panel"))
  }

  @Test("derived targets and achieved flags reproduce the slide's 注1 from the numbers")
  func progress() throws {
    let folder = TemporaryFolder("seed-progress")
    let ledger = try openTestLedger(folder)
    try importSeed(into: ledger)
    let rows = try ledger.progress(asOf: day("2020-12-31"))
    let slide = rows.filter { $0.targetPeriod?.description == "FY2020" || $0.targetRule?.eventually == true }
    #expect(slide.count == 19)
    func row(_ latest: String) -> ProgressRow? { slide.first { $0.latest?.value.description == latest } }
    let young = try #require(row("43153"))
    #expect(young.target?.description == "48139.3")
    #expect(young.achieved == false)
    #expect(young.change == "0.1割減少")
    #expect(row("11083")?.change == "9.2%増加")
    #expect(row("11083")?.target?.description == "12180.0")
    #expect(row("604")?.change == "0.9倍")
    #expect(row("882")?.change == "9.5割増加")
    #expect(row("882")?.achieved == true)
    #expect(row("33")?.change == "1.1倍")
    #expect(row("17002")?.change == "7.3割増加")
    #expect(row("17002")?.achieved == true)
    // ❷: reached in 理学系/工学系/農学系 研究開発法人 and 医歯薬 大学等 only.
    let achievedLatest = Set(slide.filter { $0.achieved == true }.compactMap { $0.latest?.value.description })
    #expect(achievedLatest == ["882", "17002", "24.8", "17.8", "35.2", "33.1"])
  }

  @Test("every projection equals a fresh replay after the seed import")
  func projectionsMatchReplay() throws {
    let folder = TemporaryFolder("seed-check")
    let ledger = try openTestLedger(folder)
    try importSeed(into: ledger)
    #expect(try ledger.checkProjections().isEmpty)
    let before = try ledger.state(asOf: day("2020-12-31"))
    let replayed = try ledger.rebuildProjections()
    #expect(replayed == (try ledger.log.head()?.sequence.rawValue))
    #expect(try ledger.state(asOf: day("2020-12-31")) == before)
    #expect(try ledger.log.verify().isValid)
  }
}

@Suite("Corrections, backdating and the two clocks")
struct BitemporalTests {
  func panelLedger(_ folder: TemporaryFolder) throws -> CouncilLedger {
    let ledger = try openTestLedger(folder)
    try ledger.record([
      .init(.bodyEstablished(.init(body: "csti", name: .init(ja: "総合科学技術・イノベーション会議"), kind: .council)), effective: .month(2014, 5)!, actor: actor),
      .init(.bodyEstablished(.init(body: "panel", name: .init(ja: "基本計画専門調査会"), kind: .expertPanel, parent: "csti")), effective: .month(2019, 4)!, actor: actor),
      .init(.indicatorDefined(.init(indicator: "young", name: .init(ja: "40歳未満の大学本務教員数"), unit: .people,
                                    baseline: .init(value: LedgerDecimal("43763")!), target: .init(rule: .relative, factor: LedgerDecimal("1.1")!),
                                    targetPeriod: try ObservedPeriod(parsing: "FY2020"), changeTerms: .wari)), effective: .month(2016, 1)!, actor: actor),
    ])
    return ledger
  }

  @Test("a correction and a backdated value, seen through as-of and known-at")
  func correctionAndBackdate() throws {
    let folder = TemporaryFolder("bitemporal")
    let ledger = try panelLedger(folder)
    let first = try ledger.record([.init(.indicatorObserved(.init(indicator: "young", value: LedgerDecimal("43135")!, unit: .people, period: try ObservedPeriod(parsing: "2019"))), effective: .month(2020, 6)!, actor: actor, source: "slide")])
    let typoKnown = try ledger.log.head()!.sequence
    // The value was mistyped: correct it.
    let replacement = try CouncilEvent.indicatorObserved(.init(indicator: "young", value: LedgerDecimal("43153")!, unit: .people, period: try ObservedPeriod(parsing: "2019"))).payload()
    try ledger.record([.init(.eventCorrected(.init(corrects: first[0].sequence, reason: "typo: 43,153 on the slide", payload: replacement)), effective: .month(2020, 6)!, actor: "auditor")])
    let corrected = try ledger.log.head()!.sequence
    // A value for an earlier period, reported in 2018 but recorded only now (backdated).
    try ledger.record([.init(.indicatorObserved(.init(indicator: "young", value: LedgerDecimal("43500")!, unit: .people, period: try ObservedPeriod(parsing: "2017"))), effective: .month(2018, 3)!, actor: actor)])

    // As of mid-2018, today: the backdated value.
    #expect(try ledger.progress(asOf: day("2018-06-30")).first?.latest?.value.description == "43500")
    // As of mid-2018, as known before the backdated event: nothing yet.
    #expect(try ledger.progress(asOf: day("2018-06-30"), knownAt: .through(corrected)).first?.latest == nil)
    // As of 2020-12-31: the corrected value, with its correction note.
    let now = try #require(try ledger.progress(asOf: day("2020-12-31")).first?.latest)
    #expect(now.value.description == "43153")
    #expect(now.correction?.reason == "typo: 43,153 on the slide")
    #expect(now.correction?.actor == "auditor")
    // As known before the correction: the typo.
    #expect(try ledger.progress(asOf: day("2020-12-31"), knownAt: .through(typoKnown)).first?.latest?.value.description == "43135")
    // Known-at by moment: the clock steps one second per event from 2026-01-01T00:00:00Z.
    let typoMoment = try ledger.log.event(typoKnown).recordedAt
    #expect(try ledger.progress(asOf: day("2020-12-31"), knownAt: .moment(typoMoment)).first?.latest?.value.description == "43135")
    // History lists both values with their amendments.
    let history = try ledger.indicatorHistory("young")
    #expect(history.entries.map(\.observed.value.description) == ["43135", "43500"])
    #expect(history.entries[0].status == .corrected(by: corrected))
    #expect(history.entries[0].current?.value.description == "43153")
    #expect(history.indicator.latest?.value.description == "43153")
    #expect(try ledger.checkProjections().isEmpty)
  }

  @Test("a retraction: the original stays in the log, state ignores it from then on")
  func retraction() throws {
    let folder = TemporaryFolder("retract")
    let ledger = try panelLedger(folder)
    let appointed = try ledger.record([.init(.memberAppointed(.init(body: "panel", person: "kuno-yuko", name: .init(ja: "久能 祐子"), role: .advisor, affiliations: ["京都大学"])), effective: .month(2019, 4)!, actor: actor)])
    let before = try ledger.log.head()!.sequence
    try ledger.record([.init(.eventRetracted(.init(retracts: appointed[0].sequence, reason: "recorded for the wrong body")), effective: .month(2019, 4)!, actor: actor)])
    #expect(try ledger.members(of: "panel", asOf: day("2020-01-01")).isEmpty)
    #expect(try ledger.members(of: "panel", asOf: day("2020-01-01"), knownAt: .through(before)).map(\.person) == ["kuno-yuko"])
    #expect(try ledger.log.event(appointed[0].sequence).type == "member.appointed")
    let trail = try ledger.audit(.body("panel"))
    #expect(trail.first { $0.event.sequence == appointed[0].sequence }?.status == .retracted(by: before.next))
    #expect(throws: ProjectionError.invalid(index: 0, field: "retracts", reason: "event \(appointed[0].sequence) was retracted by event \(before.next)")) {
      try ledger.record([.init(.eventRetracted(.init(retracts: appointed[0].sequence, reason: "again")), effective: .month(2019, 4)!, actor: actor)])
    }
    #expect(try ledger.checkProjections().isEmpty)
  }

  @Test("validation names the field and writes nothing")
  func validation() throws {
    let folder = TemporaryFolder("validate")
    let ledger = try panelLedger(folder)
    let head = try ledger.log.head()
    let appoint = CouncilLedger.Entry(.memberAppointed(.init(body: "panel", person: "p", name: .init(ja: "P"), role: .expertMember, affiliations: ["X"])), effective: .month(2019, 5)!, actor: actor)
    #expect(throws: ProjectionError.invalid(index: 1, field: "person", reason: "\"p\" is not a member of \"panel\" on 2019-04-01 (not appointed yet, or already departed)")) {
      try ledger.record([appoint, .init(.memberDeparted(.init(body: "panel", person: "p")), effective: .month(2019, 4)!, actor: actor)])
    }
    #expect(throws: ProjectionError.invalid(index: 0, field: "body", reason: "there is no body \"nope\"")) {
      try ledger.record([.init(.bodyRenamed(.init(body: "nope", name: .init(ja: "x"))), effective: .year(2020)!, actor: actor)])
    }
    #expect(throws: ProjectionError.invalid(index: 0, field: "body", reason: "body \"panel\" was not yet established on 2019-03-01 (its establishment is effective later)")) {
      try ledger.record([.init(.memberAppointed(.init(body: "panel", person: "p", name: .init(ja: "P"), role: .expertMember, affiliations: ["X"])), effective: .month(2019, 3)!, actor: actor)])
    }
    #expect(throws: ProjectionError.invalid(index: 0, field: "unit", reason: "indicator \"young\" is measured in 人, not %")) {
      try ledger.record([.init(.indicatorObserved(.init(indicator: "young", value: LedgerDecimal("1")!, unit: .percent)), effective: .year(2020)!, actor: actor)])
    }
    #expect(throws: ProjectionError.invalid(index: 0, field: "retracts", reason: "there is no event 999 to amend (the ledger and the events before it in this batch are events 1–3)")) {
      try ledger.record([.init(.eventRetracted(.init(retracts: SequenceNumber(999), reason: "x")), effective: .year(2020)!, actor: actor)])
    }
    #expect(try ledger.log.head() == head)
    // A dry run validates and returns what would be recorded, writing nothing.
    let dry = try ledger.record([appoint], dryRun: true)
    #expect(dry.map(\.sequence.rawValue) == [4])
    #expect(try ledger.log.head() == head)
    #expect(try ledger.checkProjections().isEmpty)
  }
}

@Suite("Streaming reads")
struct StreamingReadTests {
  @Test("forEachEntity hands over the same entities as state(asOf:); the streamed history equals the collected one")
  func streamingEqualsCollected() throws {
    let folder = TemporaryFolder("streaming")
    let ledger = try openTestLedger(folder)
    try importSeed(into: ledger)
    let day = CalendarDay(year: 2020, month: 6, day: 30)!
    let state = try ledger.state(asOf: day)
    var bodies: [BodyState] = [], indicators: [IndicatorState] = [], seats: [MembershipState] = []
    try ledger.forEachEntity(ofKind: "body", asOf: day) { bodies.append($0.body!) }
    try ledger.forEachEntity(ofKind: "indicator", asOf: day) { indicators.append($0.indicator!) }
    try ledger.forEachEntity(ofKind: "membership", asOf: day) { seats.append($0.membership!) }
    #expect(bodies == state.bodies)
    #expect(indicators == state.indicators)
    #expect(seats.count == state.bodies.map(\.members.count).reduce(0, +))
    var streamed: [IndicatorHistoryEntry] = []
    try ledger.indicatorHistory("young-faculty") { streamed.append($0) }
    #expect(streamed == (try ledger.indicatorHistory("young-faculty")).entries)
    #expect(!streamed.isEmpty)
  }
}
