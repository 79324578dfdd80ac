import Foundation
public import PolicyLedgerEventLog

// Reading dates as people write them: ISO forms, 2020年3月26日, 和暦 (令和2年3月26日, R2.3.26), 旬, 年度,
// approximate dates (頃, 目途), ranges (H26～R1), and moments for --known-at.
//
// Era boundaries are public facts (the Gregorian dates of each 改元):
//
// | era | letter | first day | last day |
// |---|---|---|---|
// | 明治 Meiji | M | 1868-10-23 (the 改元; the era was made retroactive to 1868-01-25) | 1912-07-29 |
// | 大正 Taisho | T | 1912-07-30 | 1926-12-24 |
// | 昭和 Showa | S | 1926-12-25 | 1989-01-07 |
// | 平成 Heisei | H | 1989-01-08 | 2019-04-30 |
// | 令和 Reiwa | R | 2019-05-01 | — |
//
// Era year N of an era whose first day falls in calendar year Y is calendar year Y + N − 1 (令和2年 = 2020,
// 平成31年 = 2019); year 1 is written 元年. Month, day and 旬 are read as Gregorian (before 1873 Japan used a
// lunisolar calendar; those dates are not converted).

// MARK: - Error

/// Why a date, time or date range written by a user could not be read.
///
/// ``description`` is one sentence that quotes the input and says why:
///
/// - `"2020-02-30" is not a date: February 2020 has 29 days`
/// - `"平成32年" is not a date: the Heisei era ended on 2019-04-30 (平成31年4月30日)`
/// - `"令和0年" is not a date: era years start at 1 (元年)`
/// - `"8月頃" needs a year: write 2020年8月頃`
/// - `"2026-11-29T25:00Z" is not a time: there is no hour 25 (00–23)`
/// - `"2017～2015" is not a date range: it ends (2015) before it starts (2017)`
public struct DateInputError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The text exactly as the user gave it.
  public let input: String
  /// Why it could not be read, without the quoted input, e.g. `February 2020 has 29 days`.
  public let reason: String
  /// What the input failed to be: "is not a date", "needs a year", "is not a time", "is not a date range".
  let verdict: String

  /// An error for `input` that "is not a date" because of `reason`.
  public init(input: String, reason: String) {
    self.init(input: input, verdict: "is not a date", reason: reason)
  }

  init(input: String, verdict: String, reason: String) {
    self.input = input
    self.verdict = verdict
    self.reason = reason
  }

  /// `"<input>" is not a date: <reason>` (or `needs a year`, `is not a time`, `is not a date range`).
  public var description: String { "\"\(input)\" \(verdict): \(reason)" }
}

// MARK: - Public API

extension EffectiveDate {
  /// Reads a date as users write it. Leading and trailing whitespace is ignored; full-width digits (０-９),
  /// letters (Ｒ, ＦＹ) and separators (／ ． －) are read as their ASCII forms.
  ///
  /// Accepted forms (each may end in one approximation mark `頃`, `ごろ`, `ころ`, `目途`, `目処`, `めど`, `~`,
  /// `～` or `〜`, which sets ``isApproximate``; the canonical text ``EffectiveDate/init(canonical:)`` reads is
  /// accepted as is):
  ///
  /// | written | precision | canonical |
  /// |---|---|---|
  /// | `2020-03-26`, `2020/3/26`, `2020.3.26`, `2020-3-26` | day | `2020-03-26` |
  /// | `2020-06-D1`, `2020年6月上旬` (中旬, 下旬; 初旬 = 上旬), `2020年6月上`, `2020年6/上`, `2020/6/上` | dekad (旬) | `2020-06-D1` |
  /// | `2020-06`, `2020/6`, `2020.6`, `2020年6月` | month | `2020-06` |
  /// | `FY2020`, `fy2020`, `FY 2020`, `2020年度` | fiscal year (April–March) | `FY2020` |
  /// | `2020`, `2020年` | year | `2020` |
  /// | `2020年内`, `2020年内目途` (by the end of the year) | year, approximate | `2020~` |
  /// | `2020年度内` (within the fiscal year) | fiscal year, approximate | `FY2020~` |
  /// | `令和2年3月26日`, `令和元年5月`, `平成31年4月上旬`, `令和2年度`, `令和元年` | as above, 和暦 | |
  /// | `R2.3.26`, `R2/3/26`, `H31.4.30`, `R2.3`, `R1`, `R2年度`, `S64.1.7`, `T15`, `M45` | as above, abbreviated era (any case) | |
  ///
  /// Era boundaries are public facts: 明治 from 1868-10-23 (the 改元; retroactive to 1868-01-25, which this
  /// reader does not apply), 大正 from 1912-07-30, 昭和 from 1926-12-25, 平成 1989-01-08 … 2019-04-30,
  /// 令和 from 2019-05-01. Era year N is calendar year (first year of the era) + N − 1; 元年 is year 1.
  /// A date written in an era must overlap that era: 平成31年4月 and 令和元年5月 are read, 平成31年5月 and
  /// 令和元年4月 are not. An era fiscal year must start in a calendar year of the era (平成31年度 = FY2019 is
  /// read; 平成32年度 is not).
  ///
  /// - Throws: ``DateInputError`` for an empty or unreadable text, a date that does not exist (`2020-02-30`,
  ///   `2020-13-01`), an era year outside its era (`平成32年`, `令和0年`, `平成元年1月7日`), a month or day with
  ///   no year (`8月頃`, `3/26`: "needs a year"), a two-digit Gregorian year, or a year outside 1…9999.
  public init(parsing text: String) throws(DateInputError) {
    self = try DateInputParser.effectiveDate(text)
  }

