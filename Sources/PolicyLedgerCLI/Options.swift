import ArgumentParser
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

/// Where the ledger is: `--ledger PATH`, else `$POLICY_LEDGER_PATH`, else `./policy-ledger`.
struct LedgerOptions: ParsableArguments {
  /// The documented default: a folder in the current directory.
  static let defaultPath = "./policy-ledger"
  static let environmentVariable = "POLICY_LEDGER_PATH"

  @Option(
    name: .customLong("ledger"),
    help: ArgumentHelp("The ledger folder. Default: $POLICY_LEDGER_PATH, else ./policy-ledger.", valueName: "path"),
    completion: .directory)
  var path: String?

  func validate() throws {
    if let path, path.trimmingCharacters(in: .whitespaces).isEmpty {
      throw ValidationError("--ledger needs a folder path, not an empty string.")
    }
  }

  /// The folder this command uses.
  var resolvedPath: String {
    if let path, !path.isEmpty { return path }
    if let value = ProcessInfo.processInfo.environment[LedgerOptions.environmentVariable], !value.isEmpty { return value }
    return LedgerOptions.defaultPath
  }

  /// Opens the ledger read-only; never creates anything.
  /// - Throws: ``Failure`` 66 when there is no ledger at the path.
  func openForReading() throws -> CouncilLedger {
    let path = resolvedPath
    guard FileManager.default.fileExists(atPath: path) else { throw Failure.noLedger(path) }
    var options = EventLog.Options()
    options.readOnly = true
    options.create = false
    return try CouncilLedger.open(at: path, options: options)
  }

  /// Opens an existing ledger for writing (for `check`, which keeps scratch tables beside the
  /// projections); never creates one.
  func openExistingForWriting() throws -> CouncilLedger {
    let path = resolvedPath
    guard FileManager.default.fileExists(atPath: path) else { throw Failure.noLedger(path) }
    var options = EventLog.Options()
    options.create = false
    return try CouncilLedger.open(at: path, options: options)
  }

  /// Whether a ledger folder with data exists at the path.
  var ledgerExists: Bool { FileManager.default.fileExists(atPath: resolvedPath + "/data.mdb") }

  /// The ledger folder that `folder` is, or lies inside (this ledger's, or any folder holding
  /// LMDB files), or `nil`. Symbolic links are followed. Export and backup refuse such places:
  /// a file written there could overwrite a ledger's data or be mistaken for part of it.
  func enclosingLedgerFolder(of folder: String) -> String? {
    let own = URL(fileURLWithPath: resolvedPath).resolvingSymlinksInPath().path
    var candidate = URL(fileURLWithPath: folder).resolvingSymlinksInPath()
    while true {
      let path = candidate.path
      if path == own || ["data.mdb", "lock.mdb"].contains(where: { FileManager.default.fileExists(atPath: path + "/" + $0) }) { return path }
      if path == "/" { return nil }
      candidate.deleteLastPathComponent()
    }
  }

  /// Runs `body` with the ledger opened for writing, creating the folder (and its parents) when
  /// missing. When this call created the folder and nothing was recorded in it, the folder is
  /// removed again if `body` fails, so a rejected first import leaves no empty ledger behind.
  /// - Parameter newLedgerID: the id of a ledger created here (`import --ledger-id`).
  func withWritableLedger<R>(newLedgerID: String? = nil, _ body: (CouncilLedger) throws -> R) throws -> R {
    let path = resolvedPath
    var isDirectory: ObjCBool = false
    let existed = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
    if existed && !isDirectory.boolValue {
      throw Failure(.noInput, "\(path) is a file, not a ledger folder; give --ledger a folder")
    }
    if !existed {
      do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
      } catch {
        throw Failure(.ioError, "cannot create the ledger folder \(path): \(Failure.reason(error))")
      }
    }
    var opened: CouncilLedger?
    do {
      var options = EventLog.Options()
      options.newLedgerID = newLedgerID
      let ledger = try CouncilLedger.open(at: path, options: options)
      opened = ledger
      return try body(ledger)
    } catch {
      if !existed && LedgerOptions.holdsNoEvents(opened) {
        try? FileManager.default.removeItem(atPath: path)
      }
      throw error
    }
  }
}

