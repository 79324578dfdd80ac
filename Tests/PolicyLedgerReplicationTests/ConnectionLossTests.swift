import Foundation
import PolicyLedgerEventLog
import PolicyLedgerQuery
@testable import PolicyLedgerReplication
import Synchronization
import Testing

/// What a replication task ended with, read by a test that will not wait for it for ever.
private final class Outcome: Sendable {
  private let result = Mutex<Result<ReplicationReport, any Error>?>(nil)

  /// Starts `replicator.replicate(follow: true)` on a task of its own.
  init(following replicator: Replicator) {
    Task {
      let outcome: Result<ReplicationReport, any Error>
      do { outcome = .success(try await replicator.replicate(follow: true, pollInterval: .milliseconds(50))) } catch {
        outcome = .failure(error)
      }
      self.result.withLock { $0 = outcome }
    }
  }

  /// The outcome, or nil if the task has not ended within `seconds` (a hang fails the test
  /// instead of stalling the suite; the task is left behind).
  func wait(seconds: Int) async throws -> Result<ReplicationReport, any Error>? {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
      if let outcome = result.withLock({ $0 }) { return outcome }
      try await Task.sleep(for: .milliseconds(20))
    }
    return nil
  }
}

/// Polls `condition` every 20 ms for up to `seconds` (an error counts as false); whether it became true.
private func eventually(seconds: Int, _ condition: () async throws -> Bool) async throws -> Bool {
  let deadline = ContinuousClock.now + .seconds(seconds)
  while ContinuousClock.now < deadline {
    if (try? await condition()) == true { return true }
    try await Task.sleep(for: .milliseconds(20))
  }
  return false
}

/// `pg_terminate_backend` of the replicator's session (every session on the replica's database
/// but the test's own and `sparing`): the server ends it with FATAL 57P01, as at a restart,
/// without restarting the shared server. Returns how many were ended.
private func terminateReplicator(_ replica: Replica, sparing: String = "0") async throws -> String? {
  try await replica.database.value("""
    SELECT count(pg_terminate_backend(pid))::text FROM pg_stat_activity
    WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), \(sparing)) AND backend_type = 'client backend'
    """)
}

private func expect57P01(_ outcome: Result<ReplicationReport, any Error>?, sourceLocation: SourceLocation = #_sourceLocation) {
  guard let outcome else {
    Issue.record("replicate --follow did not end within 10 s of losing its connection (the hang)", sourceLocation: sourceLocation)
    return
  }
  switch outcome {
  case .success(let report): Issue.record("it ended without an error: \(report)", sourceLocation: sourceLocation)
  case .failure(let error):
    guard case let .server(state, message) = error as? ReplicationError else {
      Issue.record("not the server's reason: \(error)", sourceLocation: sourceLocation)
      return
    }
    #expect(state == "57P01" && message.contains("terminating connection"), "\(error)", sourceLocation: sourceLocation)
  }
}

@Suite("replicate --follow when PostgreSQL ends its connection", .enabled(if: PostgresFixture.available, PostgresFixture.skipReason))
struct ConnectionLossTests {
  @Test("ended while it waits for new events: it stops at once with the server's 57P01, and a new event does not make it hang")
  func lostWhileIdle() async throws {
    let replica = try await Replica.make("loss-idle")
    defer { Task { await replica.finish() } }
    let head = try #require(try replica.ledger.log.head()).sequence.rawValue
    let run = Outcome(following: Replicator(ledger: replica.ledger, target: try PostgresTarget(url: replica.url)))
    let caughtUp = try await eventually(seconds: 20) {
      try await replica.database.value("SELECT head_seq::text FROM ledgers WHERE ledger_id = '\(replica.id)'") == String(head)
    }
    try #require(caughtUp, "the replicator did not catch up")
    #expect(try await terminateReplicator(replica) == "1")
    // Before the fix the loss went unnoticed until this event, whose BEGIN then waited for ever.
    try append([newObservation], to: replica.ledger)
    expect57P01(try await run.wait(seconds: 10))
    #expect(try await replica.count() == Int(head))
  }

  @Test("ended while a statement waits (for another session's row lock): 57P01, nothing half-written, the next run finishes")
  func lostDuringStatement() async throws {
    let replica = try await Replica.make("loss-busy")
    defer { Task { await replica.finish() } }
    let first = try await replica.replicate()
    try append((1...10).map { #"{"type":"indicator.observed","effective":"2022","payload":{"indicator":"young-faculty","value":"\#(44_000 + $0)","unit":"人"}}"# },
               to: replica.ledger)
    // Another session holds the ledger's row, so the replicator's batch waits in SELECT … FOR UPDATE.
    // (Not the test's own session: in a transaction, pg_stat_activity would not change.)
    let holder = try await Database.open(replica.url)
    let holderPID = try #require(try await holder.value("SELECT pg_backend_pid()::text"))
    try await holder.execute("BEGIN")
    try await holder.execute("SELECT 1 FROM ledgers WHERE ledger_id = '\(replica.id)' FOR UPDATE")
    let run = Outcome(following: Replicator(ledger: replica.ledger, target: try PostgresTarget(url: replica.url)))
    let waiting = try await eventually(seconds: 20) {
      try await replica.database.value("""
        SELECT count(*)::text FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'
        """) == "1"
    }
    try #require(waiting, "the replicator did not come to wait for the row lock")
    #expect(try await terminateReplicator(replica, sparing: holderPID) == "1")
    expect57P01(try await run.wait(seconds: 10))
    try await holder.execute("ROLLBACK")
    await holder.close()
    #expect(try await replica.count() == Int(first.head))
    let rerun = try await replica.replicate()
    #expect(rerun.startHead == first.head && rerun.eventsWritten == 10)
    let check = try await replica.chainCheck()
    #expect(check.events == Int(first.head) + 10 && check.firstBad == nil && check.headMatches)
  }
}

@Suite("PostgreSQL errors as replicate reports them")
struct PostgresErrorTests {
  @Test("a 57P01 that postgres-nio reports as unexpectedBackendMessage is read from its debug description (the text it printed)")
  func unexpectedBackendMessage() throws {
    let text = #"""
      PSQLError(code: unexpectedBackendMessage, backendMessage: .error(PostgresNIO.PostgresBackendMessage.ErrorResponse(fields: \#
      [File: "postgres.c", Message: "terminating connection due to administrator command", Code: "57P01", Severity: "FATAL", \#
      Localized Severity: "FATAL", Routine: "ProcessInterrupts", Line: "3211"])))
      """#
    let error = try #require(Replicator.serverError(inDebugDescription: text))
    #expect(error.state == "57P01" && error.message == "terminating connection due to administrator command")
    #expect(Replicator.serverError(inDebugDescription: "PSQLError(code: unexpectedBackendMessage, backendMessage: .noData)") == nil)
  }

  @Test("a connection closed with no reason known says so in one line")
  func closedUnexplained() throws {
    let target = try PostgresTarget(url: "postgresql://u@localhost/db")
    let error = Replicator.mapped(ConnectionLost(reason: nil), target: target, connecting: false) as? ReplicationError
    #expect(error == .connection(Replicator.closedUnexplained))
    #expect(error?.description.contains("\n") == false)
  }
}
