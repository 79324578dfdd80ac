import Foundation
import PolicyLedgerEventLog
import PolicyLedgerQuery
import PolicyLedgerReplication
import PolicyLedgerStorage
import PolicyLedgerTestSupport
import Testing

/// A replica whose ledger has, after the seed, signed events of two actors: 山田's key registered
/// (r1), a body signed by 山田, 佐藤's key registered (r2), a body signed by 佐藤, 佐藤's key revoked
/// by 佐藤 (signed with it: a key signs up to its revocation), then a body signed by 山田.
struct SignedReplica {
  let replica: Replica
  let yamada = try! NoteSigner.generate(name: "yamada")
  let sato = try! NoteSigner.generate(name: "sato")
  /// The sequence number of each of the six events above, in order.
  var r1: UInt64 { seed + 1 }
  var seed: UInt64

  init(_ label: String) async throws {
    replica = try await Replica.make(label)
    seed = 0
    do {
      seed = try #require(try replica.ledger.log.head()).sequence.rawValue
      try record(["register 山田 \(yamada.verifier.description)"], by: "admin")
      try record(["body yamada-1"], by: "山田", signedBy: yamada)
      try record(["register 佐藤 \(sato.verifier.description)"], by: "admin")
      try record(["body sato-1", "revoke 佐藤 \(sato.verifier.description)"], by: "佐藤", signedBy: sato)
      try record(["body yamada-2"], by: "山田", signedBy: yamada)
    } catch {
      await replica.finish()
      throw error
    }
  }

  /// Records short-hand lines: `register ACTOR KEY`, `revoke ACTOR KEY`, `body ID`.
  @discardableResult
  func record(_ lines: [String], by actor: String, signedBy signer: NoteSigner? = nil) throws -> [RecordedEvent] {
    let json = lines.map { line -> String in
      let words = line.split(separator: " ").map(String.init)
      switch words[0] {
      case "register": return #"{"type":"actor.key-registered","effective":"2026-01-01","payload":{"actor":"\#(words[1])","key":"\#(words[2])"}}"#
      case "revoke": return #"{"type":"actor.key-revoked","effective":"2026-01-02","payload":{"actor":"\#(words[1])","key":"\#(words[2])","reason":"left"}}"#
      default: return #"{"type":"body.established","effective":"2019-04","payload":{"body":"\#(words[1])","name":{"ja":"会議 \#(words[1])"},"kind":"council"}}"#
      }
    }
    let entries = try NDJSON.entries(from: Array(json.joined(separator: "\n").utf8), defaultActor: actor)
    return try replica.ledger.record(entries, signedBy: signer)
  }

  /// Per event of the ledger: (seq, key id in hex, signature in hex), nil for an unsigned one.
  func ledgerSignatures() throws -> [[String?]] {
    let head = try #require(try replica.ledger.log.head()).sequence.rawValue
    return try (1...head).map { seq in
      let stored = try replica.ledger.log.storedSignature(of: SequenceNumber(seq)).flatMap(EventSignature.init(bytes:))
      return [String(seq), stored.map { keyIDHex($0.keyID) }, stored.map { hex($0.signature) }]
    }
  }

  /// The same, as PostgreSQL holds it.
  func replicaSignatures() async throws -> [[String?]] {
    try await replica.database.rows("""
      SELECT seq::text, signature_key_id, encode(signature, 'hex') FROM events WHERE ledger_id = '\(replica.id)' ORDER BY events.seq
      """, columns: 3)
  }

  /// `event_signatures` from the first signed event on: seq, signature key id, signing key, key
  /// actor, registered by, revoked by, signer is actor.
  func view() async throws -> [[String?]] {
    try await replica.database.rows("""
      SELECT seq::text, signature_key_id, signing_key, key_actor, key_registered_by::text, key_revoked_by::text, signer_is_actor::text
      FROM event_signatures WHERE ledger_id = '\(replica.id)' AND seq >= \(r1 - 1) ORDER BY event_signatures.seq
      """, columns: 7)
  }
}

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

