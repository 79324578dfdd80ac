public import PolicyLedgerDomain
public import PolicyLedgerEventLog
public import PolicyLedgerStorage

/// Signs events as they are recorded, inside the append's transaction (Recording.swift): each
/// event's chain hash is known only there. Checks the signer against the registry, refuses an
/// unsigned event where the policy requires signatures, and applies `actor.*` and policy events
/// to the registry, refusing those that make no sense (a key registered twice…).
struct EventSigning {
  let signer: NoteSigner?
  /// The signer's verifier key, derived once.
  let verifier: NoteVerifier?
  /// Read at the first event of an attempt (`nil` again when an attempt starts over).
  var registry: SigningRegistry?

  init(signer: NoteSigner?) {
    self.signer = signer
    self.verifier = signer?.verifier
  }

  /// `entry` is what was given to record: an export line's signature (restored exactly) is kept
  /// when it holds here; a new event is signed with `signer`.
  mutating func sign(_ event: RecordedEvent, decoded: CouncilEvent, index: Int, entry: CouncilLedger.Entry, log: EventLog, in txn: borrowing LMDBWriteTransaction) throws {
    if registry == nil {
      registry = try SigningRegistry.load(log, in: txn, before: event.sequence)
      // A signature stored for an event not recorded yet would be taken for the new event's.
      if let last = try log.lastSignedSequence(in: txn), last >= event.sequence {
        throw LedgerError.damaged(path: log.path, reason: "its signatures database holds a signature for event \(last), which is not recorded yet (the log ends at event \(event.sequence.rawValue - 1)): the file was changed outside the ledger")
      }
    }
    func refuse(_ reason: String) -> ProjectionError { .invalid(index: index, field: "signature", reason: reason) }
    if entry.exportedLink != nil, signer != nil {
      throw refuse("an export line keeps the signature it had (or none); --sign-with signs new events, not restored ones")
    }
    if let carried = entry.exportedSignature {
      guard entry.exportedLink?.hash == event.hash else {
        throw refuse("the line's signature is over its hash in the ledger it was exported from, and here the event gets another hash (this ledger's chain is not the export's), so the signature cannot be kept: restore the export into an empty ledger")
      }
      let status = registry!.status(of: event, stored: carried.bytes)
      guard case .signed = status else { throw refuse("the line's signature does not hold here: \(status.summary)") }
      try log.putSignature(carried, for: event.sequence, in: txn)
    } else if let signer, let verifier {
      if let problem = registry!.signingProblem(verifier, actor: event.actor, at: event.sequence) { throw refuse(problem) }
      try log.putSignature(EventSignature(signing: event.hash, with: signer), for: event.sequence, in: txn)
    } else if case (.required, let since?) = registry!.policy(for: event.sequence) {
      let restore = entry.exportedLink != nil ? " (this export line carries no signature)" : ""
      throw refuse("this ledger requires every event to be signed with its actor's registered key (policy set by event \(since)); sign it with --sign-with KEYFILE" + restore)
    }
    if let problem = registry!.apply(decoded, at: event.sequence, recordedBy: event.actor) {
      let field = if case .signingPolicySet = decoded { "signatures" } else { "key" }
      throw ProjectionError.invalid(index: index, field: field, reason: problem)
    }
  }
}

/// What ``CouncilLedger/verifySignatures()`` found: every event's signature against the keys
/// registered when it was recorded, and the policy then.
public struct SignatureReport: Sendable {
  /// Events checked (the whole log).
  public var events: UInt64 = 0
  /// Events signed by a key registered to their actor, per key (`NAME+KEYID`).
  public var signedByKey: [String: UInt64] = [:]
  /// Events without a signature where none was required.
  public var unsigned: UInt64 = 0
  /// Failures, in sequence order: badly signed events, and unsigned ones the policy required
  /// signed. At most ``maximumListed`` are kept; ``failureCount`` counts them all.
  public var failures: [(sequence: SequenceNumber, status: SignatureStatus)] = []
  /// All failures.
  public var failureCount: UInt64 = 0
  /// Registered keys at the head: (actor, key, registration event, revocation event).
  public var keys: [SigningRegistry.Registration] = []
  /// The policy at the head, and the event that set it.
  public var policy: (policy: SignaturePolicy, since: SequenceNumber?) = (.optional, nil)
  /// How many failures are listed.
  public static let maximumListed = 100

  /// Events signed by known keys.
  public var signed: UInt64 { signedByKey.values.reduce(0, +) }
  /// Whether nothing failed.
  public var isClean: Bool { failureCount == 0 }
}

