import Foundation
import PolicyLedgerEventLog
import PolicyLedgerQuery
import PolicyLedgerReplication
import PolicyLedgerStorage
import PolicyLedgerTestSupport
import Testing

/// Appends NDJSON lines (new events) to a ledger.
@discardableResult
func append(_ lines: [String], to ledger: CouncilLedger) throws -> [RecordedEvent] {
  try ledger.record(try NDJSON.entries(from: Array(lines.joined(separator: "\n").utf8), defaultActor: "test"))
}

let newObservation = #"{"type":"indicator.observed","effective":"2021","payload":{"indicator":"young-faculty","value":"43000","unit":"人","period":"FY2020"}}"#

/// A seed ledger and a scratch database, for one test.
struct Replica {
  let folder: TemporaryFolder
  let ledger: CouncilLedger
  let url: String
  let database: Database

  static func make(_ label: String) async throws -> Replica {
    let folder = TemporaryFolder("replica-\(label)")
    let ledger = try openTestLedger(folder)
    try importSeed(into: ledger)
    let url = try await PostgresFixture.scratchDatabase()
    return Replica(folder: folder, ledger: ledger, url: url, database: try await Database.open(url))
  }

  func replicate(_ ledger: CouncilLedger? = nil, batchSize: Int = 1_000) async throws -> ReplicationReport {
    try await Replicator(ledger: ledger ?? self.ledger, target: try PostgresTarget(url: url), batchSize: batchSize).replicate()
  }

  var id: String { ledger.log.ledgerID }

  func count(_ ledgerID: String? = nil) async throws -> Int {
    Int(try await database.value("SELECT count(*)::text FROM events WHERE ledger_id = '\(ledgerID ?? id)'") ?? "") ?? -1
  }

  /// The chain check of README, for one ledger: (events, first bad seq, head matches).
  func chainCheck(_ ledgerID: String? = nil) async throws -> (events: Int, firstBad: String?, headMatches: Bool) {
    let rows = try await database.rows("SELECT ledger_id, events::text, first_bad_seq::text, head_matches::text FROM (\(ReplicaSchema.chainCheck)) c", columns: 4)
    let row = try #require(rows.first { $0[0] == (ledgerID ?? id) })
    return (Int(row[1] ?? "") ?? -1, row[2], row[3] == "true")
  }

  func finish() async {
    await database.close()
    await PostgresFixture.drop(url)
  }
}

@Suite("replicate into PostgreSQL", .enabled(if: PostgresFixture.available, PostgresFixture.skipReason))
struct ReplicationTests {
  @Test("the seed ledger: every event, typed columns equal to the ledger's, the chain recomputed in PostgreSQL, the views")
  func seed() async throws {
    let replica = try await Replica.make("seed")
    defer { Task { await replica.finish() } }
    let head = try #require(try replica.ledger.log.head())
    let report = try await replica.replicate(batchSize: 40)
    #expect(report.startHead == 0 && report.head == head.sequence.rawValue)
    #expect(report.eventsWritten == head.sequence.rawValue && report.batches == 3)
    #expect(try await replica.count() == Int(head.sequence.rawValue))
    let check = try await replica.chainCheck()
    #expect(check.events == Int(head.sequence.rawValue) && check.firstBad == nil && check.headMatches)
    let ledgerRow = try await replica.database.rows("SELECT head_seq::text, encode(head_hash, 'hex') FROM ledgers WHERE ledger_id = '\(replica.id)'", columns: 2)
    #expect(ledgerRow == [[head.sequence.description, head.hash.description]])

    // Row by row, the columns are the ledger's.
    let rows = try await replica.database.rows("""
      SELECT seq::text, type, array_to_string(streams, ' '), effective, effective_first_day::text,
             to_char(recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), actor, source, schema::text,
             encode(prev, 'hex'), encode(hash, 'hex'), (ledger_first_day(effective) = effective_first_day)::text,
             convert_from(canonical, 'UTF8'), (payload = convert_from(canonical, 'UTF8')::jsonb->'payload')::text
      FROM events WHERE ledger_id = '\(replica.id)' ORDER BY events.seq
      """, columns: 14)
    let events = try replica.ledger.log.events(in: 1...head.sequence.rawValue)
    #expect(rows.count == events.count)
    for (row, event) in zip(rows, events) {
      let expected: [String?] = [event.sequence.description, event.type, event.streams.map(\.rawValue).joined(separator: " "),
                                 event.effective.description, event.effective.firstDay.description, event.recordedAt.description,
                                 event.actor, event.source, String(event.schemaVersion), event.previousHash.description, event.hash.description, "true",
                                 String(decoding: event.canonicalBytes, as: UTF8.self), "true"]
      #expect(row == expected, "event \(event.sequence)")
    }

    // The views: every seat of the seed, and the latest value of an indicator.
    let seats = try await replica.database.value("SELECT count(*)::text FROM memberships WHERE ledger_id = '\(replica.id)'")
    #expect(seats == "19")
    let chair = try await replica.database.rows("""
      SELECT name_ja, role, valid_from::text, valid_to::text FROM memberships
      WHERE ledger_id = '\(replica.id)' AND body = 'basic-plan-panel' AND person = 'ueyama-takahiro'
      """, columns: 4)
    #expect(chair == [["上山 隆大", "chair", "2019-04-01", nil]])
    let latest = try await replica.database.rows("""
      SELECT value_text, unit FROM indicator_latest_values WHERE ledger_id = '\(replica.id)' AND indicator = 'young-faculty'
      """, columns: 2)
    #expect(latest == [["43153", "人"]])
  }

