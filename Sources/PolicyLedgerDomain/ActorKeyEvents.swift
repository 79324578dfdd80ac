public import PolicyLedgerEventLog

// The events that say who may sign what: an actor's Ed25519 key registered or revoked, and the
// ledger's policy on unsigned events. They are facts like any other (both clocks, in the hash
// chain, in every checkpoint's tree), so a key's validity cannot be changed without a trace; they
// change no entity's state, and they cannot be corrected or retracted (revoke a key instead).

/// `actor.key-registered` v1: from this event on, events recorded by `actor` may carry
/// signatures by `key`.
public struct ActorKeyRegistered: Codable, Hashable, Sendable {
  /// The actor exactly as events name it (the envelope's `actor`, such as `内閣府 事務局`).
  public var actor: String
  /// The verifier key in C2SP signed-note form, `NAME+KEYID+BASE64` (stored as parsed and
  /// printed again, so one key has one spelling).
  public var key: String
  public init(actor: String, key: String) { self.actor = actor; self.key = key }
}

/// `actor.key-revoked` v1: from this event on, signatures by `key` are no longer accepted from
/// `actor` (events signed with it before stay valid).
public struct ActorKeyRevoked: Codable, Hashable, Sendable {
  public var actor: String
  public var key: String
  public var reason: String?
  public init(actor: String, key: String, reason: String? = nil) { self.actor = actor; self.key = key; self.reason = reason }
}

/// Whether a ledger accepts unsigned events.
public enum SignaturePolicy: String, VocabularyTerm, Sendable {
  /// Every event must carry its actor's signature by a registered key.
  case required
  /// Events may be unsigned (the default of every ledger).
  case optional
}

/// `ledger.signing-policy` v1: from the next event on, the ledger requires signatures (or no
/// longer does).
public struct SigningPolicySet: Codable, Hashable, Sendable {
  public var signatures: SignaturePolicy
  public var reason: String?
  public init(signatures: SignaturePolicy, reason: String? = nil) { self.signatures = signatures; self.reason = reason }
}

extension StreamID {
  /// `key:KEYID` (8 lower-case hex digits): the registrations and revocations of one key id.
  public static func actorKey(_ keyID: UInt32) -> StreamID { StreamID(unchecked: "key:" + keyIDHex(keyID)) }
  /// `ledger:signing-policy`: the ledger's signing-policy events.
  public static let signingPolicy = StreamID(unchecked: "ledger:signing-policy")
}

extension CouncilEvent {
  /// The key named by an `actor.*` event, parsed; `nil` for other events.
  /// - Throws: ``CouncilEventError`` (field `key`) when it is not a verifier key.
  public func actorKey() throws(CouncilEventError) -> NoteVerifier? {
    let text: String
    switch self {
    case .actorKeyRegistered(let p): text = p.key
    case .actorKeyRevoked(let p): text = p.key
    default: return nil
    }
    do { return try NoteVerifier(text) } catch {
      throw CouncilEventError(field: "key", reason: "\(error); give the verifier key that `policy-ledger keys show` prints (NAME+KEYID+BASE64)")
    }
  }

  /// Whether the event is about signing (keys and policy), which changes no entity.
  public var isAboutSigning: Bool {
    switch self {
    case .actorKeyRegistered, .actorKeyRevoked, .signingPolicySet: true
    default: false
    }
  }

  /// Checks an `actor.*` event's actor and key, and stores the key in its one spelling (what
  /// ``decode(type:schemaVersion:payload:)`` does to a payload read back); other events as they are.
  /// - Throws: ``CouncilEventError`` naming `actor` or `key`.
  public func normalisingActorKey() throws(CouncilEventError) -> CouncilEvent {
    guard let key = try actorKey() else { return self }
    let actor: String
    var event = self
    switch self {
    case .actorKeyRegistered(var p): actor = p.actor; p.key = key.description; event = .actorKeyRegistered(p)
    case .actorKeyRevoked(var p): actor = p.actor; p.key = key.description; event = .actorKeyRevoked(p)
    default: return self
    }
    // The actor a key is registered to must be one that can record events.
    if let reason = ProposedEvent.actorError(actor) { throw CouncilEventError(field: "actor", reason: reason) }
    if actor.first?.isWhitespace == true || actor.last?.isWhitespace == true {
      throw CouncilEventError(field: "actor", reason: "\"\(actor)\" begins or ends with white space, which no table shows: give the actor as its events name it, without it")
    }
    return event
  }
}
