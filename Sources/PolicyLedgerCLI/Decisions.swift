import ArgumentParser
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

extension PolicyLedger {
  /// `decisions`: the schedule and what was decided.
  struct Decisions: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Decisions (諮問, 答申, 閣議決定, meetings…) with their planned dates, earlier planned dates and actual dates.",
      discussion: """
        --from and --to keep the decisions whose actual or planned date (any of them) falls in the range. \
        --as-of shows the schedule as it stood on that date (valid time).
        """)

    @Option(help: ArgumentHelp("Only decisions dated on or after this date.", valueName: "date"))
    var from: Checked<EffectiveDate>?
    @Option(help: ArgumentHelp("Only decisions dated on or before this date.", valueName: "date"))
    var to: Checked<EffectiveDate>?
    @OptionGroup var time: TimeOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func validate() throws {
      let from = try self.from?.value("--from")
      let to = try self.to?.value("--to")
      if let from, let to, to.lastDay < from.firstDay { throw ValidationError("--to (\(to)) is before --from (\(from)).") }
    }

    func run() throws {
      let ledger = try ledger.openForReading()
      let from = try self.from?.value("--from").firstDay
      let to = try self.to?.value("--to").lastDay
      func inRange(_ d: EffectiveDate?) -> Bool {
        guard let d else { return false }
        return (from.map { d.lastDay >= $0 } ?? true) && (to.map { d.firstDay <= $0 } ?? true)
      }
      let decisions = try ledger.state(asOf: try time.day(), knownAt: try time.knowledge()).decisions
        .filter { (from == nil && to == nil) || inRange($0.taken) || inRange($0.planned) || $0.schedule.contains { inRange($0.planned) } }
        .sorted { (($0.taken ?? $0.planned)?.firstDay.daysSinceEpoch ?? 0, $0.id) < (($1.taken ?? $1.planned)?.firstDay.daysSinceEpoch ?? 0, $1.id) }
      var table = TextTable(["id", "kind", "title", "planned", "earlier planned", "taken", "body"])
      for d in decisions {
        table.append([Cell(d.id), Cell(d.kind.japanese, raw: d.kind.rawValue), Cell(d.title), Cell.date(d.planned),
                      Cell(d.schedule.dropLast().map { Display.text($0.planned) }.joined(separator: ", ")),
                      Cell.date(d.taken), Cell(d.body)])
      }
      var caption = try time.caption() + ": \(Render.count(decisions.count, "decision"))"
      if let from { caption += " from \(from)" }
      if let to { caption += " to \(to)" }
      Report(caption: [caption + "."], table: table, json: .array(decisions.map(Render.decision))).emit(output.format)
    }
  }
}
