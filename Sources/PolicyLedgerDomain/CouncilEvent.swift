public import PolicyLedgerEventLog

/// A council event: one of the typed payloads, with its type name and schema version.
public enum CouncilEvent: Hashable, Sendable {
  case bodyEstablished(BodyEstablished)
  case bodyRenamed(BodyRenamed)
  case bodyDissolved(BodyDissolved)
  case decisionScheduled(DecisionScheduled)
  case decisionRescheduled(DecisionRescheduled)
  case decisionTaken(DecisionTaken)
  case indicatorDefined(IndicatorDefined)
  case indicatorObserved(IndicatorObserved)
  case indicatorTargetRevised(IndicatorTargetRevised)
  case indicatorRetired(IndicatorRetired)
  case memberAppointed(MemberAppointed)
  case memberRoleChanged(MemberRoleChanged)
  case memberAffiliationChanged(MemberAffiliationChanged)
  case memberDeparted(MemberDeparted)
  case eventCorrected(EventCorrected)
  case eventRetracted(EventRetracted)
  case actorKeyRegistered(ActorKeyRegistered)
  case actorKeyRevoked(ActorKeyRevoked)
  case signingPolicySet(SigningPolicySet)

  /// Every event type name this build knows, with its current schema version.
  public static let types: [String: Int] = [
    "body.established": 1, "body.renamed": 1, "body.dissolved": 1,
    "decision.scheduled": 1, "decision.rescheduled": 1, "decision.taken": 1,
    "indicator.defined": 1, "indicator.observed": 1, "indicator.target-revised": 1, "indicator.retired": 1,
    "member.appointed": 1, "member.role-changed": 1, "member.affiliation-changed": 1, "member.departed": 1,
    "event.corrected": 1, "event.retracted": 1,
    "actor.key-registered": 1, "actor.key-revoked": 1, "ledger.signing-policy": 1,
  ]

  /// The type name, such as `body.established`.
  public var typeName: String {
    switch self {
    case .bodyEstablished: "body.established"
    case .bodyRenamed: "body.renamed"
    case .bodyDissolved: "body.dissolved"
    case .decisionScheduled: "decision.scheduled"
    case .decisionRescheduled: "decision.rescheduled"
    case .decisionTaken: "decision.taken"
    case .indicatorDefined: "indicator.defined"
    case .indicatorObserved: "indicator.observed"
    case .indicatorTargetRevised: "indicator.target-revised"
    case .indicatorRetired: "indicator.retired"
    case .memberAppointed: "member.appointed"
    case .memberRoleChanged: "member.role-changed"
    case .memberAffiliationChanged: "member.affiliation-changed"
    case .memberDeparted: "member.departed"
    case .eventCorrected: "event.corrected"
    case .eventRetracted: "event.retracted"
    case .actorKeyRegistered: "actor.key-registered"
    case .actorKeyRevoked: "actor.key-revoked"
    case .signingPolicySet: "ledger.signing-policy"
    }
  }

  /// The schema version written for new events of this type.
  public var schemaVersion: Int { CouncilEvent.types[typeName] ?? 1 }

  /// The payload as a canonical JSON object.
  public func payload() throws -> CanonicalValue {
    let encoder = CanonicalEncoder()
    switch self {
    case .bodyEstablished(let p): return try encoder.encode(p)
    case .bodyRenamed(let p): return try encoder.encode(p)
    case .bodyDissolved(let p): return try encoder.encode(p)
    case .decisionScheduled(let p): return try encoder.encode(p)
    case .decisionRescheduled(let p): return try encoder.encode(p)
    case .decisionTaken(let p): return try encoder.encode(p)
    case .indicatorDefined(let p): return try encoder.encode(p)
    case .indicatorObserved(let p): return try encoder.encode(p)
    case .indicatorTargetRevised(let p): return try encoder.encode(p)
    case .indicatorRetired(let p): return try encoder.encode(p)
    case .memberAppointed(let p): return try encoder.encode(p)
    case .memberRoleChanged(let p): return try encoder.encode(p)
    case .memberAffiliationChanged(let p): return try encoder.encode(p)
    case .memberDeparted(let p): return try encoder.encode(p)
    case .eventCorrected(let p): return try encoder.encode(p)
    case .eventRetracted(let p): return try encoder.encode(p)
    case .actorKeyRegistered(let p): return try encoder.encode(p)
    case .actorKeyRevoked(let p): return try encoder.encode(p)
    case .signingPolicySet(let p): return try encoder.encode(p)
    }
  }

