import ArgumentParser
import PolicyLedgerQuery

extension PolicyLedger {
  /// `rows`: the projections' stored rows as text, for people who want to see what is on disk.
  struct Rows: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "The projections' rows as stored, spelled out: keys with their dates and sequence numbers, binary states decoded to JSON.",
      discussion: """
        The projections are derived rows in a compact binary layout (ARCHITECTURE.md, "On-disk \
        layout"); this prints them as text. DATABASE is snapshots (entity states, one row per \
        change, with the events they are known from and until), series (every observed value of \
        every indicator), entities, amendments or meta. --prefix narrows to keys starting with an \
        entity id: body:csti, indicator:young-faculty, membership:basic-plan-panel/ (a body's \
        seats), person:ueyama-takahiro.
        """)

    @Argument(help: ArgumentHelp("snapshots, series, entities, amendments or meta.", valueName: "database"))
    var database: String = "snapshots"
    @Option(help: ArgumentHelp("Only keys that start with this text (an entity id).", valueName: "text"))
    var prefix: String = ""
    @Option(help: ArgumentHelp("Show at most this many rows.", valueName: "n"))
    var limit: Int = 200
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func validate() throws {
      let names = ["snapshots", "series", "entities", "amendments", "meta"]
      if !names.contains(database) { throw ValidationError("unknown database \"\(database)\": use one of \(names.joined(separator: ", ")).") }
      if limit < 1 { throw ValidationError("--limit must be 1 or more.") }
    }

    func run() throws {
      let ledger = try ledger.openForReading()
      let rows = try ledger.rows(of: database, prefix: prefix, limit: limit)
      var table = TextTable([.init("key"), .init("value")])
      for r in rows { table.append([Cell(r.key), Cell(r.value)]) }
      let json = JSON.array(rows.map { .fields(["database": .string($0.database), "key": .string($0.key), "value": .string($0.value)]) })
      let more = rows.count == limit ? " (the first \(limit); --limit shows more)" : ""
      Report(caption: ["\(Render.count(rows.count, "row")) of proj.\(database)\(prefix.isEmpty ? "" : " starting with \(prefix)")\(more)."], table: table, json: json)
        .emit(output.format)
    }
  }
}
