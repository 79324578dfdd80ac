import Foundation

/// The markdown report: one table per scale (ledger, baselines, ratios), the growth of each
/// ledger figure across scales, the targets met or missed, and where the bytes on disk go.
struct Report {
  let options: BenchOptions
  let results: [ScaleResult]
  let membership: [MembershipResult]
  let machine: [String]
  let wallSeconds: Double

  func us(_ ns: Double?) -> Double? { ns.map { $0 / 1000 } }
  func ms(_ ns: Double?) -> Double? { ns.map { $0 / 1e6 } }
  func label(_ n: Int) -> String { n % 1_000_000 == 0 ? "\(n / 1_000_000)M" : n % 1000 == 0 ? "\(n / 1000)k" : "\(n)" }

  func markdown() -> String {
    var out: [String] = []
    let scales = options.scales
    var command = "cd Tools/Benchmarks && swift run -c release ledger-bench --scales \(scales.map(String.init).joined(separator: ","))"
    if scales.isEmpty { command = "cd Tools/Benchmarks && swift run -c release ledger-bench --scales none" }
    if options.quick { command = "cd Tools/Benchmarks && swift run ledger-bench --quick" }
    if options.replicateURL != nil { command += " --replicate-url URL" }
    if options.batch != 1000 && !options.quick { command += " --batch \(options.batch)" }
    if let k = options.backdateValues { command += " --backdate-values \(k)" }
    if !options.membership.isEmpty {
      command += " --membership \(options.membership.map(String.init).joined(separator: ","))"
      if options.membershipEvents != 50_000 { command += " --membership-events \(options.membershipEvents)" }
    }
    out.append("## ledger-bench results")
    out.append("")
    out.append("Command: `\(command)` (seed \(options.seed), \(options.lookups) lookups, \(options.appends) single appends; wall time \(fmt(wallSeconds)) s)")
    out.append("")
    for line in machine { out.append("- " + line) }
    out.append("")
    out.append("Ratios are ledger ÷ baseline: for rates (events/s) above 1× means the ledger is faster; for times (µs, ms) above 1× means the ledger is slower; for bytes above 1× means the ledger uses more.")
    for r in results { out += scaleTable(r) }
    if results.count > 1 { out += growthTable() }
    if !results.isEmpty { out += targetsTable() }
    if !membership.isEmpty { out += membershipTable() }
    if results.contains(where: { $0.replication != nil }) { out += replicationTable() }
    if !results.isEmpty {
      out += storageTable()
      out += historyTable()
    }
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
      for kind in r.ledgerAsOfByKind.keys.sorted() {
        let s = r.ledgerAsOfByKind[kind]!
        t.append("| (context) as-of lookup, kind \(kind) (\(s.values.count) lookups): p50 / p99 (µs) | \(fmt(us(s.median))) / \(fmt(us(s.percentile(99)))) | | | | |")
      }
    }
    if let s = r.stateSeconds {
      row("whole state as of a date (ms; \(integer(r.stateEntities)) entities, median of \(r.stateRuns)); SQLite = latest event of each of its \(integer(r.sqliteStateStreams)) streams, one window query", s * 1000, nil, r.sqliteStateSeconds.map { $0 * 1000 })
    }
    if let s = r.firstEntitySeconds {
      row("time to the first entity out (ms): state(asOf:) returns everything at once, so this is one entity(body:\(r.firstEntityID), asOf:) of the state's first body, median of 21", s * 1000, nil, nil)
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
    if r.backdateRuns > 0 {
      row("one observation backdated before all \(integer(r.backdateValues)) values of its series (ms, median of \(r.backdateRuns))", ms(r.backdated.median), nil, nil)
      t.append("| one forward observation after them (ms, median of \(r.backdateRuns)); the ratio column here = backdated ÷ forward | \(fmt(ms(r.forward.median))) | | \(ratio(r.backdated.median, r.forward.median)) | | |")
    }
    if let s = r.verifySeconds { row("verify (events/s, median of 3); raw = cursor scan + the same SHA-256 chain check", r.rate(s), r.rate(r.rawChainSeconds), nil) }
    if let s = r.treeCheckSeconds { row("Merkle tree check: every stored node recomputed from the events (events/s, median of 3)", r.rate(s), nil, nil) }
    if let s = r.canonicalCheckSeconds { row("canonical-form check: every event parsed and written again (events/s, median of 3)", r.rate(s), nil, nil) }
    if let signing = r.signing { t += signing.rows() }
    if r.rawReadBackSeconds != nil { row("read back every event by key (events/s)", nil, r.rate(r.rawReadBackSeconds), nil) }
    let n = Double(r.events)
    row("bytes on disk per event (data.mdb; SQLite: db+wal)", Double(r.ledgerFileBytes) / n, r.rawFileBytes.map { Double($0) / n }, r.sqliteFileBytes.map { Double($0) / n })
    t.append("| average canonical encoding (bytes/event); ratio = ledger bytes on disk ÷ canonical | \(fmt(Double(r.canonicalBytesTotal) / n)) | | \(ratio(Double(r.ledgerFileBytes) / n, Double(r.canonicalBytesTotal) / n)) | | |")
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
    row("time to the first entity out (ms)") { $0.firstEntitySeconds.map { $0 * 1000 } }
    row("backdated observation (ms)") { $0.backdateRuns > 0 ? ms($0.backdated.median) : nil }
    row("forward observation (ms)") { $0.backdateRuns > 0 ? ms($0.forward.median) : nil }
    row("one indicator's history (ms)") { $0.historySeconds.map { $0 * 1000 } }
    row("full rebuild (events/s)") { $0.rate($0.rebuildSeconds) }
    row("verify (events/s)") { $0.rate($0.verifySeconds) }
    row("Merkle tree check (events/s)") { $0.rate($0.treeCheckSeconds) }
    row("bytes on disk per event") { Double($0.ledgerFileBytes) / Double($0.events) }
    return t
  }

