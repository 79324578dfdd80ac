import Foundation

/// The markdown report: one table per scale (ledger, baselines, ratios), the growth of each
/// ledger figure across scales, the targets met or missed, and where the bytes on disk go.
struct Report {
  let options: BenchOptions
  let results: [ScaleResult]
  let machine: [String]
  let wallSeconds: Double

  func us(_ ns: Double?) -> Double? { ns.map { $0 / 1000 } }
  func ms(_ ns: Double?) -> Double? { ns.map { $0 / 1e6 } }
  func label(_ n: Int) -> String { n % 1_000_000 == 0 ? "\(n / 1_000_000)M" : n % 1000 == 0 ? "\(n / 1000)k" : "\(n)" }

  func markdown() -> String {
    var out: [String] = []
    let scales = options.scales
    var command = "cd Tools/Benchmarks && swift run -c release ledger-bench --scales \(scales.map(String.init).joined(separator: ","))"
    if options.batch != 1000 { command += " --batch \(options.batch)" }
    if options.quick { command = "cd Tools/Benchmarks && swift run ledger-bench --quick" }
    out.append("## ledger-bench results")
    out.append("")
    out.append("Command: `\(command)` (seed \(options.seed), \(options.lookups) lookups, \(options.appends) single appends; wall time \(fmt(wallSeconds)) s)")
    out.append("")
    for line in machine { out.append("- " + line) }
    out.append("")
    out.append("Ratios are ledger ÷ baseline: for rates (events/s) above 1× means the ledger is faster; for times (µs, ms) above 1× means the ledger is slower; for bytes above 1× means the ledger uses more.")
    for r in results { out += scaleTable(r) }
    if results.count > 1 { out += growthTable() }
    out += targetsTable()
    out += storageTable()
    out += historyTable()
    return out.joined(separator: "\n") + "\n"
  }

