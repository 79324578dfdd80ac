import PolicyLedgerDomain
import PolicyLedgerEventLog

// The canonical JSON of the entity states stored in snapshot rows, written and read field by
// field. The bytes are exactly those `CanonicalEncoder` produces for the same `Codable` value
// (`StateCodecTests` checks both directions on the seed and on random states); the `Codable`
// conformances stay for JSON output and tests. Keys are written in canonical order: sorted by
// their UTF-8 bytes, absent optionals left out.

extension EntityState {
  /// The canonical JSON bytes stored in a snapshot row.
  func encoded() -> [UInt8] {
    var w = CanonicalWriter()
    switch self {
    case .body(let s): s.write(to: &w)
    case .person(let s): s.write(to: &w)
    case .decision(let s): s.write(to: &w)
    case .indicator(let s): s.write(to: &w)
    }
    return w.bytes
  }

  /// Decodes a snapshot row's JSON for an entity of `kind` (the stream id's prefix).
  /// - Throws: ``ProjectionError/unknownEntityKind(_:)``; `JSONSyntaxError` for bytes that are
  ///   not such a state.
  static func decode(kind: String, bytes: ArraySlice<UInt8>) throws -> EntityState {
    switch kind {
    case "body": return .body(try read(bytes) { try BodyState(reading: &$0) })
    case "person": return .person(try read(bytes) { try PersonState(reading: &$0) })
    case "decision": return .decision(try read(bytes) { try DecisionState(reading: &$0) })
    case "indicator": return .indicator(try read(bytes) { try IndicatorState(reading: &$0) })
    default: throw ProjectionError.unknownEntityKind(kind)
    }
  }

  private static func read<T>(_ bytes: ArraySlice<UInt8>, _ body: (inout CanonicalReader) throws -> T) throws -> T {
    try bytes.withUnsafeBytes { buffer in
      var reader = CanonicalReader(buffer)
      let value = try body(&reader)
      try reader.finish()
      return value
    }
  }
}

extension CanonicalWriter {
  /// Members of a dictionary in canonical order (keys sorted by their normalised UTF-8 bytes).
  mutating func object<Value>(_ members: [String: Value], _ write: (inout CanonicalWriter, Value) -> Void) {
    beginObject()
    for name in CanonicalValue.canonicalOrder(members.keys) {
      key(name)
      write(&self, members[name]!)
    }
    endObject()
  }
}

extension CanonicalReader {
  /// A string holding the raw value of `E`.
  mutating func rawValue<E: RawRepresentable>(_ type: E.Type) throws -> E where E.RawValue == String {
    E(rawValue: try string(as: "a \(E.self)") { E(rawValue: $0) != nil })!
  }
}

/// A required field that a snapshot's JSON left out.
private func required<T>(_ value: T?, _ name: String, _ r: borrowing CanonicalReader) throws -> T {
  guard let value else { throw r.fail("missing member \"\(name)\"") }
  return value
}

private func unknown(_ name: String, _ r: borrowing CanonicalReader) -> JSONSyntaxError {
  r.fail("unknown member \"\(name)\" in a snapshot state")
}

extension LocalizedName {
  func write(to w: inout CanonicalWriter) {
    w.beginObject()
    if let en { w.key("en"); w.string(en) }
    w.key("ja"); w.string(ja)
    w.endObject()
  }

  init(reading r: inout CanonicalReader) throws {
    var ja: String?, en: String?
    try r.beginObject()
    while let name = try r.nextKey() {
      switch name {
      case "en": en = try r.string()
      case "ja": ja = try r.string()
      default: throw unknown(name, r)
      }
    }
    self.init(ja: try required(ja, "ja", r), en: en)
  }
}

extension ObservedPeriod {
  init(reading r: inout CanonicalReader) throws {
    self = try r.string(as: "a period (FY2020, 2015/2017)") { try? ObservedPeriod(parsing: $0) }
  }
}

extension PeriodValue {
  func write(to w: inout CanonicalWriter) {
    w.beginObject()
    if let period { w.key("period"); w.string(period.description) }
    w.key("value"); w.decimal(value)
    w.endObject()
  }