  /// The date in 和暦, as Japanese government documents print it: `令和2年3月26日`, `令和元年5月`,
  /// `平成31年4月上旬`, `令和2年度`, `令和2年`, with `頃` appended when approximate. Year 1 of an era is `元年`.
  ///
  /// The era is the one in force on the period's last day (so 2019 is `令和元年`, FY2019 is `令和元年度`, and
  /// 1989年1月 is `平成元年1月`), unless that era began after the period's year (FY1988 is `昭和63年度`).
  /// A period wholly before 明治 (1868-10-23) is printed in the Gregorian calendar, as ``japaneseDescription``
  /// does but with a four-digit year (`1800年`, `0800年`).
  /// ``init(parsing:)`` reads every output back to the same value.
  public var warekiDescription: String {
    let yearText: String
    if let era = JapaneseEra.naming(self) {
      yearText = era.yearText(year)
    } else {
      // Before 明治: the Gregorian year, with four digits so that the text reads back.
      let digits = String(year)
      yearText = String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
    return japaneseDescription(yearText: yearText)
  }
}

extension LedgerTimestamp {
  /// Reads a moment for `--known-at`.
  ///
  /// - An ISO 8601 moment: `2026-11-29T12:00:00Z`, `2026-11-29T12:00:00.123456Z`, `2026-11-29T21:00:00+09:00`,
  ///   `2026-11-29T21:00+09:00`, `2026-11-29 21:00`. The zone is `Z`, `±HH:MM`, `±HHMM`, `±HH`, `UTC` or `JST`;
  ///   with no zone the time is Japan Standard Time (UTC+9). Seconds are optional; a fraction is read to the
  ///   microsecond (further digits are dropped). The day may be written in any day form that
  ///   ``EffectiveDate/init(parsing:)`` reads (`令和8年11月29日 21:00`).
  /// - A date alone, in any form ``EffectiveDate/init(parsing:)`` reads (`2020-03-26`, `令和2年3月26日`,
  ///   `2020-06`, `FY2020`): the end of the period's last day in Japan Standard Time, i.e. its
  ///   ``EffectiveDate/lastDay`` at 23:59:59.999999 +09:00 (`2020-03-26` → `2020-03-26T14:59:59.999999Z`).
  ///
  /// - Throws: ``DateInputError`` for unreadable text, an impossible day, hour (24), minute, second (60) or
  ///   offset, or a time attached to something coarser than a day (`2026-11 21:00`).
  public init(parsing text: String) throws(DateInputError) {
    self = try DateInputParser.timestamp(text)
  }
}

/// Reads a range of dates such as `H26～R1`, `2015年-2017年`, `2015–2017`, `FY2015/FY2017` or `2015/2017`.
///
/// The two ends are separated by one of `～ 〜 ~ - – — /` (spaces around it are ignored) and each is read by
/// ``EffectiveDate/init(parsing:)``, so each keeps its own precision: `H26～R1` is (`2014`, `2019`).
/// Because `-`, `/` and `~` also occur inside dates, every separator position is tried (`～ 〜 ~ – —` before
/// `- /`, left to right) and the first split whose two sides both read is taken: `2015-03～2017-05`,
/// `2015-03-2017-05` and `2019-08~~2020` (approximate start) all work.
///
/// - Throws: ``DateInputError`` when no split reads as two dates (the reason quotes the failing side, or says
///   the text is a single date), or when the last date orders before the first (`EffectiveDate`'s `<`: by
///   first day, then last day; so `2019年5月～2019年` is rejected).
public func parseDateRange(_ text: String) throws(DateInputError) -> (first: EffectiveDate, last: EffectiveDate) {
  try DateInputParser.dateRange(text)
}

// MARK: - Eras

/// A Japanese era (元号) from 明治 on, with its Gregorian first and last days.
struct JapaneseEra: Sendable {
  let kanji: String
  /// The one-letter abbreviation (M, T, S, H, R), uppercase.
  let letter: Unicode.Scalar
  let name: String
  let first: CalendarDay
  /// `nil` for the current era.
  let last: CalendarDay?

