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
      discussion: "With --as-of, only values effective on or before that date (the date in force, after any correction); with --known-at, as the ledger knew it then.")

    @Argument(help: ArgumentHelp("The indicator's id, such as young-faculty.", valueName: "indicator"))
    var indicator: Checked<EntityID>

    @OptionGroup var time: TimeOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func validate() throws { _ = try indicator.value("<indicator>") }

    func run() throws {
      let ledger = try ledger.openForReading()
      try History.write(ledger, indicator: try indicator.value("<indicator>").rawValue, time: time, format: output.format)
    }

    /// CSV also carries the unit, the value in force and the event that amended the value.
    static let columns: [TextTable.Column] = [.init("seq", alignRight: true), .init("effective"), .init("period"), .init("value", alignRight: true),
                                              .init("unit", csvOnly: true), .init("status"), .init("value in force", csvOnly: true),
                                              .init("amended by", csvOnly: true), .init("actor"), .init("recorded (UTC)"), .init("source")]

    /// Writes the history as it reads it: JSON and CSV row by row (memory flat in the length of
    /// the series), the table once every row's width is known.
    static func write(_ ledger: CouncilLedger, indicator id: String, time: TimeOptions, format: OutputFormat) throws {
      let asOf = try time.asOf?.value("--as-of").firstDay
      var rows = RowStream(format, columns: columns)
      var count = 0
      let s: IndicatorState
      do {
        // The name first (every JSON row carries it), then the rows as they are read.
        guard let defined = try ledger.entity(.indicator(id), asOf: nil, knownAt: try time.knowledge())?.indicator else {
          throw ProjectionError.noSuchEntity("indicator:\(id)")
        }
        s = try ledger.indicatorHistory(id, knownAt: try time.knowledge()) { e in
          // By the date in force: a correction that moved the value's date moves it in or out.
          if let asOf, (e.currentEffective ?? e.event.effective).firstDay > asOf { return }
          count += 1
          let (cells, json) = History.row(e, indicator: id, name: defined.name.ja)
          rows.append(cells, json: json())
        }
      } catch ProjectionError.noSuchEntity {
        let known = try ledger.indicators(asOf: nil).map(\.id)
        throw Failure(.noInput, "there is no indicator \"\(id)\"; the ledger knows " + (known.isEmpty ? "no indicators" : known.joined(separator: ", ")))
      }
      var caption = ["\(s.name.ja) (\(s.id)), unit \(s.unit.rawValue): \(count) recorded value\(count == 1 ? "" : "s")."]
      var facts: [String] = []
      if let b = s.baseline { facts.append("baseline \(b.value.grouped)" + (b.period.map { " (\(Display.text($0)))" } ?? "")) }
      if let t = s.target?.absoluteTarget(baseline: s.baseline?.value) { facts.append("target \(t.grouped)" + (s.targetPeriod.map { " for \(Display.text($0))" } ?? "")) }
      if !facts.isEmpty { caption.append(facts.joined(separator: "; ") + ".") }
      if case .latest = try time.knowledge() {} else { caption.append(try time.caption() + ".") }
      rows.finish(caption: caption)
    }

    /// One entry's table cells and its JSON object (made only when the format is JSON).
    static func row(_ e: IndicatorHistoryEntry, indicator id: String, name: String) -> ([Cell], () -> JSON) {
      let (statusText, by) = Render.amendment(e.status)
      var status = statusText
      if let reason = e.reason { status += ": \(reason)" }
      // What the correction changed, field by field: the row shows the value as recorded, the
      // status what is in force instead.
      if case .corrected = e.status, let current = e.current {
        var changes: [String] = []
        if current.value != e.observed.value || current.unit != e.observed.unit { changes.append(current.value.grouped + (current.unit != e.observed.unit ? current.unit.rawValue : "")) }
        if current.period != e.observed.period { changes.append("period " + (current.period?.description ?? "none")) }
        if current.note != e.observed.note { changes.append("note " + (current.note.map { "「\($0)」" } ?? "none")) }
        if let effective = e.currentEffective, effective != e.event.effective { changes.append("effective \(effective)") }
        status += changes.isEmpty ? " → unchanged" : " → " + changes.joined(separator: ", ")
      }
      let cells = [Cell(e.event.sequence.description), Cell.date(e.event.effective), Cell.period(e.observed.period),
                   Render.quantity(e.observed.value, e.observed.unit), Cell(e.observed.unit.rawValue), Cell(status),
                   Cell(e.current?.value.description ?? ""), Cell(by?.description ?? ""), Cell(e.event.actor),
                   Cell(e.event.recordedAt.tableText, raw: e.event.recordedAt.description), Cell.optional(e.event.source)]
      return (cells, {
        .fields([
          "seq": .integer(e.event.sequence.rawValue), "id": .string(id), "name": .string(name),
          "value": .string(e.observed.value.description), "unit": .string(e.observed.unit.rawValue),
          "period": .optional(e.observed.period?.description), "effective": .string(e.event.effective.description),
          "source": .optional(e.event.source), "actor": .string(e.event.actor), "recorded": .string(e.event.recordedAt.description),
          "note": e.observed.note.map(JSON.string),
          "status": .string(statusText.components(separatedBy: " by ")[0]), "amendedBy": by.map { .integer($0.rawValue) } ?? .null,
          "reason": .optional(e.reason), "currentValue": .decimal(e.current?.value),
          "currentUnit": .optional(e.current?.unit.rawValue), "currentPeriod": .optional(e.current?.period?.description),
          "currentNote": .optional(e.current?.note), "currentEffective": .date(e.currentEffective),
          "amendmentActor": .optional(e.amendment?.actor), "amendmentRecorded": .optional(e.amendment?.recordedAt.description),
        ])
      })
    }
  }
}
