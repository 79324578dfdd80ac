import ArgumentParser
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

extension PolicyLedger {
  /// `indicators`: the indicator series and their targets.
  struct Indicators: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "The indicators (目標値・主要指標) defined on a date: unit, baseline, reference value and target.")

    @OptionGroup var time: TimeOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
      let ledger = try ledger.openForReading()
      let indicators = try ledger.indicators(asOf: try time.day(), knownAt: try time.knowledge())
      var table = TextTable([.init("mark"), .init("id"), .init("name"), .init("unit"), .init("baseline", alignRight: true), .init("reference", alignRight: true),
                             .init("target"), .init("target period")])
      for i in indicators {
        let target = i.target?.absoluteTarget(baseline: i.baseline?.value)
        table.append([Cell.optional(i.group), Cell(i.id), Cell(i.name.ja), Cell(i.unit.rawValue), Cell.decimal(i.baseline?.value), Cell.decimal(i.reference?.value),
                      Render.targetCell(target, rule: i.target, unit: i.unit), Cell.period(i.targetPeriod)])
      }
      Report(caption: [try time.caption() + ": \(Render.count(indicators.count, "indicator"))."], table: table, json: .array(indicators.map(Render.indicator))).emit(output.format)
    }
  }
}