  /// Oldest first.
  static let all: [JapaneseEra] = [
    JapaneseEra(kanji: "明治", letter: "M", name: "Meiji", first: known(1868, 10, 23), last: known(1912, 7, 29)),
    JapaneseEra(kanji: "大正", letter: "T", name: "Taisho", first: known(1912, 7, 30), last: known(1926, 12, 24)),
    JapaneseEra(kanji: "昭和", letter: "S", name: "Showa", first: known(1926, 12, 25), last: known(1989, 1, 7)),
    JapaneseEra(kanji: "平成", letter: "H", name: "Heisei", first: known(1989, 1, 8), last: known(2019, 4, 30)),
    JapaneseEra(kanji: "令和", letter: "R", name: "Reiwa", first: known(2019, 5, 1), last: nil),
  ]

  /// A constant day of the table above (all valid, so the fallback is never used).
  private static func known(_ year: Int, _ month: Int, _ day: Int) -> CalendarDay {
    CalendarDay(year: year, month: month, day: day) ?? CalendarDay(daysSinceEpoch: 0)
  }

  /// The calendar year of era year `eraYear` (1 = 元年).
  func calendarYear(ofEraYear eraYear: Int) -> Int { first.year + eraYear - 1 }

  /// `令和元` for the era's first calendar year, `令和2` for the next.
  func yearText(_ calendarYear: Int) -> String {
    let eraYear = calendarYear - first.year + 1
    return kanji + (eraYear == 1 ? "元" : String(eraYear))
  }

  /// `平成31年4月30日`.
  func wareki(_ day: CalendarDay) -> String { "\(yearText(day.year))年\(day.month)月\(day.day)日" }

  func contains(_ day: CalendarDay) -> Bool { first <= day && (last.map { day <= $0 } ?? true) }

  /// The era in force on `day`, or `nil` before 明治.
  static func containing(_ day: CalendarDay) -> JapaneseEra? { all.last { $0.contains(day) } }

  /// The era `warekiDescription` names a period by: the one in force on its last day, unless that era began
  /// after the period's year (then the one in force on its first day).
  static func naming(_ date: EffectiveDate) -> JapaneseEra? {
    if let era = containing(date.lastDay), date.year >= era.first.year { return era }
    return containing(date.firstDay)
  }

  var beganReason: String { "the \(name) era began on \(first) (\(wareki(first)))" }
  var endedReason: String {
    guard let last else { return "the \(name) era has not ended" }
    return "the \(name) era ended on \(last) (\(wareki(last)))"
  }
}

// MARK: - Parsing

/// One piece of a date as written.
enum DateToken: Equatable {
  /// An era name or letter: an index into ``JapaneseEra/all``.
  case era(Int)
  /// `FY` (any case).
  case fiscalPrefix
  /// ASCII digits.
  case number(String)
  /// 元 (year 1 of an era).
  case gan
  case yearMark, fiscalYearMark, monthMark, dayMark
  /// 上旬 / 中旬 / 下旬 (or 上 / 中 / 下, 初旬): 1, 2, 3.
  case dekad(Int)
  /// `D1`…: the digits after `D`.
  case dekadCode(String)
  /// `/`, `.` or `-`.
  case separator(Unicode.Scalar)
}

enum DateInputParser {
  typealias Scalars = [Unicode.Scalar]

