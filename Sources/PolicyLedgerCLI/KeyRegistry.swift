import ArgumentParser
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

// `keys register`, `keys revoke`, `keys policy`, `keys list`: actors' keys and the signing policy,
// recorded as events (`actor.key-registered`, `actor.key-revoked`, `ledger.signing-policy`).

/// What every key-registry write takes: who records it, its date and source, its signature.
struct RegistryWriteOptions: ParsableArguments {
  @Option(
    name: .customLong("recorded-by"),
    help: ArgumentHelp("Who records this event. Default: the actor --sign-with's key is registered to, else the OS user.", valueName: "name"))
  var recordedBy: String?

  @Option(help: ArgumentHelp("When it takes effect (valid time), in any date form. Default: today in Japan.", valueName: "date"))
  var effective: Checked<EffectiveDate>?

  @Option(help: ArgumentHelp("Where it comes from: a decision, a letter.", valueName: "text"))
  var source: String?

  @Option(
    name: .customLong("sign-with"),
    help: ArgumentHelp("Sign this event with a private key file (mode 600) registered to its recorder; required once the policy requires signatures.", valueName: "keyfile"),
    completion: .file())
  var signWith: String?

  func validate() throws {
    _ = try effective?.value("--effective")
    if let recordedBy, recordedBy.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--recorded-by cannot be empty.") }
  }

  /// `--actor` of `keys register` and `keys revoke`: one that can record events, without
  /// surrounding white space.
  static func check(actor: String) throws {
    if let reason = ProposedEvent.actorError(actor) { throw ValidationError("--actor: \(reason).") }
    if actor.first?.isWhitespace == true || actor.last?.isWhitespace == true {
      throw ValidationError("--actor \"\(actor)\" begins or ends with white space; give the actor as its events name it.")
    }
  }

  /// Records `event` through the same path as `record` (validation, signing, the report).
  func record(_ event: CouncilEvent, ledger: LedgerOptions, format: OutputFormat, flags: [String: String]) throws {
    let options = try EntryOptions.parse(signWith.map { ["--sign-with", $0] } ?? [])
    let signer = try options.signer()
    let actor = try EntryOptions.actor(given: recordedBy, signer: signer, ledger: ledger)
    let date = try effective?.value("--effective") ?? .day(TimeOptions.todayInJapan())
    try Recorder.record(event, effective: date, actor: actor, source: source, signer: signer,
                        options: options, ledger: ledger, format: format, flags: flags)
  }
}

/// `--actor` and `--key` of `keys register` and `keys revoke`.
struct ActorKeyOptions: ParsableArguments {
  @Option(help: ArgumentHelp("The actor, exactly as events name it (the key's owner, not who records this).", valueName: "name"))
  var actor: String
  @Option(help: ArgumentHelp("The verifier key (NAME+KEYID+BASE64, as `keys generate` or `keys show` prints it), or a file holding it.", valueName: "key"))
  var key: String

  func validate() throws { try RegistryWriteOptions.check(actor: actor) }
}

extension PolicyLedger.Keys {
  /// `keys register`.
  struct Register: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Register an actor's verifier key: from the next event on, that actor's events may be signed with it.",
      discussion: """
        The actor is named exactly as events name it (--actor of `record`). Records an actor.key-registered \
        event. Once the ledger requires signatures (`keys policy required`), a registration must itself be \
        signed (--sign-with) by a key already registered: the first keys are registered before that.
        """)

    @OptionGroup var actorKey: ActorKeyOptions
    @OptionGroup var write: RegistryWriteOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
      let verifier = try ProofFiles.verifier(actorKey.key)
      try write.record(.actorKeyRegistered(.init(actor: actorKey.actor, key: verifier.description)), ledger: ledger, format: output.format,
                       flags: ["actor": "--actor", "key": "--key"])
    }
  }

  /// `keys revoke`.
  struct Revoke: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Revoke an actor's key: events after this one may no longer be signed with it (those before stay valid).")

    @OptionGroup var actorKey: ActorKeyOptions
    @Option(help: ArgumentHelp("Why (lost, left the secretariat…).", valueName: "text"))
    var reason: String?
    @OptionGroup var write: RegistryWriteOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
      let verifier = try ProofFiles.verifier(actorKey.key)
      try write.record(.actorKeyRevoked(.init(actor: actorKey.actor, key: verifier.description, reason: reason)), ledger: ledger, format: output.format,
                       flags: ["actor": "--actor", "key": "--key", "reason": "--reason"])
    }
  }

  /// `keys policy`.
  struct Policy: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show the ledger's signing policy, or set it: `required` refuses unsigned events from the next event on.",
      discussion: """
        With `required`, every later event must be signed (--sign-with) by a key registered to its actor, and \
        `verify` counts an unsigned one as a failure. Setting it back to `optional` must itself be signed then. \
        Records a ledger.signing-policy event.
        """)

    @Argument(help: ArgumentHelp("required or optional; omit it to show the policy.", valueName: "policy"))
    var policy: String?
    @Option(help: ArgumentHelp("Why the policy changes.", valueName: "text"))
    var reason: String?
    @OptionGroup var write: RegistryWriteOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func validate() throws {
      if let policy, SignaturePolicy(rawValue: policy) == nil { throw ValidationError("the policy is `required` or `optional`, not \"\(policy)\".") }
    }

    func run() throws {
      guard let policy = policy.flatMap(SignaturePolicy.init(rawValue:)) else {
        let (current, since) = try ledger.openForReading().signingRegistry().policy(for: SequenceNumber(.max))
        let text = "Signatures are \(current.rawValue)" + (since.map { " (since event \($0))." } ?? " (the policy was never set).")
        Report(caption: [text], table: TextTable(["signatures", "since"], rows: [[Cell(current.rawValue), Cell(since?.description ?? "")]]),
               json: .fields(["signatures": .string(current.rawValue), "since": since.map { .integer($0.description) }]), omitsEmptyTable: true)
          .emit(output.format == .table ? .table : output.format)
        return
      }
      try write.record(.signingPolicySet(.init(signatures: policy, reason: reason)), ledger: ledger, format: output.format,
                       flags: ["signatures": "policy", "reason": "--reason"])
    }
  }

  /// `keys list`.
  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the actors' registered keys (with revocations) and the signing policy.")

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
      let registry = try ledger.openForReading().signingRegistry()
      let (policy, since) = registry.policy(for: SequenceNumber(.max))
      var table = TextTable(["actor", "key", "registered", "registered by", "revoked"])
      for r in registry.registrations {
        table.rows.append([Cell(r.actor), Cell(r.key.description), Cell("event \(r.registered)"), Cell(r.registeredBy), Cell(r.revoked.map { "event \($0)" } ?? "")])
      }
      let json = JSON.fields([
        "signatures": .string(policy.rawValue), "policySince": since.map { .integer($0.description) },
        "keys": .array(registry.registrations.map { r in
          .fields(["actor": .string(r.actor), "key": .string(r.key.description), "registered": .integer(r.registered.description),
                   "registeredBy": .string(r.registeredBy),
                   "revoked": r.revoked.map { .integer($0.description) }])
        }),
      ])
      let caption = "\(Render.count(registry.registrations.count, "key registration")); signatures are \(policy.rawValue)" + (since.map { " (since event \($0))." } ?? ".")
      Report(caption: [caption], table: table, json: json, omitsEmptyTable: true).emit(output.format)
    }
  }
}
