import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
@testable import PolicyLedgerQuery
import PolicyLedgerTestSupport
import PropertyBased
import Testing

/// Turns one random number into one council event, against whatever the ledger already holds.
/// Events the ledger rejects (a departure before an appointment…) are part of the test: they must
/// leave nothing behind.
struct OperationDecoder {
  let bodies = ["wg1", "wg2", "panel"]
  let people = ["p1", "p2", "p3", "p4"]
  let indicators = ["i1", "i2"]

  func date(_ n: Int) -> EffectiveDate {
    let year = 2015 + n % 8
    switch (n / 8) % 4 {
    case 0: return .day(year, 1 + (n / 32) % 12, 1 + (n / 7) % 28)!
    case 1: return .month(year, 1 + (n / 32) % 12)!
    case 2: return .fiscalYear(year)!
    default: return .dekad(year, 1 + (n / 32) % 12, 1 + (n / 5) % 3)!
    }
  }

  /// Bodies and indicators every run starts from, so that most random events are valid.
  func prelude() -> [CouncilLedger.Entry] {
    [
      .init(.bodyEstablished(.init(body: "council", name: .init(ja: "会議council"), kind: .council)), effective: .year(2010)!, actor: "prop"),
      .init(.bodyEstablished(.init(body: "panel", name: .init(ja: "専門調査会"), kind: .expertPanel, parent: "council")), effective: .month(2012, 4)!, actor: "prop"),
      .init(.indicatorDefined(.init(indicator: "i1", name: .init(ja: "指標1"), unit: .people, baseline: .init(value: LedgerDecimal(1000)), target: .init(rule: .relative, factor: LedgerDecimal("1.1")!))), effective: .year(2012)!, actor: "prop"),
      .init(.indicatorDefined(.init(indicator: "i2", name: .init(ja: "指標2"), unit: .people)), effective: .fiscalYear(2013)!, actor: "prop"),
    ]
  }

  /// `recorded`: the events so far, to pick targets of corrections and retractions from.
  func entry(_ n: Int, recorded: [RecordedEvent]) -> CouncilLedger.Entry {
    let when = date(n / 16)
    let body = bodies[(n / 3) % bodies.count]
    let person = people[(n / 7) % people.count]
    let indicator = indicators[(n / 11) % indicators.count]
    let event: CouncilEvent
    switch n % 16 {
    case 0:
      event = .bodyEstablished(.init(body: body, name: .init(ja: "会議\(body)"), kind: .workingGroup, parent: "panel"))
    case 1: event = .bodyDissolved(.init(body: body))
    case 2: event = .bodyRenamed(.init(body: body, name: .init(ja: "新\(n % 97)")))
    case 3, 4: event = .memberAppointed(.init(body: body, person: person, name: .init(ja: "氏名\(person)"), role: .expertMember, affiliations: ["所属\(n % 5)"]))
    case 5: event = .memberRoleChanged(.init(body: body, person: person, role: [.chair, .advisor, .executiveMember][n % 3]))
    case 6: event = .memberDeparted(.init(body: body, person: person))
    case 7: event = .memberAffiliationChanged(.init(body: body, person: person, affiliations: ["異動\(n % 9)"]))
    case 8, 9, 10: event = .indicatorObserved(.init(indicator: indicator, value: LedgerDecimal(900 + n % 300), unit: .people, period: ObservedPeriod(.year(2010 + n % 12)!)))
    case 11: event = .indicatorTargetRevised(.init(indicator: indicator, target: .init(rule: .absolute, value: LedgerDecimal(n % 2000))))
    case 12, 13:
      // Correct an observation (its value, sometimes its date) or an appointment (its affiliations).
      let targets = recorded.filter { $0.type == "indicator.observed" || $0.type == "member.appointed" }
      guard !targets.isEmpty else { return entry(n / 16 * 16 + 8, recorded: recorded) }
      let target = targets[n % targets.count]
      var payload = target.payload.objectValue!
      if target.type == "indicator.observed" { payload["value"] = .string(String(n % 777)) } else { payload["affiliations"] = .array([.string("訂正\(n % 4)")]) }
      event = .eventCorrected(.init(corrects: target.sequence, reason: "fix", payload: .object(payload), effective: n % 3 == 0 ? date(n / 5) : nil))
    case 14:
      let targets = recorded.filter { !$0.type.hasPrefix("event.") && $0.sequence.rawValue > 4 }
      guard !targets.isEmpty else { return entry(n / 16 * 16 + 9, recorded: recorded) }
      event = .eventRetracted(.init(retracts: targets[n % targets.count].sequence, reason: "withdrawn"))
    default:
      event = .eventRetracted(.init(retracts: SequenceNumber(UInt64(1 + n % max(recorded.count, 1))), reason: "withdrawn"))
    }
    return .init(event, effective: when, actor: "prop")
  }
}

