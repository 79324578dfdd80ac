import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

/// The backdating figure: what one observation recorded before every value of a long series
/// costs, against one recorded after them.
///
/// A fresh indicator `bench-backdate` is defined effective 1990-01-01 and given `values` daily
/// observations effective from 1991-01-01 on (one per day, each for its own day; recorded in
/// batches of `batch`, untimed). Then, `runs` times and interleaved: one observation effective
/// 1990-06-15 for the period 1990, before all of them (the indicator is defined by then), and
/// one effective the day after the last value so far. Each is one `record([entry])`: one
/// validated, projected, durable write transaction.
func measureBackdating(_ ledger: CouncilLedger, values k: Int, batch: Int, runs: Int, label: String, into result: inout ScaleResult) throws {
  let id = "bench-backdate"
  let first = dayNumber(1991, 1, 1)
  func observation(_ value: Int, effective: EffectiveDate, period: EffectiveDate) -> CouncilLedger.Entry {
    .init(.indicatorObserved(.init(indicator: id, value: LedgerDecimal(value), unit: .count, period: ObservedPeriod(period))),
          effective: effective, actor: "secretariat", source: "bench")
  }
  let defined = CouncilLedger.Entry(
    .indicatorDefined(.init(indicator: id, name: .init(ja: "遡及記録の計測用指標", en: "Backdating benchmark"), unit: .count,
                            baseline: PeriodValue(value: LedgerDecimal(1000), period: ObservedPeriod(.year(1989)!)),
                            target: TargetRule(rule: .absolute, value: LedgerDecimal(2000), atLeast: true))),
    effective: .day(1990, 1, 1)!, actor: "secretariat", source: "bench")
  try ledger.record([defined])
  progress("[\(label)] backdating: recording \(integer(k)) values of \(id)…")
  var recorded = 0
  while recorded < k {
    let entries = (recorded..<min(k, recorded + batch)).map { i in
      let day = EffectiveDate.day(calendarDay(first + i))
      return observation(1000 + i % 977, effective: day, period: day)
    }
    try ledger.record(entries)
    recorded += entries.count
  }
  var next = first + k
  // One untimed pair first (warms the pages both paths read).
  let early = EffectiveDate.day(1990, 6, 15)!
  try ledger.record([observation(999, effective: early, period: .year(1990)!)])
  try ledger.record([observation(1001, effective: .day(calendarDay(next)), period: .day(calendarDay(next)))])
  next += 1
  for i in 0..<runs {
    var t = nowNanos()
    try ledger.record([observation(900 + i, effective: early, period: .year(1990)!)])
    result.backdated.add(nowNanos() - t)
    let day = EffectiveDate.day(calendarDay(next))
    t = nowNanos()
    try ledger.record([observation(1100 + i, effective: day, period: day)])
    result.forward.add(nowNanos() - t)
    next += 1
  }
  result.backdateValues = k
  result.backdateRuns = runs
  // The series must hold what was recorded: every value, the early ones first.
  let series = try ledger.indicatorHistory(id).entries
  guard series.count == k + 2 + 2 * runs else { throw BenchError(description: "\(id) has \(series.count) values, not \(k + 2 + 2 * runs)") }
}
