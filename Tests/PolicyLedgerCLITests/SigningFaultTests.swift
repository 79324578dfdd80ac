import Foundation
import PolicyLedgerEventLog
import PolicyLedgerStorage
import PolicyLedgerTestSupport
import Testing

/// Issue 11: what a new user found when trying to break actors' signatures, each with a test.
@Suite("Signing: faults a new user found")
struct SigningFaultTests {
  typealias SigningLedger = SigningCommandTests.SigningLedger

  /// Writes `value` as the stored signature of event `sequence`, bypassing the ledger.
  func putSignatureRow(_ path: String, _ sequence: UInt64, _ value: [UInt8]) throws {
    let log = try EventLog.open(at: path)
    let db = try #require(try log.environment.database(named: "signatures", create: false))
    try log.environment.write { txn in try txn.put(value, for: SequenceNumber(sequence).keyBytes, in: db) }
  }

  @Test("the policy cannot lock the ledger: not required without a key, and the last key not revoked while it is")
  func noLockOut() throws {
    let l = try SigningLedger("lockout")
    expectFailure(try l.run(["keys", "policy", "required"]), status: 65, mentioning: ["no actor's key is registered", "keys register"])
    #expect(try l.run(["keys", "register", "--actor", "山田", "--key", l.yamada]).status == 0)
    #expect(try l.run(["keys", "policy", "required", "--sign-with", l.yamadaKey]).status == 0)
    expectFailure(try l.run(["keys", "revoke", "--actor", "山田", "--key", l.yamada, "--sign-with", l.yamadaKey]),
                  status: 65, mentioning: ["last registered key while signatures are required"])
    // With a second key registered, the first can go.
    #expect(try l.run(["keys", "register", "--actor", "佐藤", "--key", l.sato, "--sign-with", l.yamadaKey]).status == 0)
    #expect(try l.run(["keys", "revoke", "--actor", "山田", "--key", l.yamada, "--sign-with", l.yamadaKey]).status == 0)
    let list = try l.run(["keys", "list", "--format", "json"]).object()
    #expect((list["keys"] as? [[String: Any]])?.map { $0["registeredBy"] as? String } == [EntryOptionsUser.name, "山田"])
  }

  @Test("the same registration, revocation or policy twice is an act, never a silent retry")
  func noSilentRetry() throws {
    let l = try SigningLedger("retry")
    #expect(try l.run(["keys", "register", "--actor", "佐藤", "--key", l.sato]).status == 0)
    expectFailure(try l.run(["keys", "register", "--actor", "佐藤", "--key", l.sato]), status: 65, mentioning: ["already registered to \"佐藤\" (event 21)"])
    #expect(try l.run(["keys", "revoke", "--actor", "佐藤", "--key", l.sato, "--reason", "lost"]).status == 0)
    #expect(try l.run(["keys", "register", "--actor", "佐藤", "--key", l.sato]).status == 0)
    #expect(try l.run(["keys", "revoke", "--actor", "佐藤", "--key", l.sato, "--reason", "lost"]).status == 0)
    expectFailure(try l.run(["record", "body-renamed", "--body", "csti", "--name-ja", "会議", "--effective", "2026-05-01", "--sign-with", l.satoKey, "--actor", "佐藤"]),
                  status: 65, mentioning: ["was revoked by event 24"])
  }

  @Test("bad actors and key names are usage or input errors, never damage")
  func badActorsAndNames() throws {
    let l = try SigningLedger("actors")
    for actor in ["", "   ", " 佐藤", String(repeating: "y", count: 201)] {
      expectFailure(try l.run(["keys", "register", "--actor", actor, "--key", l.sato]), status: 64, mentioning: ["--actor"])
    }
    let line = "{\"type\":\"actor.key-registered\",\"effective\":\"2026-12-01\",\"payload\":{\"actor\":\"\",\"key\":\"\(l.sato)\"}}"
    expectFailure(try l.run(["record", "--json", line]), status: 65, mentioning: ["\"payload.actor\"", "cannot be empty"])
    // A key name that NFC would change could never match its key id once stored.
    expectFailure(try cli(["keys", "generate", "--name", "カ\u{3099}", "--output", l.folder.child("nfd.key")]), status: 64, mentioning: ["NFC"])
    #expect(try l.head() == 20)
  }

