import ArgumentParser
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

extension PolicyLedger {
  /// `state`: everything as of a date.
  struct State: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Everything as of a date: how many bodies, people, decisions and indicators, and a line for each.")

    @OptionGroup var time: TimeOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
      let ledger = try ledger.openForReading()
      let state = try ledger.state(asOf: try time.day(), knownAt: try time.knowledge())
      var table = TextTable(["kind", "id", "name", "detail"])
      for b in state.bodies {
        var detail = "\(b.kind.japanese), since \(Display.text(b.established)), \(Render.count(b.members.count, "member"))"
        if let d = b.dissolved { detail += ", dissolved \(Display.text(d))" }
        table.append(["body", Cell(b.id), Cell(b.name.ja), Cell(detail)])
      }
      for p in state.people {
        table.append(["person", Cell(p.id), Cell(p.name.ja), Cell(p.memberships.keys.sorted().map { "\($0): \(p.memberships[$0]!.japanese)" }.joined(separator: ", "))])
      }
      for d in state.decisions {
        let when = d.taken.map { "taken \(Display.text($0))" } ?? d.planned.map { "planned \(Display.text($0))" } ?? ""
        table.append(["decision", Cell(d.id), Cell(d.title), Cell("\(d.kind.japanese), \(when)")])
      }
      for i in state.indicators {
        var detail = i.latest.map { "latest \($0.value.grouped)\(i.unit.rawValue)" + ($0.period.map { " (\(Display.text($0)))" } ?? "") } ?? "no value yet"
        if let r = i.retired { detail += ", retired \(Display.text(r))" }
        table.append(["indicator", Cell(i.id), Cell(i.name.ja), Cell(detail)])
      }
      let counts = "\(Render.count(state.bodies.count, "body", "bodies")), \(Render.count(state.people.count, "person", "people")), \(Render.count(state.decisions.count, "decision")), \(Render.count(state.indicators.count, "indicator"))"
      var json = try time.jsonMembers()
      json["counts"] = .object(["bodies": .integer(state.bodies.count), "people": .integer(state.people.count),
                                "decisions": .integer(state.decisions.count), "indicators": .integer(state.indicators.count)])
      json["bodies"] = .array(state.bodies.map { Render.body($0) })
      json["people"] = .array(state.people.map(Render.person))
      json["decisions"] = .array(state.decisions.map(Render.decision))
      json["indicators"] = .array(state.indicators.map(Render.indicator))
      Report(caption: [try time.caption() + ": " + counts + "."], table: table, json: .object(json)).emit(output.format)
    }
  }
}
