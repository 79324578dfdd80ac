import ArgumentParser
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

extension PolicyLedger {
  /// `import FILE`: NDJSON in, all events or none.
  struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Import events from an NDJSON file (one event a line): all of them, or none.",
      discussion: """
        Each line is a JSON object: {"type":"member.appointed","effective":"平成31年4月","source":"…","actor":"…","payload":{…}} \
        (the format `policy-ledger export` writes; seq, recorded, streams, prev and hash are assigned anew). \
        Every line is read and validated against the ledger before anything is written, in one \
        transaction: a bad line names its line number and field, and nothing is imported (exit 65). \
        Refused: a file that is not a regular file, larger than 512 MiB, not UTF-8 text, or empty. \
        A progress bar is shown on standard error when it is a terminal and the file is long.
        """)

    @Argument(help: ArgumentHelp("The NDJSON file, or - for standard input.", valueName: "file"), completion: .file(extensions: ["ndjson", "jsonl"]))
    var file: String

    @Flag(name: .customLong("dry-run"), help: "Validate every line against the ledger and report the count; write nothing.")
    var dryRun = false

    @Option(help: ArgumentHelp("The actor for lines that name none. Default: the OS user.", valueName: "name"))
    var actor: String?

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func validate() throws {
      if file.isEmpty { throw ValidationError("Give the file to import, or - for standard input.") }
    }

    func run() throws {
      let input = try InputFile.read(file)
      let parsed = try NDJSONInput.parse(input.bytes, name: input.name, defaultActor: actor ?? EntryOptions.osUser, showProgress: Console.stderrIsTerminal)
      func rejected(_ index: Int, _ field: String, _ reason: String) -> Failure {
        let line = index < parsed.lines.count ? parsed.lines[index] : index + 1
        return Failure(.dataError, "\(input.name) line \(line), field \"\(field)\": \(reason); nothing was imported")
      }
      func record(_ ledger: CouncilLedger) throws -> [RecordedEvent] {
        do {
          return try ledger.record(parsed.entries, dryRun: dryRun)
        } catch ProjectionError.invalid(let index, let field, let reason) {
          throw rejected(index, field, reason)
        } catch LedgerError.invalidEvent(let index, let field, let reason) {
          throw rejected(index, field, reason)
        }
      }
      // Validation of a long file can take a while: say so on a terminal.
      let announce = Console.stderrIsTerminal && parsed.entries.count > 5_000
      if announce { Console.stderr("validating and recording \(Render.count(parsed.entries.count, "event")) in one transaction…") }
      defer { if announce { Console.stderr("\r\u{1B}[K") } }
      let recorded: [RecordedEvent]
      var head: LedgerDigest?
      if dryRun && !ledger.ledgerExists {
        // Validate against an empty ledger in a scratch folder; write nothing at the path.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("policy-ledger-dry-run-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        recorded = try record(try CouncilLedger.open(at: scratch))
      } else {
        (recorded, head) = try ledger.withWritableLedger { ledger in
          let events = try record(ledger)
          return (events, try ledger.log.head())
        }
      }
      let first = recorded.first?.sequence.rawValue ?? 0
      let last = recorded.last?.sequence.rawValue ?? 0
      let numbers = first == last ? "event \(first)" : "events \(first)–\(last)"
      let summary = dryRun
        ? (recorded.count == 1 ? "Dry run: the one event of \(input.name) is valid (it would be \(numbers)); nothing was written."
                               : "Dry run: all \(recorded.count) events of \(input.name) are valid (they would be \(numbers)); nothing was written.")
        : "Imported \(Render.count(recorded.count, "event")) from \(input.name) as \(numbers) into \(ledger.resolvedPath)."
      let table = TextTable(["events", "first", "last", "dry run", "head"],
                            rows: [[Cell(String(recorded.count)), Cell(String(first)), Cell(String(last)), Cell(dryRun ? "yes" : "no"), Cell.optional(head?.description)]])
      let json = JSON.fields([
        "events": .integer(recorded.count), "first": .integer(first), "last": .integer(last), "dryRun": .bool(dryRun),
        "head": .optional(head?.description), "file": .string(input.name), "ledger": .string(ledger.resolvedPath),
      ])
      Report(caption: [summary], table: table, json: json).emit(output.format)
    }
  }
}

/// An input file read whole, after the checks `import` makes.
struct InputFile {
  /// The most `import` reads at once.
  static let maximumSize = 512 << 20

  let name: String
  let bytes: [UInt8]

