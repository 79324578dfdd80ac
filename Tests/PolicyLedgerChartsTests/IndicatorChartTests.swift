import Foundation
@testable import PolicyLedgerCharts
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery
import PolicyLedgerTestSupport
import Testing

@Suite("SVG charts of indicators")
struct IndicatorChartTests {
  let actor = "事務局"

  /// The golden chart of the seed's ❶ indicator: `docs/young-faculty.svg`. Regenerate it with
  /// `UPDATE_GOLDEN=1 swift test --filter IndicatorChartTests` after a deliberate change, and look at it.
  @Test("the seed's ❶ chart is byte for byte docs/young-faculty.svg, and drawing it twice gives the same bytes")
  func goldenYoungFaculty() throws {
    let folder = TemporaryFolder("chart-golden")
    let ledger = try openTestLedger(folder)
    try importSeed(into: ledger)
    let chart = try IndicatorChart(ledger: ledger, indicator: "young-faculty", asOf: day("2020-12-31"))
    let svg = chart.svg()
    #expect(svg == (try IndicatorChart(ledger: ledger, indicator: "young-faculty", asOf: day("2020-12-31")).svg()))
    let path = repositoryRoot + "/docs/young-faculty.svg"
    if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
      try Data(svg.utf8).write(to: URL(fileURLWithPath: path))
    }
    let golden = try String(contentsOfFile: path, encoding: .utf8)
    #expect(svg == golden, "the chart differs from docs/young-faculty.svg; if the change is meant, regenerate it (UPDATE_GOLDEN=1)")

    // What it must show, read from the SVG itself.
    #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
    #expect(!svg.contains("<script"))
    for piece in ["❶ 40歳未満の大学本務教員数", "値（人）", "基準値 43,763人", "目標値 48,139.3人以上（2020年度）", "43,153人", "令和2年12月31日現在"] {
      #expect(svg.contains(piece), "missing \(piece)")
    }
  }

  /// A ledger with a panel and the young-faculty indicator, as SeedQueryTests builds it.
  func indicatorLedger(_ folder: TemporaryFolder, target: TargetRule) throws -> CouncilLedger {
    let ledger = try openTestLedger(folder)
    try ledger.record([
      .init(.bodyEstablished(.init(body: "csti", name: .init(ja: "総合科学技術・イノベーション会議"), kind: .council)), effective: .month(2014, 5)!, actor: actor),
      .init(.indicatorDefined(.init(indicator: "share", name: .init(ja: "若手<b>比率</b> & \"引用\""), unit: .percent,
                                    reference: .init(value: LedgerDecimal("24.7")!, period: try ObservedPeriod(parsing: "FY2013")),
                                    target: target, changeTerms: .wari)), effective: .month(2016, 1)!, actor: actor),
    ])
    return ledger
  }

  @Test("a corrected value is drawn with the value it replaced; a retracted one is struck, or hidden; known-at shows the past")
  func correctionsAndRetractions() throws {
    let folder = TemporaryFolder("chart-amend")
    let ledger = try indicatorLedger(folder, target: TargetRule(rule: .absolute, value: LedgerDecimal("30")!, atLeast: true, eventually: true))
    func observe(_ value: String, _ period: String) throws -> SequenceNumber {
      try ledger.record([.init(.indicatorObserved(.init(indicator: "share", value: LedgerDecimal(value)!, unit: .percent, period: try ObservedPeriod(parsing: period))),
                               effective: .month(2020, 6)!, actor: actor)])[0].sequence
    }
    let first = try observe("23.1", "FY2016")
    let typo = try observe("32.4", "FY2018")
    let wrong = try observe("99.9", "FY2019")
    let beforeAmendments = try ledger.log.head()!.sequence
    let replacement = try CouncilEvent.indicatorObserved(.init(indicator: "share", value: LedgerDecimal("23.4")!, unit: .percent, period: try ObservedPeriod(parsing: "FY2018"))).payload()
    try ledger.record([.init(.eventCorrected(.init(corrects: typo, reason: "digits swapped", payload: replacement)), effective: .month(2020, 7)!, actor: "auditor")])
    try ledger.record([.init(.eventRetracted(.init(retracts: wrong, reason: "not this indicator")), effective: .month(2020, 7)!, actor: "auditor")])

    let chart = try IndicatorChart(ledger: ledger, indicator: "share", asOf: nil)
    #expect(chart.isFiscal)
    #expect(chart.points.count == 3)
    #expect(chart.points.first { $0.sequence == typo.rawValue }?.status == .corrected(replaced: LedgerDecimal("32.4")!, by: typo.rawValue + 2, reason: "digits swapped"))
    let svg = chart.svg()
    // The corrected value in force, with what it replaced.
    #expect(svg.contains("23.4%（訂正前 32.4）"))
    #expect(svg.contains("data-replaced=\"32.4\""))
    #expect(svg.contains("訂正前 32.4%（事象 \(typo.rawValue + 2) で訂正：digits swapped）"))
    // The retracted value struck, with its reason.
    #expect(svg.contains("data-retracted=\"\(wrong.rawValue + 2)\""))
    #expect(svg.split(separator: "\n").contains { $0.contains("text-decoration=\"line-through\"") && $0.hasSuffix(">99.9%</text>") })
    // The target: eventually, at least.
    #expect(svg.contains("目標値 将来的に30%以上"))
    // Fiscal years on the time axis.
    #expect(svg.contains(">2018年度</text>"))
    #expect(!svg.contains(">2018年</text>"))
    // The name is escaped: the markup shows as text.
    #expect(svg.contains("若手&lt;b&gt;比率&lt;/b&gt; &amp; &quot;引用&quot;"))
    #expect(!svg.contains("<b>"))

    var hidden = chart
    hidden.showsRetracted = false
    let hiddenSVG = hidden.svg()
    #expect(!hiddenSVG.contains("99.9%"))
    #expect(hiddenSVG.contains("取り消された値（非表示）"))

    // As known before the amendments: the typo in force, no correction, no strike.
    let past = try IndicatorChart(ledger: ledger, indicator: "share", asOf: nil, knownAt: .through(beforeAmendments))
    #expect(past.points.allSatisfy { $0.status == .inForce })
    let pastSVG = past.svg()
    #expect(pastSVG.contains(">32.4%</text>"))
    #expect(!pastSVG.contains("data-replaced") && !pastSVG.contains("data-retracted"))
    #expect(pastSVG.contains("事象 \(beforeAmendments.rawValue) までの記録"))

    // As of a date before the later values took effect: only what was in force then.
    let early = try IndicatorChart(ledger: ledger, indicator: "share", asOf: day("2020-06-01"))
    #expect(early.points.map(\.sequence) == [first.rawValue, typo.rawValue, wrong.rawValue])
    let none = try IndicatorChart(ledger: ledger, indicator: "share", asOf: day("2019-01-01"))
    #expect(none.points.isEmpty)
    #expect(none.svg().contains("この時点で記録された値はありません"))
  }

  @Test("an approximate target shows 約; an unknown indicator is an error")
  func approximateTarget() throws {
    let folder = TemporaryFolder("chart-approx")
    let ledger = try indicatorLedger(folder, target: TargetRule(rule: .absolute, value: LedgerDecimal("15000")!, atLeast: false, approximate: true))
    let svg = try IndicatorChart(ledger: ledger, indicator: "share", asOf: nil).svg()
    #expect(svg.contains("目標値 約15,000%"))
    #expect(!svg.contains("15,000%以上"))
    #expect(throws: ProjectionError.self) { try IndicatorChart(ledger: ledger, indicator: "no-such", asOf: nil) }
  }

  @Test("value axis ticks are round and cover every value")
  func ticks() {
    let (low, high, step) = IndicatorChart.valueScale(values: [43153, 43763, 48139.3])
    #expect(low <= 43153 && high >= 48139.3)
    #expect([1.0, 2, 5].contains(step / pow(10, (log10(step)).rounded(.down))))
    #expect(IndicatorChart.tickLabel(44000, step: 1000) == "44,000")
    #expect(IndicatorChart.tickLabel(23.5, step: 0.5) == "23.5")
  }
}