  func scaleTable(_ r: ScaleResult) -> [String] {
    var t: [String] = ["", "### \(label(r.events)) events (batches of \(r.batch); run took \(fmt(r.totalSeconds)) s, generation \(fmt(r.generateSeconds)) s)", ""]
    t.append("| figure | ledger | raw LMDB | ledger vs raw | SQLite | ledger vs SQLite |")
    t.append("|---|---:|---:|---:|---:|---:|")
    func row(_ name: String, _ l: Double?, _ raw: Double?, _ sq: Double?) {
      t.append("| \(name) | \(fmt(l)) | \(fmt(raw)) | \(ratio(l, raw)) | \(fmt(sq)) | \(ratio(l, sq)) |")
    }
    row("batch import (events/s)", r.rate(r.ledgerImportSeconds), r.rate(r.rawImportSeconds), r.rate(r.sqliteImportSeconds))
    if let s = r.rawRowsSeconds {
      row("(floor) raw LMDB writing the ledger's own \(integer(r.rawRows)) final rows, all databases, \(r.events / max(r.batch, 1)) transactions (events/s)", r.rate(r.ledgerImportSeconds), r.rate(s), nil)
    }
    if r.appends > 0 { row("one durable append, median of \(r.appends) (ms)", ms(r.ledgerAppend), ms(r.rawAppend), ms(r.sqliteAppend)) }
    if r.lookups > 0 {
      let sq50 = r.sqliteAsOf.values.isEmpty ? nil : us(r.sqliteAsOf.median)
      let sq99 = r.sqliteAsOf.values.isEmpty ? nil : us(r.sqliteAsOf.percentile(99))
      func p(_ s: Samples, _ q: Double) -> Double? { s.values.isEmpty ? nil : us(s.percentile(q)) }
      row("as-of lookup p50 (µs); raw = one mdb_get of an event by key", p(r.ledgerAsOf, 50), p(r.rawEventGet, 50), sq50)
      row("as-of lookup p99 (µs); raw = one mdb_get of an event by key", p(r.ledgerAsOf, 99), p(r.rawEventGet, 99), sq99)
      row("as-of lookup p50 (µs); raw = one mdb_get of a value the size of the state", p(r.ledgerAsOf, 50), p(r.rawGet, 50), nil)
      row("as-of lookup p99 (µs); raw = one mdb_get of a value the size of the state", p(r.ledgerAsOf, 99), p(r.rawGet, 99), nil)
      row("as-of lookup p50 (µs); raw = mdb_get + CanonicalValue.parse", p(r.ledgerAsOf, 50), p(r.rawGetParse, 50), nil)
      row("as-of lookup p99 (µs); raw = mdb_get + CanonicalValue.parse", p(r.ledgerAsOf, 99), p(r.rawGetParse, 99), nil)
      row("as-of lookup p50 (µs); raw = mdb_get + parse + Codable decode (the ledger's path before 93b3656)", p(r.ledgerAsOf, 50), p(r.rawGetParseDecode, 50), nil)
      row("as-of lookup p50 (µs); raw = mdb_get + Foundation JSONDecoder into the same types", p(r.ledgerAsOf, 50), p(r.rawGetJSONDecoder, 50), nil)
    }
    if let s = r.stateSeconds {
      row("whole state as of a date (ms; \(integer(r.stateEntities)) entities, median of \(r.stateRuns)); SQLite = latest event of each of its \(integer(r.sqliteStateStreams)) streams, one window query", s * 1000, nil, r.sqliteStateSeconds.map { $0 * 1000 })
    }
    if let s = r.historySeconds {
      row("one indicator's history (ms; \(r.historyEntries) observations); raw = mdb_get of its events by key, SQLite = its events through the index", s * 1000, r.rawHistorySeconds.map { $0 * 1000 }, r.sqliteHistorySeconds.map { $0 * 1000 })
    }
    if let s = r.rebuildSeconds {
      row("full rebuild (events/s)", r.rate(s), nil, nil)
      if r.rawParseSeconds != nil {
        row("(floor) full rebuild; raw = cursor walk parsing each event's JSON (events/s)", r.rate(s), r.rate(r.rawParseSeconds), nil)
        row("(floor) full rebuild; raw = the same + typed decode of each payload (events/s)", r.rate(s), r.rate(r.rawParseDecodeSeconds), nil)
      }
    }
    if let s = r.verifySeconds { row("verify (events/s, median of 3); raw = cursor scan + the same SHA-256 chain check", r.rate(s), r.rate(r.rawChainSeconds), nil) }
    if let s = r.treeCheckSeconds { row("Merkle tree check: every stored node recomputed from the events (events/s, median of 3)", r.rate(s), nil, nil) }
    if r.rawReadBackSeconds != nil { row("read back every event by key (events/s)", nil, r.rate(r.rawReadBackSeconds), nil) }
    let n = Double(r.events)
    row("bytes on disk per event (data.mdb; SQLite: db+wal)", Double(r.ledgerFileBytes) / n, r.rawFileBytes.map { Double($0) / n }, r.sqliteFileBytes.map { Double($0) / n })
    t.append("| average canonical encoding (bytes/event); ratio = ledger bytes on disk ÷ canonical | \(fmt(Double(r.canonicalBytesTotal) / n)) | | \(ratio(Double(r.ledgerFileBytes) / n, Double(r.canonicalBytesTotal) / n)) | | |")
    if r.stateBytesAverage > 0 { t.append("| average entity state read by an as-of lookup (bytes of JSON) | \(fmt(r.stateBytesAverage)) | | | | |") }
    return t
  }

