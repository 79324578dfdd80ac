import Foundation
@testable import PolicyLedgerEventLog
import PolicyLedgerStorage
import PolicyLedgerTestSupport
import Testing

func sampleEvent(_ i: Int, stream: String = "body:panel", actor: String = "secretariat") -> ProposedEvent {
  ProposedEvent(
    type: "test.noted", schemaVersion: 1, streams: [StreamID(stream)!],
    effective: .day(2020, 3, 26)!, actor: actor, source: "slide \(i)",
    payload: .object(["n": .integer(i), "text": .string("第\(i)回 \"quoted\" \\ line\nbreak"), "value": .string("43763.0")])
  )
}

func openLog(_ folder: TemporaryFolder, clock: SteppingClock = SteppingClock(), mapSize: Int? = nil) throws -> EventLog {
  var options = EventLog.Options()
  options.clock = { LedgerTimestamp(microseconds: clock.tick()) }
  if let mapSize { options.storage.initialMapSize = mapSize }
  return try EventLog.open(at: folder.path, options: options)
}

@Suite("Event log")
struct EventLogTests {
  @Test("every field round-trips through LMDB")
  func roundTrip() throws {
    let folder = TemporaryFolder("roundtrip")
    let log = try openLog(folder)
    let proposed = ProposedEvent(
      type: "indicator.observed", schemaVersion: 2,
      streams: [StreamID("indicator:young-faculty")!, StreamID("body:csti")!],
      effective: .dekad(2020, 6, 1)!, actor: "上山 隆大", source: "第５期基本計画における目標値・主要指標の進捗状況",
      payload: .object(["value": .string("43153"), "unit": .string("人"), "flags": .array([.bool(true), .bool(false)]), "nested": .object(["é": .string("e\u{301}")])])
    )
    let recorded = try log.append([proposed])
    let read = try log.event(SequenceNumber(1))
    #expect(read == recorded[0])
    #expect(read.sequence == SequenceNumber(1))
    #expect(read.type == "indicator.observed")
    #expect(read.schemaVersion == 2)
    #expect(read.streams.map(\.rawValue) == ["indicator:young-faculty", "body:csti"])
    #expect(read.effective.description == "2020-06-D1")
    #expect(read.actor == "上山 隆大")
    #expect(read.source == "第５期基本計画における目標値・主要指標の進捗状況")
    // The clock's first tick went to the ledger's creation time.
    #expect(read.recordedAt.description == "2026-01-01T00:00:01.000000Z")
    #expect(read.previousHash == EventHash.genesis)
    #expect(read.hash == EventLog.hash(previous: .genesis, canonical: read.canonicalBytes))
    // NFC: "e" + combining acute is stored as the precomposed "é".
    let text = String(decoding: read.canonicalBytes, as: UTF8.self)
    #expect(text == #"{"actor":"上山 隆大","effective":"2020-06-D1","payload":{"flags":[true,false],"nested":{"é":"é"},"unit":"人","value":"43153"},"recorded":"2026-01-01T00:00:01.000000Z","schema":2,"seq":1,"source":"第５期基本計画における目標値・主要指標の進捗状況","streams":["indicator:young-faculty","body:csti"],"type":"indicator.observed"}"#)
    #expect(read.payload["nested"]?["é"] == .string("\u{e9}"))
  }

