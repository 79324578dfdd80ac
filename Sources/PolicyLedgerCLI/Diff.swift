import ArgumentParser
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

extension PolicyLedger {
  /// `diff --from D1 --to D2`: what changed between two dates.
  struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "What changed between two dates (valid time): entities added, removed or changed, one line per detail.",
      discussion: "Example: policy-ledger diff --from 2014-04-30 --to 2014-05-01 shows the rename of CSTP to CSTI.")

    @Option(help: ArgumentHelp("The earlier date.", valueName: "date"))
    var from: Checked<EffectiveDate>
    @Option(help: ArgumentHelp("The later date. Default: today in Japan.", valueName: "date"))
    var to: Checked<EffectiveDate>?
    @Option(
      name: .customLong("known-at"),
      help: ArgumentHelp("Compare as the ledger knew it at this moment, or seq:N.", valueName: "moment"))
    var knownAt: Checked<KnowledgeArgument>?
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func validate() throws { _ = try days() ; _ = try knownAt?.value("--known-at") }

    func days() throws -> (CalendarDay, CalendarDay) {
      let a = try from.value("--from").firstDay
      let b = try to?.value("--to").firstDay ?? TimeOptions.todayInJapan()
      if b < a { throw ValidationError("--to (\(b)) is before --from (\(a)).") }
      return (a, b)
    }

    func run() throws {
      let ledger = try ledger.openForReading()
      let (a, b) = try days()
      let changes = try ledger.diff(from: a, to: b, knownAt: try knownAt?.value("--known-at").time ?? .latest)
      var table = TextTable(["change", "entity", "details"])
      for c in changes { table.append([Cell(c.kind.rawValue), Cell(c.entity.rawValue), Cell(c.details.joined(separator: "; "))]) }
      let json = JSON.array(changes.map { c in
        .object(["change": .string(c.kind.rawValue), "entity": .string(c.entity.rawValue), "kind": .string(c.entity.kind),
                 "id": .string(c.entity.localID), "details": .strings(c.details)])
      })
      Report(caption: ["From \(a) to \(b): \(Render.count(changes.count, "entity", "entities")) changed."], table: table, json: json).emit(output.format)
    }
  }
}