  static let examples = "2020-03-26, 2020/3/26, 2020年3月26日, 2020年6月上旬, 2020年度, 令和2年3月26日, R2.3.26 or FY2020"
  static let unreadable = "it is not in a form this tool reads; write e.g. \(examples)"
  static let timeExamples = "2026-11-29T12:00:00Z, 2026-11-29T21:00+09:00, 2026-11-29 21:00 (Japan time) or a date such as 2026-11-29 (the end of that day, Japan time)"
  static let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                           "October", "November", "December"]
  /// Marks that make a date approximate when they end it.
  static let approximateMarks = ["頃", "ごろ", "ころ", "目途", "目処", "めど", "~", "〜"]

  // MARK: Text helpers

  /// The text's scalars with full-width ASCII (digits, letters, ／．－：＋～) made ASCII, other dashes made `-`,
  /// era ligatures (㍻ …) spelled out, and surrounding whitespace removed.
  static func normalize(_ text: String) -> Scalars {
    var out: Scalars = []
    out.reserveCapacity(text.unicodeScalars.count)
    for c in text.unicodeScalars {
      switch c.value {
      case 0xFF01...0xFF5E: out.append(Unicode.Scalar(c.value - 0xFEE0) ?? c)
      case 0x3000: out.append(" ")
      case 0x2010, 0x2011, 0x2212: out.append("-")
      case 0x337E: out.append(contentsOf: "明治".unicodeScalars)
      case 0x337D: out.append(contentsOf: "大正".unicodeScalars)
      case 0x337C: out.append(contentsOf: "昭和".unicodeScalars)
      case 0x337B: out.append(contentsOf: "平成".unicodeScalars)
      case 0x32FF: out.append(contentsOf: "令和".unicodeScalars)
      default: out.append(c)
      }
    }
    return trimmed(out)
  }

  static func trimmed(_ s: some Collection<Unicode.Scalar>) -> Scalars {
    Array(s.drop(while: \.properties.isWhitespace).reversed().drop(while: \.properties.isWhitespace).reversed())
  }

  static func string(_ s: some Sequence<Unicode.Scalar>) -> String {
    var view = String.UnicodeScalarView()
    view.append(contentsOf: s)
    return String(view)
  }