  @Test("a rerun writes nothing; new events are added after the last one PostgreSQL holds; corrections show in the views")
  func rerunAndContinue() async throws {
    let replica = try await Replica.make("rerun")
    defer { Task { await replica.finish() } }
    let first = try await replica.replicate()
    let again = try await replica.replicate()
    #expect(again.startHead == first.head && again.eventsWritten == 0 && again.batches == 0)
    #expect(try await replica.count() == Int(first.head))

    let added = try append([newObservation], to: replica.ledger)
    let observed = try #require(added.first?.sequence)
    try append([#"{"type":"event.corrected","effective":"2021","payload":{"corrects":\#(observed.rawValue),"reason":"typo","payload":{"indicator":"young-faculty","value":"43010","unit":"人","period":"FY2020"}}}"#,
                #"{"type":"member.departed","effective":"2021-03-31","payload":{"body":"basic-plan-panel","person":"ueyama-takahiro"}}"#],
               to: replica.ledger)
    let third = try await replica.replicate()
    #expect(third.startHead == first.head && third.eventsWritten == 3 && third.batches == 1)
    #expect(try await replica.count() == Int(first.head) + 3)
    let check = try await replica.chainCheck()
    #expect(check.firstBad == nil && check.headMatches && check.events == Int(first.head) + 3)
    let latest = try await replica.database.rows("""
      SELECT value_text, period, seq::text, corrected_by::text FROM indicator_latest_values
      WHERE ledger_id = '\(replica.id)' AND indicator = 'young-faculty'
      """, columns: 4)
    #expect(latest == [["43010", "FY2020", observed.description, observed.next.description]])
    let chair = try await replica.database.value("""
      SELECT valid_to::text FROM memberships WHERE ledger_id = '\(replica.id)' AND person = 'ueyama-takahiro' AND body = 'basic-plan-panel'
      """)
    #expect(chair == "2021-03-31")
  }

  @Test("two ledgers share one database, each under its ledger id")
  func twoLedgers() async throws {
    let replica = try await Replica.make("two")
    defer { Task { await replica.finish() } }
    let otherFolder = TemporaryFolder("replica-other")
    let other = try openTestLedger(otherFolder)
    try importSeed(into: other)
    try append([newObservation], to: other)
    _ = try await replica.replicate()
    let report = try await replica.replicate(other)
    #expect(report.eventsWritten == (try other.log.head()?.sequence.rawValue ?? 0))
    #expect(try await replica.database.value("SELECT count(*)::text FROM ledgers") == "2")
    let otherCount = try await replica.count(other.log.ledgerID)
    let ownCount = try await replica.count()
    #expect(otherCount == ownCount + 1)
    #expect(try await replica.chainCheck(other.log.ledgerID).firstBad == nil)
    #expect(try await replica.chainCheck().firstBad == nil)
  }

  @Test("a fork (another ledger with the same id and another event at the same seq) stops, naming the seq, and writes nothing")
  func fork() async throws {
    let replica = try await Replica.make("fork")
    defer { Task { await replica.finish() } }
    let forkFolder = TemporaryFolder("replica-fork")
    try replica.ledger.log.environment.copy(to: forkFolder.path, compact: false)
    let forked = try CouncilLedger.open(at: forkFolder.path)
    #expect(forked.log.ledgerID == replica.id)
    let mine = try append([newObservation], to: replica.ledger)
    try append([newObservation.replacingOccurrences(of: "43000", with: "1")], to: forked)
    _ = try await replica.replicate()
    let count = try await replica.count()
    try append([newObservation.replacingOccurrences(of: "43000", with: "2")], to: forked)
    await #expect {
      _ = try await replica.replicate(forked)
    } throws: { error in
      guard case let .diverged(id, sequence, reason) = error as? ReplicationError else { return false }
      return id == replica.id && sequence == mine[0].sequence && reason.contains("hash")
    }
    #expect(try await replica.count() == count)
    #expect(try await replica.chainCheck().headMatches)
  }

