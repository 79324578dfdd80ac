import PolicyLedgerDomain
import PolicyLedgerEventLog

// Entity states as binary rows (see RowCodec.swift for the primitives and ARCHITECTURE.md for
// the layout). Fields that validation reads on every event come first, so that they can be read
// in place without decoding the rest (`BodyRowHead`, `IndicatorRowHead`, `MembershipRowHead`).
// What a row does not hold: a body's roster (its memberships are entities of their own) and an
// indicator's values (the series index).

extension EntityState {
  /// The row bytes stored for this state.
  func encoded() -> [UInt8] {
    var w = RowWriter()
    switch self {
    case .body(let s): s.write(to: &w)
    case .person(let s): s.write(to: &w)
    case .decision(let s): s.write(to: &w)
    case .indicator(let s): s.write(to: &w)
    case .membership(let s): s.write(to: &w)
    }
    return w.bytes
  }

  /// Decodes a row of an entity of `kind` (the entity id's prefix).
  /// - Throws: ``ProjectionError/unknownEntityKind(_:)``; ``RowFormatError`` for bytes that are
  ///   not such a row.
  static func decode(kind: String, bytes: some Collection<UInt8>) throws -> EntityState {
    switch kind {
    case "body": return .body(try readRow(bytes) { try BodyState(reading: &$0) })
    case "person": return .person(try readRow(bytes) { try PersonState(reading: &$0) })
    case "decision": return .decision(try readRow(bytes) { try DecisionState(reading: &$0) })
    case "indicator": return .indicator(try readRow(bytes) { try IndicatorState(reading: &$0) })
    case "membership": return .membership(try readRow(bytes) { try MembershipState(reading: &$0) })
    default: throw ProjectionError.unknownEntityKind(kind)
    }
  }
}

extension LocalizedName {
  func write(to w: inout RowWriter) {
    w.string(ja)
    w.optional(en) { $0.string($1) }
  }
  init(reading r: inout RowReader) throws {
    let ja = try r.string()
    self.init(ja: ja, en: try r.optional { try $0.string() })
  }
}

extension ObservedPeriod {
  func write(to w: inout RowWriter) {
    w.date(first)
    w.optional(last) { $0.date($1) }
  }
  init(reading r: inout RowReader) throws {
    let first = try r.date()
    self.init(first, through: try r.optional { try $0.date() })
  }
}

extension PeriodValue {
  func write(to w: inout RowWriter) {
    w.decimal(value)
    w.optional(period) { $1.write(to: &$0) }
  }
  init(reading r: inout RowReader) throws {
    let value = try r.decimal()
    self.init(value: value, period: try r.optional { try ObservedPeriod(reading: &$0) })
  }
}

extension TargetRule {
  func write(to w: inout RowWriter) {
    w.term(rule)
    w.optional(factor) { $0.decimal($1) }
    w.optional(value) { $0.decimal($1) }
    w.bool(atLeast)
    w.bool(eventually)
    w.bool(approximate)
    w.optional(statedAs) { $0.string($1) }
    w.optional(printedValue) { $0.decimal($1) }
  }
  init(reading r: inout RowReader) throws {
    let rule = try r.term(Rule.self)
    let factor = try r.optional { try $0.decimal() }
    let value = try r.optional { try $0.decimal() }
    let atLeast = try r.bool(), eventually = try r.bool(), approximate = try r.bool()
    let statedAs = try r.optional { try $0.string() }
    self.init(rule: rule, factor: factor, value: value, atLeast: atLeast, eventually: eventually, approximate: approximate,
              statedAs: statedAs, printedValue: try r.optional { try $0.decimal() })
  }
}

extension BodyState {
  func write(to w: inout RowWriter) {
    w.date(established)
    w.optional(dissolved) { $0.date($1) }
    w.varint(establishedSequence.rawValue)
    w.optional(dissolvedSequence) { $0.varint($1.rawValue) }
    w.string(id)
    name.write(to: &w)
    w.term(kind)
    w.optional(parent) { $0.string($1) }
    w.optional(mandate) { $0.string($1) }
    w.optional(dissolutionReason) { $0.string($1) }
    w.list(formerNames) { w, f in f.name.write(to: &w); w.date(f.until) }
  }
  init(reading r: inout RowReader) throws {
    let established = try r.date()
    let dissolved = try r.optional { try $0.date() }
    let sequence = SequenceNumber(try r.varint())
    let dissolvedSequence = try r.optional { SequenceNumber(try $0.varint()) }
    let id = try r.string()
    let name = try LocalizedName(reading: &r)
    let kind = try r.term(BodyKind.self)
    let parent = try r.optional { try $0.string() }
    let mandate = try r.optional { try $0.string() }
    let reason = try r.optional { try $0.string() }
    let former = try r.list { r in FormerName(name: try LocalizedName(reading: &r), until: try r.date()) }
    self.init(id: id, name: name, kind: kind, parent: parent, mandate: mandate, established: established, dissolved: dissolved,
              dissolutionReason: reason, formerNames: former, members: [:])
    establishedSequence = sequence
    self.dissolvedSequence = dissolvedSequence
  }
}

/// The first fields of a body row, read in place: what validation asks of a body.
struct BodyRowHead {
  let established: EffectiveDate
  let dissolved: EffectiveDate?
  init(_ bytes: some Collection<UInt8>) throws {
    (established, dissolved) = try peekRow(bytes) { r in (try r.date(), try r.optional { try $0.date() }) }
  }
}

