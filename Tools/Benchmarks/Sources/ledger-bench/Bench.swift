import Baselines
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerProofs
import PolicyLedgerQuery

/// What one scale measured. Rates are events per second, latencies nanoseconds, times seconds.
struct ScaleResult {
  var events = 0
  /// The --replicate-url phase, when run.
  var replication: ReplicationResult?
  var batch = 0
  var generateSeconds = 0.0
  var history: GeneratedHistory?

  // Batch import.
  var ledgerImportSeconds = 0.0
  var rawImportSeconds: Double?
  /// Raw LMDB writing the ledger's own final rows (every database), same number of transactions.
  var rawRowsSeconds: Double?
  var rawRows = 0
  var sqliteImportSeconds: Double?
  // One durable append (median, ns).
  var ledgerAppend: Double?
  var rawAppend: Double?
  var sqliteAppend: Double?
  var appends = 0
  // As-of lookups (ns).
  var lookups = 0
  var ledgerAsOf = Samples()
  /// The same lookups by entity kind (body, indicator, decision).
  var ledgerAsOfByKind: [String: Samples] = [:]
  var rawEventGet = Samples()
  var sqliteAsOf = Samples()
  // Whole state, indicator history (seconds, median of runs).
  var stateSeconds: Double?
  var stateRuns = 0
  var stateEntities = 0
  /// `state(asOf:)` returns everything at once, so the first entity out is timed as one
  /// `entity(_:asOf:)` of the state's first body (seconds, median), and which body that was.
  var firstEntitySeconds: Double?
  var firstEntityID = ""
  var historySeconds: Double?
  var sqliteStateSeconds: Double?
  var sqliteStateStreams = 0
  var rawHistorySeconds: Double?
  var sqliteHistorySeconds: Double?
  var historyEntries = 0
  // Rebuild, verify (seconds).
  var rebuildSeconds: Double?
  var verifySeconds: Double?
  /// `LedgerTree.check`: every stored Merkle node recomputed from the events (part of the CLI's verify).
  var treeCheckSeconds: Double?
  /// `firstNonCanonicalEvent`: every event parsed and written again (part of the CLI's verify).
  var canonicalCheckSeconds: Double?
  /// The `signing` phase (Signing.swift).
  var signing: SigningResult?
  var rawReadBackSeconds: Double?
  var rawChainSeconds: Double?
  /// A cursor walk over the raw events parsing each one's canonical JSON (the least any replay
  /// of this log format must do), and the same plus the typed decode of its payload.
  var rawParseSeconds: Double?
  var rawParseDecodeSeconds: Double?
  // Disk.
  var ledgerFileBytes = 0
  var rawFileBytes: Int?
  var sqliteFileBytes: Int?
  var canonicalBytesTotal = 0
  var recordBytesTotal = 0
  var databases: [RawLMDB.DatabaseStatistics] = []
  // Backdating: one observation recorded before all `backdateValues` values of a series, and one
  // after them (median of `backdateRuns` each, ns).
  var backdateValues = 0
  var backdateRuns = 0
  var backdated = Samples()
  var forward = Samples()
  var totalSeconds = 0.0

  func rate(_ seconds: Double?) -> Double? { seconds.map { Double(events) / $0 } }
}

struct BenchOptions {
  var scales = [10_000, 100_000]
  var quick = false
  var output: String?
  var batch = 1000
  var directory = FileManager.default.temporaryDirectory.path + "/ledger-bench-\(getpid())"
  var seed: UInt64 = 20_140_519
  var lookups = 2000
  var appends = 50
  var baselines = true
  /// Phases to run after the import (all when nil): verify, asof, state, history, rebuild, append, backdate, signing.
  var only: Set<String>?
  var keep = false
  var mapSize = 1 << 36
  /// Seat counts of the membership-heavy figure (none: not run), and its events per body.
  var membership: [Int] = []
  var membershipEvents = 50_000
  /// Where to write the first scale's history as NDJSON import lines (for timing
  /// `policy-ledger import` and its peak memory outside this process).
  var writeNDJSON: String?
  /// Values recorded before the backdated observation (default: min(n, 100,000)).
  var backdateValues: Int?
  /// --replicate-url: a PostgreSQL server to time `policy-ledger replicate` into (not run when nil).
  var replicateURL: String?
  /// --policy-ledger: the CLI binary the replication phase runs.
  var policyLedger: String?