  init(reading r: inout CanonicalReader) throws {
    var value: LedgerDecimal?, period: ObservedPeriod?
    try r.beginObject()
    while let name = try r.nextKey() {
      switch name {
      case "period": period = try ObservedPeriod(reading: &r)
      case "value": value = try r.decimal()
      default: throw unknown(name, r)
      }
    }
    self.init(value: try required(value, "value", r), period: period)
  }
}

extension TargetRule {
  func write(to w: inout CanonicalWriter) {
    w.beginObject()
    if let approximate { w.key("approximate"); w.bool(approximate) }
    if let atLeast { w.key("atLeast"); w.bool(atLeast) }
    if let eventually { w.key("eventually"); w.bool(eventually) }
    if let factor { w.key("factor"); w.decimal(factor) }
    if let printedValue { w.key("printedValue"); w.decimal(printedValue) }
    w.key("rule"); w.string(rule.rawValue)
    if let statedAs { w.key("statedAs"); w.string(statedAs) }
    if let value { w.key("value"); w.decimal(value) }
    w.endObject()
  }

  init(reading r: inout CanonicalReader) throws {
    var rule: Rule?
    var s = TargetRule(rule: .absolute)
    try r.beginObject()
    while let name = try r.nextKey() {
      switch name {
      case "approximate": s.approximate = try r.bool()
      case "atLeast": s.atLeast = try r.bool()
      case "eventually": s.eventually = try r.bool()
      case "factor": s.factor = try r.decimal()
      case "printedValue": s.printedValue = try r.decimal()
      case "rule": rule = try r.rawValue(Rule.self)
      case "statedAs": s.statedAs = try r.string()
      case "value": s.value = try r.decimal()
      default: throw unknown(name, r)
      }
    }
    s.rule = try required(rule, "rule", r)
    self = s
  }
}

extension MembershipState {
  func write(to w: inout CanonicalWriter) {
    w.beginObject()
    w.key("affiliations"); w.beginArray(); for a in affiliations { w.string(a) }; w.endArray()
    w.key("appointment"); w.sequence(appointment)
    w.key("name"); name.write(to: &w)
    w.key("person"); w.string(person)
    w.key("role"); w.string(role.rawValue)
    if let roleSince { w.key("roleSince"); w.date(roleSince) }
    w.key("since"); w.date(since)
    w.endObject()
  }

  init(reading r: inout CanonicalReader) throws {
    var affiliations: [String]?, appointment: SequenceNumber?, name: LocalizedName?, person: String?
    var role: MemberRole?, roleSince: EffectiveDate?, since: EffectiveDate?
    try r.beginObject()
    while let key = try r.nextKey() {
      switch key {
      case "affiliations":
        var list: [String] = []
        try r.beginArray()
        while try r.nextElement() { list.append(try r.string()) }
        affiliations = list
      case "appointment": appointment = try r.sequence()
      case "name": name = try LocalizedName(reading: &r)
      case "person": person = try r.string()
      case "role": role = try r.rawValue(MemberRole.self)
      case "roleSince": roleSince = try r.date()
      case "since": since = try r.date()
      default: throw unknown(key, r)
      }
    }
    self.init(person: try required(person, "person", r), name: try required(name, "name", r), role: try required(role, "role", r),
              affiliations: try required(affiliations, "affiliations", r), since: try required(since, "since", r),
              roleSince: roleSince, appointment: try required(appointment, "appointment", r))
  }
}

extension FormerName {
  func write(to w: inout CanonicalWriter) {
    w.beginObject()
    w.key("name"); name.write(to: &w)
    w.key("until"); w.date(until)
    w.endObject()
  }

  init(reading r: inout CanonicalReader) throws {
    var name: LocalizedName?, until: EffectiveDate?
    try r.beginObject()
    while let key = try r.nextKey() {
      switch key {
      case "name": name = try LocalizedName(reading: &r)
      case "until": until = try r.date()
      default: throw unknown(key, r)
      }
    }
    self.init(name: try required(name, "name", r), until: try required(until, "until", r))
  }
}

