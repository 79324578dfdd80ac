import ArgumentParser
#if canImport(CDispatch)
// Linux: with SwiftNIO in the build, `struct stat` is owned by libdispatch's C module.
import CDispatch
#endif
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

extension PolicyLedger {
  /// `export`: every event, as NDJSON (re-importable) or CSV (for spreadsheets).
  struct Export: ParsableCommand {
    enum ExportFormat: String, ExpressibleByArgument, CaseIterable, Sendable { case ndjson, csv }

    static let configuration = CommandConfiguration(
      abstract: "Write every event, in order: NDJSON (the import format, with seq, recorded, streams, prev and hash) or CSV.",
      discussion: """
        CSV has one row per event with the columns seq, recorded, effective, type, actor, source, streams, \
        payload (JSON), hash; RFC 4180 quoting; a cell starting with = + - @ TAB or CR is prefixed with ' \
        so that a spreadsheet cannot run it as a formula; lines end in CRLF. With --excel the file \
        begins with a UTF-8 byte-order mark so that Japanese Excel opens it as UTF-8.
        """)

    @Option(help: ArgumentHelp("ndjson (default) or csv.", valueName: "format"))
    var format: ExportFormat = .ndjson
    @Flag(help: "With --format csv: begin with a UTF-8 byte-order mark (lines end in CRLF) so that Japanese Excel opens the file as UTF-8.")
    var excel = false
    @Option(help: ArgumentHelp("Write to this new file instead of standard output.", valueName: "file"), completion: .file())
    var output: String?
    @Flag(help: "Replace --output when it already exists.")
    var overwrite = false
    @Flag(name: .customLong("despite-tree-mismatch"), help: "Export even when the stored Merkle tree differs from the events (without it, export refuses: a ledger restored from the export would no longer show that evidence).")
    var despiteTreeMismatch = false
    @OptionGroup var ledger: LedgerOptions

    func validate() throws {
      if excel && format != .csv { throw ValidationError("--excel applies to --format csv only") }
    }

    func run() throws {
      let ledger = try self.ledger.openForReading()
      if let output {
        if output.trimmingCharacters(in: .whitespaces).isEmpty { throw Failure(.usage, "--output needs a file name, not an empty string") }
        // Never write into a ledger folder: an export over data.mdb would destroy the ledger.
        if self.ledger.enclosingLedgerFolder(of: URL(fileURLWithPath: output).deletingLastPathComponent().path) != nil {
          throw Failure(.usage, "--output \(output) is inside a ledger folder; write the export somewhere else")
        }
        // The file is written beside its name and renamed over it: never over a device, a pipe
        // or a socket (as root, that would replace /dev/full or /dev/null with a plain file).
        var info = stat()
        if lstat(output, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
          throw Failure(.usage, "--output \(output) exists and is not a regular file; to write to it, leave out --output and redirect standard output (> \(output))")
        }
        if FileManager.default.fileExists(atPath: output) && !overwrite {
          throw Failure(.usage, "--output \(output) already exists; choose a new file, or add --overwrite to replace it")
        }
      }
      // An export of a damaged log would be refused on import as "changed after it was
      // exported": verify first, before anything is written.
      try ledger.requireVerifiedLog("nothing was exported")
      if let (sequence, reason) = try ledger.log.firstNonCanonicalEvent() {
        throw Failure(.problemFound, "event \(sequence) is not stored in canonical form (\(reason)): its export line would not match its own hash; run `policy-ledger verify`; nothing was exported")
      }
      if !despiteTreeMismatch {
        try ProofFiles.requireStoredTreeMatches(ledger.log, refusing: "an export restored elsewhere would rebuild the tree from these events and lose that evidence; compare the ledger with a checkpoint kept elsewhere (`verify --checkpoint`) before `export --despite-tree-mismatch`; nothing was exported")
      }
      var sink = try ExportSink(path: output)
      var count = 0
      do {
        if format == .csv { try sink.write((excel ? "\u{FEFF}" : "") + CSV.row(["seq", "recorded", "effective", "type", "actor", "source", "streams", "payload", "hash"])) }
        try ledger.log.forEachEvent { event in
          count += 1
          switch format {
          case .ndjson:
            // A signed event's line carries its signature, so that a restore keeps it.
            let signature = try ledger.log.signature(of: event.sequence)
            try sink.write(String(decoding: try NDJSON.exportLine(event, signature: signature), as: UTF8.self) + "\n")
          case .csv:
            let payload = String(decoding: try event.payload.canonicalBytes(), as: UTF8.self)
            try sink.write(CSV.row([event.sequence.description, event.recordedAt.description, event.effective.description, event.type,
                                    event.actor, event.source ?? "", event.streams.map(\.rawValue).joined(separator: " "), payload, event.hash.description]))
          }
          return true
        }
        try sink.finish()
      } catch {
        sink.abandon()
        throw error
      }
      if let output { Console.note("Exported \(Render.count(count, "event")) to \(output).") }
    }
  }
}

/// Standard output, or a file written beside its final name and renamed into place at the end.
struct ExportSink {
  let path: String?
  private let temporary: String?
  private let handle: FileHandle?
  private var buffer = ""

  init(path: String?) throws {
    self.path = path
    guard let path else { temporary = nil; handle = nil; return }
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
      throw Failure(.usage, "--output \(path) is a folder; give a file name")
    }
    let temporary = path + ".partial-\(getpid())"
    guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]),
          let handle = FileHandle(forWritingAtPath: temporary) else {
      throw Failure(.ioError, "cannot write \(path): \(String(cString: strerror(errno)).lowercased())")
    }
    self.temporary = temporary
    self.handle = handle
  }

  mutating func write(_ text: String) throws {
    buffer += text
    if buffer.utf8.count >= 1 << 20 { try flush() }
  }

  private mutating func flush() throws {
    defer { buffer = "" }
    guard let handle else {
      Console.out(buffer)
      if let failure = Console.writeFailure {
        throw Failure(.ioError, "cannot write the export to standard output: \(String(cString: strerror(failure)).lowercased())")
      }
      return
    }
    do { try handle.write(contentsOf: Data(buffer.utf8)) } catch {
      throw Failure(.ioError, "cannot write \(path ?? "the export"): \(Failure.reason(error))")
    }
  }

  mutating func finish() throws {
    try flush()
    guard let handle, let temporary, let path else {
      guard Console.flush() else { throw Failure(.ioError, "cannot write the export to standard output: \(String(cString: strerror(Console.writeFailure ?? EIO)).lowercased())") }
      return
    }
    do { try handle.synchronize(); try handle.close() } catch {
      throw Failure(.ioError, "cannot write \(path): \(Failure.reason(error))")
    }
    if rename(temporary, path) != 0 {
      throw Failure(.ioError, "cannot write \(path): \(String(cString: strerror(errno)).lowercased())")
    }
  }

  func abandon() {
    try? handle?.close()
    if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
  }
}
