import ArgumentParser
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

extension PolicyLedger {
  /// `record <kind>`: one council event from flags a person can type, or `record --json LINE`.
  struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Record one council event (the day it happens, or later with its real date).",
      discussion: """
        Each kind of event has its own subcommand and flags; every one takes --effective DATE (when the \
        fact took effect, in any date form), --source, --actor (default: the OS user) and \
        --expected-version N|none (fail unless the event's main stream has exactly N events). \
        The event is validated against the ledger as of its date (the body must exist then, the member \
        must be appointed before leaving…); nothing is written when it fails (exit 65).

        For scripts: record --json LINE (or --json - to read it from standard input) takes one line in \
        the NDJSON import format, e.g.
          {"type":"body.dissolved","effective":"2021-03","payload":{"body":"x-wg"}}

        Prints the new event's sequence number, recorded-at moment (UTC) and hash.
        """,
      subcommands: [
        BodyEstablished.self, BodyRenamed.self, BodyDissolved.self,
        DecisionScheduled.self, DecisionRescheduled.self, DecisionTaken.self,
        IndicatorDefined.self, IndicatorObserved.self, IndicatorTargetRevised.self, IndicatorRetired.self,
        MemberAppointed.self, MemberRoleChanged.self, MemberAffiliationChanged.self, MemberDeparted.self,
        Correct.self, Retract.self,
      ])

    @Option(
      name: .customLong("json"),
      help: ArgumentHelp("One event as an NDJSON import line, or - to read it from standard input.", valueName: "line"))
    var json: String?

    @OptionGroup var entry: EntryOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    // ArgumentParser decodes and validates this command also when a subcommand follows (sharing
    // the option groups with it), so the check that something was asked for is made in run(),
    // which only runs for `record` alone.
    func run() throws {
      guard let json else {
        throw ValidationError("Name the kind of event to record (such as `record member-appointed`), or give --json LINE.")
      }
      if json.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--json needs a line of JSON, or - to read one from standard input.") }
      var bytes: [UInt8]
      var origin = "--json"
      if json == "-" {
        bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
        origin = "standard input"
      } else {
        bytes = Array(json.utf8)
      }
      let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: true)
        .map { $0.last == 0x0D ? $0.dropLast() : $0 }
        .filter { !$0.allSatisfy { $0 == 0x20 || $0 == 0x09 } }
      guard !lines.isEmpty else { throw Failure(.dataError, "\(origin) holds no event (it is empty)") }
      guard lines.count == 1 else {
        throw Failure(.dataError, "\(origin) holds \(lines.count) lines; record takes one event (use `policy-ledger import` for several)")
      }
      bytes = Array(lines[0])
      if String(validating: bytes, as: UTF8.self) == nil { throw Failure(.dataError, "\(origin) is not valid UTF-8 text") }
      let parsed: CouncilLedger.Entry
      let signer = try entry.signer()
      let defaultActor = try entry.resolvedActor(signer: signer, ledger: ledger)
      do { parsed = try NDJSON.entry(from: bytes, number: 1, defaultActor: defaultActor) } catch {
        throw Failure(.dataError, "\(origin)" + (error.field.map { ", field \"\($0)\"" } ?? "") + ": \(error.reason)")
      }
      // An export line keeps its number and is checked against its chain: that is `import`'s work.
      if parsed.exportedSequence != nil {
        throw Failure(.dataError, "\(origin) is an export line (it has seq, recorded, streams, prev and hash); record takes a new event without them, and `policy-ledger import` restores an export")
      }
      if let given = entry.key, let inLine = parsed.key, given != inLine {
        throw Failure(.usage, "--key \(given) differs from the line's key \"\(inLine)\"; give one of them")
      }
      try Recorder.record(parsed.event, effective: parsed.effective, actor: parsed.actor, source: parsed.source, signer: signer,
                          options: entry, ledger: ledger, format: output.format, flags: [:], key: parsed.key ?? entry.key)
    }
  }
}

/// A `record` subcommand: it builds one council event from its flags.
protocol EventRecording: ParsableCommand {
  var entry: EntryOptions { get }
  var ledger: LedgerOptions { get }
  var output: FormatOptions { get }
  /// The event the flags describe; throws a `ValidationError` naming a bad flag.
  func event() throws -> CouncilEvent
  /// The effective date (`nil` only for corrections and retractions: the amended event's date).
  func effectiveDate() throws -> EffectiveDate?
  /// The flag for each payload field, for error messages (`person` → `--person`).
  static var flags: [String: String] { get }
}

/// A `record` subcommand whose event takes its date from the shared `--effective` option.
protocol DatedEventRecording: EventRecording {
  var effective: EffectiveOption { get }
}

extension DatedEventRecording {
  func effectiveDate() throws -> EffectiveDate? { try effective.date() }
}

extension EventRecording {
  func validate() throws {
    _ = try event()
    _ = try effectiveDate()
  }

  func run() throws {
    let signer = try entry.signer()
    try Recorder.record(try event(), effective: try effectiveDate(), actor: entry.resolvedActor(signer: signer, ledger: ledger), source: entry.source, signer: signer,
                        options: entry, ledger: ledger, format: output.format, flags: Self.flags, key: entry.key)
  }
}

