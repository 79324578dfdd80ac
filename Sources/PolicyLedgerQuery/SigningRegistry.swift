import Foundation
public import PolicyLedgerDomain
public import PolicyLedgerEventLog
public import PolicyLedgerStorage

/// Who may sign what, as the log says at each sequence number: actors' registered keys
/// (`actor.key-registered`, `actor.key-revoked`) and the signing policy (`ledger.signing-policy`).
///
/// Keys and policy take effect from the **next** event on: a key registered by event r signs
/// events after r; a key revoked by event v signs events up to v (so its owner may sign its own
/// revocation) and none after; a policy set by event p applies to events after p. All by
/// sequence number, the order of recording, never by effective date: a signature is about when
/// an event was recorded, and a backdated revocation cannot void what was signed before it.
public struct SigningRegistry: Sendable {
  /// One registration of a key to an actor.
  public struct Registration: Sendable, Hashable {
    /// The actor as events name it.
    public let actor: String
    /// The actor's verifier key.
    public let key: NoteVerifier
    /// The `actor.key-registered` event.
    public let registered: SequenceNumber
    /// Who recorded that event: the one who vouched that the key is the actor's (under a policy
    /// requiring signatures, itself an actor with a registered key).
    public let registeredBy: String
    /// The `actor.key-revoked` event, if any.
    public internal(set) var revoked: SequenceNumber?

    /// Whether the key may sign event `sequence`: registered before it and not revoked before it.
    public func covers(_ sequence: SequenceNumber) -> Bool {
      registered < sequence && (revoked.map { sequence <= $0 } ?? true)
    }
  }

  /// Every registration, in the order recorded.
  public private(set) var registrations: [Registration] = []
  /// Every policy change (event, policy), in the order recorded.
  public private(set) var policyChanges: [(sequence: SequenceNumber, policy: SignaturePolicy)] = []
  /// Signing events whose payload does not read back (a damaged or forged log), and why: they
  /// register nothing, and `verify` counts each as a failure.
  public private(set) var malformed: [(sequence: SequenceNumber, reason: String)] = []

  public init() {}

  /// The registry as of the ledger's head (or as of the events before `before`), read in `txn`
  /// from the `key:` streams and the policy stream (a few events per key, so cheap at any log
  /// size). A writer passes the first event it appends: the transaction already holds its
  /// chunk, whose events must take effect one by one, in order.
  /// - Throws: ``LedgerError`` when an event cannot be read.
  public static func load<T: LMDBReader & ~Copyable>(_ log: EventLog, in txn: borrowing T, before: SequenceNumber? = nil) throws -> SigningRegistry {
    var registry = SigningRegistry()
    var sequences = try log.sequences(inStreamsWithPrefix: "key:", in: txn)
    sequences += try log.sequences(inStream: .signingPolicy, fromVersion: 1, limit: .max, in: txn)
    for sequence in Set(sequences).sorted() where before.map({ sequence < $0 }) ?? true {
      guard let event = try log.event(sequence, in: txn) else { continue }
      do {
        let decoded = try CouncilEvent.decode(type: event.type, schemaVersion: event.schemaVersion, payload: event.payload)
        // Decoding read the key back (a key that does not parse fails above); what `apply`
        // would refuse as new input is a log's fact here.
        registry.apply(decoded, at: sequence, recordedBy: event.actor)
      } catch {
        registry.malformed.append((sequence, "its payload is not a valid \(event.type): \(error)"))
      }
    }
    return registry
  }

  /// The policy that applies to event `sequence`, and the event that set it (`nil`: never set).
  public func policy(for sequence: SequenceNumber) -> (policy: SignaturePolicy, since: SequenceNumber?) {
    guard let last = policyChanges.last(where: { $0.sequence < sequence }) else { return (.optional, nil) }
    return (last.policy, last.sequence)
  }