/// The answer by brute force: every event of the entity, with the amendments known through
/// `knownThrough`, effective on or before `day`, folded in (date, sequence) order.
func naiveState(of entity: StreamID, asOf day: CalendarDay, knownThrough: UInt64, events: [RecordedEvent]) throws -> EntityState? {
  let known = events.filter { $0.sequence.rawValue <= knownThrough }
  var latest: [SequenceNumber: CouncilEvent] = [:]
  for e in known {
    switch try Projector.decode(e) {
    case .eventCorrected(let c):
      if case .eventRetracted = latest[c.corrects] {} else { latest[c.corrects] = .eventCorrected(c) }
    case .eventRetracted(let r): latest[r.retracts] = .eventRetracted(r)
    default: break
    }
  }
  var effective: [EffectiveEvent] = []
  for e in known {
    let event = try Projector.decode(e)
    switch event { case .eventCorrected, .eventRetracted: continue; default: break }
    switch latest[e.sequence] {
    case .eventRetracted?: continue
    case .eventCorrected(let c)?:
      let replaced = try CouncilEvent.decode(type: e.type, payload: c.payload)
      effective.append(EffectiveEvent(original: e, event: replaced, effective: c.effective ?? e.effective, correction: nil))
    default:
      effective.append(EffectiveEvent(original: e, event: event, effective: e.effective, correction: nil))
    }
  }
  var state: EntityState?
  for e in effective.filter({ $0.event.projectedEntities.contains(entity) && $0.effective.firstDay <= day })
    .sorted(by: { ($0.effective.firstDay, $0.original.sequence) < ($1.effective.firstDay, $1.original.sequence) }) {
    state = legacyApply(e, to: state, entity: entity)
  }
  return state
}

/// The fold of format 1, the model the answers are checked against: a body's state holds its
/// members and an indicator's its latest value, folded from the body's and the indicator's own
/// events, as they were before memberships and series became rows of their own.
func legacyApply(_ e: EffectiveEvent, to state: EntityState?, entity: StreamID) -> EntityState? {
  switch (entity.kind, e.event) {
  case ("body", .memberAppointed(let p)):
    guard var s = state?.body else { return state }
    s.members[p.person] = MembershipState(person: p.person, name: p.name, role: p.role, affiliations: p.affiliations,
                                          since: e.effective, roleSince: nil, appointment: e.original.sequence)
    return .body(s)
  case ("body", .memberRoleChanged(let p)):
    guard var s = state?.body, var m = s.members[p.person] else { return state }
    m.role = p.role
    m.roleSince = e.effective
    s.members[p.person] = m
    return .body(s)
  case ("body", .memberAffiliationChanged(let p)):
    guard var s = state?.body, var m = s.members[p.person] else { return state }
    m.affiliations = p.affiliations
    s.members[p.person] = m
    return .body(s)
  case ("body", .memberDeparted(let p)):
    guard var s = state?.body else { return state }
    s.members[p.person] = nil
    return .body(s)
  case ("indicator", .indicatorObserved(let p)):
    guard var s = state?.indicator else { return state }
    let record = ObservationRecord(value: p.value, unit: p.unit, period: p.period, note: p.note, effective: e.effective,
                                   sequence: e.original.sequence, recordedAt: e.original.recordedAt, actor: e.original.actor,
                                   source: e.original.source, correction: e.correction)
    if let latest = s.latest, record.orderKey < latest.orderKey {} else { s.latest = record }
    return .indicator(s)
  default:
    return Fold.apply(e, to: state, entity: entity)
  }
}

/// Correction notes carry the correcting event's clock; the naive fold leaves them out.
func withoutCorrectionNotes(_ s: EntityState?) -> EntityState? {
  guard case .indicator(var i)? = s else { return s }
  i.latest?.correction = nil
  return .indicator(i)
}