/// Records one event and prints what the ledger assigned.
enum Recorder {
  static func record(_ event: CouncilEvent, effective: EffectiveDate?, actor: String, source: String?, signer: NoteSigner?,
                     options: EntryOptions, ledger: LedgerOptions, format: OutputFormat, flags: [String: String], key: String? = nil,
                     amend: ((SequenceNumber, CouncilLedger) throws -> (payload: CanonicalValue, effective: EffectiveDate))? = nil) throws {
    var event = event
    let expected = try options.expectedVersion?.value("--expected-version").version
    func flagged(_ field: String) -> String {
      if let flag = flags[field] { return "\(flag)" }
      if field == "actor" { return "--actor" }
      if field == "source" { return "--source" }
      if field == "key" { return flags["key"] ?? "--key" }
      if field == "signature" { return "--sign-with" }
      return "field \"\(field)\""
    }
    // Before anything derives stream ids from the payload's ids.
    if let error = event.idValidationError() {
      throw Failure(.dataError, "the \(event.typeName) event was rejected: \(flagged(error.field)): \(error.reason)")
    }
    let (recorded, already) = try ledger.withWritableLedger { ledger -> (RecordedEvent, Bool) in
      var effective = effective
      var mainStream = event.streams.first
      var amended: SequenceNumber?
      switch event {
      case .eventCorrected(let c): amended = c.corrects; effective = c.effective ?? effective
      case .eventRetracted(let r): amended = r.retracts
      default: break
      }
      if let amended {
        let head = try ledger.log.head()?.sequence.rawValue ?? 0
        guard amended.rawValue <= head else {
          throw Failure(.dataError, "\(flags["corrects"] ?? "--event"): there is no event \(amended) to amend (" + (head == 0 ? "the ledger holds no events" : "the ledger holds events 1–\(head)") + ")")
        }
        let original = try ledger.log.event(amended)
        // A field-level correction: the event as it stands, with the given fields replaced (and
        // its date in force unless a new one is given).
        if let amend, case .eventCorrected(var c) = event {
          let (payload, inForce) = try amend(amended, ledger)
          c.payload = payload
          if c.effective == nil && inForce != original.effective { c.effective = inForce }
          event = .eventCorrected(c)
          effective = c.effective ?? effective
        }
        mainStream = original.streams.first
        effective = effective ?? original.effective
      }
      guard let effective else { throw Failure(.usage, "--effective is required") }
      var expectations: [StreamID: ExpectedVersion] = [:]
      if let expected, let mainStream { expectations[mainStream] = expected }
      let entry = CouncilLedger.Entry(event, effective: effective, actor: actor, source: source, key: key)
      do {
        let outcome = try ledger.recordReporting([entry], expectations: expectations, signedBy: signer)
        if let duplicate = outcome.duplicates.first { return (try ledger.log.event(duplicate.sequence), true) }
        return (outcome.recorded[0], false)
      } catch ProjectionError.invalid(_, let field, let reason) {
        throw Failure(.dataError, "the \(event.typeName) event was rejected: \(flagged(field)): \(reason)")
      } catch LedgerError.invalidEvent(_, let field, let reason) {
        throw Failure(.dataError, "the \(event.typeName) event was rejected: \(flagged(field)): \(reason)")
      }
    }
    Recorder.report(recorded, format: format, alreadyRecorded: already, signedWith: already ? nil : signer?.verifier)
  }

  static func report(_ e: RecordedEvent, format: OutputFormat, alreadyRecorded: Bool = false, signedWith key: NoteVerifier? = nil) {
    let table = TextTable(["seq", "type", "effective", "recorded (UTC)", "hash"],
                          rows: [[Cell(e.sequence.description), Cell(e.type), Cell(e.effective.description), Cell(e.recordedAt.description), Cell(e.hash.description)]])
    let json = JSON.fields([
      "seq": .integer(e.sequence.rawValue), "type": .string(e.type), "effective": .string(e.effective.description),
      "recorded": .string(e.recordedAt.description), "hash": .string(e.hash.description), "actor": .string(e.actor),
      "streams": .strings(e.streams.map(\.rawValue)), "source": e.source.map(JSON.string),
      "key": e.key.map(JSON.string), "alreadyRecorded": .bool(alreadyRecorded),
      "signedWith": key.map { .string($0.description) },
    ])
    let caption = alreadyRecorded
      ? "Nothing new: this \(e.type) was already recorded as event \(e.sequence) (effective \(e.effective), by \(e.actor))" + (e.key.map { ", key \($0)" } ?? "") + "."
      : "Recorded event \(e.sequence) (\(e.type)), effective \(e.effective), by \(e.actor)" + (key.map { ", signed with \($0.label)." } ?? ".")
    Report(caption: [caption], table: table, json: json).emit(format)
  }
}

// MARK: - Shared flags

/// `--name-ja` and `--name-en`.
struct NameOptions: ParsableArguments {
  @Option(name: .customLong("name-ja"), help: ArgumentHelp("The Japanese name as printed.", valueName: "name"))
  var ja: String

  @Option(name: .customLong("name-en"), help: ArgumentHelp("The English name, when known.", valueName: "name"))
  var en: String?

  func validate() throws {
    if ja.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--name-ja cannot be empty.") }
  }

  var name: LocalizedName { LocalizedName(ja: ja, en: en) }
}

/// The effective date every event kind takes.
struct EffectiveOption: ParsableArguments {
  @Option(help: ArgumentHelp(
    "When the fact took effect (valid time).",
    discussion: "Any form: 2020-03-26, 令和２年３月２６日, R2.3.26, 平成31年4月, 2020年度, 2020年6月上旬, 2019年8月頃.",
    valueName: "date"))
  var effective: Checked<EffectiveDate>

  func date() throws -> EffectiveDate { try effective.value("--effective") }
}