@Suite("replicate actors' signatures into PostgreSQL", .enabled(if: PostgresFixture.available, PostgresFixture.skipReason))
struct SignatureReplicationTests {
  @Test("signed events replicate with their signatures, unsigned ones with NULL; the view names each key's actor by the registry's rules")
  func signedEvents() async throws {
    let s = try await SignedReplica("signed")
    defer { Task { await s.replica.finish() } }
    let report = try await s.replica.replicate(batchSize: 40)
    #expect(report.batches == 3 && report.signaturesFilled == 0)
    let expected = try s.ledgerSignatures()
    #expect(expected.filter { $0[1] != nil }.count == 4)
    #expect(try await s.replicaSignatures() == expected)
    #expect(try await s.replica.chainCheck().firstBad == nil)

    let (y, t) = (s.yamada.verifier, s.sato.verifier)
    let (yID, tID) = (keyIDHex(y.keyID), keyIDHex(t.keyID))
    let (r1, r2) = (String(s.r1), String(s.r1 + 2))
    #expect(try await s.view() == [
      [String(s.seed), nil, nil, nil, nil, nil, nil],
      [r1, nil, nil, nil, nil, nil, nil],
      [String(s.r1 + 1), yID, y.description, "山田", r1, nil, "true"],
      [r2, nil, nil, nil, nil, nil, nil],
      [String(s.r1 + 3), tID, t.description, "佐藤", r2, String(s.r1 + 4), "true"],
      // The revocation is signed with the key it revokes: in force up to and including it.
      [String(s.r1 + 4), tID, t.description, "佐藤", r2, String(s.r1 + 4), "true"],
      [String(s.r1 + 5), yID, y.description, "山田", r1, nil, "true"],
    ])

    // What a changed row would look like: 山田's last event claiming 佐藤's key (revoked before
    // it), and 佐藤's body claiming 山田's key (registered to another actor).
    try await s.replica.database.execute("UPDATE events SET signature_key_id = '\(tID)' WHERE ledger_id = '\(s.replica.id)' AND seq = \(s.r1 + 5)")
    try await s.replica.database.execute("UPDATE events SET signature_key_id = '\(yID)' WHERE ledger_id = '\(s.replica.id)' AND seq = \(s.r1 + 3)")
    let view = try await s.view()
    #expect(view[6] == [String(s.r1 + 5), tID, nil, nil, nil, nil, nil])
    #expect(view[4] == [String(s.r1 + 3), yID, y.description, "山田", r1, nil, "false"])
  }

  @Test("a replica made before the signature columns is upgraded in place and its rows backfilled, once")
  func upgradeAndBackfill() async throws {
    let s = try await SignedReplica("upgrade")
    defer { Task { await s.replica.finish() } }
    _ = try await s.replica.replicate()
    // The replica as the replicate of before left it: no signature columns, index or view.
    try await s.replica.database.execute("ALTER TABLE events DROP COLUMN signature CASCADE, DROP COLUMN signature_key_id CASCADE")
    #expect(try await s.replica.database.value("SELECT count(*)::text FROM pg_views WHERE viewname = 'event_signatures'") == "0")
    try s.record(["body yamada-3"], by: "山田", signedBy: s.yamada)

    let upgraded = try await s.replica.replicate()
    #expect(upgraded.signaturesFilled == 4 && upgraded.eventsWritten == 1)
    let expected = try s.ledgerSignatures()
    #expect(expected.filter { $0[1] != nil }.count == 5)
    #expect(try await s.replicaSignatures() == expected)
    #expect(try await s.view().last?[3] == "山田")
    let index = try await s.replica.database.value("SELECT indexdef FROM pg_indexes WHERE indexname = 'events_signed_idx'")
    #expect(index?.contains("WHERE (signature_key_id IS NOT NULL)") == true)

    // Again: nothing to fill. A row whose signature went missing is filled, and only where the
    // row's hash is the ledger's (a changed row gets no signature that is not its own).
    #expect(try await s.replica.replicate().signaturesFilled == 0)
    try await s.replica.database.execute("""
      UPDATE events SET signature = NULL, signature_key_id = NULL WHERE ledger_id = '\(s.replica.id)' AND seq IN (\(s.r1 + 1), \(s.r1 + 3))
      """)
    try await s.replica.database.execute("UPDATE events SET hash = sha256('changed'::bytea) WHERE ledger_id = '\(s.replica.id)' AND seq = \(s.r1 + 3)")
    #expect(try await s.replica.replicate().signaturesFilled == 1)
    let rows = try await s.replicaSignatures()
    #expect(rows[Int(s.r1)] == expected[Int(s.r1)])
    #expect(rows[Int(s.r1) + 2] == [String(s.r1 + 3), nil, nil])
    #expect(try await s.replica.chainCheck().firstBad == String(s.r1 + 3))
  }

  @Test("a reader verifies the replicated signatures with psql and Tools/verify-replica-signatures.py alone; a changed one is named")
  func pythonVerifies() async throws {
    let s = try await SignedReplica("python")
    defer { Task { await s.replica.finish() } }
    _ = try await s.replica.replicate()
    guard try runShell("command -v psql && python3 -c 'import cryptography'").status == 0 else {
      print("SKIPPED the Python check of replicated signatures: psql or python3-cryptography is missing (apt-get install postgresql-client python3-cryptography)")
      return
    }
    // README shows the same query.
    let readme = try String(contentsOfFile: repositoryRoot + "/README.md", encoding: .utf8)
    let words = { (text: String) in text.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
    #expect(words(readme).contains(words(ReplicaSchema.signatureRows)))
    let good = try verifyWithPython(s.replica)
    #expect(good.status == 0 && good.stdout == "4 signatures verified, 0 failed\n", "\(good)")

    let (seq, id) = (s.r1 + 3, s.replica.id)
    try await s.replica.database.execute("""
      UPDATE events SET signature = set_byte(signature, 0, get_byte(signature, 0) # 1) WHERE ledger_id = '\(id)' AND seq = \(seq)
      """)
    let changed = try verifyWithPython(s.replica)
    #expect(changed.status == 1 && changed.stdout.contains("ledger \(id) event \(seq): its signature by sato+") && changed.stdout.hasSuffix("3 signatures verified, 1 failed\n"), "\(changed)")

    // A key id whose key was revoked before the event, a key registered to another actor.
    let (yID, tID) = (keyIDHex(s.yamada.verifier.keyID), keyIDHex(s.sato.verifier.keyID))
    try await s.replica.database.execute("UPDATE events SET signature_key_id = '\(tID)' WHERE ledger_id = '\(id)' AND seq = \(s.r1 + 5)")
    try await s.replica.database.execute("UPDATE events SET signature_key_id = '\(yID)' WHERE ledger_id = '\(id)' AND seq = \(s.r1 + 4)")
    let claimed = try verifyWithPython(s.replica)
    #expect(claimed.status == 1 && claimed.stdout.contains("event \(s.r1 + 5): no key with id \(tID) was registered, and not revoked, before it"), "\(claimed)")
    #expect(claimed.stdout.contains("event \(s.r1 + 4): the key yamada+\(yID) is registered to '山田', not to its actor '佐藤'"), "\(claimed)")
  }

  func verifyWithPython(_ replica: Replica) throws -> (status: Int32, stdout: String, stderr: String) {
    try runShell(#"psql "$1" --csv -t -c "$2" | python3 "$3""#,
                 arguments: [replica.url, ReplicaSchema.signatureRows, repositoryRoot + "/Tools/verify-replica-signatures.py"])
  }
}

/// Runs `script` with `/bin/sh -c`, `arguments` as `$1`, `$2`…
func runShell(_ script: String, arguments: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/bin/sh")
  process.arguments = ["-c", script, "sh"] + arguments
  let out = Pipe(), err = Pipe()
  process.standardOutput = out
  process.standardError = err
  process.standardInput = FileHandle.nullDevice
  try process.run()
  let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}
