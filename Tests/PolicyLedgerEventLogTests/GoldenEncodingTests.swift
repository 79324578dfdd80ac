import Foundation
@testable import PolicyLedgerEventLog
import PolicyLedgerStorage
import PolicyLedgerTestSupport
import Testing

/// The golden bytes in Fixtures/golden were produced by an independent implementation of
/// ARCHITECTURE.md's encoding rules (Python's json.dumps with sorted keys, compact separators,
/// no ASCII escaping, after NFC). Once released, they never change.
@Suite("Golden canonical encoding")
struct GoldenEncodingTests {
  @Test("a fixed event encodes to the golden bytes and hash")
  func golden() throws {
    let expected = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/Fixtures/golden/event-1.canonical.json"))
    let expectedHash = try String(contentsOfFile: repositoryRoot + "/Fixtures/golden/event-1.sha256", encoding: .utf8)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    let event = ProposedEvent(
      type: "indicator.observed", schemaVersion: 1, streams: [StreamID("indicator:young-faculty")!],
      effective: .dekad(2020, 6, 1)!, actor: "事務局 secretariat", source: "第５期基本計画における目標値・主要指標の進捗状況",
      payload: .object([
        "indicator": .string("young-faculty"), "value": .string("43153"), "unit": .string("人"), "period": .string("FY2019"),
        "note": .string("tab\there \"quoted\" back\\slash\u{1} / e\u{301}"),
      ]))
    let moment = try #require(LedgerTimestamp(canonical: "2020-07-01T00:00:00.000001Z"))
    let bytes = try EventCodec.canonicalBytes(sequence: SequenceNumber(1), recordedAt: moment, event: event)
    #expect(bytes == Array(expected))
    #expect(EventLog.hash(previous: .genesis, canonical: bytes).description == expectedHash)
    // And the stored form reads back to the same event.
    let decoded = try EventCodec.decode(bytes, sequence: SequenceNumber(1), previousHash: .genesis, hash: EventLog.hash(previous: .genesis, canonical: bytes))
    #expect(decoded.payload["note"]?.stringValue == "tab\there \"quoted\" back\\slash\u{1} / \u{e9}")
    #expect(decoded.effective == event.effective)
  }
}

@Suite("Independent verification")
struct IndependentVerificationTests {
  static var toolsAvailable: Bool {
    FileManager.default.isExecutableFile(atPath: "/usr/bin/mdb_dump") && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
  }

