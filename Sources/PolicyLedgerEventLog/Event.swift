import Foundation

/// An event as a caller proposes it, before the ledger assigns its sequence number, recorded-at
/// moment and hash.
public struct ProposedEvent: Sendable, Hashable {
  /// The event type, such as `body.established`: lower-case words of `a–z 0–9 -` joined by `.`.
  public var type: String
  /// The version of the payload's schema for this type, from 1.
  public var schemaVersion: Int
  /// The streams (entities) the event concerns: 1 to 16 distinct ids, the first being the main one.
  public var streams: [StreamID]
  /// Valid time: when the fact took effect, at the precision the source gives.
  public var effective: EffectiveDate
  /// Who recorded it (an OS user name, a person): 1 to 200 characters, no control characters.
  public var actor: String
  /// Where the fact comes from: a document and slide, a URL. Optional.
  public var source: String?
  /// The event's own fields: a JSON object in canonical form.
  public var payload: CanonicalValue
  /// The idempotency key the caller gave, if any (``EventKey``): stored in the event (the
  /// envelope member `key`, omitted when absent). An event without one is known by its
  /// content (``EventKey/contentDigest(type:schemaVersion:effective:payload:)``).
  public var key: String?
  /// Set when the event is restored from an export line: the line's place in its chain and the
  /// moment it was recorded. Appended right after the event whose hash is `previous`, the event
  /// keeps `recordedAt` and must get exactly `hash` (or the append is refused); appended
  /// anywhere else, it is recorded anew, with a moment and hash of its own.
  public var restoring: Restoring?
  /// ``EventKey/contentDigest(of:)``, when the caller has computed it already (recording checks
  /// duplicates with it before appending): the append indexes it instead of computing it again.
  public var contentDigest: [UInt8]?

  /// An export line's chain link and recorded-at moment (``restoring``).
  public struct Restoring: Sendable, Hashable {
    public var previous: EventHash
    public var recordedAt: LedgerTimestamp
    public var hash: EventHash
    public init(previous: EventHash, recordedAt: LedgerTimestamp, hash: EventHash) {
      self.previous = previous; self.recordedAt = recordedAt; self.hash = hash
    }
  }

  public init(type: String, schemaVersion: Int = 1, streams: [StreamID], effective: EffectiveDate, actor: String, source: String? = nil, payload: CanonicalValue, key: String? = nil) {
    self.key = key
    self.type = type
    self.schemaVersion = schemaVersion
    self.streams = streams
    self.effective = effective
    self.actor = actor
    self.source = source
    self.payload = payload
  }

  /// Why `actor` cannot name who recorded an event, or `nil`: it must have 1 to 200 characters,
  /// not all white space, and no control characters.
  public static func actorError(_ actor: String) -> String? {
    if actor.unicodeScalars.allSatisfy(CharacterSet.whitespaces.contains) { return "the actor cannot be empty" }
    // A character takes at least one byte: only long text needs counting.
    if actor.utf8.count > 200, actor.count > 200 { return "the actor is at most 200 characters" }
    if actor.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) { return "the actor cannot hold control characters" }
    return nil
  }

  /// Why this event cannot be appended, as (field, reason), or `nil` when it can.
  public func validationError() -> (field: String, reason: String)? {
    if type.isEmpty || type.utf8.count > 100 { return ("type", "the type must be 1 to 100 characters") }
    for word in type.split(separator: ".", omittingEmptySubsequences: false) {
      guard let first = word.utf8.first, first >= 0x61 && first <= 0x7A,
            word.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) else {
        return ("type", "\"\(type)\" is not a type name: lower-case words (a–z, 0–9, -) joined by '.'")
      }
    }
    if schemaVersion < 1 || schemaVersion > 1000 { return ("schema", "the schema version must be 1 to 1000") }
    if streams.isEmpty { return ("streams", "an event concerns at least one stream") }
    if streams.count > 16 { return ("streams", "an event concerns at most 16 streams") }
    for (i, stream) in streams.enumerated() where streams[..<i].contains(stream) { return ("streams", "the streams must be distinct") }
    if let reason = ProposedEvent.actorError(actor) { return ("actor", reason) }
    if let source, source.utf8.count > 2000, source.count > 2000 { return ("source", "the source is at most 2000 characters") }
    if let key, let reason = EventKey.validationError(key) { return ("key", reason) }
    guard case .object = payload else { return ("payload", "the payload must be a JSON object") }
    return nil
  }
}

/// An event as the ledger stores it: the proposed event plus what the ledger assigned.
public struct RecordedEvent: Sendable, Hashable {
  /// Gap-free position in the log, from 1.
  public let sequence: SequenceNumber
  /// Transaction time: when the ledger recorded it (UTC), strictly increasing with ``sequence``.
  public let recordedAt: LedgerTimestamp
  public let type: String
  public let schemaVersion: Int
  public let streams: [StreamID]
  public let effective: EffectiveDate
  public let actor: String
  public let source: String?
  public let payload: CanonicalValue
  /// The hash of the event before (``EventHash/genesis`` for event 1).
  public let previousHash: EventHash
  /// SHA-256 over ``previousHash`` (32 bytes) followed by ``canonicalBytes``.
  public let hash: EventHash
  /// The canonical encoding this event's hash covers.
  public let canonicalBytes: [UInt8]
  /// The idempotency key the caller gave (`nil` for an event known by its content).
  public let key: String?

