import Baselines
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

/// What the membership-heavy figure measured for one seat count.
struct MembershipResult {
  var seats = 0
  var events = 0
  var batch = 0
  var people = 0
  var counts: [String: Int] = [:]
  var ledgerImportSeconds = 0.0
  var rawImportSeconds: Double?
  /// One `entity(body:…, asOf:)` of the council at the end (its roster of `seats` members,
  /// after `people` seats were ever held), median of 21 (seconds).
  var bodyLookupSeconds: Double?
  var ledgerFileBytes = 0
  var canonicalBytesTotal = 0
  var databases: [RawLMDB.DatabaseStatistics] = []
  var totalSeconds = 0.0

  func rate(_ seconds: Double?) -> Double? { seconds.map { Double(events) / $0 } }
  var bytesPerEvent: Double { Double(ledgerFileBytes) / Double(max(1, events)) }
  var canonicalPerEvent: Double { Double(canonicalBytesTotal) / Double(max(1, events)) }
}

/// A membership-heavy history: one council whose roster of `seats` seats churns through `n`
/// events over 25 years.
///
/// The council is established on 2001-01-06 and its `seats` first members appointed (seat 0 is
/// the chair); then, until there are `n` events: half the steps a member departs and a new
/// person is appointed to the freed seat (with the same role), a quarter a member's role
/// changes, a quarter a member's affiliations change. Every person has 1–3 affiliations taken
/// from the main generator's list. Effective dates never decrease, and a departure, role or
/// affiliation change only ever names a current member: every event is valid when recorded in
/// order.
struct MembershipGenerator {
  static let body = "council-mh"
  var rng: SplitMix64

  init(seed: UInt64) { rng = SplitMix64(seed: seed ^ 0x4D45_4D42) }

  struct Seat { var person: String; var role: MemberRole }

  mutating func generate(seats: Int, events n: Int) -> (entries: [CouncilLedger.Entry], people: Int) {
    precondition(n >= seats + 1, "the history needs room for the establishment and the first appointments")
    let start = Generator.simStart
    let span = Generator.simEnd - start - 1
    var entries: [CouncilLedger.Entry] = []
    entries.reserveCapacity(n)
    func effective() -> EffectiveDate { .day(calendarDay(start + 1 + entries.count * span / n)) }
    func add(_ event: CouncilEvent, _ date: EffectiveDate? = nil) {
      let source: String? = rng.chance(0.5) ? "CSTI資料 \(calendarDay(start + entries.count * span / n).year)年 p.\(rng.int(1...80))" : nil
      entries.append(.init(event, effective: date ?? effective(), actor: rng.chance(0.8) ? "secretariat" : "cabinet-office-staff", source: source))
    }
    func affiliations() -> [String] {
      var picked: [String] = []
      let count = rng.int(1...3)
      while picked.count < count {
        let a = rng.pick(Generator.affiliations)
        if !picked.contains(a) { picked.append(a) }
      }
      return picked
    }
    var people = 0
    func appoint(role: MemberRole) -> Seat {
      let person = paddedID("mh-person", people)
      people += 1
      let name = LocalizedName(ja: "\(rng.pick(Generator.families)) \(rng.pick(Generator.givens))", en: "Person \(people)")
      add(.memberAppointed(.init(body: MembershipGenerator.body, person: person, name: name, role: role, affiliations: affiliations())))
      return Seat(person: person, role: role)
    }
    add(.bodyEstablished(.init(body: MembershipGenerator.body, name: .init(ja: "総合科学技術会議（\(seats)席）", en: "Council with \(seats) seats"),
                               kind: .council, parent: nil, mandate: "科学技術に関する基本的な政策の調査審議")),
        .day(calendarDay(start)))
    var roster: [Seat] = []
    for seat in 0..<seats { roster.append(appoint(role: seat == 0 ? .chair : rng.pick(Generator.roles))) }
    while entries.count < n {
      let roll = rng.int(0..<4)
      let seat = rng.int(0..<seats)
      let current = roster[seat]
      if roll < 2 && n - entries.count >= 2 {
        add(.memberDeparted(.init(body: MembershipGenerator.body, person: current.person, reason: rng.chance(0.3) ? "任期満了" : nil)))
        roster[seat] = appoint(role: current.role)
      } else if roll == 2 {
        var role = rng.pick(Generator.roles + [.chair])
        if role == current.role { role = current.role == .member ? .expertMember : .member }
        add(.memberRoleChanged(.init(body: MembershipGenerator.body, person: current.person, role: role)))
        roster[seat].role = role
      } else {
        add(.memberAffiliationChanged(.init(body: MembershipGenerator.body, person: current.person, affiliations: affiliations())))
      }
    }
    return (entries, people)
  }
}

