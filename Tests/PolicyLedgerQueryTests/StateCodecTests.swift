import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerStorage
@testable import PolicyLedgerQuery
import PolicyLedgerTestSupport
import Testing

/// The snapshot states' own codec (`StateCodec.swift`) against the `Codable` bridge it replaced:
/// the same bytes for the same value, and the same value read back.
func codecMismatches(_ state: EntityState) throws -> [String] {
  let fast = state.encoded()
  let codable: [UInt8]
  let kind: String
  switch state {
  case .body(let s): codable = try CanonicalEncoder().encode(s).canonicalBytes(); kind = "body"
  case .person(let s): codable = try CanonicalEncoder().encode(s).canonicalBytes(); kind = "person"
  case .decision(let s): codable = try CanonicalEncoder().encode(s).canonicalBytes(); kind = "decision"
  case .indicator(let s): codable = try CanonicalEncoder().encode(s).canonicalBytes(); kind = "indicator"
  }
  var out: [String] = []
  if fast != codable {
    out.append("\(kind): writer \(String(decoding: fast, as: UTF8.self))\n  Codable \(String(decoding: codable, as: UTF8.self))")
  }
  let back = try EntityState.decode(kind: kind, bytes: codable[...])
  if back != state { out.append("\(kind): read back \(back)\n  expected \(state)") }
  return out
}

/// Every stored snapshot row of `ledger`, through `codecMismatches`.
func storedStateMismatches(_ ledger: CouncilLedger) throws -> [String] {
  var out: [String] = []
  try ledger.log.environment.read { txn in
    try txn.withCursor(ledger.live.snapshots) { c in
      var entry = try c.first()
      while let e = entry {
        let zero = e.key.firstIndex(of: 0)!
        let kind = String(decoding: e.key[..<zero], as: UTF8.self).split(separator: ":")[0]
        let bytes = e.value[8...]
        if !bytes.isEmpty {
          let state = try EntityState.decode(kind: String(kind), bytes: bytes)
          if state.encoded()[...] != bytes { out.append("row \(String(decoding: e.key[..<zero], as: UTF8.self)) re-encodes differently") }
          out += try codecMismatches(state)
        }
        entry = try c.next()
      }
    }
  }
  return out
}

@Suite("Snapshot state codec")
struct StateCodecTests {
  @Test("every state of the seed: the writer's bytes equal the Codable encoder's, and read back equal")
  func seedStates() throws {
    let folder = TemporaryFolder("codec")
    let ledger = try openTestLedger(folder)
    try importSeed(into: ledger)
    #expect(try storedStateMismatches(ledger) == [])
  }