  static func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 0x30 && c.value <= 0x39 }

  static func hasSuffix(_ s: Scalars, _ suffix: String) -> Bool {
    let tail = Array(suffix.unicodeScalars)
    return s.count >= tail.count && Array(s.suffix(tail.count)) == tail
  }

  /// The value of ASCII digits, or `nil` when it has more than nine significant digits (never overflows).
  static func boundedInt(_ digits: String) -> Int? {
    let significant = digits.drop { $0 == "0" }
    guard significant.count <= 9 else { return nil }
    return significant.isEmpty ? 0 : Int(significant)
  }

  /// The text without one trailing approximation mark (and the whitespace before it), or `nil` if it has none.
  static func strippingApproximateMark(_ s: Scalars) -> Scalars? {
    for mark in approximateMarks where hasSuffix(s, mark) {
      return trimmed(s.dropLast(mark.unicodeScalars.count))
    }
    return nil
  }

  // MARK: EffectiveDate

  static func effectiveDate(_ input: String) throws(DateInputError) -> EffectiveDate {
    func fail(_ reason: String) -> DateInputError { DateInputError(input: input, reason: reason) }
    var s = normalize(input)
    guard !s.isEmpty else { throw fail("it is empty; write e.g. \(examples)") }
    if let canonical = EffectiveDate(canonical: string(s)) { return canonical }
    var approximate = false
    if let body = strippingApproximateMark(s) {
      approximate = true
      s = body
      if strippingApproximateMark(s) != nil { throw fail("it marks the date as approximate more than once") }
    }
    // 年内 (by the end of the year) and 年度内 (within the fiscal year) are approximate years / fiscal years.
    if hasSuffix(s, "年内") || hasSuffix(s, "年度内") {
      s.removeLast()
      approximate = true
    }
    guard !s.isEmpty else { throw fail("it has an approximation mark but no date; write e.g. 2019年8月頃") }
    let tokens = try tokenize(s, input: input)
    return try DateBodyReader(input: input, tokens: tokens, approximate: approximate).read()
  }

  static func tokenize(_ s: Scalars, input: String) throws(DateInputError) -> [DateToken] {
    var tokens: [DateToken] = []
    var i = 0
    func next(_ k: Int = 1) -> Unicode.Scalar? { i + k < s.count ? s[i + k] : nil }
    /// The first scalar after `i` that is not whitespace.
    func nextSolid() -> Unicode.Scalar? {
      var j = i + 1
      while j < s.count, s[j].properties.isWhitespace { j += 1 }
      return j < s.count ? s[j] : nil
    }
    func upper(_ c: Unicode.Scalar?) -> Unicode.Scalar? {
      guard let c else { return nil }
      return (0x61...0x7A).contains(c.value) ? Unicode.Scalar(c.value - 0x20) : c
    }
    while i < s.count {
      let c = s[i]
      if c.properties.isWhitespace { i += 1; continue }
      if isDigit(c) {
        var j = i
        while j < s.count, isDigit(s[j]) { j += 1 }
        tokens.append(.number(string(s[i..<j])))
        i = j
        continue
      }
      switch c {
      case "元": tokens.append(.gan); i += 1
      case "年":
        if next() == "度" { tokens.append(.fiscalYearMark); i += 2 } else { tokens.append(.yearMark); i += 1 }
      case "月": tokens.append(.monthMark); i += 1
      case "日": tokens.append(.dayMark); i += 1
      case "上", "中", "下":
        tokens.append(.dekad(c == "上" ? 1 : c == "中" ? 2 : 3))
        i += next() == "旬" ? 2 : 1
      case "初" where next() == "旬":
        tokens.append(.dekad(1)); i += 2
      case "/", ".", "-": tokens.append(.separator(c)); i += 1
      default:
        if let two = next(), let era = JapaneseEra.all.firstIndex(where: { $0.kanji == string([c, two]) }) {
          tokens.append(.era(era)); i += 2
        } else if tokens.isEmpty, upper(c) == "F", upper(next()) == "Y" {
          tokens.append(.fiscalPrefix); i += 2
        } else if tokens.isEmpty, let era = JapaneseEra.all.firstIndex(where: { $0.letter == upper(c) }),
                  let after = nextSolid(), isDigit(after) || after == "元" {
          tokens.append(.era(era)); i += 1
        } else if upper(c) == "D", case .separator? = tokens.last, let d = next(), isDigit(d) {
          var j = i + 1
          while j < s.count, isDigit(s[j]) { j += 1 }
          tokens.append(.dekadCode(string(s[(i + 1)..<j])))
          i = j
        } else {
          throw DateInputError(input: input, reason: unreadable)
        }
      }
    }
    return tokens
  }

  // MARK: LedgerTimestamp

  static let microsPerDay: Int64 = 86_400_000_000
  static let japanOffsetSeconds = 9 * 3600

  static func timestamp(_ input: String) throws(DateInputError) -> LedgerTimestamp {
    func fail(_ reason: String) -> DateInputError { DateInputError(input: input, verdict: "is not a time", reason: reason) }
    let s = normalize(input)
    guard !s.isEmpty else { throw fail("it is empty; write e.g. \(timeExamples)") }
    if let canonical = LedgerTimestamp(canonical: string(s)) { return canonical }

    guard let colon = s.firstIndex(of: ":") else {
      // A date alone: the end of its last day, Japan time.
      let date = try effectiveDate(input)
      let endOfDayUTC = (Int64(date.lastDay.daysSinceEpoch) + 1) * microsPerDay
      return LedgerTimestamp(microseconds: endOfDayUTC - Int64(japanOffsetSeconds) * 1_000_000 - 1)
    }

    // The hour is the run of digits just before the first colon; before it comes `T` or whitespace.
    var hourStart = colon
    while hourStart > 0, isDigit(s[hourStart - 1]) { hourStart -= 1 }
    guard (1...2).contains(colon - hourStart), hourStart >= 2 else { throw fail(unreadableTime) }
    let joiner = s[hourStart - 1]
    guard joiner == "T" || joiner == "t" || joiner.properties.isWhitespace else { throw fail(unreadableTime) }
    let dateText = string(trimmed(s[..<(hourStart - 1)]))
    let date: EffectiveDate
    do throws(DateInputError) {
      date = try effectiveDate(dateText)
    } catch {
      throw fail(error.verdict == "is not a date" ? error.reason : "\"\(dateText)\" \(error.verdict): \(error.reason)")
    }
    guard date.precision == .day, !date.isApproximate else {
      throw fail("a time needs a whole day before it, not \(date); write e.g. 2026-11-29 21:00")
    }

    var i = colon + 1
    /// Exactly two digits at `i`.
    func twoDigits() -> Int? {
      guard i + 1 < s.count, isDigit(s[i]), isDigit(s[i + 1]) else { return nil }
      defer { i += 2 }
      return Int(s[i].value - 0x30) * 10 + Int(s[i + 1].value - 0x30)
    }
    let hour = Int(string(s[hourStart..<colon])) ?? 0
    guard let minute = twoDigits() else { throw fail("the minutes need two digits, as in 21:00") }
    var second = 0
    var micros = 0
    if i < s.count, s[i] == ":" {
      i += 1
      guard let value = twoDigits() else { throw fail("the seconds need two digits, as in 21:00:00") }
      second = value
      if i < s.count, s[i] == "." || s[i] == "," {
        i += 1
        var digits = ""
        while i < s.count, isDigit(s[i]) { digits.unicodeScalars.append(s[i]); i += 1 }
        guard !digits.isEmpty else { throw fail("the fraction of a second has no digits") }
        let six = String((digits + "00000").prefix(6))
        micros = Int(six) ?? 0
      }
    }
    guard hour < 24 else { throw fail("there is no hour \(hour) (00–23)") }
    guard minute < 60 else { throw fail("there is no minute \(minute) (00–59)") }
    guard second < 60 else { throw fail("there is no second \(second) (00–59)") }

    while i < s.count, s[i].properties.isWhitespace { i += 1 }
    let zone = string(s[i...])
    let offsetSeconds: Int
    switch zone.uppercased() {
    case "": offsetSeconds = japanOffsetSeconds
    case "Z", "UTC", "GMT": offsetSeconds = 0
    case "JST": offsetSeconds = japanOffsetSeconds
    default:
      guard s[i] == "+" || s[i] == "-" else { throw fail("\"\(zone)\" is not a time zone; write Z, +09:00 or nothing (Japan time)") }
      let sign = s[i] == "-" ? -1 : 1
      i += 1
      guard let hours = twoDigits() else { throw fail("the offset \"\(zone)\" needs two-digit hours, as in +09:00") }
      if i < s.count, s[i] == ":" { i += 1 }
      let minutes = i < s.count ? twoDigits() : 0
      guard let minutes, i == s.count else { throw fail("\"\(zone)\" is not a time zone offset; write e.g. +09:00") }
      guard hours < 24, minutes < 60 else { throw fail("the offset \(zone) is out of range") }
      offsetSeconds = sign * (hours * 3600 + minutes * 60)
    }
    let seconds = Int64(date.firstDay.daysSinceEpoch) * 86_400 + Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
    return LedgerTimestamp(microseconds: seconds * 1_000_000 + Int64(micros))
  }

  static let unreadableTime = "it is not in a form this tool reads; write e.g. \(timeExamples)"

  // MARK: Ranges

  /// Separators tried first (they never occur inside one date, except `~` ending an approximate one).
  static let strongRangeSeparators: Set<Unicode.Scalar> = ["~", "〜", "–", "—"]
  /// Separators tried next (they also occur inside dates).
  static let weakRangeSeparators: Set<Unicode.Scalar> = ["-", "/"]

  static func dateRange(_ input: String) throws(DateInputError) -> (first: EffectiveDate, last: EffectiveDate) {
    func fail(_ reason: String) -> DateInputError { DateInputError(input: input, verdict: "is not a date range", reason: reason) }
    let s = normalize(input)
    let positions = s.indices.dropFirst().dropLast()
    let candidates = positions.filter { strongRangeSeparators.contains(s[$0]) }
      + positions.filter { weakRangeSeparators.contains(s[$0]) }
    func attempt(_ side: Scalars) -> Result<EffectiveDate, DateInputError> {
      do throws(DateInputError) { return .success(try effectiveDate(string(side))) } catch { return .failure(error) }
    }
    let twoDates = "write two dates separated by ～ (or 〜 ~ - – — /), as in H26～R1 or 2015/2017"
    var rightFailure: DateInputError?
    var leftFailure: DateInputError?
    for k in candidates {
      switch (attempt(Array(s[..<k])), attempt(Array(s[(k + 1)...]))) {
      case (.success(let first), .success(let last)):
        guard !(last < first) else { throw fail("it ends (\(last)) before it starts (\(first))") }
        return (first, last)
      case (.success, .failure(let error)): rightFailure = rightFailure ?? error
      case (.failure(let error), _): leftFailure = leftFailure ?? error
      }
    }
    if case .success(let single) = attempt(s) { throw fail("it is a single date (\(single)); \(twoDates)") }
    throw fail((rightFailure ?? leftFailure).map(\.description) ?? twoDates)
  }
}