  /// Adds the effect of event `sequence` (recorded after every event applied before).
  /// - Returns: Why the event is not acceptable as a new event (a key registered twice, a key
  ///   revoked that is not registered, a policy set to what it is), or `nil`. Reading a log, the
  ///   effect is applied whatever this says: the log is what it is.
  @discardableResult
  public mutating func apply(_ event: CouncilEvent, at sequence: SequenceNumber, recordedBy: String) -> String? {
    switch event {
    case .actorKeyRegistered(let p):
      guard let key = try? NoteVerifier(p.key) else { return "its key does not parse" }
      let active = registrations.first { $0.key == key && $0.covers(sequence) }
      registrations.append(Registration(actor: p.actor, key: key, registered: sequence, registeredBy: recordedBy, revoked: nil))
      if let active {
        return "the key \(key.label) is already registered to \"\(active.actor)\" (event \(active.registered))"
          + (active.actor == p.actor ? "" : "; revoke it first to give it to another actor")
      }
      return nil
    case .actorKeyRevoked(let p):
      guard let key = try? NoteVerifier(p.key) else { return "its key does not parse" }
      guard let i = registrations.firstIndex(where: { $0.key == key && $0.actor == p.actor && $0.covers(sequence) }) else {
        let revokedBefore = registrations.last { $0.key == key && $0.actor == p.actor }?.revoked
        return "the key \(key.label) is not registered to \"\(p.actor)\"" + (revokedBefore.map { " (it was revoked by event \($0))" } ?? "")
      }
      registrations[i].revoked = sequence
      let next = SequenceNumber(sequence.rawValue + 1)
      if policy(for: next).policy == .required && !registrations.contains(where: { $0.covers(next) }) {
        return "it would revoke the last registered key while signatures are required, and nothing could be recorded after it: register another key first, or set the policy to optional"
      }
      return nil
    case .signingPolicySet(let p):
      let (current, since) = policy(for: sequence)
      policyChanges.append((sequence, p.signatures))
      if current == p.signatures {
        return "the ledger's signatures are already \(current.rawValue)" + (since.map { " (since event \($0))" } ?? "")
      }
      if p.signatures == .required && !registrations.contains(where: { $0.covers(SequenceNumber(sequence.rawValue + 1)) }) {
        return "no actor's key is registered, so with signatures required nothing could be recorded after this: register a key first (`policy-ledger keys register`)"
      }
      return nil
    default:
      return nil
    }
  }

  /// Why `signer` may not sign an event of `actor` recorded as `sequence`, or `nil` when it may.
  public func signingProblem(_ signer: NoteVerifier, actor: String, at sequence: SequenceNumber) -> String? {
    let named = signer.label
    let covering = registrations.filter { $0.key == signer && $0.covers(sequence) }
    if covering.contains(where: { $0.actor == actor }) { return nil }
    if let other = covering.first {
      return "the key \(named) is registered to \"\(other.actor)\", not to \"\(actor)\", who would record this event: record it as \"\(other.actor)\", or sign with a key registered to \"\(actor)\""
    }
    if let revoked = registrations.last(where: { $0.key == signer && $0.revoked != nil })?.revoked {
      return "the key \(named) was revoked by event \(revoked); sign with a key registered now"
    }
    let required = policy(for: sequence).policy == .required ? ", signing that registration with a key already registered (signatures are required)" : ""
    return "the key \(named) is not registered to any actor; register it first (`policy-ledger keys register --actor \"\(actor)\" --key \(signer.description)`\(required))"
  }

  /// What event `event`'s stored signature (`stored`, as ``EventLog/storedSignature(of:in:)``
  /// returns it) says, against the keys and the policy at that point of the log.
  public func status(of event: RecordedEvent, stored: [UInt8]?) -> SignatureStatus {
    guard let stored else {
      let (policy, since) = policy(for: event.sequence)
      return .unsigned(required: policy == .required ? since : nil)
    }
    guard let signature = EventSignature(bytes: stored) else {
      return .bad(EventSignature.damage(of: stored))
    }
    let named = registrations.filter { $0.key.keyID == signature.keyID && $0.registered < event.sequence }
    guard !named.isEmpty else {
      return .bad("it is signed by key id \(keyIDHex(signature.keyID)), which no registration before it names")
    }
    for r in named where r.actor == event.actor && r.covers(event.sequence) && signature.isValid(for: event.hash, by: r.key) {
      return .signed(key: r.key, registration: r.registered)
    }
    for r in named where signature.isValid(for: event.hash, by: r.key) {
      let key = r.key.label
      if r.actor != event.actor { return .bad("it is signed with \(key), which is registered to \"\(r.actor)\", not to its actor \"\(event.actor)\"") }
      if let revoked = r.revoked { return .bad("it is signed with \(key) after the key was revoked by event \(revoked)") }
    }
    let key = named[0].key
    return .bad("its signature by \(key.label) does not verify: the event or its signature was changed after signing")
  }
}

/// What an event's signature says (``SigningRegistry/status(of:stored:)``).
public enum SignatureStatus: Sendable, Hashable {
  /// Signed by a key registered to the event's actor at that point of the log; `registration`
  /// is the `actor.key-registered` event.
  case signed(key: NoteVerifier, registration: SequenceNumber)
  /// No signature. `required` names the policy event that required one (a failure), else `nil`.
  case unsigned(required: SequenceNumber?)
  /// A signature that does not hold (a failure): the reason.
  case bad(String)

  /// Whether this counts against the ledger in `verify`.
  public var isFailure: Bool {
    switch self {
    case .signed: false
    case .unsigned(let required): required != nil
    case .bad: true
    }
  }

  /// One line: `signed by NAME+KEYID`, `unsigned`, or what is wrong.
  public var summary: String {
    switch self {
    case .signed(let key, _): "signed by \(key.label)"
    case .unsigned(nil): "unsigned"
    case .unsigned(let since?): "unsigned, although the policy set by event \(since) requires signatures"
    case .bad(let reason): "badly signed: \(reason)"
    }
  }
}
