import ArgumentParser
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

extension PolicyLedger {
  /// `audit ID`: every event that touched an entity.
  struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Every event that touched an entity, with both clocks, the actor, whether it was later corrected or retracted, and its signature.",
      discussion: """
        ID is a stream id such as body:csti or indicator:young-faculty, or a bare id (csti), tried as a \
        body, an indicator, a decision and a person. With --as-of, only events effective on or before \
        that date; with --known-at, as the ledger knew it then.
        """)

    @Argument(help: ArgumentHelp("body:csti, indicator:young-faculty, decision:…, person:…, or a bare id.", valueName: "id"))
    var id: String

    @OptionGroup var time: TimeOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func validate() throws {
      if id.contains(":") {
        if let problem = StreamID.validationError(id) { throw ValidationError("<id> \"\(id)\" is not a stream id: \(problem).") }
      } else if let problem = CouncilEvent.localIDError(id) {
        throw ValidationError("<id> \"\(id)\" is not a valid id: \(problem).")
      }
    }

    func run() throws {
      let ledger = try ledger.openForReading()
      let stream = try Audit.resolve(id, in: ledger)
      let asOf = try time.asOf?.value("--as-of").firstDay
      let trail = try ledger.audit(stream, knownAt: try time.knowledge()).filter { entry in asOf.map { entry.event.effective.firstDay <= $0 } ?? true }
      var table = TextTable([.init("seq", alignRight: true), .init("effective"), .init("recorded (UTC)"), .init("actor"), .init("type"), .init("status"), .init("signature")])
      var json: [JSON] = []
      // One read transaction for the trail's signatures.
      let signatures = try ledger.signatureStatuses(of: trail.map(\.event), registry: try ledger.signingRegistry())
      for (entry, signature) in zip(trail, signatures) {
        let e = entry.event
        let (status, by) = Render.amendment(entry.status)
        table.append([Cell(e.sequence.description), Cell.date(e.effective), Cell(e.recordedAt.tableText, raw: e.recordedAt.description),
                      Cell(e.actor), Cell(e.type), Cell(status), Render.signature(signature)])
        json.append(.fields([
          "seq": .integer(e.sequence.rawValue), "effective": .string(e.effective.description), "recorded": .string(e.recordedAt.description),
          "actor": .string(e.actor), "type": .string(e.type), "status": .string(status.components(separatedBy: " by ")[0]),
          "amendedBy": by.map { .integer($0.rawValue) } ?? .null, "source": .optional(e.source), "hash": .string(e.hash.description),
          "streams": .strings(e.streams.map(\.rawValue)), "payload": JSON(e.payload), "signature": Render.signatureJSON(signature),
        ]))
      }
      Report(caption: ["\(stream): \(Render.count(trail.count, "event"))."], table: table, json: .array(json)).emit(output.format)
    }

    /// A stream id as given, or a bare id tried as a body, an indicator, a decision and a person.
    static func resolve(_ text: String, in ledger: CouncilLedger) throws -> StreamID {
      if text.contains(":") {
        guard let stream = StreamID(text) else { throw Failure(.usage, "\"\(text)\" is not a stream id") }
        if try ledger.log.streamVersion(stream) == 0 { throw Failure(.noInput, "no event touched \(stream)") }
        return stream
      }
      let found = try ["body", "indicator", "decision", "person"].compactMap { kind -> StreamID? in
        guard let stream = StreamID(kind + ":" + text) else { return nil }
        return try ledger.log.streamVersion(stream) > 0 ? stream : nil
      }
      guard let first = found.first else {
        throw Failure(.noInput, "no body, indicator, decision or person \"\(text)\" in the ledger")
      }
      if found.count > 1 {
        throw Failure(.usage, "\"\(text)\" is ambiguous: write one of \(found.map(\.rawValue).joined(separator: ", "))")
      }
      return first
    }
  }
}