  @Test("a batch of 1,000 with one invalid event leaves nothing behind")
  func atomicBatch() throws {
    let folder = TemporaryFolder("atomic")
    let log = try openLog(folder)
    try log.append([sampleEvent(0)])
    var batch = (1...1000).map { sampleEvent($0) }
    batch[736].actor = "  "
    #expect(throws: LedgerError.invalidEvent(index: 736, field: "actor", reason: "the actor cannot be empty")) {
      try log.append(batch)
    }
    // Also a failure raised inside the transaction (by a projection) rolls everything back.
    struct ProjectionFailure: Error {}
    #expect(throws: ProjectionFailure.self) {
      try log.append((1...1000).map { sampleEvent($0) }) { _, recorded in
        if recorded.count == 1000 { throw ProjectionFailure() }
      }
    }
    #expect(try log.head()?.sequence == SequenceNumber(1))
    #expect(try log.streamVersion(StreamID("body:panel")!) == 1)
    #expect(try log.events(effectiveFrom: CalendarDay(year: 2020, month: 1, day: 1)!, through: CalendarDay(year: 2020, month: 12, day: 31)!).count == 1)
    #expect(try log.verify().isValid)
  }

  @Test("a byte changed inside a stored event is found by verify, naming its sequence number")
  func tamperDetected() throws {
    let folder = TemporaryFolder("tamper")
    let log = try openLog(folder)
    try log.append((1...50).map { sampleEvent($0) })
    let before = try log.verify()
    #expect(before.isValid && before.eventsChecked == 50)
    // Rewrite event 23 through raw LMDB: change one digit of its payload.
    let events = try #require(try log.environment.database(named: "events", create: false))
    try log.environment.write { txn in
      var record = try #require(try txn.value(for: SequenceNumber(23).keyBytes, in: events))
      let index = try #require(record.lastIndex(of: UInt8(ascii: "3")))
      record[index] = UInt8(ascii: "4")
      try txn.put(record, for: SequenceNumber(23).keyBytes, in: events)
    }
    let report = try log.verify()
    #expect(report.failure?.sequence == SequenceNumber(23))
    #expect(report.eventsChecked == 22)
    #expect(report.failure?.reason.contains("changed") == true)
  }

  @Test("verify reads in pages: every page size gives the same answer, also at a page boundary")
  func verifyPages() throws {
    let folder = TemporaryFolder("pages")
    let log = try openLog(folder)
    try log.append((1...50).map { sampleEvent($0) })
    let head = try log.head()
    for pageSize in [1, 7, 10, 49, 50, 51, 1000] {
      let report = try log.verify(extending: head, pageSize: pageSize)
      #expect(report.isValid && report.eventsChecked == 50 && report.head == head, "page size \(pageSize)")
    }
    let events = try #require(try log.environment.database(named: "events", create: false))
    try log.environment.write { txn in
      var record = try #require(try txn.value(for: SequenceNumber(21).keyBytes, in: events))
      record[record.count - 2] ^= 0x20
      try txn.put(record, for: SequenceNumber(21).keyBytes, in: events)
    }
    for pageSize in [1, 10, 20, 21, 50] {
      #expect(try log.verify(extending: nil, pageSize: pageSize).failure?.sequence == SequenceNumber(21), "page size \(pageSize)")
    }
  }

  @Test("re-hashing a changed event still breaks the link of the next one")
  func rehashDetected() throws {
    let folder = TemporaryFolder("rehash")
    let log = try openLog(folder)
    try log.append((1...10).map { sampleEvent($0) })
    let digest = try #require(try log.head())
    let events = try #require(try log.environment.database(named: "events", create: false))
    try log.environment.write { txn in
      var record = try #require(try txn.value(for: SequenceNumber(4).keyBytes, in: events))
      record[record.count - 3] = UInt8(ascii: "X")
      let newHash = EventLog.hash(previous: EventHash(bytes: Array(record[1..<33]))!, canonical: Array(record[65...]))
      record.replaceSubrange(33..<65, with: newHash.bytes)
      try txn.put(record, for: SequenceNumber(4).keyBytes, in: events)
    }
    let report = try log.verify()
    #expect(report.failure?.sequence == SequenceNumber(5))
    let againstDigest = try log.verify(extending: digest)
    #expect(againstDigest.failure?.sequence == SequenceNumber(5))
  }

  @Test("verify against an earlier digest proves the ledger extends it")
  func digestExtension() throws {
    let folder = TemporaryFolder("digest")
    let log = try openLog(folder)
    try log.append((1...5).map { sampleEvent($0) })
    let earlier = try #require(try log.head())
    try log.append((6...9).map { sampleEvent($0) })
    let ok = try log.verify(extending: earlier)
    #expect(ok.isValid)
    #expect(ok.head?.sequence == SequenceNumber(9))
    let parsed = try #require(LedgerDigest(earlier.description))
    #expect(parsed == earlier)
    let forged = LedgerDigest(sequence: SequenceNumber(3), hash: earlier.hash)
    let bad = try log.verify(extending: forged)
    #expect(bad.failure?.sequence == SequenceNumber(3))
    let beyond = try log.verify(extending: LedgerDigest(sequence: SequenceNumber(100), hash: earlier.hash))
    #expect(beyond.failure?.reason.contains("ends at event 9") == true)
  }

  @Test("an expected-version conflict is rejected and writes nothing")
  func expectedVersion() throws {
    let folder = TemporaryFolder("occ")
    let log = try openLog(folder)
    let stream = StreamID("body:panel")!
    try log.append([sampleEvent(1)], expectations: [stream: .noStream])
    try log.append([sampleEvent(2)], expectations: [stream: .exact(1)])
    #expect(throws: LedgerError.concurrencyConflict(stream: stream, expected: .exact(1), actual: 2)) {
      try log.append([sampleEvent(3)], expectations: [stream: .exact(1)])
    }
    #expect(throws: LedgerError.concurrencyConflict(stream: stream, expected: .noStream, actual: 2)) {
      try log.append([sampleEvent(3)], expectations: [stream: .noStream])
    }
    #expect(try log.streamVersion(stream) == 2)
    #expect(try log.events(inStream: stream).map(\.sequence.rawValue) == [1, 2])
  }

  @Test("close and reopen keeps every event, the ledger id and the chain")
  func reopen() throws {
    let folder = TemporaryFolder("reopen")
    var id = ""
    var head: LedgerDigest?
    do {
      let log = try openLog(folder)
      try log.append((1...20).map { sampleEvent($0, stream: "body:b\($0 % 3)") })
      id = log.ledgerID
      head = try log.head()
    }
    let log = try openLog(folder)
    #expect(log.ledgerID == id)
    #expect(try log.head() == head)
    #expect(try log.verify().isValid)
    #expect(try log.events(inStream: StreamID("body:b1")!).map(\.sequence.rawValue) == [1, 4, 7, 10, 13, 16, 19])
    let next = try log.append([sampleEvent(21)])
    #expect(next[0].sequence == SequenceNumber(21))
    #expect(next[0].previousHash == head?.hash)
  }

  @Test("recorded-at moments strictly increase even when the clock stands still or goes back")
  func recordedAtIncreases() throws {
    let folder = TemporaryFolder("clock")
    var options = EventLog.Options()
    options.clock = { LedgerTimestamp(microseconds: 1_000_000) }
    let log = try EventLog.open(at: folder.path, options: options)
    try log.append((1...3).map { sampleEvent($0) })
    try log.append([sampleEvent(4)])
    let moments = try log.events(in: 1...4).map(\.recordedAt.microseconds)
    #expect(moments == [1_000_000, 1_000_001, 1_000_002, 1_000_003])
    #expect(try log.sequence(knownAt: LedgerTimestamp(microseconds: 1_000_001)) == SequenceNumber(2))
    #expect(try log.sequence(knownAt: LedgerTimestamp(microseconds: 999_999)) == nil)
  }

  @Test("reads by effective-date range use the index and order by date")
  func effectiveRange() throws {
    let folder = TemporaryFolder("effective")
    let log = try openLog(folder)
    var events: [ProposedEvent] = []
    for (i, date) in ["2020-03-26", "2019-04", "FY2020", "2019-12-20", "2020-06-D1"].enumerated() {
      var e = sampleEvent(i)
      e.effective = EffectiveDate(canonical: date)!
      events.append(e)
    }
    try log.append(events)
    let in2020 = try log.events(effectiveFrom: CalendarDay(year: 2020, month: 1, day: 1)!, through: CalendarDay(year: 2020, month: 12, day: 31)!)
    #expect(in2020.map(\.effective.description) == ["2020-03-26", "FY2020", "2020-06-D1"])
    let all = try log.events(effectiveFrom: CalendarDay(year: 1900, month: 1, day: 1)!, through: CalendarDay(year: 2100, month: 1, day: 1)!)
    #expect(all.map(\.sequence.rawValue) == [2, 4, 1, 3, 5])
  }

  @Test("a ledger opened with a 64 KiB map grows past 100 MB of events")
  func growsPast100MB() throws {
    let folder = TemporaryFolder("big")
    let log = try openLog(folder, mapSize: 64 << 10)
    let filler = String(repeating: "x", count: 100_000)
    var total = 0
    var batch: [ProposedEvent] = []
    for i in 0..<1_050 {
      var e = sampleEvent(i)
      e.payload = .object(["filler": .string(filler), "n": .integer(i)])
      batch.append(e)
      if batch.count == 150 { total += batch.count; try log.append(batch); batch.removeAll() }
    }
    #expect(total == 1_050)
    let size = try FileManager.default.attributesOfItem(atPath: folder.path + "/data.mdb")[.size] as? Int ?? 0
    #expect(size > 100_000_000)
    #expect(log.environment.mapSize > 100_000_000)
    let report = try log.verify()
    #expect(report.isValid && report.eventsChecked == 1_050)
  }

  @Test("an LMDB environment that is not a ledger is refused, and so is a plain file")
  func foreignRefused() throws {
    let folder = TemporaryFolder("foreign")
    let env = try LMDBEnvironment.open(path: folder.path)
    let db = try #require(try env.database(named: "customers", create: true))
    try env.write { txn in try txn.put([1], for: [1], in: db) }
    #expect(throws: LedgerError.notALedger(path: folder.path, reason: "it holds LMDB data but no ledger metadata (a foreign LMDB file)")) {
      try EventLog.open(at: folder.path)
    }
    let file = TemporaryFolder("file")
    let filePath = file.child("notes.txt")
    try "hello".write(toFile: filePath, atomically: true, encoding: .utf8)
    #expect(throws: LedgerError.notALedger(path: filePath, reason: "it is a file; a ledger is a folder")) {
      try EventLog.open(at: filePath)
    }
    let missing = file.child("nope")
    var options = EventLog.Options()
    options.create = false
    #expect(throws: LedgerError.noLedger(path: missing)) { try EventLog.open(at: missing, options: options) }
  }

  @Test("a ledger of an unknown format version is refused")
  func unknownFormat() throws {
    let folder = TemporaryFolder("format")
    do {
      let log = try openLog(folder)
      let meta = try #require(try log.environment.database(named: "meta", create: false))
      try log.environment.write { txn in try txn.put(Array("99".utf8), for: Array("format-version".utf8), in: meta) }
    }
    #expect(throws: LedgerError.unsupportedFormat(path: folder.path, found: "99", supported: "1")) {
      try EventLog.open(at: folder.path)
    }
  }

  @Test("appends from many threads lose nothing and keep the chain valid")
  func concurrentAppends() async throws {
    let folder = TemporaryFolder("threads")
    let log = try openLog(folder)
    try await withThrowingTaskGroup(of: Void.self) { group in
      for t in 0..<8 {
        group.addTask {
          for i in 0..<25 { try log.append([sampleEvent(t * 100 + i, stream: "body:t\(t)")]) }
        }
      }
      try await group.waitForAll()
    }
    let report = try log.verify()
    #expect(report.isValid && report.eventsChecked == 200)
    for t in 0..<8 { #expect(try log.streamVersion(StreamID("body:t\(t)")!) == 25) }
  }
}