@Suite("membership timelines")
struct MembershipTimelineTests {
  @Test("appointments, a role change and a departure become stretches per person; known-at shows the past; names are escaped")
  func stretches() throws {
    let folder = TemporaryFolder("timeline")
    let ledger = try openTestLedger(folder)
    let actor = "事務局"
    try ledger.record([
      .init(.bodyEstablished(.init(body: "csti", name: .init(ja: "総合科学技術・イノベーション会議"), kind: .council)), effective: .month(2014, 5)!, actor: actor),
      .init(.bodyEstablished(.init(body: "panel", name: .init(ja: "基本計画専門調査会"), kind: .expertPanel, parent: "csti")), effective: .month(2019, 4)!, actor: actor),
      .init(.memberAppointed(.init(body: "panel", person: "a", name: .init(ja: "上山 隆大"), role: .chair, affiliations: ["議員"])), effective: .month(2019, 4)!, actor: actor),
      .init(.memberAppointed(.init(body: "panel", person: "b", name: .init(ja: "<b>安宅</b>"), role: .expertMember, affiliations: ["大学"])), effective: .month(2019, 4)!, actor: actor),
    ])
    let beforeChanges = try ledger.log.head()!.sequence
    try ledger.record([.init(.memberRoleChanged(.init(body: "panel", person: "b", role: .advisor)), effective: .month(2020, 1)!, actor: actor)])
    try ledger.record([.init(.memberDeparted(.init(body: "panel", person: "a")), effective: .month(2020, 6)!, actor: actor)])

    let timeline = try MembershipTimeline(ledger: ledger, body: "panel", end: day("2020-12-31"))
    #expect(timeline.seats.map(\.person) == ["a", "b"])
    #expect(timeline.seats[0].stretches == [.init(role: .chair, from: day("2019-04-01"), until: day("2020-06-01"))])
    #expect(timeline.seats[1].stretches == [.init(role: .expertMember, from: day("2019-04-01"), until: day("2020-01-01")),
                                            .init(role: .advisor, from: day("2020-01-01"), until: nil)])
    let svg = timeline.svg()
    #expect(svg == (try MembershipTimeline(ledger: ledger, body: "panel", end: day("2020-12-31")).svg()))
    #expect(svg.contains("基本計画専門調査会の委員構成の推移"))
    #expect(svg.contains("&lt;b&gt;安宅&lt;/b&gt;") && !svg.contains("<b>"))
    #expect(svg.components(separatedBy: "data-role=").count - 1 == 3)
    #expect(svg.contains(">2020年</text>"))

    let past = try MembershipTimeline(ledger: ledger, body: "panel", end: day("2020-12-31"), knownAt: .through(beforeChanges))
    #expect(past.seats.map(\.stretches.count) == [1, 1])
    #expect(past.seats.allSatisfy { $0.stretches[0].until == nil })
    #expect(throws: ProjectionError.self) { try MembershipTimeline(ledger: ledger, body: "no-such", end: day("2020-12-31")) }
  }
}