extension BodyState {
  func write(to w: inout CanonicalWriter) {
    w.beginObject()
    if let dissolutionReason { w.key("dissolutionReason"); w.string(dissolutionReason) }
    if let dissolved { w.key("dissolved"); w.date(dissolved) }
    w.key("established"); w.date(established)
    w.key("formerNames"); w.beginArray(); for f in formerNames { f.write(to: &w) }; w.endArray()
    w.key("id"); w.string(id)
    w.key("kind"); w.string(kind.rawValue)
    if let mandate { w.key("mandate"); w.string(mandate) }
    w.key("members"); w.object(members) { w, m in m.write(to: &w) }
    w.key("name"); name.write(to: &w)
    if let parent { w.key("parent"); w.string(parent) }
    w.endObject()
  }

  init(reading r: inout CanonicalReader) throws {
    var dissolutionReason: String?, dissolved: EffectiveDate?, established: EffectiveDate?, formerNames: [FormerName]?
    var id: String?, kind: BodyKind?, mandate: String?, members: [String: MembershipState]?, name: LocalizedName?, parent: String?
    try r.beginObject()
    while let key = try r.nextKey() {
      switch key {
      case "dissolutionReason": dissolutionReason = try r.string()
      case "dissolved": dissolved = try r.date()
      case "established": established = try r.date()
      case "formerNames":
        var list: [FormerName] = []
        try r.beginArray()
        while try r.nextElement() { list.append(try FormerName(reading: &r)) }
        formerNames = list
      case "id": id = try r.string()
      case "kind": kind = try r.rawValue(BodyKind.self)
      case "mandate": mandate = try r.string()
      case "members":
        var map: [String: MembershipState] = [:]
        try r.beginObject()
        while let person = try r.nextKey() { map[person] = try MembershipState(reading: &r) }
        members = map
      case "name": name = try LocalizedName(reading: &r)
      case "parent": parent = try r.string()
      default: throw unknown(key, r)
      }
    }
    self.init(id: try required(id, "id", r), name: try required(name, "name", r), kind: try required(kind, "kind", r), parent: parent,
              mandate: mandate, established: try required(established, "established", r), dissolved: dissolved,
              dissolutionReason: dissolutionReason, formerNames: try required(formerNames, "formerNames", r),
              members: try required(members, "members", r))
  }
}

extension PersonState {
  func write(to w: inout CanonicalWriter) {
    w.beginObject()
    w.key("id"); w.string(id)
    w.key("memberships"); w.object(memberships) { w, role in w.string(role.rawValue) }
    w.key("name"); name.write(to: &w)
    w.endObject()
  }

  init(reading r: inout CanonicalReader) throws {
    var id: String?, memberships: [String: MemberRole]?, name: LocalizedName?
    try r.beginObject()
    while let key = try r.nextKey() {
      switch key {
      case "id": id = try r.string()
      case "memberships":
        var map: [String: MemberRole] = [:]
        try r.beginObject()
        while let body = try r.nextKey() { map[body] = try r.rawValue(MemberRole.self) }
        memberships = map
      case "name": name = try LocalizedName(reading: &r)
      default: throw unknown(key, r)
      }
    }
    self.init(id: try required(id, "id", r), name: try required(name, "name", r), memberships: try required(memberships, "memberships", r))
  }
}

extension PlannedDate {
  func write(to w: inout CanonicalWriter) {
    w.beginObject()
    w.key("planned"); w.date(planned)
    if let reason { w.key("reason"); w.string(reason) }
    w.key("sequence"); w.sequence(sequence)
    w.key("setOn"); w.date(setOn)
    w.endObject()
  }

  init(reading r: inout CanonicalReader) throws {
    var planned: EffectiveDate?, reason: String?, sequence: SequenceNumber?, setOn: EffectiveDate?
    try r.beginObject()
    while let key = try r.nextKey() {
      switch key {
      case "planned": planned = try r.date()
      case "reason": reason = try r.string()
      case "sequence": sequence = try r.sequence()
      case "setOn": setOn = try r.date()
      default: throw unknown(key, r)
      }
    }
    self.init(planned: try required(planned, "planned", r), setOn: try required(setOn, "setOn", r),
              sequence: try required(sequence, "sequence", r), reason: reason)
  }
}

extension DecisionState {
  func write(to w: inout CanonicalWriter) {
    w.beginObject()
    w.key("body"); w.string(body)
    if let document { w.key("document"); w.string(document) }
    w.key("id"); w.string(id)
    w.key("kind"); w.string(kind.rawValue)
    w.key("schedule"); w.beginArray(); for p in schedule { p.write(to: &w) }; w.endArray()
    if let taken { w.key("taken"); w.date(taken) }
    if let takenSequence { w.key("takenSequence"); w.sequence(takenSequence) }
    w.key("title"); w.string(title)
    w.endObject()
  }