  /// Decodes a payload of type `type`.
  /// - Throws: ``CouncilEventError`` naming the field that is missing or malformed, or the
  ///   unknown type or schema version.
  public static func decode(type: String, schemaVersion: Int = 1, payload: CanonicalValue) throws(CouncilEventError) -> CouncilEvent {
    guard let current = types[type] else {
      throw CouncilEventError(field: "type", reason: "unknown event type \"\(type)\"; known types: \(types.keys.sorted().joined(separator: ", "))")
    }
    guard schemaVersion >= 1 && schemaVersion <= current else {
      throw CouncilEventError(field: "schema", reason: "\(type) has schema version \(current) in this build, not \(schemaVersion)")
    }
    let decoder = CanonicalDecoder()
    do {
      try checkNoUnknownFields(type: type, payload: payload)
      switch type {
      case "body.established": return .bodyEstablished(try decoder.decode(BodyEstablished.self, from: payload))
      case "body.renamed": return .bodyRenamed(try decoder.decode(BodyRenamed.self, from: payload))
      case "body.dissolved": return .bodyDissolved(try decoder.decode(BodyDissolved.self, from: payload))
      case "decision.scheduled": return .decisionScheduled(try decoder.decode(DecisionScheduled.self, from: payload))
      case "decision.rescheduled": return .decisionRescheduled(try decoder.decode(DecisionRescheduled.self, from: payload))
      case "decision.taken": return .decisionTaken(try decoder.decode(DecisionTaken.self, from: payload))
      case "indicator.defined": return .indicatorDefined(try decoder.decode(IndicatorDefined.self, from: payload))
      case "indicator.observed": return .indicatorObserved(try decoder.decode(IndicatorObserved.self, from: payload))
      case "indicator.target-revised": return .indicatorTargetRevised(try decoder.decode(IndicatorTargetRevised.self, from: payload))
      case "indicator.retired": return .indicatorRetired(try decoder.decode(IndicatorRetired.self, from: payload))
      case "member.appointed": return .memberAppointed(try decoder.decode(MemberAppointed.self, from: payload))
      case "member.role-changed": return .memberRoleChanged(try decoder.decode(MemberRoleChanged.self, from: payload))
      case "member.affiliation-changed": return .memberAffiliationChanged(try decoder.decode(MemberAffiliationChanged.self, from: payload))
      case "member.departed": return .memberDeparted(try decoder.decode(MemberDeparted.self, from: payload))
      case "event.corrected": return .eventCorrected(try decoder.decode(EventCorrected.self, from: payload))
      case "event.retracted": return .eventRetracted(try decoder.decode(EventRetracted.self, from: payload))
      case "actor.key-registered": return try CouncilEvent.actorKeyRegistered(decoder.decode(ActorKeyRegistered.self, from: payload)).normalisingActorKey()
      case "actor.key-revoked": return try CouncilEvent.actorKeyRevoked(decoder.decode(ActorKeyRevoked.self, from: payload)).normalisingActorKey()
      case "ledger.signing-policy": return .signingPolicySet(try decoder.decode(SigningPolicySet.self, from: payload))
      default: throw CouncilEventError(field: "type", reason: "unknown event type \"\(type)\"")
      }
    } catch let error as CouncilEventError {
      throw error
    } catch {
      let sentence = CanonicalDecoder.describe(error)
      let field = fieldName(in: sentence)
      // The error names its field on its own; the reason should not say it a second time.
      var reason = sentence
      for prefix in ["field \"\(field)\": ", "field \"\(field)\" "] where reason.hasPrefix(prefix) {
        reason = String(reason.dropFirst(prefix.count))
        break
      }
      throw CouncilEventError(field: field, reason: reason)
    }
  }

