import ArgumentParser
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

extension PolicyLedger {
  /// `log`: the event log in order.
  struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "The event log in sequence order: seq, effective date, recorded-at (UTC), actor, type, short hash, signature.",
      discussion: """
        Filters: --actor NAME (exactly), --type TYPE (indicator.observed, or indicator for every indicator.* type), \
        --stream ID (body:csti, or csti for any kind), --recorded-from and --recorded-to (moments, inclusive).
        """)

    @Option(help: ArgumentHelp("The first sequence number to show.", valueName: "n"))
    var from: UInt64 = 1
    @Option(help: ArgumentHelp("Show at most this many events.", valueName: "n"))
    var limit: Int?
    @Option(
      name: .customLong("known-at"),
      help: ArgumentHelp("Show only what had been recorded at this moment (transaction time), or through seq:N.", valueName: "moment"))
    var knownAt: Checked<KnowledgeArgument>?
    @OptionGroup var filter: LogFilter
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func validate() throws {
      if from == 0 { throw ValidationError("--from counts events from 1.") }
      if let limit, limit < 1 { throw ValidationError("--limit must be 1 or more.") }
      _ = try knownAt?.value("--known-at")
    }

    func run() throws {
      let ledger = try ledger.openForReading()
      // Rows are written as they are read (JSON, CSV), so that memory stays flat however long the log.
      var rows = RowStream(output.format, columns: [.init("seq", alignRight: true), .init("effective"), .init("recorded (UTC)"), .init("actor"), .init("type"), .init("hash"), .init("signature")])
      var signatures = try SignatureLookup(ledger)
      var shown = 0
      // Known at a moment: only the events recorded by then (recorded-at grows with seq).
      let through = try ledger.lastSequence(knownAt: knownAt?.value("--known-at").time ?? .latest)
      if through != SequenceNumber(0) {
        let filter = try self.filter.predicate()
        try ledger.log.forEachEvent(from: SequenceNumber(from), through: through) { e in
          guard filter(e) else { return true }
          let signature = try signatures.status(of: e)
          rows.append([Cell(e.sequence.description), Cell.date(e.effective), Cell(e.recordedAt.tableText, raw: e.recordedAt.description),
                       Cell(e.actor), Cell(e.type), Cell(String(e.hash.description.prefix(12)), raw: e.hash.description),
                       Render.signature(signature)],
                      json: Log.json(e, signature: signature))
          shown += 1
          return limit.map { shown < $0 } ?? true
        }
      }
      let head = try ledger.log.head()
      rows.finish(caption: ["\(Render.count(shown, "event")) shown of \(head?.sequence.rawValue ?? 0) in \(ledger.log.path)" + (filter.isEmpty ? "." : " (filtered).")])
    }

    /// One event as `log --format json` prints it (the web API's `/api/log` too).
    static func json(_ e: RecordedEvent, signature: SignatureStatus) -> JSON {
      .fields(["seq": .integer(e.sequence.rawValue), "effective": .string(e.effective.description), "recorded": .string(e.recordedAt.description),
               "actor": .string(e.actor), "type": .string(e.type), "hash": .string(e.hash.description),
               "streams": .strings(e.streams.map(\.rawValue)), "source": .optional(e.source), "signature": Render.signatureJSON(signature)])
    }
  }
}
