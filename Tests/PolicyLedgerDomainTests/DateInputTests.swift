import Testing
@testable import PolicyLedgerDomain
import PolicyLedgerEventLog

// MARK: - Helpers

/// The error `EffectiveDate(parsing:)` throws for `text`, or `nil` when it reads.
private func dateFailure(_ text: String) -> DateInputError? {
  do throws(DateInputError) {
    _ = try EffectiveDate(parsing: text)
    return nil
  } catch {
    return error
  }
}

private func timeFailure(_ text: String) -> DateInputError? {
  do throws(DateInputError) {
    _ = try LedgerTimestamp(parsing: text)
    return nil
  } catch {
    return error
  }
}

private func rangeFailure(_ text: String) -> DateInputError? {
  do throws(DateInputError) {
    _ = try parseDateRange(text)
    return nil
  } catch {
    return error
  }
}

/// A small deterministic generator for the fuzz test (SplitMix64).
private struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

// MARK: - Accepted forms

@Suite("EffectiveDate(parsing:) accepted forms")
struct EffectiveDateParsingFormsTests {
  @Test("canonical forms", arguments: [
    ("2020-03-26", "2020-03-26", EffectiveDate.Precision.day),
    ("2020-06-D1", "2020-06-D1", .dekad),
    ("2020-06-D3~", "2020-06-D3~", .dekad),
    ("2020-06", "2020-06", .month),
    ("FY2020", "FY2020", .fiscalYear),
    ("2020", "2020", .year),
    ("2019-08~", "2019-08~", .month),
    ("  2020-03-26\n", "2020-03-26", .day),
  ])
  func canonical(text: String, expected: String, precision: EffectiveDate.Precision) throws {
    let date = try EffectiveDate(parsing: text)
    #expect(date.description == expected)
    #expect(date.precision == precision)
  }

  @Test("ISO-like forms", arguments: [
    ("2020/3/26", "2020-03-26", EffectiveDate.Precision.day),
    ("2020.3.26", "2020-03-26", .day),
    ("2020-3-26", "2020-03-26", .day),
    ("2020/03/26", "2020-03-26", .day),
    ("2020/03", "2020-03", .month),
    ("2020.6", "2020-06", .month),
    ("2020-6", "2020-06", .month),
    ("2020/06/D2", "2020-06-D2", .dekad),
    ("2020/6/上", "2020-06-D1", .dekad),
    ("FY2020", "FY2020", .fiscalYear),
    ("fy2020", "FY2020", .fiscalYear),
    ("FY 2020", "FY2020", .fiscalYear),
    ("Fy2015", "FY2015", .fiscalYear),
    ("２０２０／３／２６", "2020-03-26", .day),
    ("２０２０．３．２６", "2020-03-26", .day),
    ("２０２０－０３－２６", "2020-03-26", .day),
    ("ＦＹ２０２０", "FY2020", .fiscalYear),
    ("\u{3000}2020/3/26\u{3000}", "2020-03-26", .day),
  ])
  func isoLike(text: String, expected: String, precision: EffectiveDate.Precision) throws {
    let date = try EffectiveDate(parsing: text)
    #expect(date.description == expected)
    #expect(date.precision == precision)
    #expect(!date.isApproximate)
  }

  @Test("kanji Gregorian forms", arguments: [
    ("2020年3月26日", "2020-03-26", EffectiveDate.Precision.day),
    ("2020年３月２６日", "2020-03-26", .day),
    ("２０２０年３月２６日", "2020-03-26", .day),
    ("2020年 3月 26日", "2020-03-26", .day),
    ("2020年3月26", "2020-03-26", .day),
    ("2020年6月", "2020-06", .month),
    ("2020年", "2020", .year),
    ("2020年度", "FY2020", .fiscalYear),
    ("2020年6月上旬", "2020-06-D1", .dekad),
    ("2020年6月中旬", "2020-06-D2", .dekad),
    ("2020年6月下旬", "2020-06-D3", .dekad),
    ("2020年6月初旬", "2020-06-D1", .dekad),
    ("2020年6月上", "2020-06-D1", .dekad),
    ("2020年6月下", "2020-06-D3", .dekad),
    ("2020年6/上", "2020-06-D1", .dekad),
    ("2020年6/中", "2020-06-D2", .dekad),
    ("2020年3/26", "2020-03-26", .day),
  ])
  func kanjiGregorian(text: String, expected: String, precision: EffectiveDate.Precision) throws {
    let date = try EffectiveDate(parsing: text)
    #expect(date.description == expected)
    #expect(date.precision == precision)
  }