extension LedgerOptions {
  /// True when `ledger` was never opened, or is open and certainly empty.
  static func holdsNoEvents(_ ledger: CouncilLedger?) -> Bool {
    guard let ledger else { return true }
    do { return try ledger.log.head() == nil } catch { return false }
  }
}

/// How read commands print: an aligned table, JSON or CSV.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
  case table, json, csv
}

struct FormatOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Output format: table (aligned, for people), json or csv.", valueName: "format"))
  var format: OutputFormat = .table

  @Option(help: ArgumentHelp(
    "Dates in tables and CSV: iso (2020-03-26), wareki (令和2年3月26日, 令和2年度) or japanese (2020年6月上旬). Default: $POLICY_LEDGER_DATES, else iso. JSON always keeps ISO.",
    valueName: "style"))
  var dates: DatesOption?

  @Flag(help: "With --format csv: begin with a UTF-8 byte-order mark (lines end in CRLF) so that Japanese Excel opens the file as UTF-8.")
  var excel = false

  /// Sets how this run shows dates and CSV.
  func validate() throws {
    if let dates {
      Display.dates = dates.style
    } else if let text = ProcessInfo.processInfo.environment[DateStyle.environmentVariable], !text.isEmpty {
      guard let style = DateStyle(rawValue: text) else {
        throw ValidationError("\(DateStyle.environmentVariable)=\(text) is not a date style; use iso, wareki or japanese.")
      }
      Display.dates = style
    }
    Display.excel = excel
  }
}

/// The two clocks of a question: `--as-of` (valid time) and `--known-at` (transaction time).
struct TimeOptions: ParsableArguments {
  @Option(
    name: .customLong("as-of"),
    help: ArgumentHelp(
      "The date to ask about (valid time). Default: today in Japan (UTC+9); history and audit list every event unless it is given.",
      discussion: "Any form: 2020-03-26, 令和２年３月２６日, R2.3.26, 2020年度, FY2020, 2020年6月上旬, 2019年8月頃, 平成31年4月. A coarse date counts from the first day of its period.",
      valueName: "date"))
  var asOf: Checked<EffectiveDate>?

  @Option(
    name: .customLong("known-at"),
    help: ArgumentHelp(
      "Ask what the ledger knew at this moment (transaction time), or seq:N for as known through event N.",
      discussion: "A moment such as 2026-11-29T12:00:00Z or 2026-11-29 21:00 (Japan time), or a date (the end of that day, Japan time).",
      valueName: "moment"))
  var knownAt: Checked<KnowledgeArgument>?

  func validate() throws {
    _ = try asOf?.value("--as-of")
    _ = try knownAt?.value("--known-at")
  }

  /// The date asked about: `--as-of`, or today in Japan.
  func date() throws -> EffectiveDate {
    if let asOf { return try asOf.value("--as-of") }
    return .day(TimeOptions.todayInJapan())
  }

  /// The day as-of questions count from (a coarse date's first day).
  func day() throws -> CalendarDay { try date().firstDay }

  func knowledge() throws -> KnowledgeTime {
    try knownAt?.value("--known-at").time ?? .latest
  }

  /// A line for the top of a table: `As of 2020-04-01 (FY2020, counted from its first day)`.
  func caption() throws -> String {
    let date = try date()
    var text = "As of \(Display.text(.day(date.firstDay)))"
    if date.precision != .day || date.isApproximate {
      text += " (\(Display.dates == .iso ? date.japaneseDescription : date.description) = \(Display.text(date)), counted from its first day)"
    } else if asOf == nil {
      text += " (today in Japan)"
    }
    switch try knowledge() {
    case .latest: break
    case .moment(let t): text += ", as known at \(t)"
    case .through(let s): text += ", as known through event \(s)"
    }
    return text
  }

