import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog

// Rendering: aligned tables that stay aligned with Japanese text, RFC 4180 CSV that spreadsheets
// cannot run as formulas, and JSON with sorted keys (decimals as strings, never Double).

// MARK: - Display width

/// Terminal display width by East Asian Width: Wide and Fullwidth code points take two columns,
/// combining marks and format characters none, everything else one (including the ambiguous
/// ones, such as the enclosed numbers ❶ and box-drawing lines).
enum DisplayWidth {
  /// The number of terminal columns `text` takes.
  static func of(_ text: String) -> Int {
    var total = 0
    for scalar in text.unicodeScalars { total += of(scalar) }
    return total
  }

  static func of(_ scalar: Unicode.Scalar) -> Int {
    let v = scalar.value
    if v < 0x20 || (v >= 0x7F && v < 0xA0) { return 0 }
    switch scalar.properties.generalCategory {
    case .nonspacingMark, .enclosingMark, .format: return 0
    default: break
    }
    return isWide(v) ? 2 : 1
  }

  /// East Asian Width W or F.
  static func isWide(_ v: UInt32) -> Bool {
    switch v {
    case 0x1100...0x115F,     // Hangul Jamo initial consonants
         0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0, 0x23F3,
         0x25FD...0x25FE, 0x2614...0x2615, 0x2648...0x2653, 0x267F, 0x2693, 0x26A1,
         0x26AA...0x26AB, 0x26BD...0x26BE, 0x26C4...0x26C5, 0x26CE, 0x26D4, 0x26EA,
         0x26F2...0x26F3, 0x26F5, 0x26FA, 0x26FD, 0x2705, 0x270A...0x270B, 0x2728, 0x274C,
         0x274E, 0x2753...0x2755, 0x2757, 0x2795...0x2797, 0x27B0, 0x27BF, 0x2B1B...0x2B1C,
         0x2B50, 0x2B55,       // emoji presentation symbols
         0x2E80...0x2FFF,      // CJK radicals, Kangxi radicals, ideographic description
         0x3000...0x303F,      // CJK symbols and punctuation (ideographic space, 、。〇「」)
         0x3041...0x33FF,      // kana, bopomofo, Hangul compatibility jamo, enclosed CJK, CJK compatibility
         0x3400...0x4DBF,      // CJK extension A
         0x4E00...0x9FFF,      // CJK unified ideographs
         0xA000...0xA4CF,      // Yi
         0xA960...0xA97F,      // Hangul Jamo extended A
         0xAC00...0xD7A3,      // Hangul syllables
         0xF900...0xFAFF,      // CJK compatibility ideographs
         0xFE10...0xFE19,      // vertical forms
         0xFE30...0xFE6F,      // CJK compatibility forms, small form variants
         0xFF01...0xFF60,      // full-width forms
         0xFFE0...0xFFE6,      // full-width signs
         0x16FE0...0x16FE4, 0x17000...0x18CFF, 0x1B000...0x1B2FF,
         0x1F004, 0x1F0CF, 0x1F18E, 0x1F191...0x1F19A,
         0x1F200...0x1F2FF,    // enclosed ideographic supplement
         0x1F300...0x1F64F,    // pictographs, emoticons
         0x1F680...0x1F6FF, 0x1F7E0...0x1F7EB, 0x1F90C...0x1F9FF, 0x1FA70...0x1FAFF,
         0x20000...0x2FFFD, 0x30000...0x3FFFD:
      return true
    default:
      return false
    }
  }

  /// `text` padded with spaces to `width` columns (left-aligned), or on the left (right-aligned).
  static func pad(_ text: String, to width: Int, right: Bool = false) -> String {
    let gap = max(0, width - of(text))
    let spaces = String(repeating: " ", count: gap)
    return right ? spaces + text : text + spaces
  }
}

// MARK: - Tables

/// One table cell: the text shown in the table and the raw text written to CSV (43,763 in the
/// table is 43763 in CSV).
struct Cell: ExpressibleByStringLiteral {
  var text: String
  var raw: String

  init(_ text: String, raw: String? = nil) {
    self.text = text
    self.raw = raw ?? text
  }

  init(stringLiteral value: String) { self.init(value) }

  /// A decimal: grouped in the table, plain in CSV; an em dash / empty when absent.
  static func decimal(_ value: LedgerDecimal?) -> Cell {
    guard let value else { return Cell("—", raw: "") }
    return Cell(value.grouped, raw: value.description)
  }

  static func optional(_ text: String?) -> Cell {
    guard let text, !text.isEmpty else { return Cell("—", raw: "") }
    return Cell(text)
  }
}

/// A table of columns and rows, rendered aligned (display width), or as CSV.
struct TextTable {
  struct Column {
    var title: String
    var alignRight = false
    /// Written to CSV only (a code beside the word the table shows).
    var csvOnly = false
    init(_ title: String, alignRight: Bool = false, csvOnly: Bool = false) { self.title = title; self.alignRight = alignRight; self.csvOnly = csvOnly }
    /// Never cut to fit the terminal: ids, numbers, dates.
    var keepsWhole: Bool { ["#", "seq", "id", "person", "indicator", "entity", "mark"].contains(title) || alignRight }
  }

