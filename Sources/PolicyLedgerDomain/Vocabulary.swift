public import PolicyLedgerEventLog

/// A closed vocabulary stored as its raw string (`expert-panel`, `人`). Reading a word that is
/// not in it fails naming every word it accepts, rather than with `Codable`'s generic message.
public protocol VocabularyTerm: RawRepresentable, CaseIterable, Codable where RawValue == String {}

extension VocabularyTerm {
  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    guard let value = Self(rawValue: text) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                              debugDescription: "\"\(text)\" is not one of: \(Self.allCases.map(\.rawValue).joined(separator: ", "))"))
    }
    self = value
  }
}

/// A name in Japanese, with an optional English rendering.
public struct LocalizedName: Codable, Hashable, Sendable, CustomStringConvertible {
  /// The Japanese name as printed (総合科学技術・イノベーション会議).
  public var ja: String
  /// The English name, when known (Council for Science, Technology and Innovation).
  public var en: String?
  public init(ja: String, en: String? = nil) { self.ja = ja; self.en = en }
  public var description: String { en.map { "\(ja) (\($0))" } ?? ja }
}

/// What kind of body (会議体) a body is.
public enum BodyKind: String, VocabularyTerm, Sendable {
  /// A council such as CSTI (会議).
  case council
  /// An expert panel (専門調査会) such as 基本計画専門調査会.
  case expertPanel = "expert-panel"
  /// A working group (WG) under a panel.
  case workingGroup = "working-group"
  /// Anything else (the Cabinet, a strategy headquarters, a study group).
  case other

  /// The Japanese term.
  public var japanese: String {
    switch self {
    case .council: "会議"
    case .expertPanel: "専門調査会"
    case .workingGroup: "WG"
    case .other: "その他"
    }
  }
}

/// The kind of a decision or other council action. Raw values are the ledger's codes; the
/// Japanese terms (諮問, 答申…) are accepted on input by ``init(lenient:)``.
public enum DecisionKind: String, VocabularyTerm, Sendable {
  /// 諮問: a consultation request (from the Prime Minister to the council).
  case consultation
  /// 報告: a report.
  case report
  /// 中間まとめ: an interim summary.
  case interimSummary = "interim-summary"
  /// 答申: the council's formal reply (recommendation).
  case recommendation
  /// 決定: a decision of the body.
  case decision
  /// 閣議決定: a Cabinet decision.
  case cabinetDecision = "cabinet-decision"
  /// パブリックコメント: a public-comment period.
  case publicComment = "public-comment"
  /// レビューまとめ: a review summary.
  case reviewSummary = "review-summary"
  /// 会合: a meeting of the body.
  case meeting
  /// Anything else.
  case other

  /// The Japanese term as the slides print it.
  public var japanese: String {
    switch self {
    case .consultation: "諮問"
    case .report: "報告"
    case .interimSummary: "中間まとめ"
    case .recommendation: "答申"
    case .decision: "決定"
    case .cabinetDecision: "閣議決定"
    case .publicComment: "パブリックコメント"
    case .reviewSummary: "レビューまとめ"
    case .meeting: "会合"
    case .other: "その他"
    }
  }

  /// Reads a code (`cabinet-decision`) or the Japanese term (`閣議決定`).
  public init?(lenient text: String) {
    if let k = DecisionKind(rawValue: text) { self = k; return }
    guard let k = DecisionKind.allCases.first(where: { $0.japanese == text }) else { return nil }
    self = k
  }
}

/// A member's role on a body.
public enum MemberRole: String, VocabularyTerm, Sendable {
  /// 会長: the chair.
  case chair
  /// 総合科学技術・イノベーション会議議員: a CSTI executive member (有識者議員).
  case executiveMember = "executive-member"
  /// 専門委員: an expert member.
  case expertMember = "expert-member"
  /// アドバイザー: an advisor.
  case advisor
  /// 委員: any other member.
  case member

  /// The Japanese term as the membership slide prints it.
  public var japanese: String {
    switch self {
    case .chair: "会長"
    case .executiveMember: "議員"
    case .expertMember: "専門委員"
    case .advisor: "アドバイザー"
    case .member: "委員"
    }
  }

  /// Reads a code (`expert-member`) or the Japanese term (`専門委員`).
  public init?(lenient text: String) {
    if let r = MemberRole(rawValue: text) { self = r; return }
    if text == "総合科学技術・イノベーション会議議員" { self = .executiveMember; return }
    guard let r = MemberRole.allCases.first(where: { $0.japanese == text }) else { return nil }
    self = r
  }
}

/// The unit of an indicator's values, as the seed prints them.
public enum IndicatorUnit: String, VocabularyTerm, Sendable {
  /// 人: people.
  case people = "人"
  /// %: percent.
  case percent = "%"
  /// 億円: 10⁸ yen.
  case oku = "億円"
  /// 兆円: 10¹² yen.
  case cho = "兆円"
  /// 百万円: 10⁶ yen.
  case millionYen = "百万円"
  /// 件: a count of cases (patents, listings).
  case count = "件"

  /// Why `value` cannot be a value in this unit, or `nil`: counts of people (人) and cases (件)
  /// are whole numbers, never negative; amounts of money (億円, 兆円, 百万円) are never negative.
  /// Percentages may be anything (a change can be negative).
  public func problem(with value: LedgerDecimal) -> String? {
    switch self {
    case .people, .count:
      if value.isNegative { return "a count in \(rawValue) cannot be negative (\(value))" }
      if value.normalized.scale > 0 { return "a count in \(rawValue) is a whole number (\(value))" }
    case .oku, .cho, .millionYen:
      if value.isNegative { return "an amount in \(rawValue) cannot be negative (\(value))" }
    case .percent: break
    }
    return nil
  }

