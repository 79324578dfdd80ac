import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerStorage
@testable import PolicyLedgerQuery
import PolicyLedgerTestSupport
import Testing

/// A state through its binary row and back: the same value, what a row holds of it (a body
/// without its members, an indicator without its latest value), and the same bytes again.
func codecMismatches(_ state: EntityState) throws -> [String] {
  let bytes = state.encoded()
  let kind: String
  var expected = state
  switch state {
  case .body(var s): kind = "body"; s.members = [:]; expected = .body(s)
  case .person: kind = "person"
  case .decision: kind = "decision"
  case .indicator(var s): kind = "indicator"; s.latest = nil; expected = .indicator(s)
  case .membership: kind = "membership"
  }
  var out: [String] = []
  let back = try EntityState.decode(kind: kind, bytes: bytes)
  if back != expected { out.append("\(kind): read back \(back)\n  expected \(expected)") }
  if back.encoded() != bytes { out.append("\(kind): re-encodes differently") }
  // The fields read in place agree with the full decode.
  switch back {
  case .body(let s):
    let head = try BodyRowHead(bytes)
    if head.established != s.established || head.dissolved != s.dissolved { out.append("body: the row head disagrees") }
  case .indicator(let s):
    let head = try IndicatorRowHead(bytes)
    if head.unit != s.unit || head.defined != s.defined || head.retired != s.retired { out.append("indicator: the row head disagrees") }
  case .membership(let s):
    let head = try MembershipRowHead(bytes)
    if head.role != s.role || head.since != s.since { out.append("membership: the row head disagrees") }
  default: break
  }
  return out
}

/// Every stored snapshot and series row of `ledger` read back and re-encoded byte for byte.
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
    try txn.withCursor(ledger.live.series) { c in
      var entry = try c.first()
      while let e = entry {
        let record = try readRow(e.value[8...]) { try ObservationRecord(reading: &$0) }
        var w = RowWriter()
        record.write(to: &w)
        if w.bytes[...] != e.value[8...] { out.append("series row \(RowText.key(e.key, in: "series")) re-encodes differently") }
        entry = try c.next()
      }
    }
  }
  return out
}

@Suite("Projection rows (binary layout 2)")
struct RowCodecTests {
  @Test("every row of the seed reads back to the same value and re-encodes to the same bytes")
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
                  .person(PersonState(id: "x", name: .init(ja: "x"), memberships: [:])), .membership(member)] {
      #expect(try codecMismatches(state) == [])
    }
    // An observation row, with every optional field.
    var w = RowWriter()
    observation.write(to: &w)
    let back = try readRow(w.bytes) { try ObservationRecord(reading: &$0, sequence: observation.sequence) }
    #expect(back == observation)
  }

  @Test("bytes that are not a row are refused, naming the offset")
  func refusals() throws {
    let person = EntityState.person(PersonState(id: "x", name: .init(ja: "名前"), memberships: ["csti": .chair])).encoded()
    func refused(_ bytes: [UInt8], _ message: String) {
      #expect {
        _ = try EntityState.decode(kind: "person", bytes: bytes)
      } throws: { error in
        "\(error)".contains(message)
      }
    }
    refused([], "the row ends early")
    refused([1] + person.dropFirst(), "layout version 1")
    refused(Array(person.dropLast()), "a count (5) larger than the row")
    refused(person + [0], "1 bytes after the end of the row")
    var badRole = person
    badRole[badRole.count - 5] = UInt8(ascii: "X")
    refused(badRole, "is not a MemberRole")
    var badCount = person
    badCount[1] = 0x7F
    refused(badCount, "larger than the row")
    var badUTF8 = person
    badUTF8[2] = 0xFF
    refused(badUTF8, "not UTF-8")
    refused([2, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], "too long for 64 bits")
  }
}
