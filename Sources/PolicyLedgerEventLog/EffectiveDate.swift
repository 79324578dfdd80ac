import Foundation

/// A day of the proleptic Gregorian calendar, with no time zone (a date as printed on a document).
public struct CalendarDay: Hashable, Comparable, Sendable, CustomStringConvertible {
  public let year: Int
  public let month: Int
  public let day: Int

  /// A valid day, or `nil` (month 13, 2020-02-30, year outside 1…9999).
  public init?(year: Int, month: Int, day: Int) {
    guard (1...9999).contains(year), (1...12).contains(month),
          day >= 1, day <= CalendarDay.daysIn(month: month, year: year) else { return nil }
    self.year = year; self.month = month; self.day = day
  }

  /// The number of days in a month (February has 29 in leap years).
  public static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }

  /// Days since 1970-01-01 (negative before it). Howard Hinnant's `days_from_civil`.
  public var daysSinceEpoch: Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146097 + doe - 719468
  }

  /// The day `days` after 1970-01-01. Howard Hinnant's `civil_from_days`.
  public init(daysSinceEpoch days: Int) {
    let z = days + 719468
    let era = (z >= 0 ? z : z - 146096) / 146097
    let doe = z - era * 146097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    self.year = yoe + era * 400 + (m <= 2 ? 1 : 0)
    self.month = m
    self.day = d
  }

  public static func < (a: CalendarDay, b: CalendarDay) -> Bool {
    (a.year, a.month, a.day) < (b.year, b.month, b.day)
  }

  /// ISO 8601: `2020-03-26`.
  public var description: String {
    func pad(_ v: Int, _ width: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, width - s.count)) + s }
    return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
  }

  /// Parses `YYYY-MM-DD` exactly.
  public init?(iso text: String) {
    let parts = text.split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
          let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return nil }
    self.init(year: y, month: m, day: d)
  }
}