/// Imports a membership-heavy history of `seats` seats into a fresh ledger (batches of
/// `options.batch`, each one `record`), and the same records into raw LMDB, interleaved by batch
/// as the main import; then measures the file.
func runMembership(seats: Int, options: BenchOptions) throws -> MembershipResult {
  let started = nowNanos()
  var result = MembershipResult()
  result.seats = seats
  result.batch = options.batch
  let n = options.membershipEvents
  let base = options.directory + "/membership-\(seats)"
  try? FileManager.default.removeItem(atPath: base)
  try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
  defer { if !options.keep { try? FileManager.default.removeItem(atPath: base) } }

  progress("[membership \(seats) seats] generating \(integer(n)) events…")
  var generator = MembershipGenerator(seed: options.seed)
  let (entries, people) = generator.generate(seats: seats, events: n)
  result.events = entries.count
  result.people = people
  for e in entries { result.counts[e.event.typeName, default: 0] += 1 }

  let ledgerPath = base + "/ledger"
  var ledgerOptions = EventLog.Options()
  ledgerOptions.storage.initialMapSize = options.mapSize
  let clock = BenchClock()
  ledgerOptions.clock = { LedgerTimestamp(microseconds: clock.tick()) }
  let raw = options.baselines ? try RawLMDB(path: base + "/raw", mapSize: options.mapSize) : nil
  do {
    let ledger = try CouncilLedger.open(at: ledgerPath, options: ledgerOptions)
    progress("[membership \(seats) seats] import (ledger, raw LMDB, interleaved by batch)…")
    var elapsed: UInt64 = 0
    var rawElapsed: UInt64 = 0
    var key: UInt64 = 1
    for start in stride(from: 0, to: entries.count, by: options.batch) {
      let batch = Array(entries[start..<min(entries.count, start + options.batch)])
      let t = nowNanos()
      let recorded: [RecordedEvent]
      do { recorded = try ledger.record(batch) } catch {
        throw BenchError(description: "membership history (\(seats) seats), batch from entry \(start): \(error)")
      }
      elapsed += nowNanos() - t
      let records = recorded.map(rawRecord)
      for e in recorded { result.canonicalBytesTotal += e.canonicalBytes.count }
      if let raw {
        let t1 = nowNanos()
        try raw.appendBatch(firstKey: key, records: records[...])
        rawElapsed += nowNanos() - t1
      }
      key += UInt64(records.count)
    }
    result.ledgerImportSeconds = Double(elapsed) / 1e9
    if raw != nil { result.rawImportSeconds = Double(rawElapsed) / 1e9 }
    // The roster at the end must hold every seat.
    let last = entries.last!.effective.lastDay
    let members = try ledger.members(of: MembershipGenerator.body, asOf: last).count
    guard members == seats else { throw BenchError(description: "the council has \(members) members at the end, not \(seats)") }
    let id = StreamID("body:" + MembershipGenerator.body)!
    var times: [Double] = []
    for _ in 0..<21 {
      times.append(try seconds {
        guard try ledger.entity(id, asOf: last)?.body?.members.count == seats else { throw BenchError(description: "the council's roster is not \(seats)") }
      })
    }
    result.bodyLookupSeconds = times.sorted()[times.count / 2]
    progress("[membership \(seats) seats] ledger import: \(fmt(result.rate(result.ledgerImportSeconds))) events/s")
  }
  // The ledger is closed (released with its last reference): measure the file.
  result.ledgerFileBytes = fileSize(ledgerPath + "/data.mdb")
  result.databases = try RawLMDB.databaseStatistics(path: ledgerPath)
  result.totalSeconds = Double(nowNanos() - started) / 1e9
  return result
}