/// Reads the tokens of one date (approximation marks already removed).
struct DateBodyReader {
  let input: String
  let tokens: [DateToken]
  let approximate: Bool

  func fail(_ reason: String) -> DateInputError { DateInputError(input: input, reason: reason) }

  func token(_ i: Int) -> DateToken? { i < tokens.count ? tokens[i] : nil }

  func read() throws(DateInputError) -> EffectiveDate {
    var era: JapaneseEra?
    let year: Int
    var i: Int
    switch token(0) {
    case .fiscalPrefix?:
      guard tokens.count == 2, case .number(let digits)? = token(1) else {
        throw fail("FY must be followed by a four-digit year only, as in FY2020")
      }
      return try build(year: gregorianYear(digits), shape: .fiscalYear, era: nil)
    case .era(let index)?:
      let e = JapaneseEra.all[index]
      era = e
      let eraYear: Int?
      switch token(1) {
      case .number(let digits)?: eraYear = DateInputParser.boundedInt(digits)
      case .gan?: eraYear = 1
      default: throw fail("\(e.kanji) must be followed by a year number: \(e.kanji)2年, or \(e.kanji)元年 for its first year")
      }
      if let eraYear, eraYear < 1 { throw fail("era years start at 1 (元年)") }
      let calendarYear = eraYear.map(e.calendarYear(ofEraYear:))
      if let last = e.last, calendarYear.map({ $0 > last.year }) ?? true { throw fail(e.endedReason) }
      guard let calendarYear, calendarYear <= 9999 else { throw fail("the year is out of range (1–9999)") }
      year = calendarYear
      i = 2
    case .number(let digits)?:
      if let hint = missingYearHint() {
        throw DateInputError(input: input, verdict: "needs a year", reason: "write \(hint)")
      }
      year = try gregorianYear(digits)
      i = 1
    default:
      throw fail("the year is missing; write e.g. \(DateInputParser.examples)")
    }

    // What follows the year: nothing, 年, 年度, 年 + month…, or a separator + month….
    var shape = Shape.year
    switch token(i) {
    case nil: break
    case .yearMark?:
      i += 1
      guard case .number(let month)? = token(i) else { break }
      i += 1
      switch token(i) {
      case .monthMark?:
        i += 1
        shape = .month(month)
        switch token(i) {
        case .dekad(let d)?: shape = .dekad(month, d); i += 1
        case .number(let day)?:
          shape = .day(month, day); i += 1
          if token(i) == .dayMark { i += 1 }
        default: break
        }
      case .separator?:
        i += 1
        shape = try dayOrDekad(month: month, at: &i)
      default: throw fail(DateInputParser.unreadable)
      }
    case .fiscalYearMark?:
      shape = .fiscalYear
      i += 1
    case .separator(let separator)?:
      i += 1
      guard case .number(let month)? = token(i) else { throw fail(DateInputParser.unreadable) }
      i += 1
      shape = .month(month)
      if case .separator(let second)? = token(i) {
        guard second == separator else { throw fail("it mixes the separators \(separator) and \(second)") }
        i += 1
        shape = try dayOrDekad(month: month, at: &i)
      }
    default: throw fail(DateInputParser.unreadable)
    }
    guard i == tokens.count else { throw fail(DateInputParser.unreadable) }
    return try build(year: year, shape: shape, era: era)
  }