  static let knownFields: [String: Set<String>] = [
    "body.established": ["body", "name", "kind", "parent", "mandate"],
    "body.renamed": ["body", "name"],
    "body.dissolved": ["body", "reason"],
    "decision.scheduled": ["decision", "body", "kind", "title", "document", "planned"],
    "decision.rescheduled": ["decision", "planned", "reason"],
    "decision.taken": ["decision", "body", "kind", "title", "document"],
    "indicator.defined": ["indicator", "name", "unit", "group", "parent", "breakdown", "baseline", "reference", "target", "targetPeriod", "changeTerms"],
    "indicator.observed": ["indicator", "value", "unit", "period", "note"],
    "indicator.target-revised": ["indicator", "target", "targetPeriod"],
    "indicator.retired": ["indicator", "reason"],
    "member.appointed": ["body", "person", "name", "role", "affiliations", "renamed"],
    "member.role-changed": ["body", "person", "role"],
    "member.affiliation-changed": ["body", "person", "affiliations"],
    "member.departed": ["body", "person", "reason"],
    "event.corrected": ["corrects", "reason", "payload", "effective"],
    "event.retracted": ["retracts", "reason"],
    "actor.key-registered": ["actor", "key"],
    "actor.key-revoked": ["actor", "key", "reason"],
    "ledger.signing-policy": ["signatures", "reason"],
  ]

  /// A misspelt field would otherwise be dropped silently; refuse it instead.
  static func checkNoUnknownFields(type: String, payload: CanonicalValue) throws(CouncilEventError) {
    guard case .object(let members) = payload else { throw CouncilEventError(field: "payload", reason: "the payload must be a JSON object") }
    guard let known = knownFields[type] else { return }
    if let unknown = members.keys.sorted().first(where: { !known.contains($0) }) {
      throw CouncilEventError(field: unknown, reason: "\(type) has no field \"\(unknown)\"; its fields are \(known.sorted().joined(separator: ", "))")
    }
  }

  static func fieldName(in sentence: String) -> String {
    guard let start = sentence.firstIndex(of: "\"") else { return "payload" }
    let rest = sentence[sentence.index(after: start)...]
    guard let end = rest.firstIndex(of: "\"") else { return "payload" }
    return String(rest[..<end])
  }

  /// The streams the event concerns (for the stream index and the audit trail): its entity first.
  /// A correction or retraction concerns its original's streams, supplied by the caller.
  ///
  /// - Precondition: every id in the payload is valid (``idValidationError()`` returns `nil`);
  ///   an invalid id traps. `CouncilLedger.record` checks the ids before it asks.
  public var streams: [StreamID] {
    switch self {
    case .bodyEstablished(let p): return [.body(p.body)] + (p.parent.map { [.body($0)] } ?? [])
    case .bodyRenamed(let p): return [.body(p.body)]
    case .bodyDissolved(let p): return [.body(p.body)]
    case .decisionScheduled(let p): return [.decision(p.decision), .body(p.body)]
    case .decisionRescheduled(let p): return [.decision(p.decision)]
    case .decisionTaken(let p): return [.decision(p.decision)] + (p.body.map { [.body($0)] } ?? [])
    case .indicatorDefined(let p): return [.indicator(p.indicator)] + (p.parent.map { [.indicator($0)] } ?? [])
    case .indicatorObserved(let p): return [.indicator(p.indicator)]
    case .indicatorTargetRevised(let p): return [.indicator(p.indicator)]
    case .indicatorRetired(let p): return [.indicator(p.indicator)]
    case .memberAppointed(let p): return [.body(p.body), .person(p.person)]
    case .memberRoleChanged(let p): return [.body(p.body), .person(p.person)]
    case .memberAffiliationChanged(let p): return [.body(p.body), .person(p.person)]
    case .memberDeparted(let p): return [.body(p.body), .person(p.person)]
    case .eventCorrected, .eventRetracted: return []
    // The key's id: every key's registrations and revocations are one short stream. A payload
    // whose key does not parse has no stream (it is refused before it is recorded).
    case .actorKeyRegistered, .actorKeyRevoked: return ((try? actorKey()) ?? nil).map { [.actorKey($0.keyID)] } ?? []
    case .signingPolicySet: return [.signingPolicy]
    }
  }

