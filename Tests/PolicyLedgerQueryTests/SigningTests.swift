import Crypto
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery
import PolicyLedgerStorage
import PolicyLedgerTestSupport
import Testing

/// Issue 11: actors who sign. Signatures over the chain hash, checked against the keys
/// registered by events, and the policy that refuses unsigned events.
@Suite("Actors' signatures")
struct SigningTests {
  let yamada = try! NoteSigner.generate(name: "yamada")
  let sato = try! NoteSigner.generate(name: "sato")

  func body(_ id: String, actor: String) -> CouncilLedger.Entry {
    .init(.bodyEstablished(.init(body: id, name: .init(ja: "会議 \(id)"), kind: .council)), effective: .month(2019, 4)!, actor: actor)
  }
  func register(_ actor: String, _ key: NoteSigner, by recorder: String = "admin") -> CouncilLedger.Entry {
    .init(.actorKeyRegistered(.init(actor: actor, key: key.verifier.description)), effective: .day(2026, 1, 1)!, actor: recorder)
  }
  func revoke(_ actor: String, _ key: NoteSigner) -> CouncilLedger.Entry {
    .init(.actorKeyRevoked(.init(actor: actor, key: key.verifier.description, reason: "left")), effective: .day(2026, 1, 2)!, actor: actor)
  }
  func policy(_ p: SignaturePolicy, by actor: String) -> CouncilLedger.Entry {
    .init(.signingPolicySet(.init(signatures: p)), effective: .day(2026, 1, 3)!, actor: actor)
  }
  func signatures(_ ledger: CouncilLedger) throws -> LMDBDatabase {
    try #require(try ledger.log.environment.database(named: EventLog.signaturesDatabaseName, create: false))
  }

  @Test("a signed event's stored signature is Ed25519 over its chain hash, checkable without the ledger's code")
  func storedFormat() throws {
    let folder = TemporaryFolder("sign-format")
    let ledger = try openTestLedger(folder)
    try ledger.record([register("山田", yamada)])
    let event = try #require(try ledger.record([body("csti", actor: "山田")], signedBy: yamada).first)
    let stored = try #require(try ledger.log.environment.read { txn in try ledger.log.storedSignature(of: event.sequence, in: txn) })
    // 0x01 ‖ key id (big-endian) ‖ 64-byte signature, as ARCHITECTURE.md says.
    #expect(stored.count == 69 && stored[0] == 0x01)
    let keyID = stored[1..<5].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    let nameAndKey = Array("yamada".utf8) + [0x0A, 0x01] + yamada.verifier.publicKey
    #expect(keyID == Array(SHA256.hash(data: nameAndKey))[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
    let key = try Curve25519.Signing.PublicKey(rawRepresentation: yamada.verifier.publicKey)
    #expect(key.isValidSignature(Data(stored[5...]), for: Data(event.hash.bytes)))
    #expect(!key.isValidSignature(Data(stored[5...]), for: Data(event.canonicalBytes)))
    let report = try ledger.verifySignatures()
    #expect(report.signed == 1 && report.unsigned == 1 && report.isClean)
    #expect(report.signedByKey == ["yamada+\(keyIDHex(yamada.verifier.keyID))": 1])
  }