  init(reading r: inout CanonicalReader) throws {
    var body: String?, document: String?, id: String?, kind: DecisionKind?, schedule: [PlannedDate]?
    var taken: EffectiveDate?, takenSequence: SequenceNumber?, title: String?
    try r.beginObject()
    while let key = try r.nextKey() {
      switch key {
      case "body": body = try r.string()
      case "document": document = try r.string()
      case "id": id = try r.string()
      case "kind": kind = try r.rawValue(DecisionKind.self)
      case "schedule":
        var list: [PlannedDate] = []
        try r.beginArray()
        while try r.nextElement() { list.append(try PlannedDate(reading: &r)) }
        schedule = list
      case "taken": taken = try r.date()
      case "takenSequence": takenSequence = try r.sequence()
      case "title": title = try r.string()
      default: throw unknown(key, r)
      }
    }
    self.init(id: try required(id, "id", r), body: try required(body, "body", r), kind: try required(kind, "kind", r),
              title: try required(title, "title", r), document: document, schedule: try required(schedule, "schedule", r),
              taken: taken, takenSequence: takenSequence)
  }
}

extension CorrectionNote {
  func write(to w: inout CanonicalWriter) {
    w.beginObject()
    w.key("actor"); w.string(actor)
    w.key("reason"); w.string(reason)
    w.key("recordedAt"); w.timestamp(recordedAt)
    w.key("sequence"); w.sequence(sequence)
    w.endObject()
  }

  init(reading r: inout CanonicalReader) throws {
    var actor: String?, reason: String?, recordedAt: LedgerTimestamp?, sequence: SequenceNumber?
    try r.beginObject()
    while let key = try r.nextKey() {
      switch key {
      case "actor": actor = try r.string()
      case "reason": reason = try r.string()
      case "recordedAt": recordedAt = try r.timestamp()
      case "sequence": sequence = try r.sequence()
      default: throw unknown(key, r)
      }
    }
    self.init(sequence: try required(sequence, "sequence", r), reason: try required(reason, "reason", r),
              recordedAt: try required(recordedAt, "recordedAt", r), actor: try required(actor, "actor", r))
  }
}

extension ObservationRecord {
  func write(to w: inout CanonicalWriter) {
    w.beginObject()
    w.key("actor"); w.string(actor)
    if let correction { w.key("correction"); correction.write(to: &w) }
    w.key("effective"); w.date(effective)
    if let note { w.key("note"); w.string(note) }
    if let period { w.key("period"); w.string(period.description) }
    w.key("recordedAt"); w.timestamp(recordedAt)
    w.key("sequence"); w.sequence(sequence)
    if let source { w.key("source"); w.string(source) }
    w.key("unit"); w.string(unit.rawValue)
    w.key("value"); w.decimal(value)
    w.endObject()
  }

  init(reading r: inout CanonicalReader) throws {
    var actor: String?, correction: CorrectionNote?, effective: EffectiveDate?, note: String?, period: ObservedPeriod?
    var recordedAt: LedgerTimestamp?, sequence: SequenceNumber?, source: String?, unit: IndicatorUnit?, value: LedgerDecimal?
    try r.beginObject()
    while let key = try r.nextKey() {
      switch key {
      case "actor": actor = try r.string()
      case "correction": correction = try CorrectionNote(reading: &r)
      case "effective": effective = try r.date()
      case "note": note = try r.string()
      case "period": period = try ObservedPeriod(reading: &r)
      case "recordedAt": recordedAt = try r.timestamp()
      case "sequence": sequence = try r.sequence()
      case "source": source = try r.string()
      case "unit": unit = try r.rawValue(IndicatorUnit.self)
      case "value": value = try r.decimal()
      default: throw unknown(key, r)
      }
    }
    self.init(value: try required(value, "value", r), unit: try required(unit, "unit", r), period: period, note: note,
              effective: try required(effective, "effective", r), sequence: try required(sequence, "sequence", r),
              recordedAt: try required(recordedAt, "recordedAt", r), actor: try required(actor, "actor", r),
              source: source, correction: correction)
  }
}