@Suite("Canonical encoding")
struct CanonicalEncodingTests {
  @Test("keys sort by UTF-8 bytes, strings escape only what JSON needs")
  func canonicalBytes() throws {
    let value = CanonicalValue.object([
      "b": .integer(-12), "a": .array([.string("tab\there"), .string("\u{1}"), .bool(false)]),
      "é": .string("x"), "Z": .string("/ and 😀"),
    ])
    let text = String(decoding: try value.canonicalBytes(), as: UTF8.self)
    #expect(text == #"{"Z":"/ and 😀","a":["tab\there","\u0001",false],"b":-12,"é":"x"}"#)
    #expect(try CanonicalValue.parse(text) == value)
  }

  @Test("non-integer numbers are refused in canonical bytes")
  func noFloats() {
    #expect(throws: CanonicalEncodingError.self) { try CanonicalValue.number("1.5").canonicalBytes() }
    #expect(throws: CanonicalEncodingError.self) { try CanonicalValue.number("01").canonicalBytes() }
  }

  @Test("the parser names the byte where JSON goes wrong")
  func parseErrors() {
    #expect(throws: JSONSyntaxError(message: "expected ',' or '}' in an object", offset: 8)) { try CanonicalValue.parse(#"{"a": 1 "b": 2}"#) }
    #expect(throws: JSONSyntaxError(message: "duplicate member \"a\"", offset: 8)) { try CanonicalValue.parse(#"{"a":1, "a":2}"#) }
    #expect(throws: JSONSyntaxError(message: "the string is not valid UTF-8", offset: 0)) { try CanonicalValue.parse([0x22, 0xFF, 0x22]) }
    #expect(throws: JSONSyntaxError(message: "no JSON value: the text is empty", offset: 0)) { try CanonicalValue.parse("") }
  }
}

