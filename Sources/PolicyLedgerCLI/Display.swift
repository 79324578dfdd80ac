import ArgumentParser
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog

// How read commands show things to people: dates in the style asked for (--dates, else
// $POLICY_LEDGER_DATES, else ISO), CSV for Japanese Excel (--excel), and tables cut to the
// terminal's width (only when standard output is a terminal whose width is known).

/// `--dates`: the styles of ``DateStyle``.
enum DatesOption: String, ExpressibleByArgument, CaseIterable, Sendable {
  case iso, wareki, japanese
  var style: DateStyle { DateStyle(rawValue: rawValue)! }
}

/// The display settings of this run. The command line is single-threaded: the options set them
/// once, while the command line is parsed, before the command runs.
enum Display {
  nonisolated(unsafe) static var dates: DateStyle = .iso
  nonisolated(unsafe) static var excel = false

  /// The columns of the terminal standard output is, or `nil` when standard output is a file or
  /// a pipe, or a terminal whose width is unknown (then `$COLUMNS` is used when set).
  static let terminalWidth: Int? = {
    guard isatty(STDOUT_FILENO) == 1 else { return nil }
    var size = winsize()
    if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
    if let text = ProcessInfo.processInfo.environment["COLUMNS"], let columns = Int(text), columns > 0 { return columns }
    return nil
  }()

  /// `date` for people, in the style asked for.
  static func text(_ date: EffectiveDate) -> String { dates.text(date) }
  static func text(_ period: ObservedPeriod) -> String { dates.text(period) }
}

extension Cell {
  /// A date: in the style asked for, in the table and (when not ISO) in CSV too.
  static func date(_ value: EffectiveDate?) -> Cell {
    guard let value else { return Cell("—", raw: "") }
    return Cell(Display.text(value))
  }

  /// An observed period (`FY2019`, `2015/2017`), in the style asked for.
  static func period(_ value: ObservedPeriod?) -> Cell {
    guard let value else { return Cell("—", raw: "") }
    return Cell(Display.text(value))
  }
}

extension DisplayWidth {
  /// `text` cut to at most `width` columns, ending in `…` when cut.
  static func truncated(_ text: String, to width: Int) -> String {
    guard of(text) > width else { return text }
    var out = ""
    var used = 0
    for character in text {
      let w = of(String(character))
      if used + w > width - 1 { break }
      out.append(character)
      used += w
    }
    return out + "…"
  }

  /// Column widths that fit `total` columns (two spaces between columns): the widest column that
  /// may be cut is narrowed first, never below 10 columns nor below its title. `nil` when the
  /// widths already fit.
  static func fitted(_ widths: [Int], titles: [String], keepsWhole: [Bool], into total: Int) -> [Int]? {
    var widths = widths
    let needed = { widths.reduce(0, +) + 2 * max(0, widths.count - 1) }
    guard needed() > total else { return nil }
    while needed() > total {
      let floor = { (i: Int) in max(10, of(titles[i])) }
      guard let i = widths.indices.filter({ !keepsWhole[$0] && widths[$0] > floor($0) }).max(by: { widths[$0] < widths[$1] }) else { break }
      widths[i] = max(floor(i), widths[i] - (needed() - total))
    }
    return widths
  }
}
