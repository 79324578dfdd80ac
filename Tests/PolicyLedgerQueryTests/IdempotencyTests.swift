import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery
import PolicyLedgerTestSupport
import Testing

/// Issue 10: retries do not duplicate, at the library's level.
@Suite("Idempotent recording")
struct IdempotencyTests {
  let body = CouncilLedger.Entry(.bodyEstablished(.init(body: "panel", name: .init(ja: "専門調査会"), kind: .expertPanel)), effective: .month(2019, 4)!, actor: actor)
  let indicator = CouncilLedger.Entry(.indicatorDefined(.init(indicator: "i", name: .init(ja: "指標"), unit: .people)), effective: .year(2016)!, actor: actor)
  func observed(_ value: Int, key: String? = nil, actor: String = actor) -> CouncilLedger.Entry {
    var e = CouncilLedger.Entry(.indicatorObserved(.init(indicator: "i", value: LedgerDecimal(value), unit: .people)), effective: .year(2020)!, actor: actor)
    e.key = key
    return e
  }

  @Test("a batch with repeats and entries already recorded records each fact once and says which were repeats")
  func batch() throws {
    let folder = TemporaryFolder("idempotent-batch")
    let ledger = try openTestLedger(folder)
    let first = try ledger.recordReporting([body, indicator, observed(1)])
    #expect(first.recorded.count == 3 && first.duplicates.isEmpty)
    // Entries 0 and 2 are already recorded (another actor does not make another fact); 3 repeats 1.
    let second = try ledger.recordReporting([body, observed(2), observed(1, actor: "cron"), observed(2), observed(2, key: "again")])
    #expect(second.recorded.map(\.sequence.rawValue) == [4, 5])
    #expect(second.recorded.last?.key == "again")
    #expect(second.duplicates.map(\.index) == [0, 2, 3])
    #expect(second.duplicates.map(\.sequence.rawValue) == [1, 3, 4])
    #expect(second.duplicates.allSatisfy { !$0.byKey })
    // The same key with other content: refused, naming the entry and the event; nothing written.
    #expect(throws: ProjectionError.self) { try ledger.record([self.observed(9), self.observed(3, key: "again")]) }
    do { try ledger.record([observed(9), observed(3, key: "again")]) } catch let ProjectionError.invalid(index, field, reason) {
      #expect(index == 1 && field == "key" && reason.contains("already recorded as event 5"))
    }
    #expect(try ledger.log.head()?.sequence == SequenceNumber(5))
    // A later entry of a batch that repeats a dropped one still validates at its own index.
    do { try ledger.record([observed(1), observed(7), .init(.indicatorObserved(.init(indicator: "nope", value: LedgerDecimal(1), unit: .people)), effective: .year(2020)!, actor: actor)]) }
    catch let ProjectionError.invalid(index, field, _) { #expect(index == 2 && field == "indicator") }
    #expect(try ledger.checkProjections().isEmpty)
  }

  @Test("a correction that omits a field of the original is refused, naming the field")
  func omittedField() throws {
    let folder = TemporaryFolder("idempotent-omit")
    let ledger = try openTestLedger(folder)
    try ledger.record([indicator, .init(.indicatorObserved(.init(indicator: "i", value: LedgerDecimal(1), unit: .people, period: ObservedPeriod(.fiscalYear(2019)!), note: "n")),
                                         effective: .year(2020)!, actor: actor)])
    expectRefusal(mentioning: "\"period\"") {
      try ledger.record([.init(.eventCorrected(.init(corrects: SequenceNumber(2), reason: "r", payload: .object(["indicator": .string("i"), "value": .string("2"), "unit": .string("人"), "note": .string("n")]))),
                               effective: .year(2020)!, actor: actor)])
    }
    let inForce = try #require(try ledger.eventInForce(SequenceNumber(2)))
    #expect(inForce.correctedBy == nil)
  }
}