@Suite("Exact decimals")
struct LedgerDecimalTests {
  @Test("text form is kept as written; value equality ignores trailing zeros")
  func textForm() throws {
    #expect(LedgerDecimal("43763")?.description == "43763")
    #expect(LedgerDecimal("24.70")?.description == "24.70")
    #expect(LedgerDecimal("-0.05")?.description == "-0.05")
    #expect(LedgerDecimal("30") == LedgerDecimal("30.0"))
    for bad in ["", "1e5", "+1", "01", "1.", ".5", "-0", "1,000", "abc", "1.2.3"] { #expect(LedgerDecimal(bad) == nil, "\(bad)") }
    #expect(LedgerDecimal(lenient: "43,763")?.description == "43763")
    #expect(LedgerDecimal(lenient: "４８，１３９．３")?.description == "48139.3")
    #expect(LedgerDecimal("48139.3")?.grouped == "48,139.3")
  }

  @Test("arithmetic is exact: the seed's derived targets")
  func arithmetic() throws {
    let d = { LedgerDecimal($0)! }
    #expect(d("43763").multiplied(by: d("1.1"))?.description == "48139.3")
    #expect(d("10150").multiplied(by: d("1.2"))?.description == "12180.0")
    #expect(d("452").multiplied(by: d("1.5"))?.description == "678.0")
    #expect((d("0.1") + d("0.2")) == d("0.3"))
    #expect(d("17002").divided(by: d("9856"), scale: 4)?.description == "1.7250")
    #expect(d("604").divided(by: d("632"), scale: 1, rounding: .towardZero)?.description == "0.9")
    #expect(d("-1").divided(by: d("3"), scale: 2)?.description == "-0.33")
    #expect(d("2").divided(by: d("3"), scale: 2)?.description == "0.67")
    #expect(d("-0.001").divided(by: d("3"), scale: 1)?.description == "0.0")
    // Extremes never trap: they give nil.
    let big = d("9999999999999999999.999999999999999999")
    #expect(big.multiplied(by: big) == nil)
    #expect(big.divided(by: d("0.000000000000000001"), scale: 18) == nil)
    #expect(big.divided(by: d("0"), scale: 1) == nil)
    #expect(big + big > big)
    #expect(LedgerDecimal("12345678901234567890") == nil)
  }
}

@Suite("NFC fast path")
struct NFCFastPathTests {
  @Test("every code point the fast path trusts is unchanged by Foundation's NFC")
  func stableScalars() {
    var checked = 0
    for value in UInt32(0)...0xFFFF {
      guard let scalar = Unicode.Scalar(value), CanonicalValue.isStableUnderNFC(scalar) else { continue }
      let text = String(Character(scalar))
      let nfc = text.precomposedStringWithCanonicalMapping
      #expect(Array(nfc.unicodeScalars) == [scalar], "U+\(String(value, radix: 16))")
      checked += 1
    }
    #expect(checked > 28_000)
  }

  @Test("strings with combining marks still go through the normaliser")
  func combining() throws {
    for (raw, nfc) in [("か\u{3099}", "が"), ("e\u{301}", "é"), ("\u{212B}", "Å"), ("上山 隆大", "上山 隆大")] {
      let bytes = try CanonicalValue.string(raw).canonicalBytes()
      #expect(bytes == Array("\"\(nfc)\"".utf8), "\(raw)")
    }
  }
}