  /// The form of a date once its year is known; month and day are the digits as written.
  enum Shape {
    case year, fiscalYear
    case month(String)
    case dekad(String, Int)
    case dekadCode(String, String)
    case day(String, String)
  }

  /// After `month` and a separator: a day (`26`, `26日`), a 旬 (`上`, `上旬`) or a 旬 code (`D1`).
  func dayOrDekad(month: String, at i: inout Int) throws(DateInputError) -> Shape {
    switch token(i) {
    case .number(let day)?:
      i += 1
      if token(i) == .dayMark { i += 1 }
      return .day(month, day)
    case .dekad(let d)?: i += 1; return .dekad(month, d)
    case .dekadCode(let code)?: i += 1; return .dekadCode(month, code)
    default: throw fail(DateInputParser.unreadable)
    }
  }

  /// A four-digit Gregorian year.
  func gregorianYear(_ digits: String) throws(DateInputError) -> Int {
    guard digits.count >= 4 else {
      throw fail("write the year with four digits (2020) or with an era (令和2年)")
    }
    guard digits.count == 4, let year = Int(digits), year >= 1 else {
      throw fail("the year \(digits) is out of range (0001–9999)")
    }
    return year
  }

  /// `2020年8月頃` for `8月頃`, `2020/3/26` for `3/26`: when the text starts with a month (a one- or two-digit
  /// number followed by 月, or by a separator and a day or 旬 and nothing else).
  func missingYearHint() -> String? {
    guard case .number(let first)? = token(0), first.count <= 2 else { return nil }
    let startsWithMonth: Bool
    switch (token(1), token(2)) {
    case (.monthMark?, _): startsWithMonth = true
    case (.separator?, .number(let day)?): startsWithMonth = tokens.count == 3 && day.count <= 2
    case (.separator?, .dekad?), (.separator?, .dekadCode?): startsWithMonth = tokens.count == 3
    default: startsWithMonth = false
    }
    guard startsWithMonth else { return nil }
    let written = input.trimmingCharacters(in: .whitespacesAndNewlines)
    return written.contains("月") ? "2020年" + written : "2020/" + written
  }

