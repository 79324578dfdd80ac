import Foundation
import PolicyLedgerEventLog
import PolicyLedgerStorage
import PolicyLedgerTestSupport
import Testing

/// Issue 11: actors who sign, from the command line.
@Suite("Signing commands: keys register/revoke/policy/list, --sign-with, verify/log/audit")
struct SigningCommandTests {
  /// A ledger with the seed's first 20 events (unsigned), and two actors' key files.
  struct SigningLedger {
    let folder: TemporaryFolder
    let path: String
    let yamadaKey: String, yamada: String
    let satoKey: String, sato: String

    init(_ label: String) throws {
      folder = TemporaryFolder("signing-\(label)")
      path = folder.child("ledger")
      let lines = try String(contentsOfFile: seedFixturePath, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true)
      try (lines[..<20].joined(separator: "\n") + "\n").write(toFile: folder.child("first.ndjson"), atomically: true, encoding: .utf8)
      // Lines without an actor: an import signed with a key records them as the key's actor.
      try (lines[20..<40].joined(separator: "\n").replacingOccurrences(of: "\"actor\":\"seed transcription\",", with: "") + "\n")
        .write(toFile: folder.child("next.ndjson"), atomically: true, encoding: .utf8)
      guard try cli(["import", folder.child("first.ndjson"), "--ledger", path]).status == 0 else { throw CLITestError("import failed") }
      (yamadaKey, satoKey) = (folder.child("yamada.key"), folder.child("sato.key"))
      yamada = try cli(["keys", "generate", "--name", "yamada", "--output", yamadaKey]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
      sato = try cli(["keys", "generate", "--name", "sato", "--output", satoKey]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func run(_ arguments: [String]) throws -> CLIResult { try cli(arguments + ["--ledger", path]) }
    func head() throws -> Int { try run(["log", "--format", "json"]).rows().count }
  }

  @Test("register keys, sign records and an import, require signatures; log, audit and verify show each event's signature")
  func happyPath() throws {
    let l = try SigningLedger("happy")
    #expect(try l.run(["keys", "register", "--actor", "内閣府 事務局 山田", "--key", l.yamada]).status == 0)
    #expect(try l.run(["keys", "register", "--actor", "佐藤", "--key", l.sato, "--sign-with", l.yamadaKey]).status == 0)
    // Without --actor, the actor is the one the key is registered to.
    let renamed = try l.run(["record", "body-renamed", "--body", "csti", "--name-ja", "総合科学技術・イノベーション会議（仮）", "--effective", "2026-04-01",
                             "--sign-with", l.yamadaKey, "--format", "json"])
    #expect(renamed.status == 0, "\(renamed)")
    #expect(try renamed.object()["actor"] as? String == "内閣府 事務局 山田")
    let imported = try l.run(["import", l.folder.child("next.ndjson"), "--sign-with", l.yamadaKey])
    #expect(imported.status == 0, "\(imported)")
    #expect(try l.run(["keys", "policy", "required", "--sign-with", l.satoKey]).status == 0)
    expectFailure(try l.run(["record", "body-renamed", "--body", "csti", "--name-ja", "会議", "--effective", "2026-05-01", "--actor", "佐藤"]),
                  status: 65, mentioning: ["--sign-with", "requires every event to be signed", "policy set by event 44"])
    #expect(try l.head() == 44)
    let policy = try l.run(["keys", "policy", "--format", "json"]).object()
    #expect(policy["signatures"] as? String == "required" && policy["since"] as? Int == 44)
    let keys = try l.run(["keys", "list", "--format", "json"]).object()
    #expect((keys["keys"] as? [[String: Any]])?.map { $0["actor"] as? String } == ["内閣府 事務局 山田", "佐藤"])
    let rows = try l.run(["log", "--format", "json"]).rows()
    let statuses = rows.map { ($0["signature"] as? [String: Any])?["status"] as? String }
    #expect(statuses[..<21].allSatisfy { $0 == "unsigned" } && statuses[21...].allSatisfy { $0 == "signed" })
    #expect((rows[22]["signature"] as? [String: Any])?["key"] as? String == l.yamada)
    // audit: every event of the body, each with its own status (seed events unsigned, the
    // rename signed with yamada's key).
    let audit = try l.run(["audit", "body:csti", "--format", "json"]).rows()
    // (the seed's 20 unsigned, everything after signed with yamada's key).
    #expect(audit.count >= 4)
    for row in audit {
      let signature = row["signature"] as? [String: Any]
      let seq = row["seq"] as? Int ?? 0
      if seq <= 20 { #expect(signature?["status"] as? String == "unsigned", "\(row)") }
      else { #expect(signature?["status"] as? String == "signed" && signature?["key"] as? String == l.yamada, "\(row)") }
    }
    let verified = try l.run(["verify", "--format", "json"])
    #expect(verified.status == 0, "\(verified)")
    let signatures = try #require(try verified.object()["signatures"] as? [String: Any])
    #expect(signatures["signed"] as? Int == 23 && signatures["unsigned"] as? Int == 21 && signatures["failing"] as? Int == 0)
    #expect(try l.run(["check"]).status == 0)
    let python = try runTool(["python3", repositoryRoot + "/Tools/verify-ledger.py", l.path])
    #expect(python.status == 0 && python.stdout.contains("signatures: 23 signed by registered keys, 21 unsigned, 0 failing"), "\(python)")
  }

  @Test("bad input: a key file readable by others, an unregistered key, another actor's line, a revoked key; nothing written")
  func badInput() throws {
    let l = try SigningLedger("bad")
    chmod(l.satoKey, 0o644)
    expectFailure(try l.run(["keys", "register", "--actor", "佐藤", "--key", l.sato, "--sign-with", l.satoKey]), status: 64, mentioning: ["readable by others"])
    chmod(l.satoKey, 0o600)
    expectFailure(try l.run(["record", "body-renamed", "--body", "csti", "--name-ja", "会議", "--effective", "2026-05-01", "--sign-with", l.satoKey]),
                  status: 65, mentioning: ["--sign-with", "not registered to any actor", "keys register"])
    expectFailure(try l.run(["keys", "register", "--actor", "佐藤", "--key", "sato+00000000+AAAA"]), status: 64, mentioning: ["--key"])
    #expect(try l.run(["keys", "register", "--actor", "山田", "--key", l.yamada]).status == 0)
    // Every line of an import signed with one key must be that key's actor's.
    let lines = try String(contentsOfFile: l.folder.child("next.ndjson"), encoding: .utf8).split(separator: "\n")
    let other = lines[0].replacingOccurrences(of: "{\"", with: "{\"actor\":\"佐藤\",\"", options: .anchored)
    #expect(!lines[0].contains("\"actor\""))
    try ([String(lines[1]), other].joined(separator: "\n") + "\n").write(toFile: l.folder.child("mixed.ndjson"), atomically: true, encoding: .utf8)
    expectFailure(try l.run(["import", l.folder.child("mixed.ndjson"), "--sign-with", l.yamadaKey]), status: 65,
                  mentioning: ["line 2", "registered to \"山田\", not to \"佐藤\"", "nothing was imported"])
    #expect(try l.run(["keys", "revoke", "--actor", "山田", "--key", l.yamada, "--reason", "lost", "--sign-with", l.yamadaKey]).status == 0)
    expectFailure(try l.run(["record", "body-renamed", "--body", "csti", "--name-ja", "会議", "--effective", "2026-05-01", "--actor", "山田", "--sign-with", l.yamadaKey]),
                  status: 65, mentioning: ["was revoked by event 22"])
    expectFailure(try l.run(["record", "retract", "--event", "21", "--reason", "x"]), status: 65, mentioning: ["cannot be corrected or retracted"])
    expectFailure(try l.run(["keys", "policy", "sometimes"]), status: 64, mentioning: ["required", "optional"])
    #expect(try l.head() == 22)
  }

  @Test("a forger who rewrites a signed event and recomputes the chain breaks every later signature, and verify names them")
  func forger() throws {
    let l = try SigningLedger("forger")
    #expect(try l.run(["keys", "register", "--actor", "山田", "--key", l.yamada]).status == 0)
    #expect(try l.run(["import", l.folder.child("next.ndjson"), "--sign-with", l.yamadaKey]).status == 0)
    #expect(try l.run(["verify"]).status == 0)
    try forgeEvent(ledger: l.path, sequence: 30, replacing: "\"actor\":\"山田\"", with: "\"actor\":\"山田 \"")
    // The forger also rebuilds the Merkle tree; the signatures still catch it, with no checkpoint.
    #expect(try l.run(["rebuild", "--replace-tree"]).status == 0)
    let verified = try l.run(["verify"])
    expectFailure(verified, status: 1, mentioning: ["12 events fail their signature check", "first: event 30"])
    #expect(verified.stdout.contains("event 31: badly signed"), "\(verified)")
    // The independent verifier (Python, mdb_dump, ARCHITECTURE.md) finds the same.
    let python = try runTool(["python3", repositoryRoot + "/Tools/verify-ledger.py", l.path])
    #expect(python.status == 1, "\(python)")
    // Event 30 now names another actor ("山田 "), to whom no key is registered; the later ones fail Ed25519.
    #expect(python.stdout.contains("event 30: signed by key id \(l.yamada.split(separator: "+")[1]), which no key registered to '山田 ' at that point has"), "\(python)")
    #expect(python.stdout.contains("event 31: its signature by yamada does not verify over its chain hash"), "\(python)")
    #expect(python.stdout.contains("signatures: 8 signed by registered keys, 21 unsigned, 12 failing"), "\(python)")
  }

  @Test("an audit pack carries actors' signatures with their keys' registrations; Tools/verify-audit-pack.py checks them")
  func auditPack() throws {
    let l = try SigningLedger("pack")
    #expect(try l.run(["keys", "register", "--actor", "山田", "--key", l.yamada]).status == 0)
    #expect(try l.run(["import", l.folder.child("next.ndjson"), "--sign-with", l.yamadaKey]).status == 0)
    let logKey = l.folder.child("log.key")
    let verifier = try cli(["keys", "generate", "--name", "csti-log", "--output", logKey]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let pack = l.folder.child("pack")
    let written = try l.run(["audit-pack", "--output", pack, "--event", "5", "30", "--key", logKey])
    #expect(written.status == 0 && written.stdout.contains("1 of them the registrations of signing keys"), "\(written)")
    let tool = repositoryRoot + "/Tools/verify-audit-pack.py"
    let checked = try runTool(["python3", tool, pack, "--key", verifier])
    #expect(checked.status == 0, "\(checked)")
    #expect(checked.stdout.contains("events 5, 21, 30 are in the tree"), "\(checked)")
    #expect(checked.stdout.contains("signed: event 30 by 山田 with key yamada (registered by event 21, recorded by "), "\(checked)")
    // A signature changed in the pack, or its registration removed: each caught.
    let proofsPath = pack + "/proofs.json"
    let original = try String(contentsOfFile: proofsPath, encoding: .utf8)
    var proofs = try #require(try JSONSerialization.jsonObject(with: Data(original.utf8)) as? [String: Any])
    var events = try #require(proofs["events"] as? [[String: Any]])
    var signature = try #require(events[2]["signature"] as? [String: Any])
    var bytes = b64(signature["signature"])
    bytes[0] ^= 1
    signature["signature"] = Data(bytes).base64EncodedString()
    events[2]["signature"] = signature
    proofs["events"] = events
    try JSONSerialization.data(withJSONObject: proofs).write(to: URL(fileURLWithPath: proofsPath))
    let changed = try runTool(["python3", tool, pack, "--key", verifier])
    #expect(changed.status == 1 && changed.stderr.contains("event 30: the signature by yamada does not verify"), "\(changed)")
    signature["registration"] = 5
    events[2]["signature"] = signature
    proofs["events"] = events
    try JSONSerialization.data(withJSONObject: proofs).write(to: URL(fileURLWithPath: proofsPath))
    let moved = try runTool(["python3", tool, pack, "--key", verifier])
    #expect(moved.status == 1 && moved.stderr.contains("event 5 is not an earlier actor.key-registered event"), "\(moved)")
  }

  @Test("an export restores exactly: same moments, same hashes, the signatures kept; a changed signature or another chain is refused")
  func exactRestore() throws {
    let l = try SigningLedger("restore")
    #expect(try l.run(["keys", "register", "--actor", "山田", "--key", l.yamada]).status == 0)
    #expect(try l.run(["import", l.folder.child("next.ndjson"), "--sign-with", l.yamadaKey]).status == 0)
    #expect(try l.run(["keys", "policy", "required", "--sign-with", l.yamadaKey]).status == 0)
    let exported = l.folder.child("export.ndjson")
    #expect(try l.run(["export", "--output", exported]).status == 0)
    let lines = try String(contentsOfFile: exported, encoding: .utf8).split(separator: "\n")
    #expect(lines.filter { $0.contains("\"signature\":{\"ed25519\":") }.count == 21)
    let restored = l.folder.child("restored")
    let imported = try cli(["import", exported, "--ledger", restored])
    #expect(imported.status == 0, "\(imported)")
    let restoredDigest = try cli(["digest", "--ledger", restored]).stdout
    #expect(restoredDigest == (try l.run(["digest"])).stdout)
    let original = try l.run(["log", "--format", "json"]).rows(), copy = try cli(["log", "--format", "json", "--ledger", restored]).rows()
    #expect(copy.map { $0["recorded"] as? String } == original.map { $0["recorded"] as? String })
    let signatures = try #require(try cli(["verify", "--format", "json", "--ledger", restored]).object()["signatures"] as? [String: Any])
    #expect(signatures["signed"] as? Int == 21 && signatures["failing"] as? Int == 0)
    // An id is carried over only with the events it names, and never the nil one.
    expectFailure(try cli(["import", l.folder.child("first.ndjson"), "--ledger", l.folder.child("idnew"), "--ledger-id", "123e4567-e89b-42d3-a456-426614174000"]),
                  status: 64, mentioning: ["--ledger-id restores an export", "not an export"])
    expectFailure(try cli(["import", exported, "--ledger", l.folder.child("idnil"), "--ledger-id", "00000000-0000-0000-0000-000000000000"]), status: 64, mentioning: ["--ledger-id"])
    #expect(!FileManager.default.fileExists(atPath: l.folder.child("idnew")))
    // Run again, or over a partial restore: the events already there are acknowledged.
    let again = try cli(["import", exported, "--ledger", restored])
    #expect(again.status == 0 && again.stdout.contains("Nothing new"), "\(again)")
    let partial = l.folder.child("partial")
    try (lines[..<30].joined(separator: "\n") + "\n").write(toFile: l.folder.child("head30.ndjson"), atomically: true, encoding: .utf8)
    #expect(try cli(["import", l.folder.child("head30.ndjson"), "--ledger", partial]).status == 0)
    let resumed = try cli(["import", exported, "--ledger", partial])
    #expect(resumed.status == 0 && resumed.stdout.contains("30 lines were already recorded"), "\(resumed)")
    #expect(try cli(["digest", "--ledger", partial]).stdout == restoredDigest)
    // A line moved into the future (its hash recomputed): refused, transaction time cannot run ahead.
    var future = try CanonicalValue.parse(String(lines[0]))
    guard case .object(var members) = future else { Issue.record("not an object"); return }
    members["recorded"] = .string("2099-01-01T00:00:00.000000Z")
    var content = members
    content["prev"] = nil; content["hash"] = nil; content["signature"] = nil
    members["hash"] = .string(EventLog.hash(previous: .genesis, canonical: try CanonicalValue.object(content).canonicalBytes()).description)
    future = .object(members)
    try Data(try future.canonicalBytes() + [0x0A]).write(to: URL(fileURLWithPath: l.folder.child("future.ndjson")))
    expectFailure(try cli(["import", l.folder.child("future.ndjson"), "--ledger", l.folder.child("r3")]), status: 65,
                  mentioning: ["line 1", "\"recorded\"", "later than now"])
    // One signature changed in the export: refused, naming the line; nothing restored.
    var changed = lines.map(String.init)
    let line = try #require(changed.firstIndex { $0.contains("\"seq\":30,") })
    let sig = try #require(changed[line].range(of: "\"ed25519\":\""))
    let at = changed[line].index(sig.upperBound, offsetBy: 5)
    changed[line].replaceSubrange(at...at, with: changed[line][at] == "A" ? "B" : "A")
    try (changed.joined(separator: "\n") + "\n").write(toFile: l.folder.child("changed.ndjson"), atomically: true, encoding: .utf8)
    expectFailure(try cli(["import", l.folder.child("changed.ndjson"), "--ledger", l.folder.child("r2")]), status: 65,
                  mentioning: ["line 30", "\"signature\"", "does not verify"])
    #expect(!FileManager.default.fileExists(atPath: l.folder.child("r2") + "/data.mdb"))
    // The same lines after another ledger's 20 events: they continue its numbers, not its chain,
    // so the signatures over the export's hashes cannot be kept.
    let other = l.folder.child("other")
    #expect(try cli(["import", l.folder.child("first.ndjson"), "--ledger", other]).status == 0)
    try (lines[20...].joined(separator: "\n") + "\n").write(toFile: l.folder.child("tail.ndjson"), atomically: true, encoding: .utf8)
    expectFailure(try cli(["import", l.folder.child("tail.ndjson"), "--ledger", other]), status: 65,
                  mentioning: ["line 2", "cannot be kept", "restore the export into an empty ledger"])
  }
}
