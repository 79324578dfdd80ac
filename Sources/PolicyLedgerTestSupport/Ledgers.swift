import Foundation
public import PolicyLedgerDomain
public import PolicyLedgerEventLog
public import PolicyLedgerQuery

/// Opens a council ledger in `folder` with a stepping clock (one second per event, from
/// 2026-01-01T00:00:00Z), so that known-at tests are repeatable.
public func openTestLedger(_ folder: TemporaryFolder, clock: SteppingClock = SteppingClock()) throws -> CouncilLedger {
  var options = EventLog.Options()
  options.clock = { LedgerTimestamp(microseconds: clock.tick()) }
  return try CouncilLedger.open(at: folder.path, options: options)
}

/// The repository's root folder (found from this file's path).
public let repositoryRoot: String = {
  var url = URL(fileURLWithPath: #filePath)
  for _ in 0..<3 { url.deleteLastPathComponent() }
  return url.path
}()

/// The bundled seed data, `Fixtures/csti-basic-plan.ndjson`.
public var seedFixturePath: String { repositoryRoot + "/Fixtures/csti-basic-plan.ndjson" }

/// Imports the bundled seed data into `ledger`.
@discardableResult
public func importSeed(into ledger: CouncilLedger) throws -> [RecordedEvent] {
  let data = try Data(contentsOf: URL(fileURLWithPath: seedFixturePath))
  let entries = try NDJSON.entries(from: Array(data), defaultActor: "test")
  return try ledger.record(entries)
}

/// A day, for tests: `day("2020-03-26")`.
public func day(_ iso: String) -> CalendarDay { CalendarDay(iso: iso)! }