  func build(year: Int, shape: Shape, era: JapaneseEra?) throws(DateInputError) -> EffectiveDate {
    func month(_ digits: String) throws(DateInputError) -> Int {
      guard let m = DateInputParser.boundedInt(digits), (1...12).contains(m) else { throw fail("there is no month \(digits)") }
      return m
    }
    let parsed: EffectiveDate?
    switch shape {
    case .year:
      parsed = .year(year, approximate: approximate)
    case .fiscalYear:
      guard year < 9999 else { throw fail("fiscal year \(year) ends after 9999") }
      parsed = .fiscalYear(year, approximate: approximate)
    case .month(let m):
      parsed = .month(year, try month(m), approximate: approximate)
    case .dekad(let m, let d):
      parsed = .dekad(year, try month(m), d, approximate: approximate)
    case .dekadCode(let m, let code):
      let monthValue = try month(m)
      guard let d = DateInputParser.boundedInt(code), (1...3).contains(d) else {
        throw fail("there is no 旬 D\(code); D1 is 上旬 (days 1–10), D2 中旬 (11–20), D3 下旬 (21 to the end)")
      }
      parsed = .dekad(year, monthValue, d, approximate: approximate)
    case .day(let m, let d):
      let monthValue = try month(m)
      guard let day = DateInputParser.boundedInt(d), day >= 1 else { throw fail("there is no day \(d)") }
      let length = CalendarDay.daysIn(month: monthValue, year: year)
      guard day <= length else {
        throw fail("\(DateInputParser.monthNames[monthValue - 1]) \(year) has \(length) days")
      }
      parsed = .day(year, monthValue, day, approximate: approximate)
    }
    guard let parsed else { throw fail(DateInputParser.unreadable) }
    if let era, parsed.precision != .fiscalYear {
      // Fiscal years were checked by their starting calendar year (平成31年度 = FY2019 is read).
      if parsed.lastDay < era.first { throw fail(era.beganReason) }
      if let last = era.last, parsed.firstDay > last { throw fail(era.endedReason) }
    }
    return parsed
  }
}
