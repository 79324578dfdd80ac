import ArgumentParser
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

extension PolicyLedger {
  /// `bodies`: the tree of councils, panels and working groups.
  struct Bodies: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "The councils, expert panels and working groups as of a date, as a tree (names as they were then).",
      discussion: "Example: policy-ledger bodies --as-of 2014-04-30 shows 総合科学技術会議; --as-of 2014-05-01 shows 総合科学技術・イノベーション会議.")

    @OptionGroup var time: TimeOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
      let ledger = try ledger.openForReading()
      try Bodies.report(ledger, time: time).emit(output.format)
    }

    static func report(_ ledger: CouncilLedger, time: TimeOptions) throws -> Report {
      let tree = try ledger.bodyTree(asOf: try time.day(), knownAt: try time.knowledge())
      var table = TextTable([.init("body"), .init("id"), .init("kind"), .init("established"), .init("members", alignRight: true), .init("former names")])
      var json: [JSON] = []
      func walk(_ node: BodyNode, depth: Int) {
        let b = node.body
        let former = b.formerNames.map { "\($0.name.ja) (until \(Display.text($0.until)))" }.joined(separator: "; ")
        table.append([Cell(String(repeating: "  ", count: depth) + b.name.ja, raw: b.name.ja), Cell(b.id), Cell(b.kind.japanese, raw: b.kind.rawValue),
                      Cell.date(b.established), Cell(String(b.members.count)), Cell(former)])
        json.append(Render.body(b, depth: depth))
        for child in node.children { walk(child, depth: depth + 1) }
      }
      for root in tree { walk(root, depth: 0) }
      return Report(caption: [try time.caption() + ": \(Render.count(json.count, "body", "bodies"))."], table: table, json: .array(json))
    }
  }
}