extension CouncilLedger {
  /// Checks every event's signature (one read transaction): each stored signature against the
  /// key registered to the event's actor at that point of the log (Ed25519 over the chain hash),
  /// and every unsigned event against the policy then.
  /// - Complexity: one Ed25519 verification per signed event, one cursor step per event.
  /// - Throws: ``LedgerError`` when the log cannot be read; a signature row for an event that
  ///   does not exist is reported as ``LedgerError/damaged(path:reason:)``.
  public func verifySignatures() throws -> SignatureReport {
    try log.environment.read { txn in
      let registry = try SigningRegistry.load(log, in: txn)
      var report = SignatureReport()
      report.keys = registry.registrations
      let head = try log.headDigest(in: txn)?.sequence ?? SequenceNumber(0)
      report.events = head.rawValue
      report.policy = registry.policy(for: SequenceNumber(head.rawValue &+ 1))
      func note(_ sequence: SequenceNumber, _ status: SignatureStatus) {
        switch status {
        case .signed(let key, _): report.signedByKey[key.label, default: 0] += 1
        case .unsigned(nil): report.unsigned += 1
        default:
          report.failureCount += 1
          if report.failures.count < SignatureReport.maximumListed { report.failures.append((sequence, status)) }
        }
      }
      // Unsigned events between two signed ones only need the policy, not their content.
      func unsigned(after: UInt64, before: UInt64) {
        var s = after + 1
        while s < before {
          let (policy, since) = registry.policy(for: SequenceNumber(s))
          // The policy is the same up to the next change after s.
          let nextChange = registry.policyChanges.first { $0.sequence.rawValue >= s }?.sequence.rawValue
          let end = nextChange.map { min(before, $0 + 1) } ?? before
          if policy == .required {
            for t in s..<end { note(SequenceNumber(t), .unsigned(required: since)) }
          } else {
            report.unsigned += end - s
          }
          s = end
        }
      }
      var previous: UInt64 = 0
      try log.forEachStoredSignature(in: txn) { sequence, stored in
        guard let event = try log.event(sequence, in: txn) else {
          unsigned(after: previous, before: head.rawValue + 1)
          previous = max(previous, head.rawValue)
          note(sequence, .bad("a signature is stored for it, but the log ends at event \(head)"))
          return true
        }
        unsigned(after: previous, before: sequence.rawValue)
        note(sequence, registry.status(of: event, stored: stored))
        previous = sequence.rawValue
        return true
      }
      unsigned(after: previous, before: head.rawValue + 1)
      // Signing events that do not read back register nothing: each is a failure of its own.
      for (sequence, reason) in registry.malformed {
        report.failureCount += 1
        report.failures.append((sequence, .bad(reason)))
      }
      report.failures.sort { $0.sequence < $1.sequence }
      if report.failures.count > SignatureReport.maximumListed { report.failures.removeLast(report.failures.count - SignatureReport.maximumListed) }
      return report
    }
  }

  /// The registry of actors' keys and the signing policy at the head.
  public func signingRegistry() throws -> SigningRegistry {
    try log.environment.read { txn in try SigningRegistry.load(log, in: txn) }
  }

  /// The signature status of each of `events` (for `log` and `audit`), against `registry`.
  public func signatureStatuses(of events: [RecordedEvent], registry: SigningRegistry) throws -> [SignatureStatus] {
    try log.environment.read { txn in
      try events.map { registry.status(of: $0, stored: try log.storedSignature(of: $0.sequence, in: txn)) }
    }
  }
}

/// Signature statuses for a reader going through the log in sequence order (`log`, the web
/// view): the stored signatures are read a window of 10,000 sequence numbers at a time, in one
/// read transaction each, not one transaction per event.
public struct SignatureLookup {
  let log: EventLog
  /// Who may sign, read once (``CouncilLedger/signingRegistry()``).
  public let registry: SigningRegistry
  private let windowSize: UInt64
  private var window: Range<UInt64> = 0..<0
  private var stored: [UInt64: [UInt8]] = [:]

  /// - Parameter windowSize: sequence numbers read per transaction (default 10,000).
  public init(_ ledger: CouncilLedger, windowSize: Int = 10_000) throws {
    self.log = ledger.log
    self.registry = try ledger.signingRegistry()
    self.windowSize = UInt64(max(1, windowSize))
  }

  /// `event`'s signature status (``SigningRegistry/status(of:stored:)``).
  public mutating func status(of event: RecordedEvent) throws -> SignatureStatus {
    let sequence = event.sequence.rawValue
    if !window.contains(sequence) {
      let end = sequence + windowSize
      var found: [UInt64: [UInt8]] = [:]
      try log.forEachStoredSignature(from: event.sequence) { s, value in
        guard s.rawValue < end else { return false }
        found[s.rawValue] = value
        return true
      }
      (window, stored) = (sequence..<end, found)
    }
    return registry.status(of: event, stored: stored[sequence])
  }
}