  @Test("every optional field, dictionaries, escapes and text that needs NFC")
  func everyField() throws {
    let name = LocalizedName(ja: "専門調査会\u{FF08}\"引用\"\\ 改行\n\t制御\u{01}", en: "Cafe\u{301} panel")
    let member = MembershipState(person: "p-1", name: name, role: .executiveMember, affiliations: ["東京大学", "ガ\u{3099}"],
                                 since: .fiscalYear(2019)!, roleSince: .dekad(2020, 6, 2)!, appointment: SequenceNumber(12))
    let body = BodyState(id: "wg", name: name, kind: .workingGroup, parent: "csti", mandate: "任務", established: .year(2014)!,
                         dissolved: EffectiveDate(canonical: "2020-03~")!, dissolutionReason: "終了",
                         formerNames: [FormerName(name: .init(ja: "旧"), until: .month(2016, 4)!)],
                         members: ["p-1": member, "p-0": member, "a": member, "P": member])
    let rule = TargetRule(rule: .relative, factor: LedgerDecimal("1.1")!, value: LedgerDecimal("-0.000000000000000001")!, atLeast: false,
                          eventually: true, approximate: true, statedAs: "1割増加（48,139人）", printedValue: LedgerDecimal(48139))
    let observation = ObservationRecord(value: LedgerDecimal("9999999999999999999.999999999999999999")!, unit: .oku,
                                        period: ObservedPeriod(.year(2015)!, through: .year(2017)!), note: "注1",
                                        effective: .day(2020, 3, 26)!, sequence: SequenceNumber(UInt64.max), recordedAt: LedgerTimestamp(microseconds: 1),
                                        actor: "事務局", source: "slide 12",
                                        correction: CorrectionNote(sequence: SequenceNumber(0), reason: "誤記", recordedAt: LedgerTimestamp(microseconds: -5), actor: "a"))
    let indicator = IndicatorState(id: "i", name: name, unit: .percent, group: "g", parent: "p", breakdown: ["性別": "女性", "é": "x", "a": "b"],
                                   baseline: PeriodValue(value: LedgerDecimal(0), period: ObservedPeriod(.fiscalYear(2013)!)),
                                   reference: PeriodValue(value: LedgerDecimal("24.7")!), target: rule, targetPeriod: ObservedPeriod(.fiscalYear(2025)!),
                                   changeTerms: .wari, defined: .day(2021, 3, 26)!, retired: .year(2030)!,
                                   targets: [TargetRecord(target: rule, targetPeriod: nil, effective: .year(2021)!, sequence: SequenceNumber(3)),
                                             TargetRecord(target: TargetRule(rule: .absolute, value: LedgerDecimal(30)), targetPeriod: ObservedPeriod(.year(2030)!), effective: .year(2022)!, sequence: SequenceNumber(4))],
                                   latest: observation)
    let bare = IndicatorState(id: "j", name: .init(ja: "j"), unit: .count, group: nil, parent: nil, breakdown: [:], baseline: nil, reference: nil,
                              target: nil, targetPeriod: nil, changeTerms: nil, defined: .year(2021)!, retired: nil, targets: [], latest: nil)
    let decision = DecisionState(id: "d", body: "csti", kind: .cabinetDecision, title: "第6期基本計画", document: "doc",
                                 schedule: [PlannedDate(planned: .month(2021, 3)!, setOn: .day(2020, 1, 1)!, sequence: SequenceNumber(7), reason: nil),
                                            PlannedDate(planned: .month(2021, 4)!, setOn: .day(2020, 5, 1)!, sequence: SequenceNumber(9), reason: "延期")],
                                 taken: .day(2021, 3, 26)!, takenSequence: SequenceNumber(10))
    let person = PersonState(id: "p-1", name: name, memberships: ["csti": .chair, "wg": .member])
    for state in [EntityState.body(body), .indicator(indicator), .indicator(bare), .decision(decision), .person(person),
                  .person(PersonState(id: "x", name: .init(ja: "x"), memberships: [:]))] {
      #expect(try codecMismatches(state) == [])
    }
  }

  @Test("bytes that are not a stored state are refused with the offset", arguments: [
    (#"{"id":"x","memberships":{},"name":{"ja":"x"},"extra":1}"#, "unknown member \"extra\""),
    (#"{"id":"x","memberships":{}}"#, "missing member \"name\""),
    (#"{"id":"x", "memberships":{},"name":{"ja":"x"}}"#, "expected a member name"),
    (#"{"id":"x","memberships":{"csti":"boss"},"name":{"ja":"x"}}"#, "is not a MemberRole"),
    (#"{"id":"x","memberships":{},"name":{"ja":"x"}}x"#, "unexpected bytes after the value"),
    (#"{"id":"x","memberships":{},"name":{"ja":"x"},}"#, "expected a member name"),
    (#"{,"id":"x","memberships":{},"name":{"ja":"x"}}"#, "expected a member name"),
    (#"{"id":"x""memberships":{},"name":{"ja":"x"}}"#, "expected ',' or '}'"),
    (#"{"id":"x","memberships":{"a":"chair",},"name":{"ja":"x"}}"#, "expected a member name"),
  ])
  func refusals(_ text: String, _ message: String) throws {
    #expect {
      _ = try EntityState.decode(kind: "person", bytes: Array(text.utf8)[...])
    } throws: { error in
      "\(error)".contains(message)
    }
  }
}