  /// The entities whose state the event changes (a subset of ``streams``): a decision changes
  /// its decision but not its body; a membership event changes the body and the person.
  public var projectedEntities: [StreamID] {
    switch self {
    case .bodyEstablished(let p): return [.body(p.body)]
    case .decisionScheduled(let p): return [.decision(p.decision)]
    case .decisionTaken(let p): return [.decision(p.decision)]
    case .indicatorDefined(let p): return [.indicator(p.indicator)]
    case .eventCorrected, .eventRetracted, .actorKeyRegistered, .actorKeyRevoked, .signingPolicySet: return []
    default: return Array(streams.prefix(self.isMembership ? 2 : 1))
    }
  }

  var isMembership: Bool {
    switch self {
    case .memberAppointed, .memberRoleChanged, .memberAffiliationChanged, .memberDeparted: true
    default: false
    }
  }

  /// Longest name (`name.ja`, `name.en`) or affiliation, in characters.
  public static let maximumNameLength = 500
  /// Longest other text in a payload (a title, a reason, a note, a mandate), in characters.
  public static let maximumTextLength = 2000

  /// Checks every string of a payload (``payload()``): names and affiliations at most
  /// ``maximumNameLength`` code points, other text at most ``maximumTextLength``, and no control
  /// characters (C0, DEL, C1) or bidirectional embedding, override and isolate characters
  /// (U+202A–U+202E, U+2066–U+2069), which would let a stored name move or reorder what a
  /// terminal or a spreadsheet shows. (Every state holds its names, so unbounded text would also
  /// make every later event of the entity cost more.)
  /// - Returns: The first problem, naming the field by its path (`name.ja`, `affiliations[1]`).
  public static func textValidationError(in payload: CanonicalValue) -> CouncilEventError? {
    func disallowed(_ scalar: Unicode.Scalar) -> Bool {
      switch scalar.value {
      case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
      default: false
      }
    }
    func check(_ value: CanonicalValue, _ path: String) -> CouncilEventError? {
      switch value {
      case .string(let text):
        let isName = path.hasSuffix("name.ja") || path.hasSuffix("name.en") || path.contains("affiliations[")
        let limit = isName ? maximumNameLength : maximumTextLength
        // Counted in code points, so that combining marks cannot pile up on one character; a
        // code point takes at least one byte, so only long text needs counting.
        if text.utf8.count > limit, case let count = text.unicodeScalars.count, count > limit {
          return CouncilEventError(field: path, reason: "at most \(limit) characters (Unicode code points; this one has \(count))")
        }
        if text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 || $0 == 0xE2 }), let bad = text.unicodeScalars.first(where: disallowed) {
          let code = String(bad.value, radix: 16, uppercase: true)
          return CouncilEventError(field: path, reason: "cannot hold control or bidirectional-override characters (found U+\(String(repeating: "0", count: max(0, 4 - code.count)) + code))")
        }
        return nil
      case .array(let items):
        for (i, item) in items.enumerated() { if let e = check(item, "\(path)[\(i)]") { return e } }
        return nil
      case .object(let members):
        for key in members.keys.sorted() { if let e = check(members[key]!, path.isEmpty ? key : "\(path).\(key)") { return e } }
        return nil
      case .number, .bool:
        return nil
      }
    }
    // Nearly every payload is short, plain text: a scan without paths or key sorting says so;
    // only a payload that might hold a problem gets the precise search for the first one.
    func plain(_ value: CanonicalValue) -> Bool {
      switch value {
      case .string(let text):
        return text.utf8.count <= maximumNameLength && !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 || $0 == 0xE2 })
      case .array(let items): return items.allSatisfy(plain)
      case .object(let members): return members.values.allSatisfy(plain)
      case .number, .bool: return true
      }
    }
    if plain(payload) { return nil }
    return check(payload, "")
  }

  /// Every id the payload names, with the field it is in, checked against the id grammar.
  public func idValidationError() -> CouncilEventError? {
    var ids: [(String, String)] = []
    switch self {
    case .bodyEstablished(let p): ids = [("body", p.body)] + (p.parent.map { [("parent", $0)] } ?? [])
    case .bodyRenamed(let p): ids = [("body", p.body)]
    case .bodyDissolved(let p): ids = [("body", p.body)]
    case .decisionScheduled(let p): ids = [("decision", p.decision), ("body", p.body)]
    case .decisionRescheduled(let p): ids = [("decision", p.decision)]
    case .decisionTaken(let p): ids = [("decision", p.decision)] + (p.body.map { [("body", $0)] } ?? [])
    case .indicatorDefined(let p): ids = [("indicator", p.indicator)] + (p.parent.map { [("parent", $0)] } ?? [])
    case .indicatorObserved(let p): ids = [("indicator", p.indicator)]
    case .indicatorTargetRevised(let p): ids = [("indicator", p.indicator)]
    case .indicatorRetired(let p): ids = [("indicator", p.indicator)]
    case .memberAppointed(let p): ids = [("body", p.body), ("person", p.person)]
    case .memberRoleChanged(let p): ids = [("body", p.body), ("person", p.person)]
    case .memberAffiliationChanged(let p): ids = [("body", p.body), ("person", p.person)]
    case .memberDeparted(let p): ids = [("body", p.body), ("person", p.person)]
    case .eventCorrected, .eventRetracted, .actorKeyRegistered, .actorKeyRevoked, .signingPolicySet: ids = []
    }
    for (field, id) in ids {
      if let problem = CouncilEvent.localIDError(id) { return CouncilEventError(field: field, reason: "\"\(id)\" is not a valid id: \(problem)") }
    }
    return nil
  }

  /// Why `id` is not a valid entity id (lower-case ASCII letters, digits, `-`, `_`, `.`;
  /// starting with a letter or digit; at most 120 bytes), or `nil`.
  public static func localIDError(_ id: String) -> String? {
    if id.isEmpty { return "an id cannot be empty" }
    if id.utf8.count > 120 { return "an id is at most 120 characters" }
    for (i, b) in id.utf8.enumerated() {
      let alnum = (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7A)
      if i == 0 && !alnum { return "an id starts with a lower-case letter or digit" }
      if !alnum && b != 0x2D && b != 0x5F && b != 0x2E { return "an id holds only lower-case letters a–z, digits and - _ ." }
    }
    return nil
  }
}

/// A council event payload that is invalid, naming the field.
public struct CouncilEventError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The payload field, such as `baseline.value`, or `type`.
  public let field: String
  /// A sentence saying what is wrong.
  public let reason: String
  public init(field: String, reason: String) { self.field = field; self.reason = reason }
  public var description: String { "field \"\(field)\": \(reason)" }
}

extension StreamID {
  /// `body:ID`.
  public static func body(_ id: String) -> StreamID { StreamID(unchecked: "body:" + id) }
  /// `decision:ID`.
  public static func decision(_ id: String) -> StreamID { StreamID(unchecked: "decision:" + id) }
  /// `indicator:ID`.
  public static func indicator(_ id: String) -> StreamID { StreamID(unchecked: "indicator:" + id) }
  /// `person:ID`.
  public static func person(_ id: String) -> StreamID { StreamID(unchecked: "person:" + id) }

  init(unchecked text: String) {
    // Ids are checked by CouncilEvent.idValidationError before any event is appended; an id that
    // fails the stream grammar here is a programmer error in the caller.
    guard let id = StreamID(text) else { preconditionFailure("invalid stream id \(text)") }
    self = id
  }
}