  func growthTable() -> [String] {
    var t: [String] = ["", "### Growth of the ledger's figures", ""]
    t.append("| figure | " + results.map { label($0.events) }.joined(separator: " | ") + " | largest ÷ smallest |")
    t.append("|---|" + results.map { _ in "---:|" }.joined() + "---:|")
    func row(_ name: String, _ f: (ScaleResult) -> Double?) {
      let values = results.map(f)
      t.append("| \(name) | " + values.map { fmt($0) }.joined(separator: " | ") + " | \(ratio(values.last ?? nil, values.first ?? nil)) |")
    }
    row("batch import (events/s)") { $0.rate($0.ledgerImportSeconds) }
    row("one durable append (ms)") { ms($0.ledgerAppend) }
    row("as-of lookup p50 (µs)") { $0.ledgerAsOf.values.isEmpty ? nil : us($0.ledgerAsOf.median) }
    row("as-of lookup p99 (µs)") { $0.ledgerAsOf.values.isEmpty ? nil : us($0.ledgerAsOf.percentile(99)) }
    row("whole state as of a date (ms)") { $0.stateSeconds.map { $0 * 1000 } }
    row("one indicator's history (ms)") { $0.historySeconds.map { $0 * 1000 } }
    row("full rebuild (events/s)") { $0.rate($0.rebuildSeconds) }
    row("verify (events/s)") { $0.rate($0.verifySeconds) }
    row("Merkle tree check (events/s)") { $0.rate($0.treeCheckSeconds) }
    row("bytes on disk per event") { Double($0.ledgerFileBytes) / Double($0.events) }
    return t
  }

  func targetsTable() -> [String] {
    var t: [String] = ["", "### Targets", ""]
    t.append("| target | " + results.map { label($0.events) }.joined(separator: " | ") + " |")
    t.append("|---|" + results.map { _ in "---|" }.joined())
    func mark(_ ok: Bool?) -> String { ok.map { $0 ? "**met**" : "**missed**" } ?? "—" }
    func row(_ name: String, _ f: (ScaleResult) -> (String, Bool?)) {
      t.append("| \(name) | " + results.map { let (v, ok) = f($0); return ok == nil ? v : "\(v) \(mark(ok))" }.joined(separator: " | ") + " |")
    }
    row("batch import ≥ 1/3 of raw LMDB's rate") { r in
      guard let raw = r.rawImportSeconds else { return ("—", nil) }
      let x = raw / r.ledgerImportSeconds
      return (String(format: "%.3f×", x), x >= 1.0 / 3)
    }
    row("(context: raw LMDB writing the ledger's own final rows, against raw LMDB's events-only rate)") { r in
      guard let raw = r.rawImportSeconds, let rows = r.rawRowsSeconds else { return ("—", nil) }
      return (String(format: "%.2f×", raw / rows), nil)
    }
    row("batch import ≥ 3× SQLite's rate") { r in
      guard let sq = r.sqliteImportSeconds else { return ("—", nil) }
      let x = sq / r.ledgerImportSeconds
      return (String(format: "%.3f×", x), x >= 3)
    }
    row("as-of lookup p50 within 3× a raw mdb_get (of an event by key)") { r in
      guard !r.rawEventGet.values.isEmpty else { return ("—", nil) }
      let x = r.ledgerAsOf.median / r.rawEventGet.median
      return (String(format: "%.0f×", x), x <= 3)
    }
    // Context rows: ratios only, no verdict (they are not the issue's targets).
    row("(context: the same against mdb_get of a value the size of the state)") { r in
      guard !r.rawGet.values.isEmpty else { return ("—", nil) }
      return (String(format: "%.0f×", r.ledgerAsOf.median / r.rawGet.median), nil)
    }
    row("(context: the same against mdb_get + CanonicalValue.parse of the state's JSON)") { r in
      guard !r.rawGetParse.values.isEmpty else { return ("—", nil) }
      return (String(format: "%.1f×", r.ledgerAsOf.median / r.rawGetParse.median), nil)
    }
    row("rebuild ≥ 1,000,000 events/s") { r in
      guard let v = r.rate(r.rebuildSeconds) else { return ("—", nil) }
      return (fmt(v) + "/s", v >= 1_000_000)
    }
    row("verify ≥ 1,000,000 events/s") { r in
      guard let v = r.rate(r.verifySeconds) else { return ("—", nil) }
      return (fmt(v) + "/s", v >= 1_000_000)
    }
    row("bytes on disk per event ≤ 2× canonical encoding") { r in
      let x = Double(r.ledgerFileBytes) / Double(r.canonicalBytesTotal)
      return (String(format: "%.1f×", x), x <= 2)
    }
    t.append("")
    if let first = results.first, let last = results.last, results.count > 1, !first.ledgerAsOf.values.isEmpty, !last.ledgerAsOf.values.isEmpty {
      let x = last.ledgerAsOf.median / first.ledgerAsOf.median
      t.append("- as-of lookup p50 at \(label(last.events)) ≤ 1.5× its p50 at \(label(first.events)): \(String(format: "%.2f×", x)) \(mark(x <= 1.5)) (p99: \(String(format: "%.2f×", last.ledgerAsOf.percentile(99) / first.ledgerAsOf.percentile(99))))")
    }
    if let big = results.last(where: { $0.stateSeconds != nil }) {
      let msValue = big.stateSeconds! * 1000
      if big.events >= 1_000_000 {
        t.append("- whole state at 1M < 10 ms: \(fmt(msValue)) ms \(mark(msValue < 10))")
      } else {
        t.append("- whole state at 1M < 10 ms: 1M not run; at \(label(big.events)) it takes \(fmt(msValue)) ms \(msValue >= 10 ? "(already over 10 ms: **missed**)" : "")")
      }
    }
    return t
  }