extension TargetRecord {
  func write(to w: inout CanonicalWriter) {
    w.beginObject()
    w.key("effective"); w.date(effective)
    w.key("sequence"); w.sequence(sequence)
    w.key("target"); target.write(to: &w)
    if let targetPeriod { w.key("targetPeriod"); w.string(targetPeriod.description) }
    w.endObject()
  }

  init(reading r: inout CanonicalReader) throws {
    var effective: EffectiveDate?, sequence: SequenceNumber?, target: TargetRule?, targetPeriod: ObservedPeriod?
    try r.beginObject()
    while let key = try r.nextKey() {
      switch key {
      case "effective": effective = try r.date()
      case "sequence": sequence = try r.sequence()
      case "target": target = try TargetRule(reading: &r)
      case "targetPeriod": targetPeriod = try ObservedPeriod(reading: &r)
      default: throw unknown(key, r)
      }
    }
    self.init(target: try required(target, "target", r), targetPeriod: targetPeriod,
              effective: try required(effective, "effective", r), sequence: try required(sequence, "sequence", r))
  }
}

extension IndicatorState {
  func write(to w: inout CanonicalWriter) {
    w.beginObject()
    if let baseline { w.key("baseline"); baseline.write(to: &w) }
    if let breakdown { w.key("breakdown"); w.object(breakdown) { w, v in w.string(v) } }
    if let changeTerms { w.key("changeTerms"); w.string(changeTerms.rawValue) }
    w.key("defined"); w.date(defined)
    if let group { w.key("group"); w.string(group) }
    w.key("id"); w.string(id)
    if let latest { w.key("latest"); latest.write(to: &w) }
    w.key("name"); name.write(to: &w)
    if let parent { w.key("parent"); w.string(parent) }
    if let reference { w.key("reference"); reference.write(to: &w) }
    if let retired { w.key("retired"); w.date(retired) }
    if let target { w.key("target"); target.write(to: &w) }
    if let targetPeriod { w.key("targetPeriod"); w.string(targetPeriod.description) }
    w.key("targets"); w.beginArray(); for t in targets { t.write(to: &w) }; w.endArray()
    w.key("unit"); w.string(unit.rawValue)
    w.endObject()
  }

  init(reading r: inout CanonicalReader) throws {
    var baseline: PeriodValue?, breakdown: [String: String]?, changeTerms: ChangeTerms?, defined: EffectiveDate?
    var group: String?, id: String?, latest: ObservationRecord?, name: LocalizedName?, parent: String?
    var reference: PeriodValue?, retired: EffectiveDate?, target: TargetRule?, targetPeriod: ObservedPeriod?
    var targets: [TargetRecord]?, unit: IndicatorUnit?
    try r.beginObject()
    while let key = try r.nextKey() {
      switch key {
      case "baseline": baseline = try PeriodValue(reading: &r)
      case "breakdown":
        var map: [String: String] = [:]
        try r.beginObject()
        while let k = try r.nextKey() { map[k] = try r.string() }
        breakdown = map
      case "changeTerms": changeTerms = try r.rawValue(ChangeTerms.self)
      case "defined": defined = try r.date()
      case "group": group = try r.string()
      case "id": id = try r.string()
      case "latest": latest = try ObservationRecord(reading: &r)
      case "name": name = try LocalizedName(reading: &r)
      case "parent": parent = try r.string()
      case "reference": reference = try PeriodValue(reading: &r)
      case "retired": retired = try r.date()
      case "target": target = try TargetRule(reading: &r)
      case "targetPeriod": targetPeriod = try ObservedPeriod(reading: &r)
      case "targets":
        var list: [TargetRecord] = []
        try r.beginArray()
        while try r.nextElement() { list.append(try TargetRecord(reading: &r)) }
        targets = list
      case "unit": unit = try r.rawValue(IndicatorUnit.self)
      default: throw unknown(key, r)
      }
    }
    self.init(id: try required(id, "id", r), name: try required(name, "name", r), unit: try required(unit, "unit", r),
              group: group, parent: parent, breakdown: breakdown, baseline: baseline, reference: reference, target: target,
              targetPeriod: targetPeriod, changeTerms: changeTerms, defined: try required(defined, "defined", r),
              retired: retired, targets: try required(targets, "targets", r), latest: latest)
  }
}