  /// Reads the unit, accepting the full-width percent sign `％`.
  public init?(lenient text: String) {
    if text == "％" { self = .percent; return }
    self.init(rawValue: text)
  }
}

/// How the slide expresses change from the baseline.
public enum ChangeTerms: String, VocabularyTerm, Sendable {
  /// `9.2%増加`: percent, rounded half away from zero to one decimal.
  case percent
  /// `7.3割増加`, `0.1割減少`: tenths (割 = 10%), rounded half away from zero to one decimal.
  case wari
  /// `1.1倍`, `0.9倍`: a ratio, cut to one decimal (the slide prints 604/632 = 0.956 as 0.9倍).
  case bai
}

/// The period an observation describes: a single date at its precision (`FY2019`, `2018`), or
/// a range such as `2015/2017` (a multi-year average). Canonical text: the date, or two dates
/// joined by `/`.
public struct ObservedPeriod: Codable, Hashable, Sendable, CustomStringConvertible {
  public let first: EffectiveDate
  /// The end of a range, or `nil` for a single period.
  public let last: EffectiveDate?

  public init(_ first: EffectiveDate, through last: EffectiveDate? = nil) {
    self.first = first
    self.last = last
  }

  /// Reads the canonical text (`FY2020`, `2015/2017`), or any form ``EffectiveDate/init(parsing:)``
  /// and ``parseDateRange(_:)`` take.
  public init(parsing text: String) throws(DateInputError) {
    if let single = EffectiveDate(canonical: text) { self.init(single); return }
    let parts = text.split(separator: "/")
    if parts.count == 2, let a = EffectiveDate(canonical: String(parts[0])), let b = EffectiveDate(canonical: String(parts[1])) {
      self.init(a, through: b)
      return
    }
    let singleError: DateInputError
    do throws(DateInputError) { self.init(try EffectiveDate(parsing: text)); return } catch { singleError = error }
    do throws(DateInputError) {
      let range = try parseDateRange(text)
      self.init(range.first, through: range.last)
    } catch {
      // One date without its year (6月上旬) is better told so than "not a date range".
      throw singleError.verdict == "needs a year" ? singleError : error
    }
  }

  public var description: String { last.map { "\(first)/\($0)" } ?? first.description }

  /// Japanese rendering: `2020年度`, `2015年～2017年`.
  public var japaneseDescription: String {
    last.map { "\(first.japaneseDescription)～\($0.japaneseDescription)" } ?? first.japaneseDescription
  }

  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    do { try self.init(parsing: text) } catch {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(description)
  }
}

/// A value with the period it describes: a baseline (基準年値) or a reference value (参考値).
public struct PeriodValue: Codable, Hashable, Sendable {
  public var value: LedgerDecimal
  public var period: ObservedPeriod?
  public init(value: LedgerDecimal, period: ObservedPeriod? = nil) { self.value = value; self.period = period }
}

/// How an indicator's target is set, in the seed's terms.
///
/// - relative to the baseline: `1割増加` is factor 1.1, `5割増加` 1.5, `2倍` 2;
/// - absolute: `30%`, `15%`;
/// - flags: `atLeast` (以上; every increase target is met when the value reaches it),
///   `eventually` (将来的に: no date), `approximate` (約).
public struct TargetRule: Codable, Hashable, Sendable {
  public enum Rule: String, VocabularyTerm, Sendable { case relative, absolute }
  public var rule: Rule
  /// The factor for a relative target (1.1 for 1割増加).
  public var factor: LedgerDecimal?
  /// The value for an absolute target.
  public var value: LedgerDecimal?
  /// Met when the value reaches the target or more (以上). Default true.
  public var atLeast: Bool?
  /// A target with no date (将来的に).
  public var eventually: Bool?
  /// An approximate target (約).
  public var approximate: Bool?
  /// The slide's own words, such as `1割増加（48,139人）`.
  public var statedAs: String?
  /// The absolute number the slide prints for the target, such as 48139 or 15000.
  public var printedValue: LedgerDecimal?

  public init(rule: Rule, factor: LedgerDecimal? = nil, value: LedgerDecimal? = nil, atLeast: Bool? = nil, eventually: Bool? = nil, approximate: Bool? = nil, statedAs: String? = nil, printedValue: LedgerDecimal? = nil) {
    self.rule = rule; self.factor = factor; self.value = value; self.atLeast = atLeast
    self.eventually = eventually; self.approximate = approximate; self.statedAs = statedAs; self.printedValue = printedValue
  }

  /// The target as an absolute number: baseline × factor for a relative rule (43,763 × 1.1 =
  /// 48,139.3, exactly), the value for an absolute one; `nil` when a relative rule has no baseline
  /// (or the product does not fit in a decimal).
  public func absoluteTarget(baseline: LedgerDecimal?) -> LedgerDecimal? {
    switch rule {
    case .absolute: return value
    case .relative:
      guard let baseline, let factor else { return nil }
      return baseline.multiplied(by: factor)
    }
  }

  /// Whether `latest` has reached the target (注1 of the slide: 最新値が目標値に到達).
  public func isAchieved(latest: LedgerDecimal, baseline: LedgerDecimal?) -> Bool? {
    guard let target = absoluteTarget(baseline: baseline) else { return nil }
    return (atLeast ?? true) ? latest >= target : latest <= target
  }

  /// Why the rule is incomplete, or `nil`.
  public var validationError: String? {
    switch rule {
    case .relative:
      if factor == nil { return "a relative target needs a factor (1.1 for 1割増加)" }
      if value != nil { return "a relative target has a factor, not a value" }
    case .absolute:
      if value == nil { return "an absolute target needs a value" }
      if factor != nil { return "an absolute target has a value, not a factor" }
    }
    return nil
  }
}