  public init(sequence: SequenceNumber, recordedAt: LedgerTimestamp, type: String, schemaVersion: Int, streams: [StreamID], effective: EffectiveDate, actor: String, source: String?, payload: CanonicalValue, previousHash: EventHash, hash: EventHash, canonicalBytes: [UInt8], key: String? = nil) {
    self.key = key
    self.sequence = sequence; self.recordedAt = recordedAt; self.type = type; self.schemaVersion = schemaVersion
    self.streams = streams; self.effective = effective; self.actor = actor; self.source = source
    self.payload = payload; self.previousHash = previousHash; self.hash = hash; self.canonicalBytes = canonicalBytes
  }
}

/// The canonical encoding of events: the exact bytes each event's hash covers.
public enum EventCodec {
  /// The canonical bytes of an event: a canonical JSON object with the members
  /// `actor`, `effective`, `key` (omitted when absent), `payload`, `recorded`, `schema`, `seq`,
  /// `source` (omitted when absent), `streams` and `type`, in that (byte) order. See ARCHITECTURE.md.
  public static func canonicalBytes(sequence: SequenceNumber, recordedAt: LedgerTimestamp, event: ProposedEvent) throws -> [UInt8] {
    // The envelope's members are fixed ASCII names, written in their canonical (byte) order
    // directly: actor, effective, key?, payload, recorded, schema, seq, source?, streams, type.
    var w = CanonicalWriter(capacity: 384)
    w.beginObject()
    w.key("actor"); w.string(event.actor)
    w.key("effective"); w.string(event.effective.description)
    if let key = event.key { w.key("key"); w.string(key) }
    w.key("payload"); try w.value(event.payload)
    w.key("recorded"); w.string(recordedAt.description)
    w.key("schema"); w.signedInteger(Int64(event.schemaVersion))
    w.key("seq"); w.integer(sequence.rawValue)
    if let source = event.source { w.key("source"); w.string(source) }
    w.key("streams"); w.beginArray()
    for stream in event.streams { w.string(stream.rawValue) }
    w.endArray()
    w.key("type"); w.string(event.type)
    w.endObject()
    return w.bytes
  }

  /// Decodes canonical bytes back into the envelope's fields.
  /// - Throws: ``LedgerError/corruptEvent(sequence:reason:)`` when the bytes are not an event.
  public static func decode(_ bytes: [UInt8], sequence: SequenceNumber, previousHash: EventHash, hash: EventHash) throws -> RecordedEvent {
    func corrupt(_ why: String) -> LedgerError { .corruptEvent(sequence: sequence, reason: why) }
    let value: CanonicalValue
    do { value = try CanonicalValue.parse(bytes) } catch { throw corrupt("its bytes are not JSON: \(error)") }
    guard case .object(let m) = value else { throw corrupt("it is not a JSON object") }
    guard let seq = m["seq"]?.integerValue, seq == Int64(bitPattern: sequence.rawValue) else { throw corrupt("its seq field does not match its key") }
    guard let recordedText = m["recorded"]?.stringValue, let recorded = LedgerTimestamp(canonical: recordedText) else { throw corrupt("its recorded field is missing or malformed") }
    guard let type = m["type"]?.stringValue else { throw corrupt("its type field is missing") }
    guard let schema = m["schema"]?.integerValue else { throw corrupt("its schema field is missing") }
    guard let streamValues = m["streams"]?.arrayValue else { throw corrupt("its streams field is missing") }
    var streams: [StreamID] = []
    for s in streamValues {
      guard let text = s.stringValue, let id = StreamID(text) else { throw corrupt("a stream id is malformed") }
      streams.append(id)
    }
    guard let effectiveText = m["effective"]?.stringValue, let effective = EffectiveDate(canonical: effectiveText) else { throw corrupt("its effective field is missing or malformed") }
    guard let actor = m["actor"]?.stringValue else { throw corrupt("its actor field is missing") }
    guard let payload = m["payload"], case .object = payload else { throw corrupt("its payload is missing") }
    var key: String?
    if let k = m["key"] {
      guard let text = k.stringValue else { throw corrupt("its key field is not a string") }
      key = text
    }
    return RecordedEvent(sequence: sequence, recordedAt: recorded, type: type, schemaVersion: Int(schema), streams: streams,
                         effective: effective, actor: actor, source: m["source"]?.stringValue, payload: payload,
                         previousHash: previousHash, hash: hash, canonicalBytes: bytes, key: key)
  }
}
