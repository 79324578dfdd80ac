public import PolicyLedgerDomain
public import PolicyLedgerEventLog
public import PolicyLedgerQuery

/// An indicator's chart as the ledger knew it: its observed values over their periods, the
/// baseline, the target (a line, with 将来的に/約 shown), corrected values marked with what they
/// replaced and retracted ones struck, as of a date and as known at a moment.
///
/// Read through the public query API (`CouncilLedger.entity`, `indicatorHistory`); ``svg()``
/// draws it as plain SVG text (no script, no external asset, presentation attributes rather
/// than CSS, so a strict Content-Security-Policy allows it). The same data give the same bytes.
public struct IndicatorChart: Sendable, Hashable {
  /// One recorded value.
  public struct Point: Sendable, Hashable {
    public enum Status: Sendable, Hashable {
      case inForce
      /// Corrected: `value` is the value in force, `replaced` the value first recorded.
      case corrected(replaced: LedgerDecimal, by: UInt64, reason: String?)
      /// Retracted: `value` is the withdrawn value.
      case retracted(by: UInt64, reason: String?)
    }
    public var sequence: UInt64
    public var value: LedgerDecimal
    public var period: ObservedPeriod?
    public var effective: EffectiveDate
    public var status: Status

    public init(sequence: UInt64, value: LedgerDecimal, period: ObservedPeriod?, effective: EffectiveDate, status: Status) {
      self.sequence = sequence; self.value = value; self.period = period; self.effective = effective; self.status = status
    }

    /// The period the value describes: its observed period, else its effective date.
    public var shownPeriod: ObservedPeriod { period ?? ObservedPeriod(effective) }
  }

  public var id: String
  public var name: LocalizedName
  public var group: String?
  public var unit: IndicatorUnit
  public var baseline: PeriodValue?
  public var target: LedgerDecimal?
  public var targetRule: TargetRule?
  public var targetPeriod: ObservedPeriod?
  public var points: [Point]
  public var asOf: CalendarDay?
  public var knownAt: KnowledgeTime
  /// Draw retracted values struck through (`true`) or leave them out.
  public var showsRetracted = true

  public init(id: String, name: LocalizedName, group: String? = nil, unit: IndicatorUnit, baseline: PeriodValue? = nil, target: LedgerDecimal? = nil,
              targetRule: TargetRule? = nil, targetPeriod: ObservedPeriod? = nil, points: [Point], asOf: CalendarDay? = nil, knownAt: KnowledgeTime = .latest) {
    self.id = id; self.name = name; self.group = group; self.unit = unit; self.baseline = baseline; self.target = target
    self.targetRule = targetRule; self.targetPeriod = targetPeriod; self.points = points; self.asOf = asOf; self.knownAt = knownAt
  }

  /// The chart of indicator `id` as of `asOf` (values effective on or before it; every value
  /// when `nil`) and as known at `knownAt`.
  /// - Throws: `ProjectionError.noSuchEntity` when the ledger knows no such indicator (then, or
  ///   on that date), or a storage error.
  /// - Complexity: O(k) for the k events of the indicator's stream.
  public init(ledger: CouncilLedger, indicator id: String, asOf: CalendarDay?, knownAt: KnowledgeTime = .latest) throws {
    var points: [Point] = []
    let latest = try ledger.indicatorHistory(id, knownAt: knownAt) { e in
      if let asOf, e.event.effective.firstDay > asOf { return }
      let status: Point.Status
      var value = e.current?.value ?? e.observed.value
      var period = e.current?.period ?? e.observed.period
      switch e.status {
      case .inForce, .superseded: status = .inForce
      case .corrected(let by):
        status = e.current.map { $0.value == e.observed.value ? .inForce : .corrected(replaced: e.observed.value, by: by.rawValue, reason: e.reason) }
          ?? .corrected(replaced: e.observed.value, by: by.rawValue, reason: e.reason)
      case .retracted(let by):
        status = .retracted(by: by.rawValue, reason: e.reason)
        value = e.observed.value
        period = e.observed.period
      }
      points.append(Point(sequence: e.event.sequence.rawValue, value: value, period: period, effective: e.event.effective, status: status))
    }
    // The definition as of the date asked about (a target revised later is not yet in force).
    let state: IndicatorState
    if let asOf {
      guard let then = try ledger.entity(.indicator(id), asOf: asOf, knownAt: knownAt)?.indicator else {
        throw ProjectionError.noSuchEntity("indicator:\(id)")
      }
      state = then
    } else {
      state = latest
    }
    self.init(id: id, name: state.name, group: state.group, unit: state.unit, baseline: state.baseline,
              target: state.target?.absoluteTarget(baseline: state.baseline?.value), targetRule: state.target,
              targetPeriod: state.targetPeriod, points: points, asOf: asOf, knownAt: knownAt)
  }

  /// Whether the series counts in fiscal years (年度): every period it shows is a 年度.
  public var isFiscal: Bool {
    var periods = points.map(\.shownPeriod)
    if let p = targetPeriod { periods.append(p) }
    if let p = baseline?.period { periods.append(p) }
    return DateStyle.isFiscal(periods)
  }

  /// The target as the slide words it: `将来的に30%以上`, `約15,000件`, `48,139.3人以上`.
  public var targetText: String? {
    guard let target else { return nil }
    var text = ""
    if targetRule?.eventually == true { text += "将来的に" }
    if targetRule?.approximate == true { text += "約" }
    text += target.grouped + unit.rawValue
    if targetRule?.atLeast ?? true { text += "以上" }
    return text
  }
}
