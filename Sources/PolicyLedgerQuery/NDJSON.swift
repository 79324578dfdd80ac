public import PolicyLedgerDomain
public import PolicyLedgerEventLog
import Foundation

/// Reading and writing events as NDJSON: one JSON object per line.
///
/// An input line:
/// ```json
/// {"type":"member.appointed","effective":"平成31年4月","source":"…","actor":"…","payload":{…}}
/// ```
/// - `type` (required): an event type (``CouncilEvent/types``).
/// - `effective` (required): any date form ``EffectiveDate/init(parsing:)`` reads (ISO, 和暦,
///   年度, 旬, 頃).
/// - `payload` (required): the event's fields.
/// - `actor` (optional): defaults to the importing user.
/// - `source` (optional): the document or slide.
/// - `schema` (optional): the payload's schema version; default the current one.
/// - `key` (optional): the event's idempotency key (``EventKey``), stored in the event. A line
///   whose key the ledger already holds with the same content is acknowledged and not recorded
///   again; with other content it is refused. A line without one is known by its content
///   (type, schema, effective date, payload), so importing the same file twice records nothing
///   new the second time.
/// - `seq`, `recorded`, `streams`, `prev`, `hash`: written by `export`, all five or none. An
///   event read with a `seq` must be recorded under that same number (so an export's
///   corrections still name the right events): an export can be imported only where its
///   numbers continue the ledger, such as into an empty ledger. Where its chain continues too
///   (the ledger's head hash is the line's `prev`: a whole export into an empty ledger), the
///   event is **restored exactly**: same recorded-at moment, same hash, so digests, checkpoints
///   and signatures made of the original still hold; elsewhere the ledger assigns `recorded`,
///   `prev` and `hash` anew. An export line's hash must be the
///   SHA-256 of `prev` and the line's own canonical bytes without `prev` and `hash` (what
///   `verify` checks in a ledger); consecutive such lines must chain (each `prev` is the hash
///   of the line before, and event 1's is the genesis hash). So an export whose lines were
///   altered, removed, inserted or reordered after it was written is refused, naming the line.
///   Lines cut from the end leave a shorter valid export: compare its last line's `seq` and
///   `hash` with the source's digest at export time.
/// - `signature` (export lines only): the actor's signature over the line's `hash`
///   (``exportLine(_:signature:)``), kept when the event is restored exactly and the signature
///   holds against the keys registered before it; refused otherwise.
public enum NDJSON {
  /// A line that could not be read, naming the line (1-based) and the field.
  public struct LineError: Error, CustomStringConvertible, Sendable, Equatable {
    public let line: Int
    public let field: String?
    public let reason: String
    public init(line: Int, field: String?, reason: String) { self.line = line; self.field = field; self.reason = reason }
    public var description: String { "line \(line)" + (field.map { ", field \"\($0)\"" } ?? "") + ": \(reason)" }
  }

  static let topLevelFields: Set<String> = ["type", "schema", "effective", "source", "actor", "payload", "key", "seq", "recorded", "streams", "prev", "hash", "signature"]

  /// Largest accepted line, in bytes (1 MiB).
  public static let maximumLineLength = 1 << 20

