import ArgumentParser
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery
import PolicyLedgerStorage

extension PolicyLedger {
  /// `import FILE`: NDJSON in, all events or none.
  struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Import events from an NDJSON file (one event a line): all of them, or none.",
      discussion: """
        Each line is a JSON object: {"type":"member.appointed","effective":"平成31年4月","source":"…","actor":"…","payload":{…}} \
        (or the lines `policy-ledger export` writes, with seq, recorded, streams, prev, hash and any signature: \
        imported into an empty folder, or where their chain continues, they restore the events exactly, same \
        moments, hashes and signatures; lines the ledger already holds are acknowledged). \
        Every line is read and validated against the ledger before anything is written, in one \
        transaction: a bad line names its line number and field, and nothing is imported (exit 65). \
        Refused: a file that is not a regular file, larger than 512 MiB, not UTF-8 text, or empty. \
        A progress bar is shown on standard error when it is a terminal and the file is long.

        Importing is idempotent: a line the ledger already holds (the same "key", or without one the same \
        type, schema, effective date and payload) is acknowledged and not recorded again, and the report \
        says how many were new and how many already recorded; a line whose key the ledger holds with other \
        content is refused (exit 65). To record the same fact twice on purpose, give each line its own "key".
        """)

    @Argument(help: ArgumentHelp("The NDJSON file, or - for standard input.", valueName: "file"), completion: .file(extensions: ["ndjson", "jsonl"]))
    var file: String

    @Flag(name: .customLong("dry-run"), help: "Validate every line against the ledger and report the count; write nothing.")
    var dryRun = false

    @Option(help: ArgumentHelp("The actor for lines that name none. Default: the actor --sign-with's key is registered to, else the OS user.", valueName: "name"))
    var actor: String?

    @Option(
      name: .customLong("sign-with"),
      help: ArgumentHelp("Sign every event with this private key file (mode 600); every line's actor must be the one the key is registered to.", valueName: "keyfile"),
      completion: .file())
    var signWith: String?

    @Option(
      name: .customLong("ledger-id"),
      help: ArgumentHelp("For a new ledger only: its id (a lower-case UUID), to restore an export under the id of the ledger it came from, the origin its checkpoints name (policy-ledger/ID).", valueName: "uuid"))
    var ledgerID: String?

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func validate() throws {
      if file.isEmpty { throw ValidationError("Give the file to import, or - for standard input.") }
      if let ledgerID, UUID(uuidString: ledgerID)?.uuidString.lowercased() != ledgerID || ledgerID == "00000000-0000-0000-0000-000000000000" {
        throw ValidationError("--ledger-id must be a lower-case UUID (not the nil one), as a checkpoint's origin line policy-ledger/ID shows it.")
      }
    }

    func run() throws {
      let input = try InputFile.open(file)
      defer { input.close() }
      let signer = try signWith.map(ProofFiles.signer(at:))
      let source = NDJSONSource(input: input, defaultActor: try EntryOptions.actor(given: actor, signer: signer, ledger: ledger))
      // Progress covers the whole import (reading, validating, recording, committing), on
      // standard error, and only when it is a terminal and the input is long.
      var progress = Console.stderrIsTerminal && input.size > 1 << 20 ? ProgressBar(total: input.size, label: "importing \(input.name)", unit: "bytes") : nil
      defer { progress?.finish() }
      func rejected(_ index: Int, _ field: String, _ reason: String) -> Failure {
        Failure(.dataError, "\(input.name) line \(source.line(ofEntry: index)), field \"\(field)\": \(reason); nothing was imported")
      }
      // The lines already recorded: (line, the event that holds it, recognised by its key).
      var duplicates: [(line: Int, sequence: UInt64, byKey: Bool)] = []
      func record(_ ledger: CouncilLedger) throws -> StreamedAppend {
        do {
          let summary = try ledger.record(dryRun: dryRun, signedBy: signer, chunks: {
            try source.restart()
            duplicates = []
            return {
              let chunk = try source.nextChunk()
              // An id is only ever carried over with the events it names.
              if self.ledgerID != nil, let first = chunk?.first, first.exportedLink == nil {
                throw Failure(.usage, "--ledger-id restores an export under the id of the ledger it came from; \(input.name) holds new events, not an export")
              }
              return chunk
            }
          }, recorded: { _ in progress?.update(source.bytesRead) }, duplicates: { found in
            duplicates += found.map { (source.line(ofEntry: $0.index), $0.sequence.rawValue, $0.byKey) }
          })
          if summary.count == 0 && duplicates.isEmpty { throw Failure(.dataError, "\(input.name) holds no events: every line is blank") }
          return summary
        } catch ProjectionError.invalid(let index, let field, let reason) {
          throw rejected(index, field, reason)
        } catch LedgerError.invalidEvent(let index, let field, let reason) {
          throw rejected(index, field, reason)
        }
      }
      let summary: StreamedAppend
      if dryRun && !ledger.ledgerExists {
        // Validate against an empty ledger in a scratch folder; write nothing at the path.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("policy-ledger-dry-run-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        summary = try record(try CouncilLedger.open(at: scratch))
      } else {
        summary = try ledger.withWritableLedger(newLedgerID: ledgerID) { ledger in
          if let ledgerID, ledger.log.ledgerID != ledgerID {
            throw Failure(.usage, "--ledger-id names the id of a new ledger, and \(self.ledger.resolvedPath) is already ledger \(ledger.log.ledgerID)")
          }
          // One transaction for the whole input: room for it is made before it starts, so that
          // LMDB does not have to stop, grow its map and start over.
          try ledger.log.environment.reserveMapSize(forAnother: input.size * 16)
          return try record(ledger)
        }
      }
      progress?.finish()
      progress = nil
      let (count, first, last) = (summary.count, summary.first?.rawValue ?? 0, summary.last?.rawValue ?? 0)
      let numbers = first == last ? "event \(first)" : "events \(first)–\(last)"
      let head = dryRun ? nil : summary.head
      var text: String
      // "new" only when some lines were already recorded.
      let new = duplicates.isEmpty ? "" : "new "
      if count == 0 {
        text = dryRun ? "Dry run: nothing new in \(input.name)" : "Nothing new in \(input.name): nothing was recorded"
      } else if dryRun {
        text = count == 1 ? "Dry run: the one \(new)event of \(input.name) is valid (it would be \(numbers)); nothing was written"
                          : "Dry run: all \(count) \(new)events of \(input.name) are valid (they would be \(numbers)); nothing was written"
      } else {
        text = "Imported \(Render.count(count, new + "event")) from \(input.name) as \(numbers) into \(ledger.resolvedPath)"
        if let key = signer?.verifier { text += ", each signed with \(key.label)" }
      }
      if duplicates.isEmpty {
        text += "."
      } else {
        // Which events already held them: the first few by line, then the range.
        let lines = duplicates.prefix(3).map { "line \($0.line) as event \($0.sequence)" }
        let more = duplicates.count > 3 ? ", …" : ""
        let (low, high) = (duplicates.map(\.sequence).min()!, duplicates.map(\.sequence).max()!)
        let range = low == high ? "event \(low)" : "events \(low)–\(high)"
        text += "; \(Render.count(duplicates.count, "line")) \(duplicates.count == 1 ? "was" : "were") already recorded (\(range): \(lines.joined(separator: ", "))\(more)) and \(duplicates.count == 1 ? "was" : "were") not recorded again."
      }
      var columns: [TextTable.Column] = [.init("events"), .init("first"), .init("last"), .init("dry run"), .init("head")]
      var cells = [Cell(String(count)), Cell(count == 0 ? "—" : String(first)), Cell(count == 0 ? "—" : String(last)),
                   Cell(dryRun ? "yes" : "no"), Cell.optional(head?.description)]
      if !duplicates.isEmpty {
        columns.insert(.init("already recorded"), at: 3)
        cells.insert(Cell(String(duplicates.count)), at: 3)
      }
      let table = TextTable(columns, rows: [cells])
      let json = JSON.fields([
        "events": .integer(count), "first": count == 0 ? .null : .integer(first), "last": count == 0 ? .null : .integer(last),
        "alreadyRecorded": .integer(duplicates.count),
        "duplicates": .array(duplicates.map { .fields(["line": .integer($0.line), "event": .integer($0.sequence), "byKey": .bool($0.byKey)]) }),
        "dryRun": .bool(dryRun),
        "head": .optional(head?.description), "file": .string(input.name), "ledger": .string(ledger.resolvedPath),
        "signedWith": signer.map { .string($0.verifier.description) },
      ])
      Report(caption: [text], table: table, json: json).emit(output.format)
    }
  }
}

