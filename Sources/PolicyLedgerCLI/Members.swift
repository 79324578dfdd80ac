import ArgumentParser
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

extension PolicyLedger {
  /// `members BODY`: a body's members on a date, in the slide's order.
  struct Members: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "The members of a body as of a date, in the slide's order: chair, executive members, expert members, advisors.",
      discussion: "Example: policy-ledger members basic-plan-panel --as-of 令和2年3月26日")

    @Argument(help: ArgumentHelp("The body's id, such as basic-plan-panel.", valueName: "body"))
    var body: Checked<EntityID>

    @OptionGroup var time: TimeOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func validate() throws { _ = try body.value("<body>") }

    func run() throws {
      let ledger = try ledger.openForReading()
      try Members.report(ledger, body: try body.value("<body>").rawValue, time: time).emit(output.format)
    }

    static func report(_ ledger: CouncilLedger, body id: String, time: TimeOptions) throws -> Report {
      let day = try time.day()
      let knownAt = try time.knowledge()
      guard let body = try ledger.body(id, asOf: day, knownAt: knownAt) else {
        if let later = try ledger.body(id, asOf: nil, knownAt: knownAt) {
          throw Failure(.noInput, "body \"\(id)\" (\(later.name.ja)) did not exist on \(day): it was established \(later.established)")
        }
        let known = try ledger.bodies(asOf: nil, knownAt: knownAt, includeDissolved: true).map(\.id)
        throw Failure(.noInput, "there is no body \"\(id)\"; the ledger knows " + (known.isEmpty ? "no bodies" : known.joined(separator: ", ")))
      }
      let members = body.orderedMembers
      // The role as the table shows it (会長), and in CSV its code too (chair) in its own column.
      var table = TextTable([.init("#", alignRight: true), .init("person"), .init("name"), .init("role"), .init("role code", csvOnly: true),
                             .init("since"), .init("affiliations")])
      for (i, m) in members.enumerated() {
        table.append([Cell(String(i + 1)), Cell(m.person), Cell(m.name.ja), Cell(m.role.japanese), Cell(m.role.rawValue),
                      Cell.date(m.since), Cell(m.affiliations.joined(separator: "、"), raw: m.affiliations.joined(separator: "; "))])
      }
      let caption = "\(body.name.ja) (\(body.id)): \(Render.count(members.count, "member")). " + (try time.caption()) + "."
      return Report(caption: [caption], table: table, json: .array(members.map { Render.member($0, body: body.id) }))
    }
  }
}