/// When a fact took effect (valid time), kept at the precision the source gives it.
///
/// Canonical text (what the canonical encoding writes, and what ``init(canonical:)`` reads):
///
/// | precision | canonical | meaning | first day |
/// |---|---|---|---|
/// | day | `2020-03-26` | that day | itself |
/// | dekad (旬) | `2020-06-D1` | 上旬 days 1–10; `D2` 中旬 11–20; `D3` 下旬 21–end | 1st, 11th, 21st |
/// | month | `2020-06` | the month | the 1st |
/// | fiscal year (年度) | `FY2020` | 2020-04-01 … 2021-03-31 (Japan's fiscal year) | April 1 |
/// | year | `2020` | the calendar year | January 1 |
///
/// A trailing `~` marks an approximate date (頃, 目途): `2019-08~` is 2019年8月頃.
/// For as-of questions a coarse date counts from the first day of its period (``firstDay``).
public struct EffectiveDate: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
  /// How precisely the date is known.
  public enum Precision: String, Sendable, Codable, CaseIterable {
    case day, dekad, month, fiscalYear = "fiscal-year", year
  }

  public let precision: Precision
  /// The calendar year; for ``Precision/fiscalYear`` the year the fiscal year starts in.
  public let year: Int
  /// 1…12 for day, dekad and month precision.
  public let month: Int?
  /// The day of the month, for day precision.
  public let day: Int?
  /// 1 (上旬), 2 (中旬) or 3 (下旬), for dekad precision.
  public let dekad: Int?
  /// True for a date given as approximate (頃, 目途).
  public let isApproximate: Bool

  /// The first day of the period: what as-of questions count from.
  public let firstDay: CalendarDay
  /// The last day of the period.
  public let lastDay: CalendarDay

  private init(precision: Precision, year: Int, month: Int?, day: Int?, dekad: Int?, approximate: Bool, first: CalendarDay, last: CalendarDay) {
    self.precision = precision; self.year = year; self.month = month; self.day = day
    self.dekad = dekad; self.isApproximate = approximate; self.firstDay = first; self.lastDay = last
  }

  /// A single day.
  public static func day(_ d: CalendarDay, approximate: Bool = false) -> EffectiveDate {
    EffectiveDate(precision: .day, year: d.year, month: d.month, day: d.day, dekad: nil, approximate: approximate, first: d, last: d)
  }

  /// A single day from its parts; `nil` when the day does not exist.
  public static func day(_ year: Int, _ month: Int, _ day: Int, approximate: Bool = false) -> EffectiveDate? {
    CalendarDay(year: year, month: month, day: day).map { .day($0, approximate: approximate) }
  }

  /// A 旬 (dekad): 1 = 上旬 (days 1–10), 2 = 中旬 (11–20), 3 = 下旬 (21–end).
  public static func dekad(_ year: Int, _ month: Int, _ dekad: Int, approximate: Bool = false) -> EffectiveDate? {
    guard (1...3).contains(dekad), let first = CalendarDay(year: year, month: month, day: (dekad - 1) * 10 + 1) else { return nil }
    let lastDay = dekad == 3 ? CalendarDay.daysIn(month: month, year: year) : dekad * 10
    return EffectiveDate(precision: .dekad, year: year, month: month, day: nil, dekad: dekad, approximate: approximate,
                         first: first, last: CalendarDay(year: year, month: month, day: lastDay)!)
  }

  /// A calendar month.
  public static func month(_ year: Int, _ month: Int, approximate: Bool = false) -> EffectiveDate? {
    guard let first = CalendarDay(year: year, month: month, day: 1) else { return nil }
    return EffectiveDate(precision: .month, year: year, month: month, day: nil, dekad: nil, approximate: approximate,
                         first: first, last: CalendarDay(year: year, month: month, day: CalendarDay.daysIn(month: month, year: year))!)
  }

  /// Japan's fiscal year `year` (年度): April 1 of `year` to March 31 of `year + 1`.
  public static func fiscalYear(_ year: Int, approximate: Bool = false) -> EffectiveDate? {
    guard let first = CalendarDay(year: year, month: 4, day: 1), let last = CalendarDay(year: year + 1, month: 3, day: 31) else { return nil }
    return EffectiveDate(precision: .fiscalYear, year: year, month: nil, day: nil, dekad: nil, approximate: approximate, first: first, last: last)
  }

  /// A calendar year.
  public static func year(_ year: Int, approximate: Bool = false) -> EffectiveDate? {
    guard let first = CalendarDay(year: year, month: 1, day: 1) else { return nil }
    return EffectiveDate(precision: .year, year: year, month: nil, day: nil, dekad: nil, approximate: approximate,
                         first: first, last: CalendarDay(year: year, month: 12, day: 31)!)
  }

  /// Reads the canonical text (see the table above); `nil` for anything else.
  /// - Complexity: O(1): it reads at most 12 bytes, without splitting the string (this runs for
  ///   every date of every state a query decodes).
  public init?(canonical text: String) {
    var text = text
    let parsed: EffectiveDate? = text.withUTF8 { (bytes: UnsafeBufferPointer<UInt8>) -> EffectiveDate? in
      var n = bytes.count
      var approximate = false
      if n > 0 && bytes[n - 1] == UInt8(ascii: "~") { approximate = true; n -= 1 }
      func digits(_ from: Int, _ count: Int) -> Int? {
        guard from + count <= n else { return nil }
        var v = 0
        for i in from..<(from + count) {
          let b = bytes[i]
          guard b >= 0x30 && b <= 0x39 else { return nil }
          v = v * 10 + Int(b - 0x30)
        }
        return v
      }
      func dash(_ i: Int) -> Bool { i < n && bytes[i] == UInt8(ascii: "-") }
      if n == 6 && bytes[0] == UInt8(ascii: "F") && bytes[1] == UInt8(ascii: "Y") {
        return digits(2, 4).flatMap { .fiscalYear($0, approximate: approximate) }
      }
      guard let y = digits(0, 4) else { return nil }
      switch n {
      case 4: return .year(y, approximate: approximate)
      case 7:
        guard dash(4), let m = digits(5, 2) else { return nil }
        return .month(y, m, approximate: approximate)
      case 10:
        guard dash(4), dash(7), let m = digits(5, 2) else { return nil }
        if bytes[8] == UInt8(ascii: "D"), let d = digits(9, 1) { return .dekad(y, m, d, approximate: approximate) }
        guard let d = digits(8, 2) else { return nil }
        return .day(y, m, d, approximate: approximate)
      default: return nil
      }
    }
    guard let parsed else { return nil }
    self = parsed
  }

  /// The canonical text: `2020-03-26`, `2020-06-D1`, `2020-06`, `FY2020`, `2020`, with `~` when approximate.
  public var description: String {
    func pad(_ v: Int, _ width: Int = 2) -> String { let s = String(v); return String(repeating: "0", count: max(0, width - s.count)) + s }
    let base: String
    switch precision {
    case .day: base = firstDay.description
    case .dekad: base = "\(pad(year, 4))-\(pad(month!))-D\(dekad!)"
    case .month: base = "\(pad(year, 4))-\(pad(month!))"
    case .fiscalYear: base = "FY\(pad(year, 4))"
    case .year: base = pad(year, 4)
    }
    return isApproximate ? base + "~" : base
  }

  /// The date as Japanese documents print it: `2020年3月26日`, `2020年6月上旬`, `2020年6月`,
  /// `2020年度`, `2020年`, with `頃` when approximate.
  public var japaneseDescription: String { japaneseDescription(yearText: String(year)) }

  /// The Japanese form with the year written as `yearText` (`2020`, or `令和2` for 和暦):
  /// `{year}年3月26日`, `{year}年6月上旬`, `{year}年度`…, with `頃` when approximate.
  public func japaneseDescription(yearText: String) -> String {
    let base: String
    switch precision {
    case .day: base = "\(yearText)年\(firstDay.month)月\(firstDay.day)日"
    case .dekad: base = "\(yearText)年\(firstDay.month)月\(["上", "中", "下"][(dekad ?? 1) - 1])旬"
    case .month: base = "\(yearText)年\(firstDay.month)月"
    case .fiscalYear: base = "\(yearText)年度"
    case .year: base = "\(yearText)年"
    }
    return isApproximate ? base + "頃" : base
  }

  /// Whether `day` falls inside the period.
  public func contains(_ day: CalendarDay) -> Bool { firstDay <= day && day <= lastDay }

  /// Orders by first day, then last day, then canonical text.
  public static func < (a: EffectiveDate, b: EffectiveDate) -> Bool {
    if a.firstDay != b.firstDay { return a.firstDay < b.firstDay }
    if a.lastDay != b.lastDay { return a.lastDay < b.lastDay }
    return a.description < b.description
  }

  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    guard let value = EffectiveDate(canonical: text) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\"\(text)\" is not a date in canonical form (2020-03-26, 2020-06-D1, 2020-06, FY2020, 2020, optionally ending in ~)"))
    }
    self = value
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(description)
  }
}