  /// Reads one line into a ledger entry.
  /// - Parameters:
  ///   - line: The line's bytes (without the newline).
  ///   - number: Its 1-based line number, for errors.
  ///   - defaultActor: The actor when the line names none.
  /// - Throws: ``LineError``.
  public static func entry(from line: some Collection<UInt8>, number: Int, defaultActor: String) throws(LineError) -> CouncilLedger.Entry {
    func fail(_ field: String?, _ reason: String) -> LineError { LineError(line: number, field: field, reason: reason) }
    if line.count > maximumLineLength { throw fail(nil, "the line is \(line.count) bytes long; at most \(maximumLineLength) are accepted") }
    let value: CanonicalValue
    do { value = try CanonicalValue.parse(line) } catch let error as JSONSyntaxError {
      throw fail(nil, "not valid JSON: \(error.message) (at column \(error.offset + 1))")
    } catch { throw fail(nil, "not valid JSON: \(error)") }
    guard case .object(let m) = value else { throw fail(nil, "each line must be a JSON object, not \(value.typeName)") }
    if let unknown = m.keys.sorted().first(where: { !topLevelFields.contains($0) }) {
      throw fail(unknown, "unknown field; a line has type, effective, payload, and optionally actor, source, schema, key")
    }
    guard let typeValue = m["type"] else { throw fail("type", "missing") }
    guard let type = typeValue.stringValue else { throw fail("type", "must be a string such as \"body.established\"") }
    guard let effectiveValue = m["effective"] else { throw fail("effective", "missing") }
    guard let effectiveText = effectiveValue.stringValue else { throw fail("effective", "must be a date string such as \"2020-03-26\" or \"令和2年3月26日\"") }
    let effective: EffectiveDate
    do { effective = try EffectiveDate(parsing: effectiveText) } catch { throw fail("effective", error.description) }
    var schema: Int?
    if let s = m["schema"] {
      guard let v = s.integerValue, v >= 1, v <= 1000 else { throw fail("schema", "must be a whole number from 1") }
      schema = Int(v)
    }
    guard let payload = m["payload"] else { throw fail("payload", "missing") }
    let event: CouncilEvent
    do { event = try CouncilEvent.decode(type: type, schemaVersion: schema ?? CouncilEvent.types[type] ?? 1, payload: payload) } catch {
      throw fail(error.field == "type" || error.field == "schema" ? error.field : "payload.\(error.field)", error.reason)
    }
    var actor = defaultActor
    if let a = m["actor"] {
      guard let text = a.stringValue else { throw fail("actor", "must be a string") }
      actor = text
    }
    var source: String?
    if let s = m["source"] {
      guard let text = s.stringValue else { throw fail("source", "must be a string") }
      source = text
    }
    var key: String?
    if let k = m["key"] {
      guard let text = k.stringValue else { throw fail("key", "must be a string") }
      if let reason = EventKey.validationError(text) { throw fail("key", reason) }
      key = text
    }
    var exported: SequenceNumber?
    if let seq = m["seq"] {
      guard let v = seq.integerValue, v >= 1 else { throw fail("seq", "must be a whole number from 1 (the event's number in the export)") }
      exported = SequenceNumber(UInt64(v))
    }
    var entry = CouncilLedger.Entry(event, effective: effective, actor: actor, source: source, exportedSequence: exported, key: key)
    // An export line carries all five export fields, and its hash is checked: a line with some of
    // them (its hash deleted to get an edit through) is refused.
    let exportFields = ["seq", "recorded", "streams", "prev", "hash"]
    if let present = exportFields.first(where: { m[$0] != nil }) {
      for field in exportFields where m[field] == nil {
        throw fail(field, "missing: a line with \"\(present)\" is an export line, which carries seq, recorded, streams, prev and hash, and is checked against its hash; a new event has none of them")
      }
      guard let hash = m["hash"]?.stringValue.flatMap(EventHash.init(hex:)) else { throw fail("hash", "must be 64 hex digits") }
      guard let previous = m["prev"]?.stringValue.flatMap(EventHash.init(hex:)) else { throw fail("prev", "must be 64 hex digits") }
      guard let recordedAt = m["recorded"]?.stringValue.flatMap(LedgerTimestamp.init(canonical:)) else {
        throw fail("recorded", "must be a moment as export writes it, such as 2026-12-02T01:31:09.259880Z")
      }
      var content = m
      content["prev"] = nil
      content["hash"] = nil
      content["signature"] = nil
      let canonical: [UInt8]
      do { canonical = try CanonicalValue.object(content).canonicalBytes() } catch { throw fail("hash", "the line cannot be encoded canonically: \(error)") }
      if EventLog.hash(previous: previous, canonical: canonical) != hash {
        throw fail("hash", "does not match the line's content: the line was changed after it was exported")
      }
      if exported == SequenceNumber(1), previous != .genesis { throw fail("prev", "event 1 of an export must follow the genesis hash (64 zeros)") }
      entry.exportedLink = .init(previous: previous, hash: hash, recordedAt: recordedAt)
      if let signature = m["signature"] {
        guard case .object(let fields) = signature, fields.count == 2, let id = fields["keyId"]?.stringValue, id.count == 8,
              let keyID = UInt32(id, radix: 16), id == keyIDHex(keyID),
              let raw = fields["ed25519"]?.stringValue.flatMap({ Data(base64Encoded: $0) }), raw.count == 64 else {
          throw fail("signature", "must be {\"keyId\": 8 lower-case hex digits, \"ed25519\": the base64 of 64 bytes}, as export writes it")
        }
        entry.exportedSignature = EventSignature(keyID: keyID, signature: Array(raw))
      }
    } else if m["signature"] != nil {
      throw fail("signature", "only an export line carries a signature (over its hash); sign new events with --sign-with")
    }
    return entry
  }

