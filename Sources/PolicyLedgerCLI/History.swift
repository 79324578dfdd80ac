import ArgumentParser
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

extension PolicyLedger {
  /// `history ID`: an indicator's values over time, with both clocks and every amendment.
  struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "An indicator's history: every value with its effective date, period, source, actor, recorded-at, and any correction or retraction with its reason.",
      discussion: "With --as-of, only values effective on or before that date; with --known-at, as the ledger knew it then.")

    @Argument(help: ArgumentHelp("The indicator's id, such as young-faculty.", valueName: "indicator"))
    var indicator: Checked<EntityID>

    @OptionGroup var time: TimeOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func validate() throws { _ = try indicator.value("<indicator>") }

    func run() throws {
      let ledger = try ledger.openForReading()
      try History.report(ledger, indicator: try indicator.value("<indicator>").rawValue, time: time).emit(output.format)
    }

    static func report(_ ledger: CouncilLedger, indicator id: String, time: TimeOptions) throws -> Report {
      let history: (indicator: IndicatorState, entries: [IndicatorHistoryEntry])
      do { history = try ledger.indicatorHistory(id, knownAt: try time.knowledge()) } catch ProjectionError.noSuchEntity {
        let known = try ledger.indicators(asOf: nil).map(\.id)
        throw Failure(.noInput, "there is no indicator \"\(id)\"; the ledger knows " + (known.isEmpty ? "no indicators" : known.joined(separator: ", ")))
      }
      let asOf = try time.asOf?.value("--as-of").firstDay
      let entries = history.entries.filter { entry in asOf.map { entry.event.effective.firstDay <= $0 } ?? true }
      let s = history.indicator
      var table = TextTable([.init("seq", alignRight: true), .init("effective"), .init("period"), .init("value", alignRight: true), .init("status"),
                             .init("actor"), .init("recorded (UTC)"), .init("source")])
      var json: [JSON] = []
      for e in entries {
        let (statusText, by) = Render.amendment(e.status)
        var status = statusText
        if let reason = e.reason { status += ": \(reason)" }
        if case .corrected = e.status, let current = e.current, current.value != e.observed.value { status += " → \(current.value.grouped)" }
        table.append([Cell(e.event.sequence.description), Cell(e.event.effective.description), Cell.optional(e.observed.period?.description),
                      Render.quantity(e.observed.value, e.observed.unit), Cell(status), Cell(e.event.actor),
                      Cell(e.event.recordedAt.tableText, raw: e.event.recordedAt.description), Cell.optional(e.event.source)])
        json.append(.fields([
          "seq": .integer(e.event.sequence.rawValue), "id": .string(s.id), "name": .string(s.name.ja),
          "value": .string(e.observed.value.description), "unit": .string(e.observed.unit.rawValue),
          "period": .optional(e.observed.period?.description), "effective": .string(e.event.effective.description),
          "source": .optional(e.event.source), "actor": .string(e.event.actor), "recorded": .string(e.event.recordedAt.description),
          "note": e.observed.note.map(JSON.string),
          "status": .string(statusText.components(separatedBy: " by ")[0]), "amendedBy": by.map { .integer($0.rawValue) } ?? .null,
          "reason": .optional(e.reason), "currentValue": .decimal(e.current?.value),
          "amendmentActor": .optional(e.amendment?.actor), "amendmentRecorded": .optional(e.amendment?.recordedAt.description),
        ]))
      }
      var caption = ["\(s.name.ja) (\(s.id)), unit \(s.unit.rawValue): \(entries.count) recorded value\(entries.count == 1 ? "" : "s")."]
      var facts: [String] = []
      if let b = s.baseline { facts.append("baseline \(b.value.grouped)" + (b.period.map { " (\($0))" } ?? "")) }
      if let t = s.target?.absoluteTarget(baseline: s.baseline?.value) { facts.append("target \(t.grouped)" + (s.targetPeriod.map { " for \($0)" } ?? "")) }
      if !facts.isEmpty { caption.append(facts.joined(separator: "; ") + ".") }
      if case .latest = try time.knowledge() {} else { caption.append(try time.caption() + ".") }
      return Report(caption: caption, table: table, json: .array(json))
    }
  }
}
