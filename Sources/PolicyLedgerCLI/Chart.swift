import ArgumentParser
import Foundation
import PolicyLedgerCharts
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

extension PolicyLedger {
  /// `chart INDICATOR --output FILE.svg`: an indicator's chart as SVG.
  struct Chart: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "An indicator's chart as SVG: observed values over their periods, the baseline, the target line, corrections and retractions.",
      discussion: """
        The chart shows what the ledger knew at --known-at about the values effective on or before --as-of (every \
        value when --as-of is not given). Corrected values are drawn with the value they replaced (hollow, orange); \
        retracted ones are struck (grey ×) unless --hide-retracted. Labels are Japanese, with the unit; years are \
        年度 when the series counts in fiscal years. The same ledger gives the same bytes.
        Example: policy-ledger chart young-faculty --output young-faculty.svg
        """)

    @Argument(help: ArgumentHelp("The indicator's id, such as young-faculty.", valueName: "indicator"))
    var indicator: Checked<EntityID>

    @Option(name: .customLong("as-of"), help: ArgumentHelp("Only values effective on or before this date (any form the other commands take).", valueName: "date"))
    var asOf: Checked<EffectiveDate>?
    @Option(name: .customLong("known-at"), help: ArgumentHelp("As the ledger knew it at this moment, or seq:N.", valueName: "moment"))
    var knownAt: Checked<KnowledgeArgument>?
    @Option(name: .shortAndLong, help: ArgumentHelp("The SVG file to write; - for standard output.", valueName: "file.svg"))
    var output: String
    @Flag(name: .customLong("hide-retracted"), help: "Leave retracted values out instead of striking them.")
    var hideRetracted = false
    @OptionGroup var ledger: LedgerOptions

    func validate() throws {
      _ = try indicator.value("<indicator>")
      _ = try asOf?.value("--as-of")
      _ = try knownAt?.value("--known-at")
      if output.isEmpty { throw ValidationError("--output needs a file name (or - for standard output).") }
    }

    func run() throws {
      let ledger = try ledger.openForReading()
      let id = try indicator.value("<indicator>").rawValue
      var chart: IndicatorChart
      do {
        chart = try IndicatorChart(ledger: ledger, indicator: id, asOf: try asOf?.value("--as-of").firstDay,
                                   knownAt: try knownAt?.value("--known-at").time ?? .latest)
      } catch ProjectionError.noSuchEntity {
        let known = try ledger.indicators(asOf: nil).map(\.id)
        throw Failure(.noInput, "there is no indicator \"\(id)\"" + (asOf == nil ? "" : " on that date") + "; the ledger knows "
                      + (known.isEmpty ? "no indicators" : known.joined(separator: ", ")))
      }
      chart.showsRetracted = !hideRetracted
      let svg = chart.svg()
      if output == "-" {
        Console.out(svg)
        return
      }
      do {
        try Data(svg.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
      } catch {
        throw Failure(.ioError, "cannot write \(output): \(Failure.reason(error))")
      }
      Console.line("Wrote \(output): \(chart.points.count) value\(chart.points.count == 1 ? "" : "s") of \(chart.name.ja) (\(id)).")
    }
  }
}
