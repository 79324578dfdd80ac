import Foundation
import PolicyLedgerTestSupport
import Testing

/// The test server's URL (`.ci/run` sets it), when one answers (checked with `psql`).
private let postgresURL: String? = {
  guard let url = ProcessInfo.processInfo.environment["POLICY_LEDGER_TEST_POSTGRES_URL"], !url.isEmpty else {
    print("ReplicateCommandTests: SKIPPED: POLICY_LEDGER_TEST_POSTGRES_URL is not set, so no PostgreSQL server is known (.ci/run starts one)")
    return nil
  }
  guard let answer = try? psql(url, "SELECT 1"), answer == "1" else {
    print("ReplicateCommandTests: SKIPPED: no PostgreSQL server answers at POLICY_LEDGER_TEST_POSTGRES_URL (or psql is missing)")
    return nil
  }
  return url
}()


@Suite("policy-ledger replicate", .enabled(if: postgresURL != nil, "no PostgreSQL server (set POLICY_LEDGER_TEST_POSTGRES_URL; .ci/run starts one)"))
struct ReplicateCommandTests {
  @Test("replicate copies every event once; --follow copies each new commit and stops on SIGTERM with 0")
  func replicateAndFollow() throws {
    let url = try #require(postgresURL)
    let seed = try SeedLedger("replicate")
    let first = try seed.run(["replicate", "--to", url])
    #expect(first.status == 0, "\(first)")
    #expect(first.stdout.hasPrefix("Replicated 96 events of ledger "), "\(first.stdout)")
    let id = try #require(first.stdout.split(separator: " ").dropFirst(5).first.map(String.init))
    #expect(id.count == 36, "a UUID: \(id)")
    #expect(try psql(url, "SELECT count(*) FROM events WHERE ledger_id = '\(id)'") == "96")
    let again = try seed.run(["replicate", "--to", url])
    #expect(again.status == 0 && again.stdout.contains("Replicated 0 events"), "\(again)")

    let process = Process()
    process.executableURL = URL(fileURLWithPath: cliBinary)
    process.arguments = ["replicate", "--to", url, "--follow", "--ledger", seed.path]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    let folder = TemporaryFolder("replicate-follow")
    let input = folder.child("one.ndjson")
    try Data(#"{"type":"indicator.observed","effective":"2021","actor":"test","payload":{"indicator":"young-faculty","value":"43000","unit":"人"}}"#.utf8 + [0x0A])
      .write(to: URL(fileURLWithPath: input))
    #expect(try seed.run(["import", input]).status == 0)
    var count = ""
    for _ in 0..<100 {
      count = try psql(url, "SELECT count(*) FROM events WHERE ledger_id = '\(id)'")
      if count == "97" { break }
      usleep(100_000)
    }
    #expect(count == "97")
    kill(process.processIdentifier, SIGTERM)
    let deadline = Date().addingTimeInterval(10)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    #expect(process.terminationReason == .exit && process.terminationStatus == 0)
  }

  @Test("kill -9 in the middle of a replication: PostgreSQL stops at a batch boundary, the next run finishes it, nothing lost or duplicated")
  func killedMidway() throws {
    let url = try #require(postgresURL)
    let seed = try SeedLedger("replicate-kill")
    let folder = TemporaryFolder("replicate-kill")
    let input = folder.child("many.ndjson")
    let lines = (1...2_000).map { #"{"type":"indicator.observed","effective":"2021","actor":"test","payload":{"indicator":"young-faculty","value":"\#(40_000 + $0)","unit":"人"}}"# }
    try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: input))
    // The seed first: its output names the ledger id.
    let first = try seed.run(["replicate", "--to", url])
    let id = try #require(first.stdout.split(separator: " ").dropFirst(5).first.map(String.init))
    #expect(try seed.run(["import", input]).status == 0)
    let head = 96 + 2_000
    let process = Process()
    process.executableURL = URL(fileURLWithPath: cliBinary)
    process.arguments = ["replicate", "--to", url, "--batch", "10", "--ledger", seed.path]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    // Wait for the first batch to be committed (the ledgers row shows a head), then kill -9.
    for _ in 0..<400 {
      if try psql(url, "SELECT head_seq FROM ledgers WHERE ledger_id = '\(id)'") != "96" || !process.isRunning { break }
      usleep(5_000)
    }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    let atKill = Int(try psql(url, "SELECT count(*) FROM events WHERE ledger_id = '\(id)'")) ?? -1
    let recordedHead = Int(try psql(url, "SELECT head_seq FROM ledgers WHERE ledger_id = '\(id)'")) ?? -2
    #expect(atKill == recordedHead, "the head and the rows were committed together")
    #expect((atKill - 96) % 10 == 0 || atKill == head, "a whole number of batches: \(atKill)")
    print("killedMidway: PostgreSQL held \(atKill) of \(head) events when the replicator was killed")
    let rerun = try seed.run(["replicate", "--to", url])
    #expect(rerun.status == 0, "\(rerun)")
    #expect(rerun.stdout.hasPrefix("Replicated \(head - atKill) event"), "\(rerun.stdout)")
    #expect(try psql(url, "SELECT count(*), count(DISTINCT seq), max(seq) FROM events WHERE ledger_id = '\(id)'") == "\(head)|\(head)|\(head)")
    // The chain, recomputed in PostgreSQL.
    #expect(try psql(url, """
      SELECT count(*) FROM (SELECT seq, prev, canonical, hash, lag(hash) OVER (ORDER BY seq) AS before FROM events WHERE ledger_id = '\(id)') e
      WHERE hash <> sha256(prev || canonical) OR prev <> coalesce(before, decode(repeat('00', 32), 'hex'))
      """) == "0")
  }

  @Test("signed events replicate with their signatures; a replica of before is upgraded, and the run says how many it filled in")
  func signatures() throws {
    let base = try #require(postgresURL)
    // A database of its own: the test drops columns that other tests' replicas use.
    let name = "policy_ledger_t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
    _ = try psql(base, "CREATE DATABASE \(name) TEMPLATE template0 ENCODING 'UTF8'")
    defer { _ = try? psql(base, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
    var components = try #require(URLComponents(string: base))
    components.path = "/" + name
    let url = try #require(components.string)
    let l = try SigningCommandTests.SigningLedger("replicate")
    #expect(try l.run(["keys", "register", "--actor", "山田", "--key", l.yamada]).status == 0)
    #expect(try l.run(["import", l.folder.child("next.ndjson"), "--sign-with", l.yamadaKey]).status == 0)
    let first = try l.run(["replicate", "--to", url])
    #expect(first.status == 0 && first.stdout.hasPrefix("Replicated 41 events ") && !first.stdout.contains("Filled in"), "\(first)")
    let signed = "SELECT count(*) FROM event_signatures WHERE key_actor = '山田' AND signer_is_actor"
    #expect(try psql(url, signed) == "20")
    _ = try psql(url, "ALTER TABLE events DROP COLUMN signature CASCADE, DROP COLUMN signature_key_id CASCADE")
    let upgraded = try l.run(["replicate", "--to", url])
    #expect(upgraded.status == 0 && upgraded.stdout.contains("Replicated 0 events")
            && upgraded.stdout.contains("Filled in the signatures of 20 events replicated before the replica had signature columns."), "\(upgraded)")
    #expect(try psql(url, signed) == "20")
  }

  @Test("bad URL 64, unreachable server 74, wrong password 74: one error line each")
  func failures() throws {
    let url = try #require(postgresURL)
    let seed = try SeedLedger("replicate-bad")
    expectFailure(try seed.run(["replicate", "--to", "mysql://user@localhost/db"]), status: 64, mentioning: ["postgresql://"])
    expectFailure(try seed.run(["replicate", "--to", "postgresql://user@127.0.0.1:1/db"]), status: 74, mentioning: ["cannot reach", "refused"])
    var components = try #require(URLComponents(string: url))
    components.password = "wrong-password"
    let wrong = try seed.run(["replicate", "--to", try #require(components.string)])
    expectFailure(wrong, status: 74, mentioning: ["refused", "password"])
    #expect(!wrong.stderr.contains("wrong-password"), "the password is never printed")
  }
}