  func targetsTable() -> [String] {
    var t: [String] = ["", "### Targets (issue 9)", ""]
    t.append("Each ratio is taken within one scale's run. The issue states the import, bytes and whole-state targets at 1M; they are shown (and marked) at every scale run.")
    t.append("")
    t.append("| target | " + results.map { label($0.events) }.joined(separator: " | ") + " |")
    t.append("|---|" + results.map { _ in "---|" }.joined())
    func mark(_ ok: Bool?) -> String { ok.map { $0 ? "**met**" : "**missed**" } ?? "—" }
    func row(_ name: String, _ f: (ScaleResult) -> (String, Bool?)) {
      t.append("| \(name) | " + results.map { let (v, ok) = f($0); return ok == nil ? v : "\(v) \(mark(ok))" }.joined(separator: " | ") + " |")
    }
    func x(_ v: Double) -> String { v >= 10 ? String(format: "%.1f×", v) : v >= 0.1 ? String(format: "%.2f×", v) : String(format: "%.3f×", v) }
    row("import ≥ 0.2× raw LMDB's rate") { r in
      guard let raw = r.rawImportSeconds else { return ("—", nil) }
      let v = raw / r.ledgerImportSeconds
      return (x(v), v >= 0.2)
    }
    row("(context: raw LMDB writing the ledger's own final rows, against raw LMDB's events-only rate)") { r in
      guard let raw = r.rawImportSeconds, let rows = r.rawRowsSeconds else { return ("—", nil) }
      return (x(raw / rows), nil)
    }
    row("import ≥ 2× SQLite's rate") { r in
      guard let sq = r.sqliteImportSeconds else { return ("—", nil) }
      let v = sq / r.ledgerImportSeconds
      return (x(v), v >= 2)
    }
    row("bytes on disk per event ≤ 2.5× the canonical encoding at 1M and over, ≤ 3× below") { r in
      let v = Double(r.ledgerFileBytes) / Double(r.canonicalBytesTotal)
      let limit = r.events >= 1_000_000 ? 2.5 : 3
      return (x(v) + " (≤ " + String(format: "%g", limit) + "×)", v <= limit)
    }
    row("as-of lookup p50 ≤ 3× a raw mdb_get of an event by key") { r in
      guard !r.rawEventGet.values.isEmpty, !r.ledgerAsOf.values.isEmpty else { return ("—", nil) }
      let v = r.ledgerAsOf.median / r.rawEventGet.median
      return (x(v), v <= 3)
    }
    row("rebuild ≥ 0.5× the floor (cursor walk parsing every event's JSON)") { r in
      guard let rebuild = r.rebuildSeconds, let floor = r.rawParseSeconds else { return ("—", nil) }
      let v = floor / rebuild
      return (x(v), v >= 0.5)
    }
    row("whole state ≤ 0.1× SQLite's window query time") { r in
      guard let state = r.stateSeconds, let sq = r.sqliteStateSeconds else { return ("—", nil) }
      let v = state / sq
      return (x(v), v <= 0.1)
    }
    row("time to the first entity out < 10 ms (timed as one entity(_:asOf:) of the state's first body: state(asOf:) returns everything at once)") { r in
      guard let s = r.firstEntitySeconds else { return ("—", nil) }
      return (fmt(s * 1000) + " ms", s * 1000 < 10)
    }
    row("an observation backdated before all K later values of its series ≤ 10× a forward one (K below)") { r in
      guard r.backdateRuns > 0 else { return ("—", nil) }
      let v = r.backdated.median / r.forward.median
      return (x(v) + " (K = \(integer(r.backdateValues)))", v <= 10)
    }
    row("(earlier target, kept) verify ≥ 1,000,000 events/s") { r in
      guard let v = r.rate(r.verifySeconds) else { return ("—", nil) }
      return (fmt(v) + "/s", v >= 1_000_000)
    }
    t.append("")
    if let first = results.first, let last = results.last, results.count > 1 {
      let v = (first.ledgerImportSeconds / Double(first.events)) / (last.ledgerImportSeconds / Double(last.events))
      t.append("- import rate at \(label(last.events)) ≥ 0.8× the rate at \(label(first.events)): \(String(format: "%.2f×", v)) \(mark(v >= 0.8))")
      if !first.ledgerAsOf.values.isEmpty, !last.ledgerAsOf.values.isEmpty {
        let a = last.ledgerAsOf.median / first.ledgerAsOf.median
        t.append("- as-of lookup p50 flat: at \(label(last.events)) ≤ 1.5× its p50 at \(label(first.events)): \(String(format: "%.2f×", a)) \(mark(a <= 1.5)) (p99: \(String(format: "%.2f×", last.ledgerAsOf.percentile(99) / first.ledgerAsOf.percentile(99))))")
      }
    } else {
      t.append("- import rate at the largest scale ≥ 0.8× the rate at the smallest, and as-of p50 flat (≤ 1.5×): need two scales or more")
    }
    t.append("- peak memory (max RSS) of a 1M-line import ≤ 1 GiB, and of `history --format json` flat in the series length: not measured in this process; write the lines with `--write-ndjson FILE --scales 1000000` and run `/usr/bin/time -v policy-ledger import FILE` on them")
    if membership.isEmpty { t.append("- membership-heavy figure (import rate and bytes per event flat across 10, 100, 1,000 seats): not run (`--membership 10,100,1000`)") }
    return t
  }