  /// Reads `path` (or standard input for `-`).
  /// - Throws: ``Failure`` 66 (missing, not a regular file), 65 (too large, empty), 74 (unreadable).
  static func read(_ path: String) throws -> InputFile {
    if path == "-" {
      var bytes: [UInt8] = []
      let handle = FileHandle.standardInput
      while true {
        let chunk: Data
        do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch {
          throw Failure(.ioError, "cannot read standard input: \(Failure.reason(error))")
        }
        if chunk.isEmpty { break }
        bytes.append(contentsOf: chunk)
        if bytes.count > maximumSize { throw Failure(.dataError, "standard input holds more than 512 MiB; import at most 512 MiB at once (split the file)") }
      }
      if bytes.isEmpty { throw Failure(.dataError, "standard input is empty: there are no events to import") }
      return InputFile(name: "standard input", bytes: bytes)
    }
    var info = stat()
    guard stat(path, &info) == 0 else {
      let code = errno
      if code == ENOENT || code == ENOTDIR { throw Failure(.noInput, "no file at \(path)") }
      throw Failure(.ioError, "cannot read \(path): \(String(cString: strerror(code)).lowercased())")
    }
    let type = info.st_mode & S_IFMT
    guard type == S_IFREG else {
      let what = type == S_IFDIR ? "a folder" : type == S_IFIFO ? "a pipe" : type == S_IFCHR || type == S_IFBLK ? "a device" : type == S_IFSOCK ? "a socket" : "not a regular file"
      throw Failure(.noInput, "\(path) is \(what), not a regular file; give an NDJSON file (or - for standard input)")
    }
    guard info.st_size <= maximumSize else {
      throw Failure(.dataError, "\(path) is \(info.st_size) bytes; at most 512 MiB can be imported at once (split the file)")
    }
    guard info.st_size > 0 else { throw Failure(.dataError, "\(path) is empty: there are no events to import") }
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw Failure(.ioError, "cannot read \(path): \(Failure.reason(error))")
    }
    return InputFile(name: path, bytes: Array(data))
  }
}

/// NDJSON lines into ledger entries, keeping each entry's line number.
enum NDJSONInput {
  struct Parsed {
    var entries: [CouncilLedger.Entry] = []
    /// The 1-based line number of each entry.
    var lines: [Int] = []
  }

  /// Known binary formats, for a clearer error than "not UTF-8".
  static let signatures: [(bytes: [UInt8], name: String)] = [
    ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG image"),
    ([0xFF, 0xD8, 0xFF], "a JPEG image"),
    ([0x25, 0x50, 0x44, 0x46, 0x2D], "a PDF document"),
    ([0x50, 0x4B, 0x03, 0x04], "a ZIP archive (or an Office document)"),
    ([0x1F, 0x8B], "a gzip archive (decompress it first)"),
    ([0x47, 0x49, 0x46, 0x38], "a GIF image"),
  ]

  /// Reads every line (blank lines skipped, CRLF accepted).
  /// - Throws: ``Failure`` 65 naming the line (and field) of the first bad line.
  static func parse(_ bytes: [UInt8], name: String, defaultActor: String, showProgress: Bool) throws -> Parsed {
    if let kind = signatures.first(where: { bytes.starts(with: $0.bytes) }) {
      throw Failure(.dataError, "\(name) line 1: this is \(kind.name), not NDJSON text (one JSON event a line)")
    }
    var bytes = bytes
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }  // a UTF-8 byte-order mark
    var progress: ProgressBar?
    if showProgress {
      // Lines as the loop below counts them: a final line break ends the last line, it does not
      // start another (else the bar would stop at 50000/50001).
      let total = bytes.reduce(into: 0) { if $1 == 0x0A { $0 += 1 } } + (bytes.last == 0x0A || bytes.isEmpty ? 0 : 1)
      if total > 5_000 { progress = ProgressBar(total: total, label: "reading \(name)") }
    }
    defer { progress?.finish() }
    var out = Parsed()
    var number = 0
    var start = 0
    var sawContent = false
    while start <= bytes.count {
      let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
      number += 1
      var line = bytes[start..<end]
      if line.last == 0x0D { line = line.dropLast() }
      if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
        sawContent = true
        if line.count <= NDJSON.maximumLineLength, let offset = firstInvalidUTF8(line) {
          let byte = line[line.startIndex + offset]
          throw Failure(.dataError, "\(name) line \(number): not valid UTF-8 text (byte \(offset + 1) of the line is 0x\(String(byte, radix: 16, uppercase: true))); save the file as UTF-8")
        }
        do throws(NDJSON.LineError) {
          let entry = try NDJSON.entry(from: line, number: number, defaultActor: defaultActor)
          if let error = NDJSON.chainError(after: out.entries.last, entry, number: number) { throw error }
          out.entries.append(entry)
          out.lines.append(number)
        } catch {
          throw Failure(.dataError, "\(name) line \(number)" + (error.field.map { ", field \"\($0)\"" } ?? "") + ": \(error.reason)")
        }
      }
      if number % 1_000 == 0 { progress?.update(number) }
      start = end + 1
      if start == bytes.count { break }  // a final line break: no empty line after it
    }
    progress?.update(number)
    if !sawContent { throw Failure(.dataError, "\(name) holds no events: every line is blank") }
    return out
  }

  /// The offset of the first byte that is not part of valid UTF-8, or `nil`.
  static func firstInvalidUTF8(_ bytes: some Collection<UInt8>) -> Int? {
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var offset = 0
    while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let encoded): offset += encoded.count
      case .emptyInput: return nil
      case .error: return offset
      }
    }
  }
}

/// A one-line progress bar on standard error (only drawn when standard error is a terminal).
struct ProgressBar {
  let total: Int
  let label: String
  private var drawn = -1

  init(total: Int, label: String) {
    self.total = max(total, 1)
    self.label = label
  }

  mutating func update(_ done: Int) {
    let percent = min(100, done * 100 / total)
    guard percent != drawn else { return }
    drawn = percent
    let filled = percent * 30 / 100
    let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
    Console.stderr("\r\(label) [\(bar)] \(percent)% (\(done)/\(total) lines)")
  }

  func finish() {
    guard drawn >= 0 else { return }
    Console.stderr("\r\u{1B}[K")
  }
}
