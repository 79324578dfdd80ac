import ArgumentParser
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerProofs
import PolicyLedgerQuery
import PolicyLedgerWeb

extension PolicyLedger {
  /// `serve`: the read-only web view.
  struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Serve the ledger read-only over HTTP: the body tree, rosters, progress, indicator charts, the event log, integrity, and a JSON API.",
      discussion: """
        Pages: / (bodies), /bodies/ID (roster), /progress, /indicators, /indicators/ID (chart and history), \
        /log (paged; actor, type, stream filters), /integrity (verify result, digest, the head's checkpoint body; \
        checkpoint=…&key=… checks a signed checkpoint, writing nothing). Every page takes asOf \
        (any date form, 和暦 included), knownAt (a moment or seq:N) and dates (wareki, iso or japanese) in its query \
        string, so a link reproduces the view.
        JSON API, in the shapes of --format json: /api/bodies, /api/bodies/ID/members, /api/progress, /api/indicators, \
        /api/indicators/ID/history, /api/log, /api/integrity; the chart as SVG at /indicators/ID/chart.svg.
        Read-only: GET and HEAD only (405 for anything else); the ledger is opened read-only, so record and import can \
        run in another process meanwhile. Bound to 127.0.0.1 unless --bind says otherwise. Stop with Ctrl-C.
        """)

    @Option(help: ArgumentHelp("The port to listen on; 0 picks a free one.", valueName: "port"))
    var port: Int = 8080
    @Option(help: ArgumentHelp("The address to listen on. Default: 127.0.0.1 (this machine only).", valueName: "address"))
    var bind: String = "127.0.0.1"
    @OptionGroup var ledger: LedgerOptions

    func validate() throws {
      if !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535.") }
      if bind.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--bind needs an address, such as 127.0.0.1.") }
    }

    func run() throws {
      let ledger = try ledger.openForReading()
      let server = LedgerWebServer(ledger: ledger, api: CommandLineJSON(ledger: ledger), host: bind, port: port,
                                   today: { TimeOptions.todayInJapan() })
      let done = DispatchSemaphore(value: 0)
      let failure = FailureBox()
      let bind = self.bind
      Task {
        do {
          try await server.run { port in
            // One line, flushed at once: scripts and tests wait for it to learn the port.
            FileHandle.standardOutput.write(Data("Serving \(ledger.log.path) read-only at http://\(bind.contains(":") ? "[\(bind)]" : bind):\(port)/ (Ctrl-C to stop)\n".utf8))
          }
        } catch {
          failure.error = error
        }
        done.signal()
      }
      done.wait()
      if let error = failure.error {
        throw Failure(.ioError, "cannot serve on \(bind):\(port): \(Failure.reason(error))")
      }
    }
  }
}

/// Carries an error out of the server's task.
private final class FailureBox: @unchecked Sendable {
  var error: (any Error)?
}

/// The web API's JSON: the read commands' own renderings, so that `/api/…` and `--format json`
/// have the same shapes.
struct CommandLineJSON: LedgerJSONSource {
  let ledger: CouncilLedger

  func json(_ route: APIRoute, id: String?, query: ViewQuery) throws -> String {
    var arguments: [String] = []
    if let asOf = query.asOfText { arguments += ["--as-of", asOf] }
    if let knownAt = query.knownAtText { arguments += ["--known-at", knownAt] }
    let time: TimeOptions
    do { time = try TimeOptions.parse(arguments) } catch { throw ViewQueryError(TimeOptions.message(for: error)) }
    do {
      switch route {
      case .bodies: return try PolicyLedger.Bodies.report(ledger, time: time).json.rendered()
      case .members: return try PolicyLedger.Members.report(ledger, body: id ?? "", time: time).json.rendered()
      case .progress: return try PolicyLedger.Progress.report(ledger, time: time).json.rendered()
      case .indicators: return JSON.array(try ledger.indicators(asOf: try time.day(), knownAt: try time.knowledge()).map(Render.indicator)).rendered()
      case .history:
        let id = id ?? ""
        guard let defined = try ledger.entity(.indicator(id), asOf: nil, knownAt: try time.knowledge())?.indicator else {
          throw WebNotFound("there is no indicator \"\(id)\"")
        }
        let asOf = try time.asOf?.value("--as-of").firstDay
        var rows: [JSON] = []
        try ledger.indicatorHistory(id, knownAt: try time.knowledge()) { e in
          if let asOf, e.event.effective.firstDay > asOf { return }
          rows.append(PolicyLedger.History.row(e, indicator: id, name: defined.name.ja).1())
        }
        return JSON.array(rows).rendered()
      case .log:
        var filterArguments: [String] = []
        for key in ["actor", "type", "stream"] { if let v = query.extra[key], !v.isEmpty { filterArguments += ["--\(key)", v] } }
        let filter: LogFilter
        do { filter = try LogFilter.parse(filterArguments) } catch { throw ViewQueryError(LogFilter.message(for: error)) }
        let predicate = try filter.predicate()
        let from = UInt64(query.extra["from"] ?? "1") ?? 1
        let limit = min(1000, max(1, Int(query.extra["limit"] ?? "100") ?? 100))
        let through = try ledger.lastSequence(knownAt: time.knowledge())
        var rows: [JSON] = []
        var signatures = try SignatureLookup(ledger)
        if through != SequenceNumber(0) {
          try ledger.log.forEachEvent(from: SequenceNumber(max(1, from)), through: through) { e in
            guard predicate(e) else { return true }
            rows.append(PolicyLedger.Log.json(e, signature: try signatures.status(of: e)))
            return rows.count < limit
          }
        }
        return JSON.array(rows).rendered()
      case .integrity:
        let report = try ledger.log.verify()
        // `checkpoint` (a signed note) and `key` (a verifier key): checked as verify --checkpoint --key does.
        let pasted = query.extra["checkpoint"].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        let key = query.extra["key"].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        let inputs: ProofVerification.Inputs
        switch (pasted, key) {
        case (nil, nil): inputs = try ProofVerification.Inputs(checkpoint: nil, keys: [], quorum: 1)
        case (let pasted?, let key?):
          let note = pasted.replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
          do {
            inputs = ProofVerification.Inputs(signed: try SignedCheckpoint(parsing: Array(note.utf8)), keys: [try NoteVerifier(key)])
          } catch let error as NoteError {
            throw ViewQueryError(error.description)
          }
        default: throw ViewQueryError("checkpoint and key go together: a checkpoint is only as good as its signature")
        }
        var proofs = try ProofVerification.check(ledger.log, report: report, inputs: inputs)
        // The head's checkpoint body (C2SP: origin, size, base64 root), from the events themselves.
        if report.isValid {
          let size = report.head?.sequence.rawValue ?? 0
          let root = try MerkleTree(leafHashes: try LedgerTree.leafHashes(ledger.log, through: size)).root()
          let head = Checkpoint(origin: ProofFiles.origin(ledger.log), size: size, rootHash: root)
          proofs.json["headCheckpoint"] = .object(["origin": .string(head.origin), "size": .integer(head.size),
                                                   "rootHash": ProofFiles.base64(head.rootHash), "hashEncoding": .string("base64"),
                                                   "text": .string(head.text)])
          try proofs.addEventChecks(ledger)
        }
        return PolicyLedger.Verify.json(report, digest: nil, proofs: proofs).rendered()
      }
    } catch let failure as Failure where failure.status == .noInput {
      throw WebNotFound(failure.message)
    } catch let error as ValidationError {
      throw ViewQueryError(error.message)
    }
  }
}