  @Test("和暦 kanji forms", arguments: [
    ("令和２年３月２６日", "2020-03-26", EffectiveDate.Precision.day),
    ("令和2年3月26日", "2020-03-26", .day),
    ("令和2年3月", "2020-03", .month),
    ("平成31年4月", "2019-04", .month),
    ("平成31年4月30日", "2019-04-30", .day),
    ("平成31年4月上旬", "2019-04-D1", .dekad),
    ("令和元年", "2019", .year),
    ("令和元年5月", "2019-05", .month),
    ("令和元年5月1日", "2019-05-01", .day),
    ("令和1年5月1日", "2019-05-01", .day),
    ("令和2年度", "FY2020", .fiscalYear),
    ("令和元年度", "FY2019", .fiscalYear),
    ("平成27年度", "FY2015", .fiscalYear),
    ("平成31年度", "FY2019", .fiscalYear),
    ("昭和64年1月7日", "1989-01-07", .day),
    ("平成元年1月8日", "1989-01-08", .day),
    ("平成元年1月", "1989-01", .month),
    ("昭和64年1月", "1989-01", .month),
    ("昭和元年12月25日", "1926-12-25", .day),
    ("大正15年", "1926", .year),
    ("明治45年7月29日", "1912-07-29", .day),
    ("㍻31年4月30日", "2019-04-30", .day),
    ("令和2", "2020", .year),
    ("令和2.3.26", "2020-03-26", .day),
  ])
  func warekiKanji(text: String, expected: String, precision: EffectiveDate.Precision) throws {
    let date = try EffectiveDate(parsing: text)
    #expect(date.description == expected)
    #expect(date.precision == precision)
  }

  @Test("abbreviated eras", arguments: [
    ("R2.3.26", "2020-03-26", EffectiveDate.Precision.day),
    ("r2.3.26", "2020-03-26", .day),
    ("H31.4.30", "2019-04-30", .day),
    ("R2/3/26", "2020-03-26", .day),
    ("R2-3-26", "2020-03-26", .day),
    ("R02.03.26", "2020-03-26", .day),
    ("R2.3", "2020-03", .month),
    ("R1", "2019", .year),
    ("R元", "2019", .year),
    ("H27", "2015", .year),
    ("h27", "2015", .year),
    ("R2年度", "FY2020", .fiscalYear),
    ("H27年度", "FY2015", .fiscalYear),
    ("R2年3月26日", "2020-03-26", .day),
    ("S64.1.7", "1989-01-07", .day),
    ("T15", "1926", .year),
    ("M45", "1912", .year),
    ("Ｒ２．３．２６", "2020-03-26", .day),
    ("ｈ３１．４．３０", "2019-04-30", .day),
  ])
  func abbreviatedEras(text: String, expected: String, precision: EffectiveDate.Precision) throws {
    let date = try EffectiveDate(parsing: text)
    #expect(date.description == expected)
    #expect(date.precision == precision)
  }

