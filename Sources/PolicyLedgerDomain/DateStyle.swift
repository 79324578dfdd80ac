public import PolicyLedgerEventLog

/// How dates are printed for people: ISO (the canonical text, the default and always the form in
/// JSON), 和暦 (`令和2年3月26日`, `令和2年6月上旬`, `令和元年8月頃`, `令和2年度`) or Japanese with a
/// Gregorian year (`2020年3月26日`, `2020年6月上旬`, `2019年8月頃`, `2020年度`).
public enum DateStyle: String, Sendable, CaseIterable {
  case iso, wareki, japanese

  /// The environment variable read when a command is not told: `POLICY_LEDGER_DATES`.
  public static let environmentVariable = "POLICY_LEDGER_DATES"

  /// `date` in this style.
  public func text(_ date: EffectiveDate) -> String {
    switch self {
    case .iso: return date.description
    case .wareki: return date.warekiDescription
    case .japanese: return date.japaneseDescription
    }
  }

  /// A period (`FY2019`, `2015/2017`) in this style; a range is joined by `～` outside ISO.
  public func text(_ period: ObservedPeriod) -> String {
    switch self {
    case .iso: return period.description
    case .wareki, .japanese:
      return period.last.map { text(period.first) + "～" + text($0) } ?? text(period.first)
    }
  }

  /// The axis or column label of a fiscal series: `年度` when every period is a fiscal year.
  public static func isFiscal(_ periods: [ObservedPeriod]) -> Bool {
    !periods.isEmpty && periods.allSatisfy { $0.first.precision == .fiscalYear && ($0.last?.precision ?? .fiscalYear) == .fiscalYear }
  }
}