extension Character {
  var isASCIIDigit: Bool { isASCII && isNumber }
}

/// A moment in transaction time: microseconds since 1970-01-01T00:00:00Z (UTC).
///
/// Canonical text: `2026-11-29T12:00:00.000000Z` (always six fraction digits, always `Z`).
public struct LedgerTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
  /// Microseconds since the Unix epoch, UTC.
  public let microseconds: Int64

  public init(microseconds: Int64) { self.microseconds = microseconds }

  /// The last moment the canonical form can write (and read back): 9999-12-31T23:59:59.999999Z.
  public static let latest = LedgerTimestamp(microseconds: 253_402_300_799_999_999)

  /// The current time from the system clock.
  public static func now() -> LedgerTimestamp {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return LedgerTimestamp(microseconds: Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000)
  }

  public static func < (a: LedgerTimestamp, b: LedgerTimestamp) -> Bool { a.microseconds < b.microseconds }

  /// The UTC calendar day of this moment.
  public var utcDay: CalendarDay {
    CalendarDay(daysSinceEpoch: Int((microseconds >= 0 ? microseconds : microseconds - 86_399_999_999) / 86_400_000_000))
  }

  public var description: String {
    let dayMicros: Int64 = 86_400_000_000
    var remainder = microseconds % dayMicros
    if remainder < 0 { remainder += dayMicros }
    let seconds = remainder / 1_000_000
    let fraction = remainder % 1_000_000
    func pad(_ v: Int64, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
    return "\(utcDay)T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2)).\(pad(fraction, 6))Z"
  }

  /// Reads the canonical text exactly.
  public init?(canonical text: String) {
    let utf8 = Array(text.utf8)
    guard utf8.count == 27, utf8[10] == UInt8(ascii: "T"), utf8[19] == UInt8(ascii: "."), utf8[26] == UInt8(ascii: "Z"),
          let day = CalendarDay(iso: String(decoding: utf8[0..<10], as: UTF8.self)) else { return nil }
    func number(_ r: Range<Int>) -> Int64? {
      guard utf8[r].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
      return Int64(String(decoding: utf8[r], as: UTF8.self))
    }
    guard utf8[13] == UInt8(ascii: ":"), utf8[16] == UInt8(ascii: ":"),
          let h = number(11..<13), let m = number(14..<16), let s = number(17..<19), let f = number(20..<26),
          h < 24, m < 60, s < 60 else { return nil }
    self.microseconds = Int64(day.daysSinceEpoch) * 86_400_000_000 + ((h * 60 + m) * 60 + s) * 1_000_000 + f
  }

  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    guard let value = LedgerTimestamp(canonical: text) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\"\(text)\" is not a UTC timestamp such as 2026-11-29T12:00:00.000000Z"))
    }
    self = value
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(description)
  }
}