  @Test("approximate marks", arguments: [
    ("2019年8月頃", "2019-08~", EffectiveDate.Precision.month),
    ("令和2年8月頃", "2020-08~", .month),
    ("2019年8月ごろ", "2019-08~", .month),
    ("2019年8月目途", "2019-08~", .month),
    ("2019年8月 頃", "2019-08~", .month),
    ("2020年度目途", "FY2020~", .fiscalYear),
    ("2020/3/26~", "2020-03-26~", .day),
    ("2020/3/26〜", "2020-03-26~", .day),
    ("2020/3/26～", "2020-03-26~", .day),
    ("R2.3頃", "2020-03~", .month),
    ("2020年6月上旬頃", "2020-06-D1~", .dekad),
    ("2020年内", "2020~", .year),
    ("2020年内目途", "2020~", .year),
    ("令和2年内", "2020~", .year),
    ("2020年度内", "FY2020~", .fiscalYear),
  ])
  func approximate(text: String, expected: String, precision: EffectiveDate.Precision) throws {
    let date = try EffectiveDate(parsing: text)
    #expect(date.description == expected)
    #expect(date.precision == precision)
    #expect(date.isApproximate)
  }

  @Test func periodsHaveTheRightDays() throws {
    let fiscal = try EffectiveDate(parsing: "令和2年度")
    #expect(fiscal.firstDay.description == "2020-04-01")
    #expect(fiscal.lastDay.description == "2021-03-31")
    let dekad = try EffectiveDate(parsing: "2020年2月下旬")
    #expect(dekad.firstDay.description == "2020-02-21")
    #expect(dekad.lastDay.description == "2020-02-29")
    let leapDay = try EffectiveDate(parsing: "令和2年2月29日")
    #expect(leapDay.description == "2020-02-29")
  }
}

// MARK: - Impossible dates