  @Test("verify's verdict covers signatures in every format; a stray or orphan signature row is named, not taken")
  func verdictAndStrayRows() throws {
    let l = try SigningLedger("verdict")
    #expect(try l.run(["keys", "register", "--actor", "山田", "--key", l.yamada]).status == 0)
    #expect(try l.run(["import", l.folder.child("next.ndjson"), "--sign-with", l.yamadaKey]).status == 0)
    // Event 30's signature copied onto event 31: one bad signature.
    let log = try EventLog.open(at: l.path)
    let thirty = try #require(try log.storedSignature(of: SequenceNumber(30)))
    try putSignatureRow(l.path, 31, thirty)
    let json = try l.run(["verify", "--format", "json"])
    #expect(json.status == 1)
    let object = try json.object()
    #expect(object["valid"] as? Bool == false && object["chainValid"] as? Bool == true)
    #expect((object["problems"] as? [String])?.first?.contains("1 event fails its signature check (first: event 31") == true, "\(object)")
    let table = try l.run(["verify"])
    #expect(table.stdout.contains("INVALID: 1 event fails its signature check"), "\(table)")
    let csv = try l.run(["verify", "--format", "csv"])
    #expect(csv.stdout.contains("invalid: 1 event fails its signature check"), "\(csv)")
    // An audit pack is not made of a failing event.
    expectFailure(try l.run(["audit-pack", "--output", l.folder.child("pack"), "--event", "31", "--key", l.yamadaKey]),
                  status: 1, mentioning: ["event 31 fails its signature check"])
    // A row for an event not recorded yet: verify lists it; the next write refuses to take it.
    try putSignatureRow(l.path, 45, thirty)
    let stray = try l.run(["verify", "--format", "json"]).object()
    #expect((stray["signatures"] as? [String: Any])?["failing"] as? Int == 2)
    expectFailure(try l.run(["record", "body-renamed", "--body", "csti", "--name-ja", "会議", "--effective", "2026-05-01", "--sign-with", l.yamadaKey]),
                  status: 74, mentioning: ["signature for event 45, which is not recorded yet"])
    #expect(try l.head() == 41)
  }

  @Test("an audit pack brings the registrations of signing keys back to an unsigned one: who vouched for whom")
  func packVouching() throws {
    let l = try SigningLedger("vouching")
    #expect(try l.run(["keys", "register", "--actor", "山田", "--key", l.yamada]).status == 0)
    #expect(try l.run(["keys", "register", "--actor", "佐藤", "--key", l.sato, "--sign-with", l.yamadaKey]).status == 0)
    #expect(try l.run(["record", "body-renamed", "--body", "csti", "--name-ja", "会議", "--effective", "2026-05-01", "--sign-with", l.satoKey]).status == 0)
    let logKey = l.folder.child("log.key")
    let verifier = try cli(["keys", "generate", "--name", "log", "--output", logKey]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let pack = l.folder.child("pack")
    let written = try l.run(["audit-pack", "--output", pack, "--event", "23", "--key", logKey])
    #expect(written.stdout.contains("Wrote 3 events (2 of them the registrations of signing keys)"), "\(written)")
    let checked = try runTool(["python3", repositoryRoot + "/Tools/verify-audit-pack.py", pack, "--key", verifier])
    #expect(checked.status == 0, "\(checked)")
    #expect(checked.stdout.contains("signed: event 22 by 山田 with key yamada (registered by event 21"), "\(checked)")
    #expect(checked.stdout.contains("signed: event 23 by 佐藤 with key sato (registered by event 22, recorded by 山田)"), "\(checked)")
  }

  @Test("a registration whose key no longer reads (forged, hashes recomputed) is a failure verify names, not damage")
  func malformedRegistration() throws {
    let l = try SigningLedger("malformed")
    #expect(try l.run(["keys", "register", "--actor", "山田", "--key", l.yamada]).status == 0)
    #expect(try l.run(["import", l.folder.child("next.ndjson"), "--sign-with", l.yamadaKey]).status == 0)
    try forgeEvent(ledger: l.path, sequence: 21, replacing: "\"yamada+", with: "\"yamadX+")
    let verified = try l.run(["verify", "--format", "json"])
    #expect(verified.status == 1)
    let signatures = try #require(try verified.object()["signatures"] as? [String: Any])
    let failures = try #require(signatures["failures"] as? [[String: Any]])
    #expect(failures.first?["seq"] as? Int == 21 && (failures.first?["problem"] as? String)?.contains("not a valid actor.key-registered") == true, "\(failures.prefix(2))")
    #expect(signatures["failing"] as? Int == 21)
  }
}

/// The OS user, as `--actor` defaults to it (the recorder of an unsigned registration).
enum EntryOptionsUser {
  static var name: String {
    if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return String(cString: name) }
    return ProcessInfo.processInfo.environment["USER"] ?? ""
  }
}