/// Records `operations` through `OperationDecoder` and compares every entity's as-of answers with
/// the naive replay; returns the mismatches.
func projectionMismatches(_ operations: [Int], checkingLaterEvents: Bool = true) throws -> [String] {
  let folder = TemporaryFolder("property")
  let ledger = try openTestLedger(folder)
  let decoder = OperationDecoder()
  var recorded = try ledger.record(decoder.prelude())
  var out: [String] = []
  for n in operations {
    let before = try ledger.log.head()
    do {
      recorded += try ledger.record([decoder.entry(n, recorded: recorded)], expectations: [:], dryRun: false, checkingLaterEvents: checkingLaterEvents)
    } catch is ProjectionError {
      if try ledger.log.head() != before { out.append("the rejected operation \(n) left something behind") }
    }
  }
  if try ledger.log.head()?.sequence.rawValue != UInt64(recorded.count) { out.append("the log holds events that record() did not return") }
  out += try ledger.checkProjections().map(\.description)
  out += try storedStateMismatches(ledger)
  // A replay in pages of a few events' worth of entities equals one in a single transaction.
  try ledger.rebuildProjections(pageSize: 5)
  out += try ledger.checkProjections().map { "after a paged rebuild: \($0)" }
  let events = try ledger.log.events(in: 1...UInt64.max - 1)
  let head = UInt64(events.count)
  let entities = (decoder.bodies + ["council"]).map { StreamID.body($0) } + decoder.people.map { StreamID.person($0) } + decoder.indicators.map { StreamID.indicator($0) }
  for knownThrough in Set([head, head / 2, head / 3 + 1]) {
    for year in [2014, 2016, 2018, 2020, 2023] {
      for asOf in [CalendarDay(year: year, month: 6, day: 15)!, CalendarDay(year: year, month: 12, day: 31)!] {
        for entity in entities {
          let fromIndex = try ledger.entity(entity, asOf: asOf, knownAt: .through(SequenceNumber(knownThrough)))
          let naive = try naiveState(of: entity, asOf: asOf, knownThrough: knownThrough, events: events)
          if withoutCorrectionNotes(fromIndex) != naive { out.append("\(entity) as of \(asOf) known through \(knownThrough): \(String(describing: fromIndex)) vs \(String(describing: naive))") }
        }
      }
    }
  }
  // Each indicator's history as known through each point equals the naive reading of its
  // stream: the latest amendment recorded by then, from the trail itself.
  for knownThrough in Set([head, head / 2, head / 3 + 1]) {
    for indicator in decoder.indicators {
      let known = KnowledgeTime.through(SequenceNumber(knownThrough))
      // No history of an indicator that does not exist as known then (its definition not yet
      // recorded, or retracted).
      guard try ledger.entity(.indicator(indicator), asOf: nil, knownAt: known) != nil else { continue }
      let history = try ledger.indicatorHistory(indicator, knownAt: known).entries
      let naive = naiveHistory(of: indicator, knownThrough: knownThrough, events: events)
      let got = history.map { "\($0.event.sequence) \($0.status) \($0.current?.value.description ?? "-")" }
      if got != naive { out.append("history of \(indicator) known through \(knownThrough): \(got) vs \(naive)") }
    }
  }
  return out
}

/// An indicator's observations known through `knownThrough`, each with its status and value in
/// force, read from the whole log by brute force.
func naiveHistory(of indicator: String, knownThrough: UInt64, events: [RecordedEvent]) -> [String] {
  let known = events.filter { $0.sequence.rawValue <= knownThrough }
  var latest: [SequenceNumber: (AmendmentStatus, LedgerDecimal?)] = [:]
  for e in known {
    switch try? Projector.decode(e) {
    case .eventCorrected(let c)?:
      let value = (try? CouncilEvent.decode(type: "indicator.observed", payload: c.payload)).flatMap { if case .indicatorObserved(let p) = $0 { p.value } else { nil } }
      latest[c.corrects] = (.corrected(by: e.sequence), value)
    case .eventRetracted(let r)?: latest[r.retracts] = (.retracted(by: e.sequence), nil)
    default: break
    }
  }
  return known.compactMap { e in
    guard case .indicatorObserved(let p)? = try? Projector.decode(e), p.indicator == indicator else { return nil }
    let (status, value) = latest[e.sequence] ?? (.inForce, p.value)
    return "\(e.sequence) \(status) \(value?.description ?? "-")"
  }
}

@Suite("Projection properties")
struct ProjectionPropertyTests {
  @Test("regression: cases the property test once found", arguments: [
    [0, 392659, 8, 290293, 8, 8, 8, 669278, 206403, 0],
  ])
  func regression(_ operations: [Int]) throws {
    #expect(try projectionMismatches(operations) == [])
    #expect(try projectionMismatches(operations, checkingLaterEvents: false) == [])
  }

  @Test("incremental projections equal a rebuild, and as-of answers equal a naive replay")
  func projectionsEqualReplay() async {
    await propertyCheck(count: 25, input: Gen.int(in: 0...1_000_000).array(of: 10...60)) { operations in
      #expect(try! projectionMismatches(operations) == [])
    }
  }

  @Test("the same, for histories made inconsistent by later changes (as an older log may hold)")
  func inconsistentHistories() async {
    await propertyCheck(count: 25, input: Gen.int(in: 0...1_000_000).array(of: 10...60)) { operations in
      #expect(try! projectionMismatches(operations, checkingLaterEvents: false) == [])
    }
  }
}