@Suite("EffectiveDate(parsing:) errors")
struct EffectiveDateParsingErrorTests {
  @Test func specExampleDescriptions() {
    #expect(dateFailure("2020-02-30")?.description == "\"2020-02-30\" is not a date: February 2020 has 29 days")
    #expect(dateFailure("平成32年")?.description
      == "\"平成32年\" is not a date: the Heisei era ended on 2019-04-30 (平成31年4月30日)")
    #expect(dateFailure("令和0年")?.description == "\"令和0年\" is not a date: era years start at 1 (元年)")
    #expect(dateFailure("8月頃")?.description == "\"8月頃\" needs a year: write 2020年8月頃")
  }

  @Test("impossible dates say why", arguments: [
    ("2020-02-30", "29 days"),
    ("2021-02-29", "28 days"),
    ("2020/4/31", "April 2020 has 30 days"),
    ("2020年2月30日", "29 days"),
    ("令和3年2月29日", "February 2021 has 28 days"),
    ("2020-13-01", "month 13"),
    ("2020/13", "month 13"),
    ("2020年0月", "month 0"),
    ("2020-03-00", "day 00"),
    ("2020-06-D4", "D4"),
    ("平成32年", "Heisei era ended"),
    ("平成32年度", "Heisei era ended on 2019-04-30"),
    ("平成31年5月", "Heisei era ended"),
    ("平成31年5月1日", "平成31年4月30日"),
    ("H31.5.1", "Heisei era ended"),
    ("令和元年4月", "Reiwa era began on 2019-05-01 (令和元年5月1日)"),
    ("令和元年4月30日", "Reiwa era began"),
    ("令和元年4月下旬", "Reiwa era began"),
    ("令和0年", "元年"),
    ("H0", "元年"),
    ("R0.5.1", "start at 1"),
    ("昭和65年", "Showa era ended on 1989-01-07 (昭和64年1月7日)"),
    ("昭和64年1月8日", "Showa era ended"),
    ("平成元年1月7日", "Heisei era began on 1989-01-08 (平成元年1月8日)"),
    ("大正元年7月29日", "Taisho era began on 1912-07-30"),
    ("明治元年1月1日", "Meiji era began on 1868-10-23"),
    ("M46", "Meiji era ended"),
    ("", "empty"),
    ("   ", "empty"),
    ("tomorrow", "form"),
    ("2020年8月頃頃", "approximate more than once"),
    ("頃", "no date"),
    ("年", "year is missing"),
    ("年度", "year is missing"),
    ("令和年", "year number"),
    ("令和", "year number"),
    ("FY", "four-digit year"),
    ("FY20", "four digits"),
    ("20年", "four digits"),
    ("20/3/26", "four digits"),
    ("99999999999999999999年", "out of range"),
    ("99999999999999999999", "out of range"),
    ("令和99999999999999999999年", "out of range"),
    ("平成99999999999999999999年", "Heisei era ended"),
    ("2020-99999999999999999999", "no month"),
    ("2020-01-99999999999999999999", "no day"),
    ("0000", "out of range"),
    ("FY9999", "ends after 9999"),
    ("2020/3.26", "mixes the separators"),
    ("2020年3", "form"),
    ("2020年上旬", "form"),
    ("2020-03-26-01", "form"),
    ("2020 03 26", "form"),
    ("慶応4年", "form"),
    ("X2.3.26", "form"),
    ("2020年3月26日12時", "form"),
  ])
  func impossible(text: String, keyword: String) throws {
    let error = try #require(dateFailure(text), "\(text) should not read")
    #expect(error.input == text)
    #expect(error.reason.contains(keyword), "\(error.description)")
    #expect(error.description.hasPrefix("\"\(text)\" is not a date: "))
  }

  @Test("a month or day without a year needs a year", arguments: [
    ("8月頃", "2020年8月頃"),
    ("6/上", "2020/6/上"),
    ("3/26", "2020/3/26"),
    ("3月26日", "2020年3月26日"),
    ("6月上旬", "2020年6月上旬"),
    ("１２月", "2020年１２月"),
  ])
  func needsAYear(text: String, hint: String) throws {
    let error = try #require(dateFailure(text))
    #expect(error.description == "\"\(text)\" needs a year: write \(hint)")
    #expect(error.reason.contains(hint))
    // The hint itself reads.
    #expect(dateFailure(hint) == nil)
  }

  @Test func randomTextNeverCrashesAndReadsBackCanonically() {
    let alphabet = Array("0123456789０１２３元年度月日上中下旬初/.-~〜頃ごろ目途内令和平成昭和RHSTMFYDrhfy ９９９９９９９９９")
    var rng = SplitMix64(state: 20_200_326)
    var accepted = 0
    for _ in 0..<20_000 {
      let length = Int.random(in: 1...14, using: &rng)
      let text = String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
      if let date = try? EffectiveDate(parsing: text) {
        accepted += 1
        #expect(EffectiveDate(canonical: date.description) == date, "\(text)")
        #expect((try? EffectiveDate(parsing: date.warekiDescription)) == date, "\(text)")
      }
    }
    #expect(accepted > 0)
  }
}

// MARK: - 和暦 rendering

@Suite("warekiDescription")
struct WarekiDescriptionTests {
  @Test("renders and reads back", arguments: [
    ("令和元年5月1日", "令和元年5月1日"),
    ("平成31年4月30日", "平成31年4月30日"),
    ("令和2年度", "令和2年度"),
    ("2020-03-26", "令和2年3月26日"),
    ("2019-05", "令和元年5月"),
    ("2019-04-D1", "平成31年4月上旬"),
    ("2020-06-D3", "令和2年6月下旬"),
    ("2020", "令和2年"),
    ("2019", "令和元年"),
    ("FY2019", "令和元年度"),
    ("FY2018", "平成30年度"),
    ("FY1988", "昭和63年度"),
    ("FY1989", "平成元年度"),
    ("1989", "平成元年"),
    ("1989-01", "平成元年1月"),
    ("1989-01-07", "昭和64年1月7日"),
    ("1926-12-25", "昭和元年12月25日"),
    ("1912-07-29", "明治45年7月29日"),
    ("2019-08~", "令和元年8月頃"),
    ("R2.3頃", "令和2年3月頃"),
    ("1868-10-22", "1868年10月22日"),
    ("1800", "1800年"),
  ])
  func rendering(text: String, wareki: String) throws {
    let date = try EffectiveDate(parsing: text)
    #expect(date.warekiDescription == wareki)
    #expect(try EffectiveDate(parsing: wareki) == date)
  }