extension PersonState {
  func write(to w: inout RowWriter) {
    w.string(id)
    name.write(to: &w)
    w.list(memberships.keys.sorted()) { w, body in w.string(body); w.term(memberships[body]!) }
  }
  init(reading r: inout RowReader) throws {
    let id = try r.string()
    let name = try LocalizedName(reading: &r)
    var memberships: [String: MemberRole] = [:]
    for (body, role) in try r.list({ r in (try r.string(), try r.term(MemberRole.self)) }) { memberships[body] = role }
    self.init(id: id, name: name, memberships: memberships)
  }
}

extension DecisionState {
  func write(to w: inout RowWriter) {
    w.optional(taken) { $0.date($1) }
    w.optional(takenSequence) { $0.varint($1.rawValue) }
    w.string(id)
    w.string(body)
    w.term(kind)
    w.string(title)
    w.optional(document) { $0.string($1) }
    w.list(schedule) { w, p in
      w.date(p.planned); w.date(p.setOn); w.varint(p.sequence.rawValue); w.optional(p.reason) { $0.string($1) }
    }
  }
  init(reading r: inout RowReader) throws {
    let taken = try r.optional { try $0.date() }
    let takenSequence = try r.optional { SequenceNumber(try $0.varint()) }
    let id = try r.string(), body = try r.string()
    let kind = try r.term(DecisionKind.self)
    let title = try r.string()
    let document = try r.optional { try $0.string() }
    let schedule = try r.list { r in
      PlannedDate(planned: try r.date(), setOn: try r.date(), sequence: SequenceNumber(try r.varint()), reason: try r.optional { try $0.string() })
    }
    self.init(id: id, body: body, kind: kind, title: title, document: document, schedule: schedule, taken: taken, takenSequence: takenSequence)
  }
}

extension IndicatorState {
  func write(to w: inout RowWriter) {
    w.term(unit)
    w.date(defined)
    w.optional(retired) { $0.date($1) }
    w.varint(definedSequence.rawValue)
    w.string(id)
    name.write(to: &w)
    w.optional(group) { $0.string($1) }
    w.optional(parent) { $0.string($1) }
    w.optional(breakdown) { w, b in w.list(b.keys.sorted()) { w, k in w.string(k); w.string(b[k]!) } }
    w.optional(baseline) { $1.write(to: &$0) }
    w.optional(reference) { $1.write(to: &$0) }
    w.optional(target) { $1.write(to: &$0) }
    w.optional(targetPeriod) { $1.write(to: &$0) }
    w.optional(changeTerms) { $0.term($1) }
    w.list(targets) { w, t in
      t.target.write(to: &w); w.optional(t.targetPeriod) { $1.write(to: &$0) }; w.date(t.effective); w.varint(t.sequence.rawValue)
    }
  }
  init(reading r: inout RowReader) throws {
    let unit = try r.term(IndicatorUnit.self)
    let defined = try r.date()
    let retired = try r.optional { try $0.date() }
    let sequence = SequenceNumber(try r.varint())
    let id = try r.string()
    let name = try LocalizedName(reading: &r)
    let group = try r.optional { try $0.string() }
    let parent = try r.optional { try $0.string() }
    let breakdown = try r.optional { r in
      Dictionary(try r.list { r in (try r.string(), try r.string()) }, uniquingKeysWith: { a, _ in a })
    }
    let baseline = try r.optional { try PeriodValue(reading: &$0) }
    let reference = try r.optional { try PeriodValue(reading: &$0) }
    let target = try r.optional { try TargetRule(reading: &$0) }
    let targetPeriod = try r.optional { try ObservedPeriod(reading: &$0) }
    let changeTerms = try r.optional { try $0.term(ChangeTerms.self) }
    let targets = try r.list { r in
      TargetRecord(target: try TargetRule(reading: &r), targetPeriod: try r.optional { try ObservedPeriod(reading: &$0) },
                   effective: try r.date(), sequence: SequenceNumber(try r.varint()))
    }
    self.init(id: id, name: name, unit: unit, group: group, parent: parent, breakdown: breakdown, baseline: baseline,
              reference: reference, target: target, targetPeriod: targetPeriod, changeTerms: changeTerms, defined: defined,
              retired: retired, targets: targets, latest: nil)
    definedSequence = sequence
  }
}

/// The first fields of an indicator row, read in place: what an observation's validation needs.
struct IndicatorRowHead {
  let unit: IndicatorUnit
  let defined: EffectiveDate
  let retired: EffectiveDate?
  init(_ bytes: some Collection<UInt8>) throws {
    (unit, defined, retired) = try peekRow(bytes) { r in
      (try r.term(IndicatorUnit.self), try r.date(), try r.optional { try $0.date() })
    }
  }
}

extension MembershipState {
  func write(to w: inout RowWriter) {
    w.term(role)
    w.date(since)
    w.varint(appointment.rawValue)
    w.optional(roleSince) { $0.date($1) }
    w.string(person)
    name.write(to: &w)
    w.list(affiliations) { $0.string($1) }
  }
  init(reading r: inout RowReader) throws {
    let role = try r.term(MemberRole.self)
    let since = try r.date()
    let appointment = SequenceNumber(try r.varint())
    let roleSince = try r.optional { try $0.date() }
    let person = try r.string()
    let name = try LocalizedName(reading: &r)
    self.init(person: person, name: name, role: role, affiliations: try r.list { try $0.string() }, since: since, roleSince: roleSince,
              appointment: appointment)
  }
}

/// The first fields of a membership row, read in place.
struct MembershipRowHead {
  let role: MemberRole
  let since: EffectiveDate
  init(_ bytes: some Collection<UInt8>) throws {
    (role, since) = try peekRow(bytes) { r in (try r.term(MemberRole.self), try r.date()) }
  }
}