  /// Checks that an export line follows the one before it (its `prev` is that line's `hash`),
  /// and that export lines and new events are not mixed in one input. - Returns: The error, or `nil`.
  public static func chainError(after earlier: CouncilLedger.Entry?, _ entry: CouncilLedger.Entry, number: Int) -> LineError? {
    guard let earlier else { return nil }
    switch (earlier.exportedLink, entry.exportedLink) {
    case (nil, nil): return nil
    case (_?, nil), (nil, _?):
      return LineError(line: number, field: nil, reason: "an input is either an export (every line with seq, recorded, streams, prev and hash) or new events (none of them), not both")
    case let (before?, link?):
      if link.previous != before.hash {
        return LineError(line: number, field: "prev", reason: "is not the hash of the line before: a line of the export was removed, inserted or reordered")
      }
      return nil
    }
  }

  /// Splits `data` into lines and reads each. Blank lines are skipped.
  /// - Throws: ``LineError`` for the first bad line (also for invalid UTF-8 and an empty input).
  public static func entries(from data: [UInt8], defaultActor: String) throws(LineError) -> [CouncilLedger.Entry] {
    var out: [CouncilLedger.Entry] = []
    var number = 0
    var start = 0
    var sawContent = false
    while start <= data.count {
      let end = data[start...].firstIndex(of: 0x0A) ?? data.count
      number += 1
      var line = data[start..<end]
      if line.last == 0x0D { line = line.dropLast() }
      if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
        sawContent = true
        let next = try entry(from: line, number: number, defaultActor: defaultActor)
        if let error = chainError(after: out.last, next, number: number) { throw error }
        out.append(next)
      }
      start = end + 1
    }
    if !sawContent { throw LineError(line: 1, field: nil, reason: "the input holds no events (it is empty)") }
    return out
  }

  /// One event as an export line (canonical JSON, no trailing newline): the envelope with
  /// `seq`, `recorded`, `streams`, `prev` and `hash`, and for a signed event its actor's
  /// `signature`: `{"keyId": 8 hex digits, "ed25519": base64 of the 64-byte signature over hash}`.
  public static func exportLine(_ e: RecordedEvent, signature: EventSignature? = nil) throws -> [UInt8] {
    var members: [String: CanonicalValue] = [
      "seq": .integer(e.sequence.rawValue), "recorded": .string(e.recordedAt.description),
      "type": .string(e.type), "schema": .integer(e.schemaVersion), "effective": .string(e.effective.description),
      "actor": .string(e.actor), "payload": e.payload, "streams": .array(e.streams.map { .string($0.rawValue) }),
      "prev": .string(e.previousHash.description), "hash": .string(e.hash.description),
    ]
    if let source = e.source { members["source"] = .string(source) }
    if let key = e.key { members["key"] = .string(key) }
    if let signature {
      members["signature"] = .object(["keyId": .string(keyIDHex(signature.keyID)), "ed25519": .string(Data(signature.signature).base64EncodedString())])
    }
    return try CanonicalValue.object(members).canonicalBytes()
  }
}