  var columns: [Column]
  var rows: [[Cell]] = []

  init(_ columns: [Column], rows: [[Cell]] = []) {
    self.columns = columns
    self.rows = rows
  }

  init(_ titles: [String], rows: [[Cell]] = []) {
    self.init(titles.map { Column($0) }, rows: rows)
  }

  mutating func append(_ row: [Cell]) { rows.append(row) }

  /// Terminal text: control characters shown as spaces so that a stored value cannot move the
  /// cursor or break the alignment.
  static func sanitized(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: { $0.value < 0x20 || ($0.value >= 0x7F && $0.value < 0xA0) }) else { return text }
    var out = String.UnicodeScalarView()
    for s in text.unicodeScalars {
      out.append(s.value < 0x20 || (s.value >= 0x7F && s.value < 0xA0) ? " " : s)
    }
    return String(out)
  }

  /// The aligned table: a header, a rule of dashes, the rows; columns two spaces apart, every
  /// column but the last padded to its widest cell. `(none)` under the header when empty.
  func rendered(width terminal: Int? = Display.terminalWidth) -> String {
    let shown = self.columns.indices.filter { !self.columns[$0].csvOnly }
    let columns: [Column] = shown.map { self.columns[$0] }
    var body = rows.map { row in shown.map { i in TextTable.sanitized(i < row.count ? row[i].text : "") } }
    let header = columns.map(\.title)
    var widths = header.map(DisplayWidth.of)
    for row in body {
      for (i, text) in row.enumerated() { widths[i] = max(widths[i], DisplayWidth.of(text)) }
    }
    // On a terminal of known width, long names are cut with an ellipsis (never in files or pipes).
    if let terminal, let fitted = DisplayWidth.fitted(widths, titles: header, keepsWhole: columns.map(\.keepsWhole), into: terminal) {
      widths = fitted
      body = body.map { row in row.enumerated().map { DisplayWidth.truncated($1, to: widths[$0]) } }
    }
    func line(_ cells: [String]) -> String {
      var out = ""
      for (i, text) in cells.enumerated() {
        let last = i == cells.count - 1
        if last && !columns[i].alignRight {
          out += text
        } else {
          out += DisplayWidth.pad(text, to: widths[i], right: columns[i].alignRight)
        }
        if !last { out += "  " }
      }
      while out.hasSuffix(" ") { out.removeLast() }
      return out
    }
    var lines = [line(header), line(widths.map { String(repeating: "-", count: max($0, 1)) })]
    lines += body.map(line)
    if body.isEmpty { lines.append("(none)") }
    return lines.joined(separator: "\n") + "\n"
  }

  /// RFC 4180 CSV with a header row and CRLF line ends; formula-looking cells are neutralised.
  func csv() -> String {
    var out = CSV.row(columns.map(\.title))
    for row in rows { out += CSV.row(columns.indices.map { i in i < row.count ? row[i].raw : "" }) }
    return out
  }
}

/// RFC 4180 CSV, safe to open in a spreadsheet.
enum CSV {
  /// Characters that make a spreadsheet read a cell as a formula (CWE-1236), including their
  /// full-width forms, which some spreadsheet input methods turn into the ASCII ones.
  static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"]

  /// One field: prefixed with `'` when it starts like a formula, quoted when it holds a comma,
  /// a quote, or a line break (quotes doubled).
  static func field(_ text: String) -> String {
    var value = text
    if let first = value.unicodeScalars.first, formulaStarts.contains(first) { value = "'" + value }
    let needsQuotes = value.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
    guard needsQuotes else { return value }
    return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }

  static func row(_ fields: [String]) -> String {
    fields.map(field).joined(separator: ",") + "\r\n"
  }
}

// MARK: - JSON