  @Test("a key signs only its own actor's events, only after its registration and up to its revocation")
  func registrationWindow() throws {
    let folder = TemporaryFolder("sign-window")
    let ledger = try openTestLedger(folder)
    // Not registered yet, then registered to someone else: refused, nothing written.
    expectRefusal(mentioning: "not registered to any actor") { try ledger.record([self.body("a", actor: "山田")], signedBy: self.yamada) }
    try ledger.record([register("山田", yamada), register("佐藤", sato)])
    expectRefusal(mentioning: "registered to \"山田\", not to \"佐藤\"") { try ledger.record([self.body("a", actor: "佐藤")], signedBy: self.yamada) }
    #expect(try ledger.log.head()?.sequence == SequenceNumber(2))
    // Registered earlier in the same batch: signs the events after it.
    let outcome = try ledger.record([body("a", actor: "佐藤"), revoke("佐藤", sato)], signedBy: sato)
    #expect(outcome.count == 2)
    expectRefusal(mentioning: "was revoked by event 4") { try ledger.record([self.body("b", actor: "佐藤")], signedBy: self.sato) }
    // Registering a key twice, revoking one that is not registered: refused.
    expectRefusal(mentioning: "already registered to \"山田\"") { try ledger.record([self.register("佐藤", self.yamada)]) }
    expectRefusal(mentioning: "is not registered to \"佐藤\"") { try ledger.record([self.revoke("佐藤", self.yamada)]) }
    // Key events are neither corrected nor retracted.
    expectRefusal(mentioning: "cannot be corrected or retracted") {
      try ledger.record([.init(.eventRetracted(.init(retracts: SequenceNumber(1), reason: "x")), effective: .day(2026, 1, 1)!, actor: "admin")])
    }
    // Registered again (the same day, the same payload: an act, not a retry), it signs again;
    // revoked again, it does not.
    try ledger.record([register("佐藤", sato)])
    try ledger.record([body("b", actor: "佐藤")], signedBy: sato)
    try ledger.record([revoke("佐藤", sato)], signedBy: sato)
    expectRefusal(mentioning: "was revoked by event 7") { try ledger.record([self.body("c", actor: "佐藤")], signedBy: self.sato) }
    let report = try ledger.verifySignatures()
    #expect(report.signed == 4 && report.unsigned == 3 && report.isClean)
    #expect(report.keys.map(\.revoked) == [nil, SequenceNumber(4), SequenceNumber(7)])
    #expect(try ledger.checkProjections().isEmpty)
  }

  @Test("once the policy requires signatures, unsigned events are refused, and turning it off must be signed")
  func policy() throws {
    let folder = TemporaryFolder("sign-policy")
    let ledger = try openTestLedger(folder)
    try ledger.record([register("山田", yamada), policy(.required, by: "admin")])
    expectRefusal(mentioning: "requires every event to be signed") { try ledger.record([self.body("a", actor: "山田")]) }
    try ledger.record([body("a", actor: "山田")], signedBy: yamada)
    // Turning it off unsigned is itself refused; setting it to what it is, too.
    expectRefusal(mentioning: "requires every event to be signed") { try ledger.record([self.policy(.optional, by: "山田")]) }
    // The same event again is not taken for a retry: a signing event is an act, refused here.
    expectRefusal(mentioning: "already required (since event 2)") { try ledger.record([self.policy(.required, by: "山田")], signedBy: self.yamada) }
    expectRefusal(mentioning: "already required (since event 2)") {
      try ledger.record([.init(.signingPolicySet(.init(signatures: .required)), effective: .day(2026, 2, 1)!, actor: "山田")], signedBy: self.yamada)
    }
    try ledger.record([policy(.optional, by: "山田")], signedBy: yamada)
    try ledger.record([body("b", actor: "anyone")])
    #expect(try ledger.log.head()?.sequence == SequenceNumber(5))
    let report = try ledger.verifySignatures()
    #expect(report.signed == 2 && report.unsigned == 3 && report.isClean)
    #expect(report.policy.policy == .optional && report.policy.since == SequenceNumber(4))
  }