  /// The membership-heavy figure: one council per seat count, its roster churning.
  func membershipTable() -> [String] {
    var t: [String] = ["", "### Membership-heavy histories (one council, its roster churning)", ""]
    let n = membership.first?.events ?? 0
    t.append("Per seat count S: one council, its S first members appointed, then until \(integer(n)) events: half the steps a departure and the appointment of a new person to the freed seat, a quarter role changes, a quarter affiliation changes (1–3 affiliations each), effective dates spread evenly over 2001–2026. Imported in batches of \(membership.first?.batch ?? 0) (one `record` each), interleaved with raw LMDB writing the same records; bytes measured right after the import.")
    t.append("")
    t.append("| seats | events | people | import (events/s) | vs raw LMDB | bytes on disk/event | canonical bytes/event | bytes/canonical | the council as of the last day (ms) | run (s) |")
    t.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for m in membership {
      let lookup = m.bodyLookupSeconds.map { $0 * 1000 }
      t.append("| \(integer(m.seats)) | \(integer(m.events)) | \(integer(m.people)) | \(fmt(m.rate(m.ledgerImportSeconds))) | \(ratio(m.rate(m.ledgerImportSeconds), m.rate(m.rawImportSeconds))) | \(fmt(m.bytesPerEvent)) | \(fmt(m.canonicalPerEvent)) | \(ratio(m.bytesPerEvent, m.canonicalPerEvent)) | \(fmt(lookup)) | \(fmt(m.totalSeconds)) |")
    }
    t.append("")
    t.append("(people: everyone who ever held a seat; the council as of the last day: one `entity(body:…, asOf:)` with its roster of `seats` members, median of 21.)")
    t.append("")
    func mark(_ ok: Bool) -> String { ok ? "**met**" : "**missed**" }
    if membership.count > 1 {
      let rates = membership.map { Double($0.events) / $0.ledgerImportSeconds }
      let bytes = membership.map { $0.bytesPerEvent }
      let r = rates.max()! / rates.min()!
      let b = bytes.max()! / bytes.min()!
      t.append("- target: import rate and bytes per event flat (≤ 1.3× apart) across the seat counts: rate \(String(format: "%.2f×", r)) \(mark(r <= 1.3)), bytes per event \(String(format: "%.2f×", b)) \(mark(b <= 1.3))")
    } else {
      t.append("- target: import rate and bytes per event flat (≤ 1.3× apart) across the seat counts: needs two seat counts or more")
    }
    t.append("")
    let names = membership.flatMap { m in m.databases.map { $0.name } }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
    t.append("Bytes in pages per event, by named database:")
    t.append("")
    t.append("| database | " + membership.map { "\(integer($0.seats)) seats" }.joined(separator: " | ") + " |")
    t.append("|---|" + membership.map { _ in "---:|" }.joined())
    for name in names {
      var cells: [String] = []
      for m in membership {
        let d = m.databases.first { $0.name == name }
        cells.append(d.map { fmt(Double($0.bytes) / Double(m.events)) } ?? "—")
      }
      t.append("| \(name) | " + cells.joined(separator: " | ") + " |")
    }
    t.append("| data.mdb file | " + membership.map { fmt($0.bytesPerEvent) }.joined(separator: " | ") + " |")
    let types = membership.flatMap { $0.counts.keys }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }.sorted()
    t.append("")
    t.append("| events by type | " + membership.map { "\(integer($0.seats)) seats" }.joined(separator: " | ") + " |")
    t.append("|---|" + membership.map { _ in "---:|" }.joined())
    for type in types { t.append("| `\(type)` | " + membership.map { integer($0.counts[type] ?? 0) }.joined(separator: " | ") + " |") }
    return t
  }

  func replicationTable() -> [String] {
    var t: [String] = ["", "### Replication into PostgreSQL (`--replicate-url`)", "",
                       "`policy-ledger replicate` of the scale's ledger into a new database (its own `verify` of the ledger and process start included), against `COPY` of the same rows into a table of the same columns and indexes.", "",
                       "| events | replicate s | replicate events/s | COPY s | COPY rows/s | replicate ÷ COPY (rate) |",
                       "|---:|---:|---:|---:|---:|---:|"]
    for r in results {
      guard let p = r.replication, p.replicateSeconds > 0, p.copySeconds > 0 else { continue }
      let replicate = Double(p.events) / p.replicateSeconds
      let copy = Double(p.events) / p.copySeconds
      t.append("| \(p.events) | \(fmt(p.replicateSeconds)) | \(fmt(replicate)) | \(fmt(p.copySeconds)) | \(fmt(copy)) | \(String(format: "%.2f×", replicate / copy)) |")
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