  func storageTable() -> [String] {
    var t: [String] = ["", "### Where the ledger's bytes go (data.mdb right after the import)", ""]
    t.append("Per named database: entries, bytes in pages per event, what the keys and values themselves hold per event, and the share of the pages that are overflow pages (values over ~2 KB get whole 4 KiB pages of their own).")
    t.append("")
    for r in results {
      let n = Double(r.events)
      t.append("| \(label(r.events)) events: database | entries | bytes/event in pages | bytes/event in keys+values | overflow pages |")
      t.append("|---|---:|---:|---:|---:|")
      for d in r.databases {
        let overflowShare = d.bytes > 0 ? Double(d.overflowPages * d.pageSize) / Double(d.bytes) * 100 : 0
        t.append("| \(d.name) | \(integer(d.entries)) | \(fmt(Double(d.bytes) / n)) | \(fmt(Double(d.payloadBytes) / n)) | \(integer(d.overflowPages)) (\(String(format: "%.0f", overflowShare))% of its bytes) |")
      }
      t.append("| data.mdb file | | \(fmt(Double(r.ledgerFileBytes) / n)) | | |")
      t.append("| canonical JSON alone | | | \(fmt(Double(r.canonicalBytesTotal) / n)) | |")
      t.append("")
    }
    return t
  }

  func historyTable() -> [String] {
    var t: [String] = ["", "### The generated histories", ""]
    let types = results.compactMap(\.history).flatMap { $0.counts.keys }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }.sorted()
    t.append("| | " + results.map { label($0.events) }.joined(separator: " | ") + " |")
    t.append("|---|" + results.map { _ in "---:|" }.joined())
    func row(_ name: String, _ f: (GeneratedHistory) -> Int) {
      t.append("| \(name) | " + results.map { $0.history.map { integer(f($0)) } ?? "—" }.joined(separator: " | ") + " |")
    }
    row("bodies") { $0.bodies }
    row("people") { $0.people }
    row("decisions") { $0.decisions }
    row("indicator series") { $0.indicators }
    row("backdated observations (recorded 1–4 years late)") { $0.backdated }
    for type in types { row("`\(type)` events") { $0.counts[type] ?? 0 } }
    t.append("| measured indicator history (events in its stream) | " + results.map { r in r.history.map { "`\($0.historyIndicator)` (\($0.historyIndicatorEvents))" } ?? "—" }.joined(separator: " | ") + " |")
    return t
  }
}