  @Test("verify names events whose signature was altered, removed under the policy, or moved to another actor's event")
  func tampering() throws {
    let folder = TemporaryFolder("sign-tamper")
    let ledger = try openTestLedger(folder)
    try ledger.record([register("山田", yamada), register("佐藤", sato)])
    try ledger.record([body("a", actor: "山田"), body("b", actor: "山田")], signedBy: yamada)
    try ledger.record([policy(.required, by: "佐藤"), body("c", actor: "佐藤")], signedBy: sato)
    #expect(try ledger.verifySignatures().isClean)
    let db = try signatures(ledger)
    try ledger.log.environment.write { txn in
      // Event 3: one bit of the signature flipped. Event 6: its signature removed (the policy
      // set by event 5 requires one). Event 1 (unsigned): given event 4's valid signature, which
      // is over another hash.
      var third = try #require(try txn.value(for: SequenceNumber(3).keyBytes, in: db))
      third[20] ^= 1
      try txn.put(third, for: SequenceNumber(3).keyBytes, in: db)
      #expect(try txn.delete(SequenceNumber(6).keyBytes, in: db))
      let fourth = try #require(try txn.value(for: SequenceNumber(4).keyBytes, in: db))
      try txn.put(fourth, for: SequenceNumber(1).keyBytes, in: db)
    }
    let report = try ledger.verifySignatures()
    #expect(report.failureCount == 3)
    #expect(report.failures.map(\.sequence.rawValue) == [1, 3, 6])
    guard report.failures.count == 3 else { return }
    #expect(report.failures[0].status.summary.contains("no registration before it names"))
    #expect(report.failures[1].status.summary.contains("does not verify"))
    #expect(report.failures[2].status == .unsigned(required: SequenceNumber(5)))
    #expect(report.signed == 2)
  }

  @Test("a streamed import of many chunks signs every event in its one transaction; a dry run signs nothing")
  func streamed() throws {
    let folder = TemporaryFolder("sign-stream")
    let ledger = try openTestLedger(folder)
    try ledger.record([register("山田", yamada)])
    let entries = (0..<2_500).map { body("b\($0)", actor: "山田") }
    func chunks() -> () throws -> [CouncilLedger.Entry]? {
      var offset = 0
      return {
        guard offset < entries.count else { return nil }
        defer { offset += 1_000 }
        return Array(entries[offset..<min(offset + 1_000, entries.count)])
      }
    }
    let dry = try ledger.record(dryRun: true, signedBy: yamada, chunks: chunks)
    #expect(dry.count == 2_500)
    #expect(try ledger.verifySignatures().signed == 0)
    let summary = try ledger.record(signedBy: yamada, chunks: chunks)
    #expect(summary.count == 2_500)
    let report = try ledger.verifySignatures()
    #expect(report.signed == 2_500 && report.unsigned == 1 && report.isClean)
    // Read a window at a time (as `log` does), the statuses are those of one batch read.
    let events = try ledger.log.events(in: 1...2_501)
    var lookup = try SignatureLookup(ledger, windowSize: 333)
    let paged = try events.map { try lookup.status(of: $0) }
    #expect(paged == (try ledger.signatureStatuses(of: events, registry: try ledger.signingRegistry())))
    #expect(paged.first == .unsigned(required: nil) && paged.dropFirst().allSatisfy { if case .signed = $0 { true } else { false } })
  }

  @Test("keys registered and revoked in one batch take effect one event at a time, not all at once")
  func oneBatch() throws {
    let folder = TemporaryFolder("sign-one-batch")
    let ledger = try openTestLedger(folder)
    // Registered, revoked and given to another actor in one transaction: each step sees only
    // the steps before it (the registry is not read from the transaction's own later events).
    try ledger.record([register("佐藤", sato), revoke("佐藤", sato), register("鈴木", sato), register("山田", yamada),
                       policy(.required, by: "admin")])
    expectRefusal(mentioning: "registered to \"鈴木\", not to \"佐藤\"") { try ledger.record([self.body("a", actor: "佐藤")], signedBy: self.sato) }
    try ledger.record([body("a", actor: "鈴木")], signedBy: sato)
    // Revoking the last key but one, then the last, in one batch: the second is refused.
    expectRefusal(mentioning: "last registered key") {
      try ledger.record([.init(.actorKeyRevoked(.init(actor: "鈴木", key: self.sato.verifier.description)), effective: .day(2026, 2, 1)!, actor: "山田"),
                         .init(.actorKeyRevoked(.init(actor: "山田", key: self.yamada.verifier.description)), effective: .day(2026, 2, 1)!, actor: "山田")],
                        signedBy: self.yamada)
    }
    #expect(try ledger.verifySignatures().isClean)
  }
}

