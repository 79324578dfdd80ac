import ArgumentParser
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

extension PolicyLedger {
  /// `progress`: the slide 目標値・主要指標の進捗状況, worked out from the numbers.
  struct Progress: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Progress against the targets: baseline, latest value, target, change in the slide's terms, achieved or not.",
      discussion: """
        The target is derived from its rule (43,763 × 1.1 = 48,139.3), with the slide's own words beside it. \
        achieved: ✓ the latest value reaches the target (the slide's 注1 marks), ✗ not yet, — unknown.
        """)

    @OptionGroup var time: TimeOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
      let ledger = try ledger.openForReading()
      try Progress.report(ledger, time: time).emit(output.format)
    }

    static func report(_ ledger: CouncilLedger, time: TimeOptions) throws -> Report {
      let rows = try ledger.progress(asOf: try time.day(), knownAt: try time.knowledge())
      var table = TextTable([.init("mark"), .init("id"), .init("indicator"), .init("unit", csvOnly: true), .init("baseline", alignRight: true),
                             .init("latest", alignRight: true), .init("latest period"), .init("target"), .init("change"), .init("achieved")])
      for r in rows {
        table.append([Cell.optional(r.group), Cell(r.indicator), Cell(r.name.ja), Cell(r.unit.rawValue), Render.quantity(r.baseline?.value, r.unit),
                      Render.quantity(r.latest?.value, r.unit), Cell.period(r.latest?.period),
                      Render.targetCell(r.target, rule: r.targetRule, unit: r.unit), Cell.optional(r.change), Render.achievedMark(r.achieved)])
      }
      let reached = rows.filter { $0.achieved == true }.count
      let known = rows.filter { $0.achieved != nil }.count
      return Report(caption: [try time.caption() + ": \(Render.count(rows.count, "indicator")), \(reached) of \(known) with a latest value have reached their target."],
                    table: table, json: .array(rows.map(Render.progress)))
    }
  }
}