  /// Today's date in Japan (UTC+9), where the council sits.
  static func todayInJapan() -> CalendarDay {
    LedgerTimestamp(microseconds: LedgerTimestamp.now().microseconds + 9 * 3_600_000_000).utcDay
  }
}

/// Who records an event, its source, and the optimistic-concurrency check.
struct EntryOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Where the fact comes from: a document and slide, a URL.", valueName: "text"))
  var source: String?

  @Option(help: ArgumentHelp("Who records it. Default: the OS user.", valueName: "name"))
  var actor: String?

  @Option(
    name: .customLong("expected-version"),
    help: ArgumentHelp("Fail unless the event's main stream has exactly N events (none: it must not exist yet).", valueName: "n|none"))
  var expectedVersion: Checked<ExpectedVersionArgument>?

  @Option(help: ArgumentHelp(
    "An idempotency key for the event (letters, digits, . _ : / - @ # + =; at most 200).",
    discussion: "Recording again with the same key and the same content records nothing and names the earlier event; with other content it is refused. Without a key the event is known by its content (type, date and fields), so running the same command twice records it once: give a new key to record the same fact again on purpose.",
    valueName: "key"))
  var key: String?

  @Option(
    name: .customLong("sign-with"),
    help: ArgumentHelp(
      "Sign the event with this private key file (mode 600), whose key is registered to the actor (`keys register`).",
      discussion: "The signature (Ed25519 over the event's chain hash) is stored with the event; `verify`, `log` and `audit` check it. Without --actor, the actor is the one the key is registered to.",
      valueName: "keyfile"),
    completion: .file())
  var signWith: String?

  func validate() throws {
    _ = try expectedVersion?.value("--expected-version")
    if let signWith, signWith.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--sign-with needs a private key file.") }
    if let key, let reason = EventKey.validationError(key) { throw ValidationError("--key: \(reason)") }
    if let actor, actor.trimmingCharacters(in: .whitespaces).isEmpty {
      throw ValidationError("--actor cannot be empty.")
    }
  }

  /// The key of `--sign-with`, read (and its file's mode checked); `nil` without the option.
  /// - Throws: ``Failure`` as `ProofFiles.signer(at:)`.
  func signer() throws -> NoteSigner? { try signWith.map(ProofFiles.signer(at:)) }

  /// `--actor`; else, signing, the actor `signer` is registered to now; else the OS user.
  func resolvedActor(signer: NoteSigner?, ledger: LedgerOptions) throws -> String {
    try EntryOptions.actor(given: actor, signer: signer, ledger: ledger)
  }

  /// Who records: the actor `given` (an option), else the one `signer`'s key is registered to,
  /// else the OS user. The one rule for `record`, `import` and the `keys` writes.
  static func actor(given: String?, signer: NoteSigner?, ledger: LedgerOptions) throws -> String {
    if let given { return given }
    return try actor(registeredTo: signer, ledger: ledger) ?? osUser
  }

  /// The actor `signer`'s key is registered to now, if it is (`nil` also without a ledger yet).
  /// - Throws: what reading the ledger throws: a registry that cannot be read is not "no actor".
  static func actor(registeredTo signer: NoteSigner?, ledger: LedgerOptions) throws -> String? {
    guard let signer, ledger.ledgerExists else { return nil }
    let registry = try ledger.openForReading().signingRegistry()
    let key = signer.verifier
    return registry.registrations.last { $0.key == key && $0.revoked == nil }?.actor
  }

  static var osUser: String {
    if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name, let text = String(validatingCString: name), !text.isEmpty {
      return text
    }
    if let user = ProcessInfo.processInfo.environment["USER"], !user.isEmpty { return user }
    return "uid-\(geteuid())"
  }
}
