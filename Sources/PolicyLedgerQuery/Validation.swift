import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerStorage

/// Validation of council events against the state as of their effective dates.
struct Validator {
  let projector: Projector
  let set: ProjectionSet
  let cache: StateCache

  func validate(_ entry: CouncilLedger.Entry, recorded: RecordedEvent, index: Int, in txn: borrowing LMDBWriteTransaction) throws {
    let day = entry.effective.firstDay
    let through = recorded.sequence.rawValue - 1
    func fail(_ field: String, _ reason: String) -> ProjectionError { .invalid(index: index, field: field, reason: reason) }
    func state(_ entity: StreamID) throws -> EntityState? {
      try Projector.state(of: entity, asOf: day, knownThrough: through, set: set, cache: cache, in: txn)
    }
    func exists(_ entity: StreamID) throws -> Bool { try txn.value(for: Array(entity.rawValue.utf8), in: set.entities) != nil }
    func activeBody(_ id: String, field: String) throws -> BodyState {
      guard let body = try state(.body(id))?.body else {
        if try exists(.body(id)) { throw fail(field, "body \"\(id)\" was not yet established on \(day) (its establishment is effective later)") }
        throw fail(field, "there is no body \"\(id)\"")
      }
      if let dissolved = body.dissolved, dissolved.firstDay <= day {
        throw fail(field, "body \"\(id)\" was dissolved on \(dissolved) before \(day)")
      }
      return body
    }
    func activeIndicator(_ id: String, field: String) throws -> IndicatorState {
      guard let s = try state(.indicator(id))?.indicator else {
        if try exists(.indicator(id)) { throw fail(field, "indicator \"\(id)\" was not yet defined on \(day)") }
        throw fail(field, "there is no indicator \"\(id)\"")
      }
      if let retired = s.retired, retired.firstDay <= day { throw fail(field, "indicator \"\(id)\" was retired on \(retired)") }
      return s
    }
    func seat(_ body: String, _ person: String) throws -> MembershipState? {
      try state(.membership(body, person))?.membership
    }
    func member(_ body: BodyState, _ person: String) throws -> MembershipState {
      guard let m = try seat(body.id, person) else {
        throw fail("person", "\"\(person)\" is not a member of \"\(body.id)\" on \(day)" + ((try? exists(.person(person))) == true ? " (not appointed yet, or already departed)" : " (no such person)"))
      }
      return m
    }

    switch entry.event {
    case .actorKeyRegistered, .actorKeyRevoked, .signingPolicySet:
      // Checked against the keys and the policy as they stand (SigningRegistry), with the
      // signature, when the event is signed or found unsigned (Signing.swift).
      break
    case .bodyEstablished(let p):
      if try exists(.body(p.body)) { throw fail("body", "body \"\(p.body)\" already exists") }
      if let parent = p.parent { _ = try activeBody(parent, field: "parent") }
      if p.name.ja.trimmingCharacters(in: .whitespaces).isEmpty { throw fail("name.ja", "a body needs a Japanese name") }
    case .bodyRenamed(let p):
      let body = try activeBody(p.body, field: "body")
      if p.name.ja.trimmingCharacters(in: .whitespaces).isEmpty { throw fail("name.ja", "a body needs a Japanese name") }
      if p.name == body.name { throw fail("name", "body \"\(p.body)\" is already called \(body.name) on that date") }
    case .bodyDissolved(let p):
      _ = try activeBody(p.body, field: "body")
      try checkLifetime(of: p.body, from: nil, until: day, ignoring: [], field: "effective", index: index, through: through, in: txn)
    case .decisionScheduled(let p):
      if try exists(.decision(p.decision)) { throw fail("decision", "decision \"\(p.decision)\" already exists; use decision.rescheduled to move it") }
      _ = try activeBody(p.body, field: "body")
      if p.title.trimmingCharacters(in: .whitespaces).isEmpty { throw fail("title", "a decision needs a title") }
    case .decisionRescheduled(let p):
      guard let d = try state(.decision(p.decision))?.decision else { throw fail("decision", "there is no decision \"\(p.decision)\" scheduled on \(day)") }
      if let taken = d.taken { throw fail("decision", "decision \"\(p.decision)\" was already taken on \(taken)") }
    case .decisionTaken(let p):
      if let d = try state(.decision(p.decision))?.decision {
        if let taken = d.taken { throw fail("decision", "decision \"\(p.decision)\" was already taken on \(taken)") }
        if let body = p.body, body != d.body { throw fail("body", "decision \"\(p.decision)\" belongs to \"\(d.body)\", not \"\(body)\"") }
      } else {
        if try exists(.decision(p.decision)) { throw fail("decision", "decision \"\(p.decision)\" is scheduled only after \(day); record the decision's schedule with an earlier date, or correct it") }
        guard let body = p.body else { throw fail("body", "a decision not scheduled before needs its body") }
        guard p.kind != nil else { throw fail("kind", "a decision not scheduled before needs its kind") }
        guard let title = p.title, !title.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail("title", "a decision not scheduled before needs its title") }
        _ = try activeBody(body, field: "body")
      }
    case .indicatorDefined(let p):
      if try exists(.indicator(p.indicator)) { throw fail("indicator", "indicator \"\(p.indicator)\" already exists") }
      if let parent = p.parent { _ = try activeIndicator(parent, field: "parent") }
      if let problem = p.target?.validationError { throw fail("target", problem) }
      if p.target?.rule == .relative && p.baseline == nil { throw fail("baseline", "a target relative to the baseline needs a baseline") }
      if let target = p.target, let baseline = p.baseline, target.absoluteTarget(baseline: baseline.value) == nil {
        throw fail("target", "the target (baseline \(baseline.value) × factor \(target.factor?.description ?? "?")) does not fit in a decimal of 19 integer and 18 fraction digits")
      }
    case .indicatorObserved(let p):
      // Read in place from the indicator's row: the unit and its life, nothing else decoded.
      guard let head = try Projector.rowBytes(of: .indicator(p.indicator), asOf: day, knownThrough: through, set: set, in: txn)
        .map({ bytes in try Projector.damageChecked(.indicator(p.indicator)) { try IndicatorRowHead(bytes) } }) else {
        if try exists(.indicator(p.indicator)) { throw fail("indicator", "indicator \"\(p.indicator)\" was not yet defined on \(day)") }
        throw fail("indicator", "there is no indicator \"\(p.indicator)\"")
      }
      if let retired = head.retired, retired.firstDay <= day { throw fail("indicator", "indicator \"\(p.indicator)\" was retired on \(retired)") }
      if p.unit != head.unit { throw fail("unit", "indicator \"\(p.indicator)\" is measured in \(head.unit.rawValue), not \(p.unit.rawValue)") }
      if let problem = p.unit.problem(with: p.value) { throw fail("value", problem) }
    case .indicatorTargetRevised(let p):
      let s = try activeIndicator(p.indicator, field: "indicator")
      if let problem = p.target.validationError { throw fail("target", problem) }
      if p.target.rule == .relative && s.baseline == nil { throw fail("target", "a target relative to the baseline needs the indicator to have a baseline") }
      if let baseline = s.baseline, p.target.absoluteTarget(baseline: baseline.value) == nil {
        throw fail("target", "the target (baseline \(baseline.value) × factor \(p.target.factor?.description ?? "?")) does not fit in a decimal of 19 integer and 18 fraction digits")
      }
    case .indicatorRetired(let p):
      _ = try activeIndicator(p.indicator, field: "indicator")
      try checkSeries(of: p.indicator, from: nil, until: day, ignoring: [], field: "effective", index: index, in: txn)
    case .memberAppointed(let p):
      _ = try activeBody(p.body, field: "body")
      if try seat(p.body, p.person) != nil { throw fail("person", "\"\(p.person)\" is already a member of \"\(p.body)\" on \(day)") }
      if p.affiliations.isEmpty { throw fail("affiliations", "a member needs at least one affiliation") }
      // A known person under another name: the appointment would rename them (the person's
      // record takes the newest appointment's name), so it must say the name changed.
      if p.renamed != true, try exists(.person(p.person)),
         let known = try state(.person(p.person))?.person
           ?? Projector.state(of: .person(p.person), asOf: nil, knownThrough: through, set: set, cache: cache, in: txn)?.person,
         known.name.ja != p.name.ja || (known.name.en != nil && p.name.en != nil && known.name.en != p.name.en) {
        // (An appointment that leaves the English name out is not a new name.)
        let seats = known.memberships.keys.sorted().prefix(3).joined(separator: ", ")
        throw fail("name", "person \"\(p.person)\" is recorded as \(known.name)" + (seats.isEmpty ? "" : " (on \(seats))") + ", not \(p.name); if this is another person, give another id; if their name changed, say so (record member-appointed --rename, or \"renamed\": true in the payload): the person's record then shows \(p.name) from \(entry.effective) on, and each seat keeps the name it was appointed under")
      }
    case .memberRoleChanged(let p):
      let m = try member(try activeBody(p.body, field: "body"), p.person)
      if m.role == p.role { throw fail("role", "\"\(p.person)\" already has the role \(p.role.rawValue)") }
    case .memberAffiliationChanged(let p):
      _ = try member(try activeBody(p.body, field: "body"), p.person)
      if p.affiliations.isEmpty { throw fail("affiliations", "a member needs at least one affiliation") }
    case .memberDeparted(let p):
      let m = try member(try activeBody(p.body, field: "body"), p.person)
      if m.since.firstDay > day { throw fail("person", "the departure (\(day)) is before the appointment (\(m.since))") }
    case .eventCorrected(let c):
      let target = try amendable(c.corrects, field: "corrects", index: index, in: txn)
      let replaced: CouncilEvent
      do { replaced = try CouncilEvent.decode(type: target.type, schemaVersion: target.schemaVersion, payload: c.payload) } catch {
        throw fail("payload." + error.field, error.reason)
      }
      if let error = replaced.idValidationError() { throw fail("payload." + error.field, error.reason) }
      let original = try Projector.decode(target)
      if Set(replaced.projectedEntities) != Set(original.projectedEntities) {
        throw fail("payload", "a correction cannot move the event to other entities (\(original.projectedEntities.map(\.rawValue).joined(separator: ", "))); retract it and record a new event")
      }
      if c.reason.trimmingCharacters(in: .whitespaces).isEmpty { throw fail("reason", "a correction needs a reason") }
      // References in the replacement must hold at its (possibly corrected) effective date.
      let effective = c.effective ?? target.effective
      let check = CouncilLedger.Entry(replaced, effective: effective, actor: entry.actor, source: entry.source)
      try validateReferences(check, index: index, through: through, in: txn)
      // A body's establishment or dissolution moved: everything in the body must stay within its life.
      switch replaced {
      case .bodyEstablished(let p):
        try checkLifetime(of: p.body, from: effective.firstDay, until: nil, ignoring: [c.corrects], field: "corrects", index: index, through: through, in: txn)
      case .bodyDissolved(let p):
        try checkLifetime(of: p.body, from: nil, until: effective.firstDay, ignoring: [c.corrects], field: "corrects", index: index, through: through, in: txn)
      case .indicatorDefined(let p):
        try checkSeries(of: p.indicator, from: effective.firstDay, until: nil, ignoring: [], field: "corrects", index: index, in: txn)
      case .indicatorRetired(let p):
        try checkSeries(of: p.indicator, from: nil, until: effective.firstDay, ignoring: [], field: "corrects", index: index, in: txn)
      case .indicatorObserved(let p):
        // The corrected value must fit its indicator where it now falls (defined, not retired).
        guard let s = try Projector.state(of: .indicator(p.indicator), asOf: effective.firstDay, knownThrough: through, set: set, cache: cache, in: txn)?.indicator else { break }
        if let retired = s.retired, retired.firstDay <= effective.firstDay {
          throw fail("effective", "indicator \"\(p.indicator)\" was retired on \(retired), before \(effective)")
        }
        if let problem = p.unit.problem(with: p.value) { throw fail("payload.value", problem) }
      default: break
      }
    case .eventRetracted(let r):
      let target = try amendable(r.retracts, field: "retracts", index: index, in: txn)
      if r.reason.trimmingCharacters(in: .whitespaces).isEmpty { throw fail("reason", "a retraction needs a reason") }
      switch try Projector.decode(target) {
      case .bodyEstablished(let p):
        // Without its establishment, nothing may happen in the body at all.
        try checkLifetime(of: p.body, from: nil, until: nil, withdrawn: true, ignoring: [r.retracts], field: "retracts", index: index, through: through, in: txn)
      case .indicatorDefined(let p):
        try checkSeries(of: p.indicator, from: nil, until: nil, ignoring: [], field: "retracts", index: index, in: txn)
      default: break
      }
    }
  }

  /// Checks that every event in force in a body's stream (members, decisions and their later
  /// steps, working groups set up under it) falls on or after `from` (its establishment) and on
  /// or before `until` (its dissolution); and, for a dissolution, that no working group under it
  /// is still active then.
  private func checkLifetime(of body: String, from: CalendarDay?, until: CalendarDay?, withdrawn: Bool = false, ignoring: Set<SequenceNumber>, field: String,
                             index: Int, through: UInt64, in txn: borrowing LMDBWriteTransaction) throws {
    for sequence in try projector.log.sequences(inStream: .body(body), in: txn) where sequence.rawValue <= through && !ignoring.contains(sequence) {
      guard let event = try projector.log.event(sequence, in: txn), !event.type.hasPrefix("event."),
            try Projector.amendment(of: sequence, set: set, in: txn) == nil else { continue }
      if case .bodyEstablished(let p)? = try? Projector.decode(event), p.body == body { continue }
      if case .bodyDissolved(let p)? = try? Projector.decode(event), p.body == body { continue }
      let day = event.effective.firstDay
      if withdrawn {
        throw ProjectionError.invalid(index: index, field: field, reason: "event \(sequence) (\(event.type), \(event.effective)) concerns body \"\(body)\", which would then never have been established; correct or retract that event first")
      }
      if let from, day < from {
        throw ProjectionError.invalid(index: index, field: field, reason: "event \(sequence) (\(event.type), \(event.effective)) concerns body \"\(body)\" before \(from), when it would not yet exist; correct or retract that event first")
      }
      if let until, day > until {
        throw ProjectionError.invalid(index: index, field: field, reason: "event \(sequence) (\(event.type), \(event.effective)) concerns body \"\(body)\" after \(until); dissolve it after that, or correct that event first")
      }
    }
    guard let until else { return }
    for child in try Projector.entities(ofKind: "body", set: set, in: txn) {
      guard let state = try Projector.state(of: child, asOf: until, knownThrough: through, set: set, cache: cache, in: txn)?.body,
            state.parent == body, state.dissolved == nil else { continue }
      throw ProjectionError.invalid(index: index, field: field, reason: "working group \"\(state.id)\" under \"\(body)\" is still active on \(until); dissolve it first")
    }
    // A dissolved body seats nobody: its members leave first (a departure on the same day is fine).
    let seated = try Reader(set: set, knownThrough: through, tenuresApply: true).roster(of: body, asOf: until, in: txn)
    if !seated.isEmpty {
      let names = seated.values.sorted { $0.appointment < $1.appointment }.prefix(5).map { "\($0.name.ja) (\($0.person))" }.joined(separator: ", ")
      throw ProjectionError.invalid(index: index, field: field, reason: "body \"\(body)\" would still have \(seated.count) member\(seated.count == 1 ? "" : "s") on \(until): \(names)\(seated.count > 5 ? ", …" : ""); record their departures (member.departed) on or before \(until) first")
    }
  }

  /// Checks that no observation in force of `indicator` is effective before `from` (its
  /// definition) or on or after `until` (its retirement); with neither, that it has none at all
  /// (its definition withdrawn). Reads the indicator's series: O(k) for k values, and only for
  /// these rare events.
  private func checkSeries(of indicator: String, from: CalendarDay?, until: CalendarDay?, ignoring: Set<UInt64>, field: String,
                           index: Int, in txn: borrowing LMDBWriteTransaction) throws {
    let withdrawn = from == nil && until == nil
    guard let row = try Projector.observation(of: .indicator(indicator), before: withdrawn ? CalendarDay(daysSinceEpoch: Int(Int32.max) - 1) : from,
                                              orFrom: until, ignoring: ignoring, set: set, in: txn) else { return }
    let record = try Projector.damageChecked(.indicator(indicator)) { try row.record() }
    let what = "event \(row.sequence) (indicator.observed, \(record.effective))"
    let reason: String
    if withdrawn { reason = "\(what) observes indicator \"\(indicator)\", which would then never have been defined" }
    else if let until, record.effective.firstDay >= until { reason = "\(what) observes indicator \"\(indicator)\" on or after \(until), when it would be retired" }
    else { reason = "\(what) observes indicator \"\(indicator)\" before \(from!), when it would not yet be defined" }
    throw ProjectionError.invalid(index: index, field: field, reason: reason + "; correct or retract that event first")
  }

  /// For corrections: checks only that referenced entities exist (not uniqueness rules, which
  /// the original itself would trip).
  private func validateReferences(_ entry: CouncilLedger.Entry, index: Int, through: UInt64, in txn: borrowing LMDBWriteTransaction) throws {
    let day = entry.effective.firstDay
    func fail(_ field: String, _ reason: String) -> ProjectionError { .invalid(index: index, field: "payload." + field, reason: reason) }
    func present(_ entity: StreamID) throws -> EntityState? { try Projector.state(of: entity, asOf: day, knownThrough: through, set: set, cache: cache, in: txn) }
    switch entry.event {
    case .bodyEstablished(let p):
      if let parent = p.parent, try present(.body(parent)) == nil { throw fail("parent", "there is no body \"\(parent)\" on \(day)") }
    case .decisionScheduled(let p):
      if try present(.body(p.body)) == nil { throw fail("body", "there is no body \"\(p.body)\" on \(day)") }
    case .decisionTaken(let p):
      if let body = p.body, try present(.body(body)) == nil { throw fail("body", "there is no body \"\(body)\" on \(day)") }
    case .indicatorObserved(let p):
      guard let s = try present(.indicator(p.indicator))?.indicator else { throw fail("indicator", "there is no indicator \"\(p.indicator)\" on \(day)") }
      if p.unit != s.unit { throw fail("unit", "indicator \"\(p.indicator)\" is measured in \(s.unit.rawValue), not \(p.unit.rawValue)") }
    case .memberAppointed(let p):
      if try present(.body(p.body)) == nil { throw fail("body", "there is no body \"\(p.body)\" on \(day)") }
    default: break
    }
  }

  private func amendable(_ sequence: SequenceNumber, field: String, index: Int, in txn: borrowing LMDBWriteTransaction) throws -> RecordedEvent {
    guard let target = try projector.log.event(sequence, in: txn) else {
      throw ProjectionError.invalid(index: index, field: field, reason: "there is no event \(sequence)")
    }
    switch try Projector.decode(target) {
    case .eventCorrected, .eventRetracted:
      throw ProjectionError.invalid(index: index, field: field, reason: "event \(sequence) is itself an amendment (\(target.type)); amend the original event instead")
    case .actorKeyRegistered, .actorKeyRevoked, .signingPolicySet:
      throw ProjectionError.invalid(index: index, field: field, reason: "event \(sequence) (\(target.type)) cannot be corrected or retracted: revoke the key (`keys revoke`) or set the policy again (`keys policy`)")
    default: break
    }
    if case .retracted(let by) = try Projector.amendment(of: sequence, set: set, in: txn) {
      throw ProjectionError.invalid(index: index, field: field, reason: "event \(sequence) was retracted by event \(by)")
    }
    return target
  }
}