/// A JSON value written with sorted keys and two-space indentation. Numbers are integers only;
/// decimals are strings (the ledger never uses binary floating point).
indirect enum JSON {
  case string(String)
  case integer(String)
  case bool(Bool)
  case null
  case array([JSON])
  case object([String: JSON])

  static func integer<I: BinaryInteger>(_ value: I) -> JSON { .integer(String(value)) }
  static func optional(_ text: String?) -> JSON { text.map(JSON.string) ?? .null }
  static func decimal(_ value: LedgerDecimal?) -> JSON { value.map { .string($0.description) } ?? .null }
  static func date(_ value: EffectiveDate?) -> JSON { value.map { .string($0.description) } ?? .null }
  static func strings(_ values: [String]) -> JSON { .array(values.map(JSON.string)) }

  /// An object from pairs, leaving out members whose value is `nil` (use `.null` to keep one).
  static func fields(_ pairs: KeyValuePairs<String, JSON?>) -> JSON {
    var members: [String: JSON] = [:]
    for (key, value) in pairs { if let value { members[key] = value } }
    return .object(members)
  }

  /// The text, ending in a newline.
  func rendered() -> String {
    var out = ""
    write(into: &out, level: 0)
    return out + "\n"
  }

  /// The text of this value as an item of a top-level array (indented one level), as
  /// `.array([…]).rendered()` writes it: for writing an array one item at a time.
  func renderedAsItem() -> String {
    var out = "  "
    write(into: &out, level: 1)
    return out
  }

  private func write(into out: inout String, level: Int) {
    switch self {
    case .string(let s): JSON.writeString(s, into: &out)
    case .integer(let n): out += n
    case .bool(let b): out += b ? "true" : "false"
    case .null: out += "null"
    case .array(let items):
      if items.isEmpty { out += "[]"; return }
      out += "[\n"
      for (i, item) in items.enumerated() {
        out += String(repeating: "  ", count: level + 1)
        item.write(into: &out, level: level + 1)
        out += i == items.count - 1 ? "\n" : ",\n"
      }
      out += String(repeating: "  ", count: level) + "]"
    case .object(let members):
      if members.isEmpty { out += "{}"; return }
      out += "{\n"
      let keys = members.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
      for (i, key) in keys.enumerated() {
        out += String(repeating: "  ", count: level + 1)
        JSON.writeString(key, into: &out)
        out += ": "
        members[key]!.write(into: &out, level: level + 1)
        out += i == keys.count - 1 ? "\n" : ",\n"
      }
      out += String(repeating: "  ", count: level) + "}"
    }
  }

  static func writeString(_ s: String, into out: inout String) {
    out += "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      default:
        if scalar.value < 0x20 || scalar.value == 0x7F {
          let hex = String(scalar.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    out += "\""
  }
}

// MARK: - Reports

/// What a read command prints: a table (with caption lines above it for people) and the same
/// data as JSON.
struct Report {
  var caption: [String] = []
  var table: TextTable
  var json: JSON
  var footer: [String] = []
  /// Leave the table out of the table format when it has no rows (the caption says it all).
  var omitsEmptyTable = false

  func emit(_ format: OutputFormat) {
    switch format {
    case .table:
      for line in caption { Console.line(line) }
      if omitsEmptyTable && table.rows.isEmpty { return }
      if !caption.isEmpty { Console.line() }
      Console.out(table.rendered())
      if !footer.isEmpty { Console.line(); for line in footer { Console.line(line) } }
    case .json:
      Console.out(json.rendered())
    case .csv:
      if Display.excel { Console.out("\u{FEFF}") }
      Console.out(table.csv())
    }
  }
}

/// A read command's rows written as they are read (JSON and CSV), so that memory stays flat
/// however many there are; the aligned table needs every row's width first, so the table
/// format still collects them. The bytes are those ``Report`` writes for the same rows.
struct RowStream {
  let format: OutputFormat
  let columns: [TextTable.Column]
  private var table: TextTable
  private var count = 0

  init(_ format: OutputFormat, columns: [TextTable.Column]) {
    self.format = format
    self.columns = columns
    table = TextTable(columns)
    if format == .csv { Console.out((Display.excel ? "\u{FEFF}" : "") + CSV.row(columns.map(\.title))) }
  }

  /// One row: its table cells and its JSON object.
  mutating func append(_ cells: [Cell], json: @autoclosure () -> JSON) {
    switch format {
    case .table: table.append(cells)
    case .json: Console.out((count == 0 ? "[\n" : ",\n") + json().renderedAsItem())
    case .csv: Console.out(CSV.row(columns.indices.map { i in i < cells.count ? cells[i].raw : "" }))
    }
    count += 1
  }

  /// Ends the output; for the table format, prints the caption lines and the table.
  func finish(caption: [String]) {
    switch format {
    case .table: Report(caption: caption, table: table, json: .null).emit(.table)
    case .json: Console.out(count == 0 ? "[]\n" : "\n]\n")
    case .csv: break
    }
  }
}

// MARK: - Shared renderings of domain values

extension LocalizedName {
  /// `"name"` (Japanese) and `"nameEn"` when known.
  var jsonMembers: [String: JSON] {
    var out: [String: JSON] = ["name": .string(ja)]
    if let en { out["nameEn"] = .string(en) }
    return out
  }
}

extension JSON {
  /// `base` with the members of `extra` added.
  static func merged(_ base: JSON, _ extra: [String: JSON]) -> JSON {
    guard case .object(var members) = base else { return base }
    for (k, v) in extra { members[k] = v }
    return .object(members)
  }
}

extension LedgerTimestamp {
  /// `2026-11-29 12:00:00Z`: seconds are enough for a table.
  var tableText: String {
    let text = description
    guard text.count == 27 else { return text }
    return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(8)) + "Z"
  }
}

extension PeriodValue {
  var json: JSON { .object(["value": .string(value.description), "period": .optional(period?.description)]) }
}
