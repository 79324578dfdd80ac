import ArgumentParser
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery
import PolicyLedgerProofs

extension PolicyLedger {
  /// `verify`: walk the hash chain.
  struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Check the hash chain from the first event to the last; exit 1 naming the first bad event.",
      discussion: """
        With --digest SEQ:HEX (as `policy-ledger digest` printed it earlier) also check that the ledger still \
        extends that digest: nothing up to that event was rewritten.

        It also checks the stored Merkle tree against the events, and every event's signature: signed by a \
        key registered to its actor, unsigned, or badly signed (a failure, as is an unsigned event where the \
        policy requires signatures). With --checkpoint FILE --key VERIFIERKEY \
        (as `policy-ledger checkpoint` printed it earlier), it checks the checkpoint's signature and that the \
        ledger's first SIZE events still have its root hash, naming the first differing event where it can; \
        repeat --key and give --quorum K to require K of those keys (witnesses' cosignatures).
        """)

    @Option(help: ArgumentHelp("A digest noted earlier that the ledger must still extend.", valueName: "seq:hex"))
    var digest: Checked<LedgerDigest>?
    @Option(help: ArgumentHelp("A signed checkpoint kept elsewhere that the ledger must still extend.", valueName: "file"), completion: .file())
    var checkpoint: String?
    @Option(help: ArgumentHelp("A verifier key (NAME+KEYID+BASE64, or a file holding it) for --checkpoint; repeatable.", valueName: "key"))
    var key: [String] = []
    @Option(help: ArgumentHelp("How many of the --key keys must have signed the checkpoint. Default 1.", valueName: "k"))
    var quorum = 1
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func validate() throws { _ = try digest?.value("--digest") }

    func run() throws {
      let ledger = try ledger.openForReading()
      let given = try digest?.value("--digest")
      let inputs = try ProofVerification.Inputs(checkpoint: checkpoint, keys: key, quorum: quorum)
      let report = try ledger.log.verify(extending: given)
      var proofs = try ProofVerification.check(ledger.log, report: report, inputs: inputs)
      // Signatures are checked against the events as they stand; over a broken chain they would
      // say nothing that the chain's failure does not.
      if report.isValid {
        try proofs.addEventChecks(ledger)
      }
      try Verify.emit(report, digest: given, format: output.format, proofs: proofs)
    }

    static func emit(_ report: VerificationReport, digest: LedgerDigest?, format: OutputFormat, proofs: ProofVerification = ProofVerification()) throws {
      // The verdict covers everything checked: the chain, the tree, a checkpoint, the signatures.
      let result: Cell
      if let failure = report.failure {
        result = Cell("INVALID at event \(failure.sequence)", raw: "invalid")
      } else if let first = proofs.problems.first {
        let text = (proofs.problems.count > 1 ? "\(proofs.problems.count) problems, first: " : "") + first
        result = Cell("INVALID: " + text, raw: "invalid: " + text)
      } else {
        result = Cell("valid")
      }
      let table = TextTable(["result", "events checked", "head"], rows: [[
        result,
        Cell(String(report.eventsChecked)), Cell.optional(report.head?.description),
      ]])
      var caption: [String] = []
      if report.isValid {
        caption.append("The hash chain of \(Render.count(Int(report.eventsChecked), "event")) is intact.")
        if let digest { caption.append("The ledger extends the digest \(digest).") }
      } else {
        caption.append("Checked \(Render.count(Int(report.eventsChecked), "event")) before the first failure.")
      }
      caption += proofs.caption
      Report(caption: caption, table: table, json: json(report, digest: digest, proofs: proofs)).emit(format)
      if let failure = report.failure {
        Console.error("verification failed at event \(failure.sequence): \(failure.reason)")
        throw ExitCode(Failure.Status.problemFound.rawValue)
      }
      if !proofs.problems.isEmpty {
        Console.error("verification failed: " + proofs.problems.joined(separator: "; "))
        throw ExitCode(Failure.Status.problemFound.rawValue)
      }
    }

    /// The report as `verify --format json` prints it (the web API's `/api/integrity` too).
    /// `valid` is the whole verdict (exit status 0); `chainValid` the hash chain's alone;
    /// `problems` what else failed (the stored tree, a checkpoint, signatures).
    static func json(_ report: VerificationReport, digest: LedgerDigest?, proofs: ProofVerification = ProofVerification()) -> JSON {
      JSON.merged(JSON.fields([
        "valid": .bool(report.isValid && proofs.problems.isEmpty), "chainValid": .bool(report.isValid),
        "problems": .strings(proofs.problems),
        "eventsChecked": .integer(report.eventsChecked), "head": .optional(report.head?.description),
        "digest": digest.map { .string($0.description) },
        "failure": report.failure.map { .object(["sequence": .integer($0.sequence.rawValue), "reason": .string($0.reason)]) } ?? .null,
      ]), proofs.json)
    }
  }

  /// `digest`: the head as `SEQ:HEX`.
  struct Digest: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print the ledger's head as SEQ:HEX: note it, and later `verify --digest` proves nothing up to it was rewritten.")

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
      let ledger = try ledger.openForReading()
      guard let head = try ledger.log.head() else {
        throw Failure(.noInput, "the ledger at \(ledger.log.path) holds no events, so it has no digest yet")
      }
      switch output.format {
      case .table: Console.line(head.description)
      case .json: Console.out(JSON.object(["digest": .string(head.description), "seq": .integer(head.sequence.rawValue), "hash": .string(head.hash.description)]).rendered())
      case .csv: Console.out(TextTable(["digest", "seq", "hash"], rows: [[Cell(head.description), Cell(head.sequence.description), Cell(head.hash.description)]]).csv())
      }
    }
  }

  /// `rebuild`: drop and replay the projections.
  struct Rebuild: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Drop the projections (read models) and replay every event into them; rebuild the stored Merkle tree.",
      discussion: "Run it after an interrupted rebuild, or when `check` reports differences. The event log itself is not changed. A stored Merkle tree that `verify` finds different from the events is evidence that events were rewritten: compare the ledger with a checkpoint kept elsewhere (`verify --checkpoint`) before a rebuild replaces the tree.")

    @Flag(name: .customLong("replace-tree"), help: "Replace a stored Merkle tree that differs from the events (without it, rebuild refuses: that difference is evidence of rewritten events).")
    var replaceTree = false
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
      // Never creates a ledger: a mistyped path is an error, not a new empty ledger.
      let opened = try ledger.openExistingForWriting()
      // The stored tree is the one trace of events rewritten with their hashes recomputed that
      // the ledger itself keeps: a rebuild must not wipe it out unasked.
      if !replaceTree, try opened.log.verify().isValid {
        try ProofFiles.requireStoredTreeMatches(opened.log, refusing: "compare the ledger with a checkpoint kept elsewhere (`verify --checkpoint`) before `rebuild --replace-tree` replaces it; nothing was rebuilt")
      }
      let count = try opened.rebuildProjections()
      try opened.log.rebuildMerkleTree()
      Report(caption: ["Rebuilt the projections from \(Render.count(Int(count), "event"))."], table: TextTable(["events replayed"], rows: [[Cell(String(count))]]),
             json: .object(["replayed": .integer(count)])).emit(output.format)
    }
  }

  /// `check`: projections against a fresh replay.
  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Compare the stored projections with a fresh replay of the log; exit 1 listing the differences.")

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
      let ledger = try ledger.openExistingForWriting()
      let differences = try ledger.checkProjections()
      let events = try ledger.log.head()?.sequence.rawValue ?? 0
      var table = TextTable(["database", "key", "problem"])
      for d in differences { table.append([Cell(d.database), Cell(d.key), Cell(d.problem)]) }
      let caption = differences.isEmpty
        ? "The projections equal a fresh replay of \(Render.count(Int(events), "event"))."
        : "The projections differ from a fresh replay of \(Render.count(Int(events), "event")) in \(Render.count(differences.count, "place"))" + (differences.count >= 100 ? " (the first 100 shown)" : "") + "."
      let json = JSON.object(["consistent": .bool(differences.isEmpty), "events": .integer(events),
                              "differences": .array(differences.map { .object(["database": .string($0.database), "key": .string($0.key), "problem": .string($0.problem)]) })])
      Report(caption: [caption], table: table, json: json, omitsEmptyTable: true).emit(output.format)
      if !differences.isEmpty {
        Console.error("the projections differ from a fresh replay in \(Render.count(differences.count, "place")); run `policy-ledger rebuild`")
        throw ExitCode(Failure.Status.problemFound.rawValue)
      }
    }
  }
}