  @Test func everyDayMonthDekadAndYearRoundTrips() throws {
    let start = try #require(CalendarDay(year: 1868, month: 1, day: 1)).daysSinceEpoch
    let end = try #require(CalendarDay(year: 2040, month: 12, day: 31)).daysSinceEpoch
    for n in start...end {
      let date = EffectiveDate.day(CalendarDay(daysSinceEpoch: n))
      #expect(try EffectiveDate(parsing: date.warekiDescription) == date)
    }
    for year in 1868...2040 {
      let coarse = [EffectiveDate.year(year), .fiscalYear(year), .year(year, approximate: true)].compactMap { $0 }
        + (1...12).flatMap { m in [EffectiveDate.month(year, m)] + (1...3).map { EffectiveDate.dekad(year, m, $0) } }
          .compactMap { $0 }
      for date in coarse {
        #expect(try EffectiveDate(parsing: date.warekiDescription) == date, "\(date)")
        #expect(try EffectiveDate(parsing: date.japaneseDescription) == date, "\(date)")
        #expect(try EffectiveDate(parsing: date.description) == date, "\(date)")
      }
    }
  }
}

// MARK: - LedgerTimestamp

@Suite("LedgerTimestamp(parsing:)")
struct LedgerTimestampParsingTests {
  @Test("moments and dates", arguments: [
    ("2026-11-29T12:00:00Z", "2026-11-29T12:00:00.000000Z"),
    ("2026-11-29T12:00:00.123456Z", "2026-11-29T12:00:00.123456Z"),
    ("2026-11-29T12:00:00.000000Z", "2026-11-29T12:00:00.000000Z"),
    ("2026-11-29T12:00:00.5Z", "2026-11-29T12:00:00.500000Z"),
    ("2026-11-29T12:00:00.1234567Z", "2026-11-29T12:00:00.123456Z"),
    ("2026-11-29T21:00:00+09:00", "2026-11-29T12:00:00.000000Z"),
    ("2026-11-29T21:00+09:00", "2026-11-29T12:00:00.000000Z"),
    ("2026-11-29T21:00+0900", "2026-11-29T12:00:00.000000Z"),
    ("2026-11-29T21:00+09", "2026-11-29T12:00:00.000000Z"),
    ("2026-11-29T07:00-05:00", "2026-11-29T12:00:00.000000Z"),
    ("2026-11-29 21:00", "2026-11-29T12:00:00.000000Z"),
    ("2026-11-29 21:00:30", "2026-11-29T12:00:30.000000Z"),
    ("2026-11-29 21:00 JST", "2026-11-29T12:00:00.000000Z"),
    ("2026-11-29 12:00 UTC", "2026-11-29T12:00:00.000000Z"),
    ("2026-11-29t12:00z", "2026-11-29T12:00:00.000000Z"),
    ("2026-11-30 08:00", "2026-11-29T23:00:00.000000Z"),
    ("2026-11-29 9:00", "2026-11-29T00:00:00.000000Z"),
    ("令和8年11月29日 21:00", "2026-11-29T12:00:00.000000Z"),
    ("２０２６－１１－２９Ｔ２１：００＋０９：００", "2026-11-29T12:00:00.000000Z"),
    ("2020-03-26", "2020-03-26T14:59:59.999999Z"),
    ("令和2年3月26日", "2020-03-26T14:59:59.999999Z"),
    ("R2.3.26", "2020-03-26T14:59:59.999999Z"),
    ("2020-03", "2020-03-31T14:59:59.999999Z"),
    ("2020年6月上旬", "2020-06-10T14:59:59.999999Z"),
    ("FY2020", "2021-03-31T14:59:59.999999Z"),
    ("令和2年度", "2021-03-31T14:59:59.999999Z"),
    ("2020", "2020-12-31T14:59:59.999999Z"),
  ])
  func parses(text: String, expected: String) throws {
    #expect(try LedgerTimestamp(parsing: text).description == expected)
  }