  @Test("a hash changed in PostgreSQL stops the next run at that seq; the SQL chain check finds it too")
  func tamperedReplica() async throws {
    let replica = try await Replica.make("tamper")
    defer { Task { await replica.finish() } }
    let report = try await replica.replicate()
    try await replica.database.execute("UPDATE events SET canonical = canonical || '\\x20'::bytea WHERE ledger_id = '\(replica.id)' AND seq = 50")
    #expect(try await replica.chainCheck().firstBad == "50")
    try await replica.database.execute("""
      UPDATE events SET hash = sha256('forged') WHERE ledger_id = '\(replica.id)' AND seq = \(report.head);
      """)
    try await replica.database.execute("UPDATE ledgers SET head_hash = sha256('forged') WHERE ledger_id = '\(replica.id)'")
    try append([newObservation], to: replica.ledger)
    await #expect {
      _ = try await replica.replicate()
    } throws: { error in
      guard case let .diverged(_, sequence, _) = error as? ReplicationError else { return false }
      return sequence.rawValue == report.head
    }
    #expect(try await replica.count() == Int(report.head))
  }

  @Test("a ledger rewritten from event 40 on (hashes recomputed) stops the next run naming event 40, not only the head")
  func rewrittenLedger() async throws {
    let replica = try await Replica.make("rewritten")
    defer { Task { await replica.finish() } }
    let report = try await replica.replicate()
    try forgeEvent(ledger: replica.ledger.log.path, sequence: 40, replacing: "seed transcription", with: "a forger")
    await #expect {
      _ = try await replica.replicate()
    } throws: { error in
      guard case let .diverged(_, sequence, reason) = error as? ReplicationError else { return false }
      return sequence.rawValue == 40 && reason.contains("event \(report.head)")
    }
    #expect(try await replica.count() == Int(report.head))
  }

  @Test("an ahead replica: PostgreSQL holds more events than the ledger")
  func replicaAhead() async throws {
    let replica = try await Replica.make("ahead")
    defer { Task { await replica.finish() } }
    let copyFolder = TemporaryFolder("replica-behind")
    try replica.ledger.log.environment.copy(to: copyFolder.path, compact: false)
    let behind = try CouncilLedger.open(at: copyFolder.path)
    let added = try append([newObservation], to: replica.ledger)
    _ = try await replica.replicate()
    await #expect {
      _ = try await replica.replicate(behind)
    } throws: { error in
      guard case let .diverged(_, sequence, reason) = error as? ReplicationError else { return false }
      return sequence == added[0].sequence && reason.contains("ends at")
    }
  }

  @Test("a table changed by hand is refused before anything is written")
  func tableChanged() async throws {
    let replica = try await Replica.make("changed")
    defer { Task { await replica.finish() } }
    _ = try await replica.replicate()
    try await replica.database.execute("ALTER TABLE events DROP COLUMN actor CASCADE")
    try append([newObservation], to: replica.ledger)
    let before = try await replica.count()
    await #expect {
      _ = try await replica.replicate()
    } throws: { error in
      guard case let .tableChanged(table, reason) = error as? ReplicationError else { return false }
      return table == "events" && reason.contains("actor")
    }
    #expect(try await replica.count() == before)
  }

  @Test("a ledger that fails verification is refused, nothing written")
  func unverifiedLedger() async throws {
    let replica = try await Replica.make("unverified")
    defer { Task { await replica.finish() } }
    let log = replica.ledger.log
    let events = try #require(try log.environment.database(named: "events", create: false))
    try log.environment.write { txn in
      var record = try #require(try txn.value(for: SequenceNumber(23).keyBytes, in: events))
      let index = try #require(record.lastIndex(of: UInt8(ascii: "e")))
      record[index] = UInt8(ascii: "f")
      try txn.put(record, for: SequenceNumber(23).keyBytes, in: events)
    }
    await #expect {
      _ = try await replica.replicate()
    } throws: { error in
      guard case let .failsVerification(sequence, _) = error as? LedgerError else { return false }
      return sequence == SequenceNumber(23)
    }
    let tables = try await replica.database.value("SELECT count(*)::text FROM information_schema.tables WHERE table_name = 'events'")
    #expect(tables == "0")
  }

  @Test("bad URLs, refused credentials, an unreachable server: clear errors")
  func badTargets() async throws {
    for url in ["http://user@localhost/db", "postgresql://localhost/db", "postgresql://user@localhost", "postgresql://user@localhost:99999/db",
                "not a url", "postgresql://user@localhost/db?sslmode=maybe"] {
      #expect(throws: ReplicationError.self, "\(url)") { _ = try PostgresTarget(url: url) }
      do { _ = try PostgresTarget(url: url) } catch { if case .badURL = error {} else { Issue.record("\(url): \(error)") } }
    }
    let folder = TemporaryFolder("replica-bad")
    let ledger = try openTestLedger(folder)
    try importSeed(into: ledger)
    let base = try PostgresTarget(url: try #require(PostgresFixture.baseURL))
    var wrong = base
    wrong.password = "not-the-password"
    await #expect {
      _ = try await Replicator(ledger: ledger, target: wrong).replicate()
    } throws: { error in
      guard case let .refused(_, reason) = error as? ReplicationError else { return false }
      return reason.contains("password")
    }
    var missing = base
    missing.database = "policy_ledger_no_such_database"
    await #expect {
      _ = try await Replicator(ledger: ledger, target: missing).replicate()
    } throws: { error in
      guard case .refused = error as? ReplicationError else { return false }
      return true
    }
    var closed = base
    closed.host = "127.0.0.1"
    closed.port = 1
    await #expect {
      _ = try await Replicator(ledger: ledger, target: closed).replicate()
    } throws: { error in
      guard case let .unreachable(_, reason) = error as? ReplicationError else { return false }
      return reason.contains("refused")
    }
  }
}