  func runs(_ phase: String) -> Bool { only?.contains(phase) ?? true }
}

struct BenchError: Error, CustomStringConvertible { let description: String }

/// The bytes the ledger's `events` database holds for an event (format byte, previous hash,
/// hash, canonical JSON): what the raw LMDB baseline writes.
func rawRecord(_ e: RecordedEvent) -> [UInt8] {
  var record: [UInt8] = [1]
  record.reserveCapacity(65 + e.canonicalBytes.count)
  record += e.previousHash.bytes
  record += e.hash.bytes
  record += e.canonicalBytes
  return record
}

/// Runs every measurement at one scale, in one process, on one fresh folder.
func runScale(_ n: Int, options: BenchOptions) throws -> ScaleResult {
  var result = ScaleResult()
  let started = nowNanos()
  result.batch = options.batch
  let base = options.directory + "/scale-\(n)"
  try? FileManager.default.removeItem(atPath: base)
  try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
  defer { if !options.keep { try? FileManager.default.removeItem(atPath: base) } }

  // 1. Generate.
  progress("[\(n)] generating…")
  var history: GeneratedHistory!
  result.generateSeconds = seconds {
    var generator = Generator(events: n, seed: options.seed)
    history = generator.generate()
  }
  let entries = history.entries
  result.events = entries.count
  result.history = history
  guard entries.count == n else { throw BenchError(description: "generated \(entries.count) events, not \(n)") }
  let batches: [[CouncilLedger.Entry]] = stride(from: 0, to: n, by: options.batch).map { Array(entries[$0..<min(n, $0 + options.batch)]) }
  progress("[\(n)] generated in \(fmt(result.generateSeconds)) s: \(history.bodies) bodies, \(history.people) people, \(history.decisions) decisions, \(history.indicators) indicators")
  if let path = options.writeNDJSON, n == options.scales.first {
    let bytes = try writeNDJSON(entries, to: path)
    progress("[\(n)] wrote the history as NDJSON import lines to \(path) (\(integer(bytes)) bytes); time it with /usr/bin/time -v policy-ledger import \(path)")
  }

  // 2. Ledger batch import.
  let ledgerPath = base + "/ledger"
  var ledgerOptions = EventLog.Options()
  ledgerOptions.storage.initialMapSize = options.mapSize
  let clock = BenchClock()
  ledgerOptions.clock = { LedgerTimestamp(microseconds: clock.tick()) }
  var records: [[UInt8]] = []
  var firstStreams: [String] = []
  records.reserveCapacity(n)
  firstStreams.reserveCapacity(n)
  // The baselines are opened first and fed batch by batch right after the ledger's batch, so
  // that the three imports see the same machine (this one is shared with other builds).
  var raw: RawLMDB?
  var sqlite: SQLiteStore?
  if options.baselines {
    raw = try RawLMDB(path: base + "/raw", mapSize: options.mapSize)
    sqlite = try SQLiteStore(path: base + "/sqlite.db")
  }
  do {
    let ledger = try CouncilLedger.open(at: ledgerPath, options: ledgerOptions)
    progress("[\(n)] batch import (ledger, raw LMDB, SQLite, interleaved by batch)…")
    var elapsed: UInt64 = 0
    var rawElapsed: UInt64 = 0
    var sqliteElapsed: UInt64 = 0
    for (i, batch) in batches.enumerated() {
      let t = nowNanos()
      let recorded = try ledger.record(batch)
      elapsed += nowNanos() - t
      // The ledger acknowledges an event it already holds without recording it again (its
      // idempotency keys): a generated history must not repeat one, or the baselines would differ.
      guard recorded.count == batch.count else { throw BenchError(description: "batch \(i): \(batch.count - recorded.count) generated events repeat earlier ones and were not recorded again") }
      let first = records.count
      var rows: [SQLiteRow] = []
      for e in recorded {
        let record = rawRecord(e)
        result.canonicalBytesTotal += e.canonicalBytes.count
        result.recordBytesTotal += record.count
        records.append(record)
        firstStreams.append(e.streams[0].rawValue)
        if options.baselines {
          rows.append(SQLiteRow(seq: Int64(e.sequence.rawValue), stream: e.streams[0].rawValue, effectiveDay: Int32(e.effective.firstDay.daysSinceEpoch),
                                recorded: e.recordedAt.microseconds, body: e.canonicalBytes))
        }
      }
      if let raw, let sqlite {
        let t1 = nowNanos()
        try raw.appendBatch(firstKey: UInt64(first + 1), records: records[first...])
        let t2 = nowNanos()
        try sqlite.insertBatch(rows[...])
        let t3 = nowNanos()
        rawElapsed += t2 - t1
        sqliteElapsed += t3 - t2
      }
      if i % max(1, batches.count / 10) == 0 { progress("[\(n)]   \(records.count) events, ledger \(fmt(Double(records.count) / (Double(elapsed) / 1e9))) events/s") }
    }
    result.ledgerImportSeconds = Double(elapsed) / 1e9
    if options.baselines {
      result.rawImportSeconds = Double(rawElapsed) / 1e9
      result.sqliteImportSeconds = Double(sqliteElapsed) / 1e9
    }
    progress("[\(n)] ledger import: \(fmt(result.rate(result.ledgerImportSeconds))) events/s")
  }
  // The ledger is closed here (its environment is released with the last reference): measure
  // the file and each named database.
  result.ledgerFileBytes = fileSize(ledgerPath + "/data.mdb")
  result.databases = try RawLMDB.databaseStatistics(path: ledgerPath)
  if options.replicateURL != nil {
    let replication = try runReplication(ledgerPath: ledgerPath, events: n, work: base, options: options)
    result.replication = replication
    progress("[\(n)] replicate into PostgreSQL: \(fmt(Double(replication.events) / replication.replicateSeconds)) events/s; COPY of the same rows: \(fmt(Double(replication.events) / replication.copySeconds)) rows/s")
  }
  if options.baselines {
    let copy = try RawLMDB.copyRows(from: ledgerPath, to: base + "/rows", transactions: batches.count, mapSize: options.mapSize)
    result.rawRowsSeconds = copy.seconds
    result.rawRows = copy.rows
    try? FileManager.default.removeItem(atPath: base + "/rows")
    progress("[\(n)] raw LMDB writing the ledger's \(copy.rows) rows: \(fmt(result.rate(copy.seconds))) events/s")
  }

  if options.baselines {
    result.rawFileBytes = raw!.fileSize
    sqlite!.checkpoint()
    result.sqliteFileBytes = sqlite!.fileSize

    // Read back by the same keys, and the same hash-chain walk verify does, without the ledger.
    var sink = 0
    result.rawReadBackSeconds = try seconds {
      try raw!.read { r in
        for key in 1...UInt64(n) { r.event(key) { sink &+= $0?.count ?? 0 } }
      }
    }
    // The hash-chain walk is timed below, interleaved with the ledger's verify.
    if sink == 0 { throw BenchError(description: "read back nothing") }
    // The replay's floor: what reading every event back as data costs, before any projection.
    result.rawParseSeconds = try seconds {
      try raw!.read { r in
        try r.scanEvents { _, record in sink &+= try CanonicalValue.parse(record[65...]).objectValue?.count ?? 0 }
      }
    }
    result.rawParseDecodeSeconds = try seconds {
      try raw!.read { r in
        try r.scanEvents { _, record in
          guard let o = try CanonicalValue.parse(record[65...]).objectValue, case .string(let type)? = o["type"],
                let schema = o["schema"]?.integerValue, let payload = o["payload"] else { throw BenchError(description: "not an event") }
          if case .bodyEstablished = try CouncilEvent.decode(type: type, schemaVersion: Int(schema), payload: payload) { sink &+= 1 }
        }
      }
    }
  }

  let ledger = try CouncilLedger.open(at: ledgerPath, options: ledgerOptions)

  // 4. Verify.
  if options.runs("signing") {
    progress("[\(n)] signing: the same history by one actor, unsigned and signed, interleaved…")
    let signing = try measureSigning(batches, base: base, options: options)
    result.signing = signing
    progress("[\(n)] signed import \(fmt(Double(signing.events) / signing.signedSeconds)) events/s vs unsigned \(fmt(Double(signing.events) / signing.unsignedSeconds)); signature check \(fmt(Double(signing.events) / signing.signatureCheckSeconds)) events/s")
  }
  if options.runs("verify") {
    progress("[\(n)] verify…")
    // Median of 3 runs, each followed by the raw chain walk (a single run is noisy here).
    var times: [Double] = []
    var chainTimes: [Double] = []
    for _ in 0..<3 {
      var report: VerificationReport?
      times.append(try seconds { report = try ledger.log.verify() })
      guard let report, report.isValid, report.eventsChecked == UInt64(n) else { throw BenchError(description: "verify failed: \(String(describing: report))") }
      if let raw {
        chainTimes.append(try seconds {
          var previous = EventHash.genesis.bytes
          var ok = true
          try raw.read { r in
            try r.scanEvents { _, record in
              let canonical = Array(record[65...])
              let hash = EventLog.hash(previous: EventHash(bytes: previous)!, canonical: canonical)
              ok = ok && record[1..<33].elementsEqual(previous) && record[33..<65].elementsEqual(hash.bytes)
              previous = hash.bytes
            }
          }
          if !ok { throw BenchError(description: "the raw copy's hash chain does not verify") }
        })
      }
    }
    if !chainTimes.isEmpty { result.rawChainSeconds = chainTimes.sorted()[1] }
    result.verifySeconds = times.sorted()[1]
    var treeTimes: [Double] = []
    for _ in 0..<3 {
      var report: LedgerTree.CheckReport?
      treeTimes.append(try seconds { report = try LedgerTree.check(ledger.log) })
      guard let report, report.mismatch == nil, report.storedSize == UInt64(n) else { throw BenchError(description: "the Merkle tree check failed: \(String(describing: report))") }
    }
    result.treeCheckSeconds = treeTimes.sorted()[1]
    var canonicalTimes: [Double] = []
    for _ in 0..<3 {
      var found: (SequenceNumber, String)?
      canonicalTimes.append(try seconds { found = try ledger.log.firstNonCanonicalEvent() })
      if let found { throw BenchError(description: "event \(found.0) is not in canonical form: \(found.1)") }
    }
    result.canonicalCheckSeconds = canonicalTimes.sorted()[1]
  }

  // 5. As-of lookups: the same (entity, day) pairs for every system.
  if options.runs("asof") {
    progress("[\(n)] as-of lookups…")
    // A fixed mix of entity kinds at every scale (so that the sizes of the states read do not
    // change with the scale): 40% indicators, 30% bodies, 30% decisions. People are left out
    // because the SQLite table keys events by their main stream only (a person is never one).
    // The day is uniform between the entity's first event and the history's last day.
    var firstDay: [String: Int] = [:]
    for i in 0..<n where firstDay[firstStreams[i]] == nil { firstDay[firstStreams[i]] = history.effectiveDays[i] }
    var byKind: [String: [String]] = [:]
    for id in firstDay.keys.sorted() { byKind[String(id.prefix { $0 != ":" }), default: []].append(id) }
    var rng = SplitMix64(seed: options.seed ^ 0xA5A5)
    var sample: [(StreamID, CalendarDay, String, Int32)] = []
    for _ in 0..<options.lookups {
      let roll = rng.int(0..<10)
      let kind = roll < 4 ? "indicator" : roll < 7 ? "body" : "decision"
      guard let ids = byKind[kind], !ids.isEmpty else { continue }
      let id = rng.pick(ids)
      let day = rng.int(firstDay[id]!...max(firstDay[id]!, history.lastDay))
      sample.append((StreamID(id)!, calendarDay(day), id, Int32(day)))
    }
    let count = sample.count
    let eventKeys = (0..<count).map { _ in UInt64(rng.int(1...n)) }
    result.lookups = count
    // An untimed pass: warms the caches and gives the ledger's answers (the timed pass must
    // give the same).
    var answers: [EntityState?] = []
    answers.reserveCapacity(count)
    for (id, day, _, _) in sample { answers.append(try ledger.entity(id, asOf: day)) }
    // The timed pass, interleaved: for each lookup, the ledger, then each baseline, so that the
    // machine's other load falls on all of them alike.
    var sink = 0
    for k in 0..<count {
      let (id, day, stream, sqlDay) = sample[k]
      var t = nowNanos()
      let state = try ledger.entity(id, asOf: day)
      let took = nowNanos() - t
      result.ledgerAsOf.add(took)
      result.ledgerAsOfByKind[id.kind, default: Samples()].add(took)
      if state != answers[k] { throw BenchError(description: "lookup \(k) changed between passes") }
      guard let raw else { continue }
      // One mdb_get of a random event record, in a database as large as the ledger's log.
      t = nowNanos()
      try raw.read { r in r.event(eventKeys[k]) { sink &+= $0?.count ?? 0 } }
      result.rawEventGet.add(nowNanos() - t)
      if let sqlite {
        t = nowNanos()
        sink &+= try sqlite.latest(stream: stream, onOrBefore: sqlDay) { $0?.count ?? 0 }
        result.sqliteAsOf.add(nowNanos() - t)
      }
    }
    if raw != nil && sink == 0 { throw BenchError(description: "lookups read nothing") }
  }

  // 6. Whole state as of the last day: median of up to 5 runs (fewer when one takes over 2 s).
  if options.runs("state") {
    progress("[\(n)] whole state…")
    var times: [Double] = []
    var entities = 0
    var firstBody: String?
    while times.count < 5 {
      var state: LedgerState?
      times.append(try seconds { state = try ledger.state(asOf: calendarDay(history.lastDay)) })
      entities = state.map { $0.bodies.count + $0.people.count + $0.decisions.count + $0.indicators.count } ?? 0
      firstBody = state?.bodies.first?.id
      if times.reduce(0, +) > 4 && times.count >= 1 { break }
    }
    result.stateSeconds = times.sorted()[times.count / 2]
    result.stateRuns = times.count
    result.stateEntities = entities
    // The first entity out: `state(asOf:)` answers with everything at once, so this is the time
    // of one `entity(_:asOf:)` of the first body it lists (a body with its members, read the way
    // a streamed state would read it), median of 21 (after one untimed call).
    if let first = firstBody {
      result.firstEntityID = first
      let id = StreamID("body:" + first)!
      let day = calendarDay(history.lastDay)
      guard try ledger.entity(id, asOf: day)?.body?.id == first else { throw BenchError(description: "the state's first body \(first) is not found by entity(_:asOf:)") }
      var samples: [Double] = []
      for _ in 0..<21 { samples.append(try seconds { _ = try ledger.entity(id, asOf: day) }) }
      result.firstEntitySeconds = samples.sorted()[samples.count / 2]
    }
    if let sqlite {
      let day = Int32(history.lastDay)
      var sqliteTimes: [Double] = []
      for _ in 0..<times.count {
        sqliteTimes.append(try seconds { result.sqliteStateStreams = try sqlite.latestOfEveryStream(onOrBefore: day).streams })
      }
      result.sqliteStateSeconds = sqliteTimes.sorted()[sqliteTimes.count / 2]
    }
  }

  // 7. One indicator's history.
  if options.runs("history") {
    progress("[\(n)] indicator history…")
    var times: [Double] = []
    while times.count < 7 {
      var entries = 0
      times.append(try seconds { entries = try ledger.indicatorHistory(history.historyIndicator).entries.count })
      result.historyEntries = entries
      if times.reduce(0, +) > 4 { break }
    }
    result.historySeconds = times.sorted()[times.count / 2]
    // The baselines read the same events: raw LMDB by the same keys, SQLite through its index.
    let stream = "indicator:" + history.historyIndicator
    let keys = firstStreams.indices.filter { firstStreams[$0] == stream }.map { UInt64($0 + 1) }
    if let raw, let sqlite {
      var rawTimes: [Double] = [], sqliteTimes: [Double] = []
      var sink = 0
      for _ in 0..<times.count {
        rawTimes.append(try seconds { try raw.read { r in for k in keys { r.event(k) { sink &+= $0?.count ?? 0 } } } })
        sqliteTimes.append(try seconds { sink &+= try sqlite.events(ofStream: stream) })
      }
      if sink == 0 { throw BenchError(description: "the history baselines read nothing") }
      result.rawHistorySeconds = rawTimes.sorted()[rawTimes.count / 2]
      result.sqliteHistorySeconds = sqliteTimes.sorted()[sqliteTimes.count / 2]
    }
  }

  // 8. Full rebuild.
  if options.runs("rebuild") {
    progress("[\(n)] rebuild…")
    var replayed: UInt64 = 0
    result.rebuildSeconds = try seconds { replayed = try ledger.rebuildProjections() }
    guard replayed == UInt64(n) else { throw BenchError(description: "rebuild replayed \(replayed) events, not \(n)") }
  }

  // 9. One durable append, one event at a time (median).
  if options.runs("append"), !history.activeIndicators.isEmpty {
    progress("[\(n)] single appends…")
    let k = options.appends
    result.appends = k
    // Interleaved: for each i, one ledger append, one raw LMDB append, one SQLite insert.
    var ledgerTimes = Samples()
    var rawTimes = Samples()
    var sqliteTimes = Samples()
    for i in 0..<k {
      let indicator = history.activeIndicators[i % history.activeIndicators.count]
      let entry = CouncilLedger.Entry(.indicatorObserved(.init(indicator: indicator.id, value: LedgerDecimal(1000 + i), unit: indicator.unit,
                                                                period: ObservedPeriod(.fiscalYear(2025)!))),
                                      effective: .day(calendarDay(history.lastDay + 1 + i)), actor: "secretariat", source: "bench")
      var t = nowNanos()
      let recorded = try ledger.record([entry])
      ledgerTimes.add(nowNanos() - t)
      guard let raw, let sqlite else { continue }
      let e = recorded[0]
      let record = rawRecord(e)
      t = nowNanos()
      try raw.appendBatch(firstKey: UInt64(n + 1 + i), records: [record][...])
      rawTimes.add(nowNanos() - t)
      let row = SQLiteRow(seq: Int64(n + 1 + i), stream: e.streams[0].rawValue, effectiveDay: Int32(e.effective.firstDay.daysSinceEpoch),
                          recorded: e.recordedAt.microseconds, body: e.canonicalBytes)
      t = nowNanos()
      try sqlite.insertBatch([row][...])
      sqliteTimes.add(nowNanos() - t)
    }
    result.ledgerAppend = ledgerTimes.median
    if !rawTimes.values.isEmpty {
      result.rawAppend = rawTimes.median
      result.sqliteAppend = sqliteTimes.median
    }
  }
  // 10. Backdating: one observation before every value of a long series, against a forward one.
  if options.runs("backdate") {
    let k = options.backdateValues ?? min(n, 100_000)
    try measureBackdating(ledger, values: k, batch: options.batch, runs: options.quick ? 7 : 21, label: "\(n)", into: &result)
    progress("[\(n)] backdated observation before \(integer(k)) values: \(fmt(result.backdated.median / 1e6)) ms, forward \(fmt(result.forward.median / 1e6)) ms")
  }
  result.totalSeconds = Double(nowNanos() - started) / 1e9
  progress("[\(n)] done in \(fmt(result.totalSeconds)) s")
  return result
}