  @Test("bad moments say why", arguments: [
    ("2026-11-29T24:00Z", "hour 24"),
    ("2026-11-29T21:60Z", "minute 60"),
    ("2026-11-29T21:00:60Z", "second 60"),
    ("2026-11-29T21:0Z", "two digits"),
    ("2026-02-30T21:00Z", "February 2026 has 28 days"),
    ("2026-11T21:00", "whole day"),
    ("2026-11-29頃 21:00", "whole day"),
    ("2026-11-29T21:00+25:00", "out of range"),
    ("2026-11-29T21:00 PST", "time zone"),
    ("2026-11-29T21:00+9", "two-digit hours"),
    ("2026-11-29T21:00:00.Z", "no digits"),
    ("21:00", "form"),
    ("2026-11-29X21:00", "form"),
    ("", "empty"),
  ])
  func rejects(text: String, keyword: String) throws {
    let error = try #require(timeFailure(text), "\(text) should not read")
    #expect(error.reason.contains(keyword), "\(error.description)")
    #expect(error.description.hasPrefix("\"\(text)\" is not a time: "))
  }

  @Test func aBadDateAloneIsReportedAsADate() throws {
    let error = try #require(timeFailure("2020-02-30"))
    #expect(error.description == "\"2020-02-30\" is not a date: February 2020 has 29 days")
  }
}

// MARK: - Ranges

@Suite("parseDateRange")
struct DateRangeTests {
  @Test("ranges", arguments: [
    ("H26～R1", "2014", "2019"),
    ("H26〜R1", "2014", "2019"),
    ("H26~R1", "2014", "2019"),
    ("2015年-2017年", "2015", "2017"),
    ("2015–2017", "2015", "2017"),
    ("2015—2017", "2015", "2017"),
    ("2015-2017", "2015", "2017"),
    ("FY2015/FY2017", "FY2015", "FY2017"),
    ("2015/2017", "2015", "2017"),
    ("2015 ～ 2017", "2015", "2017"),
    ("平成27年度～令和2年度", "FY2015", "FY2020"),
    ("2015-03～2017-05", "2015-03", "2017-05"),
    ("2015-03-2017-05", "2015-03", "2017-05"),
    ("2020/3/26-2020/4/1", "2020-03-26", "2020-04-01"),
    ("R2.3.26～R2.4.1", "2020-03-26", "2020-04-01"),
    ("2019-08~~2020", "2019-08~", "2020"),
    ("2019年8月頃～2020年", "2019-08~", "2020"),
    ("2015～2015", "2015", "2015"),
    ("２０１５／２０１７", "2015", "2017"),
  ])
  func reads(text: String, first: String, last: String) throws {
    let range = try parseDateRange(text)
    #expect(range.first.description == first)
    #expect(range.last.description == last)
  }

  @Test func hToRIsTwoYears() throws {
    let range = try parseDateRange("H26～R1")
    #expect(range.first.precision == .year)
    #expect(range.first.year == 2014)
    #expect(range.last.precision == .year)
    #expect(range.last.year == 2019)
  }

  @Test("bad ranges say why", arguments: [
    ("2017～2015", "it ends (2015) before it starts (2017)"),
    ("R1～H26", "before it starts"),
    ("2015", "it is a single date (2015); write two dates separated by"),
    ("2020/3/4", "single date (2020-03-04)"),
    ("2019-08~", "single date (2019-08~)"),
    ("", "separated by"),
    ("2015～tomorrow", "\"tomorrow\" is not a date"),
    ("2015～平成32年", "Heisei era ended"),
    ("2015～", "separated by"),
  ])
  func rejects(text: String, keyword: String) throws {
    let error = try #require(rangeFailure(text), "\(text) should not read")
    #expect(error.reason.contains(keyword), "\(error.description)")
    #expect(error.description.hasPrefix("\"\(text)\" is not a date range: "))
  }
}