  @Test("Tools/verify-ledger.py recomputes every hash and re-encodes every event from data.mdb alone",
        .enabled(if: toolsAvailable, "needs mdb_dump (lmdb-utils) and python3"))
  func pythonVerifier() throws {
    let folder = TemporaryFolder("python")
    var digest = ""
    do {
      let log = try openLog(folder)
      try log.append((1...40).map { sampleEvent($0) })
      try log.append([ProposedEvent(type: "test.unicode", streams: [StreamID("body:x")!], effective: .fiscalYear(2020)!,
                                    actor: "久能 祐子", source: "e\u{301} \u{2028} \u{7f}", payload: .object(["k": .array([.string("\"\\\u{1f}"), .bool(true), .integer(-3)])]))])
      digest = try #require(try log.head()).description
    }
    func run(_ args: [String]) throws -> (Int32, String) {
      let p = Process()
      p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
      p.arguments = [repositoryRoot + "/Tools/verify-ledger.py"] + args
      let out = Pipe()
      p.standardOutput = out
      p.standardError = out
      try p.run()
      let data = out.fileHandleForReading.readDataToEndOfFile()
      p.waitUntilExit()
      return (p.terminationStatus, String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
    let (status, output) = try run([folder.path])
    #expect(status == 0)
    #expect(output == digest + "\nsignatures: 0 signed by registered keys, 41 unsigned, 0 failing")
    // Change one byte of event 17 through raw LMDB: the independent verifier names it too.
    let log = try openLog(folder)
    let events = try #require(try log.environment.database(named: "events", create: false))
    try log.environment.write { txn in
      var record = try #require(try txn.value(for: SequenceNumber(17).keyBytes, in: events))
      record[record.count - 5] ^= 0x01
      try txn.put(record, for: SequenceNumber(17).keyBytes, in: events)
    }
    let (badStatus, badOutput) = try run([folder.path])
    #expect(badStatus == 1)
    #expect(badOutput.hasPrefix("event 17:"))
  }
}

@Suite("Idempotency keys in the log")
struct EventKeyEncodingTests {
  func event(key: String?) -> ProposedEvent {
    ProposedEvent(type: "indicator.observed", streams: [StreamID("indicator:x")!], effective: .year(2020)!, actor: "a",
                  payload: .object(["value": .string("1")]), key: key)
  }

  @Test("a key is an envelope member between effective and payload; an event without one keeps its old bytes")
  func keyMember() throws {
    let moment = try #require(LedgerTimestamp(canonical: "2020-07-01T00:00:00.000001Z"))
    let plain = try EventCodec.canonicalBytes(sequence: SequenceNumber(1), recordedAt: moment, event: event(key: nil))
    #expect(String(decoding: plain, as: UTF8.self) == #"{"actor":"a","effective":"2020","payload":{"value":"1"},"recorded":"2020-07-01T00:00:00.000001Z","schema":1,"seq":1,"streams":["indicator:x"],"type":"indicator.observed"}"#)
    let keyed = try EventCodec.canonicalBytes(sequence: SequenceNumber(1), recordedAt: moment, event: event(key: "run-7:line-3"))
    #expect(String(decoding: keyed, as: UTF8.self) == #"{"actor":"a","effective":"2020","key":"run-7:line-3","payload":{"value":"1"},"recorded":"2020-07-01T00:00:00.000001Z","schema":1,"seq":1,"streams":["indicator:x"],"type":"indicator.observed"}"#)
    let decoded = try EventCodec.decode(keyed, sequence: SequenceNumber(1), previousHash: .genesis, hash: .genesis)
    #expect(decoded.key == "run-7:line-3")
    #expect(try EventCodec.decode(plain, sequence: SequenceNumber(1), previousHash: .genesis, hash: .genesis).key == nil)
    #expect(EventKey.validationError("ok-key_1:2/3@x#y+z=") == nil)
    #expect(EventKey.validationError("") != nil)
    #expect(EventKey.validationError("has space") != nil)
    #expect(EventKey.validationError(String(repeating: "k", count: 201)) != nil)
  }

  @Test("the log refuses a second event with an explicit key it holds; the index rebuilds to the same bytes")
  func index() throws {
    let folder = TemporaryFolder("event-keys")
    let log = try EventLog.open(at: folder.path)
    try log.append([event(key: "k1"), event(key: nil), event(key: nil)])
    #expect(throws: LedgerError.self) { try log.append([self.event(key: "k1")]) }
    #expect(try log.head()?.sequence == SequenceNumber(3))
    let e1 = try log.event(SequenceNumber(1))
    #expect(e1.key == "k1")
    #expect(try log.keyIndexDifferences().isEmpty)
    // Two events, one content: the index names the first.
    let digest = try EventKey.contentDigest(of: event(key: nil))
    let match = try log.environment.read { txn in try log.keyMatch(for: self.event(key: nil), contentDigest: digest, in: txn) }
    #expect(match == .duplicate(SequenceNumber(1)))
    let conflict = try log.environment.read { txn in
      try log.keyMatch(for: self.event(key: "k1"), contentDigest: EventKey.contentDigest(of: ProposedEvent(type: "indicator.observed", streams: [StreamID("indicator:x")!], effective: .year(2021)!, actor: "a", payload: .object(["value": .string("1")]))), in: txn)
    }
    #expect(conflict == .conflict(SequenceNumber(1)))
    // Emptied, it is reported; rebuilt, it holds again the very entries the appends wrote.
    func entries() throws -> [[UInt8]: [UInt8]] {
      try log.environment.read { txn in
        try txn.withCursor(log.keys!) { c in
          var out: [[UInt8]: [UInt8]] = [:]
          var entry = try c.first()
          while let e = entry { out[e.key] = e.value; entry = try c.next() }
          return out
        }
      }
    }
    let written = try entries()
    #expect(written.count == 2)  // k1, and the one content the three events share
    try log.environment.write { txn in try txn.empty(log.keys!) }
    #expect(try log.keyIndexDifferences().count == 2)
    try log.rebuildKeyIndex()
    #expect(try entries() == written)
  }
}
