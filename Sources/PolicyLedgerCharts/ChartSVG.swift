public import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

// Drawing an indicator chart as SVG text. Coordinates are printed with one decimal from integer
// arithmetic, so the same chart gives the same bytes on every machine (a golden file checks it).

extension IndicatorChart {
  /// The chart's size in SVG user units.
  static let width = 760.0, height = 440.0
  static let plotLeft = 96.0, plotRight = 720.0, plotTop = 78.0, plotBottom = 340.0

  /// The chart as a standalone SVG document (UTF-8 text, ending in a newline).
  /// - Parameter dates: how the caption prints the as-of date.
  public func svg(dates: DateStyle = .wareki) -> String {
    var out = SVGWriter()
    let title = (group.map { $0 + " " } ?? "") + name.ja
    out.open("svg", ["xmlns": "http://www.w3.org/2000/svg", "width": SVGWriter.number(Self.width), "height": SVGWriter.number(Self.height),
                     "viewBox": "0 0 \(SVGWriter.number(Self.width)) \(SVGWriter.number(Self.height))", "role": "img",
                     "aria-labelledby": "chart-title", "font-family": "sans-serif", "data-indicator": id])
    out.element("title", ["id": "chart-title"], text: "\(title)（\(unit.rawValue)）")
    out.element("rect", ["x": "0", "y": "0", "width": SVGWriter.number(Self.width), "height": SVGWriter.number(Self.height), "fill": "#ffffff"])
    out.element("text", ["x": "24", "y": "30", "font-size": "17", "font-weight": "bold", "fill": "#111111"], text: title)
    out.element("text", ["x": "24", "y": "52", "font-size": "12", "fill": "#444444"], text: caption(dates))

    let shown = points.filter { showsRetracted || !$0.isRetracted }
    // Scales.
    let (yLow, yHigh, yStep) = Self.valueScale(values: valuesShown(shown))
    let (xFirst, xLast) = dayRange(shown)
    func x(_ day: Int) -> Double { Self.plotLeft + (Self.plotRight - Self.plotLeft) * Double(day - xFirst) / Double(max(1, xLast - xFirst)) }
    func y(_ value: Double) -> Double { Self.plotBottom - (Self.plotBottom - Self.plotTop) * (value - yLow) / max(yHigh - yLow, 1e-9) }
    func xOf(_ period: ObservedPeriod) -> Double {
      let first = period.first.firstDay.daysSinceEpoch, last = (period.last ?? period.first).lastDay.daysSinceEpoch
      return x((first + last + 1) / 2)
    }

    // Grid and value axis.
    out.open("g", ["id": "axes", "font-size": "11", "fill": "#333333"])
    var tick = yLow
    while tick <= yHigh + yStep / 2 {
      let ty = y(tick)
      out.element("line", ["x1": SVGWriter.number(Self.plotLeft), "y1": SVGWriter.number(ty), "x2": SVGWriter.number(Self.plotRight), "y2": SVGWriter.number(ty),
                           "stroke": "#e3e3e3", "stroke-width": "1"])
      out.element("text", ["x": SVGWriter.number(Self.plotLeft - 8), "y": SVGWriter.number(ty + 4), "text-anchor": "end"], text: Self.tickLabel(tick, step: yStep))
      tick += yStep
    }
    // Time axis: a tick at the start of each (fiscal) year.
    let fiscal = isFiscal
    let firstYear = CalendarDay(daysSinceEpoch: xFirst).year, lastYear = CalendarDay(daysSinceEpoch: xLast).year
    let every = max(1, (lastYear - firstYear + 1) / 10)
    for year in firstYear...lastYear where (year - firstYear) % every == 0 {
      guard let start = CalendarDay(year: year, month: fiscal ? 4 : 1, day: 1), start.daysSinceEpoch >= xFirst, start.daysSinceEpoch <= xLast else { continue }
      let tx = x(start.daysSinceEpoch)
      out.element("line", ["x1": SVGWriter.number(tx), "y1": SVGWriter.number(Self.plotBottom), "x2": SVGWriter.number(tx), "y2": SVGWriter.number(Self.plotBottom + 5),
                           "stroke": "#333333", "stroke-width": "1"])
      out.element("text", ["x": SVGWriter.number(tx), "y": SVGWriter.number(Self.plotBottom + 20), "text-anchor": "middle"], text: fiscal ? "\(year)年度" : "\(year)年")
    }
    out.element("line", ["x1": SVGWriter.number(Self.plotLeft), "y1": SVGWriter.number(Self.plotBottom), "x2": SVGWriter.number(Self.plotRight), "y2": SVGWriter.number(Self.plotBottom),
                         "stroke": "#333333", "stroke-width": "1"])
    out.element("line", ["x1": SVGWriter.number(Self.plotLeft), "y1": SVGWriter.number(Self.plotTop), "x2": SVGWriter.number(Self.plotLeft), "y2": SVGWriter.number(Self.plotBottom),
                         "stroke": "#333333", "stroke-width": "1"])
    out.element("text", ["x": "24", "y": SVGWriter.number(Self.plotTop - 10), "font-size": "12"], text: "値（\(unit.rawValue)）")
    out.element("text", ["x": SVGWriter.number(Self.plotRight), "y": SVGWriter.number(Self.plotBottom + 38), "text-anchor": "end", "font-size": "12"],
                text: fiscal ? "期間（年度）" : "期間（年）")
    out.close("g")

    // The baseline and the target: lines across the plot, labelled.
    if let baseline {
      let by = y(baseline.value.double)
      out.open("g", ["id": "baseline"])
      out.element("line", ["x1": SVGWriter.number(Self.plotLeft), "y1": SVGWriter.number(by), "x2": SVGWriter.number(Self.plotRight), "y2": SVGWriter.number(by),
                           "stroke": "#777777", "stroke-width": "1.5", "stroke-dasharray": "6 4"])
      let label = "基準値 \(baseline.value.grouped)\(unit.rawValue)" + (baseline.period.map { "（\(DateStyle.japanese.text($0))）" } ?? "")
      out.element("text", ["x": SVGWriter.number(Self.plotLeft + 6), "y": SVGWriter.number(by - 6), "font-size": "11", "fill": "#555555"], text: label)
      out.close("g")
    }
    if let target, let targetText {
      let ty = y(target.double)
      out.open("g", ["id": "target"])
      out.element("line", ["x1": SVGWriter.number(Self.plotLeft), "y1": SVGWriter.number(ty), "x2": SVGWriter.number(Self.plotRight), "y2": SVGWriter.number(ty),
                           "stroke": "#c0392b", "stroke-width": "2", "stroke-dasharray": targetRule?.eventually == true ? "2 4" : "10 4"])
      var label = "目標値 \(targetText)"
      if let period = targetPeriod { label += "（\(DateStyle.japanese.text(period))）" }
      if let stated = targetRule?.statedAs { label += " ＝ \(stated)" }
      out.element("text", ["x": SVGWriter.number(Self.plotRight - 6), "y": SVGWriter.number(ty - 6), "font-size": "11", "fill": "#c0392b", "text-anchor": "end"], text: label)
      if let period = targetPeriod {
        let px = xOf(period)
        out.element("path", ["d": "M\(SVGWriter.number(px)) \(SVGWriter.number(ty - 7))L\(SVGWriter.number(px + 7)) \(SVGWriter.number(ty))L\(SVGWriter.number(px)) \(SVGWriter.number(ty + 7))L\(SVGWriter.number(px - 7)) \(SVGWriter.number(ty))Z",
                             "fill": "#c0392b"])
      }
      out.close("g")
    }

    // The values in force, joined in period order.
    let inForce = shown.filter { !$0.isRetracted }.sorted { ($0.shownPeriod.first, $0.sequence) < ($1.shownPeriod.first, $1.sequence) }
    out.open("g", ["id": "observations"])
    if inForce.count > 1 {
      let path = inForce.enumerated().map { i, p in (i == 0 ? "M" : "L") + "\(SVGWriter.number(xOf(p.shownPeriod))) \(SVGWriter.number(y(p.value.double)))" }.joined()
      out.element("path", ["d": path, "fill": "none", "stroke": "#1f5fa8", "stroke-width": "2"])
    }
    for p in shown.sorted(by: { $0.sequence < $1.sequence }) {
      let px = xOf(p.shownPeriod), py = y(p.value.double)
      let when = DateStyle.japanese.text(p.shownPeriod)
      switch p.status {
      case .inForce:
        out.element("circle", ["cx": SVGWriter.number(px), "cy": SVGWriter.number(py), "r": "5", "fill": "#1f5fa8", "data-seq": String(p.sequence)],
                    title: "\(when): \(p.value.grouped)\(unit.rawValue)（事象 \(p.sequence)）")
        out.element("text", ["x": SVGWriter.number(px + 8), "y": SVGWriter.number(py - 8), "font-size": "11", "fill": "#1f5fa8"], text: "\(p.value.grouped)\(unit.rawValue)")
      case .corrected(let replaced, let by, let reason):
        let oy = y(replaced.double)
        out.element("line", ["x1": SVGWriter.number(px), "y1": SVGWriter.number(oy), "x2": SVGWriter.number(px), "y2": SVGWriter.number(py),
                             "stroke": "#e67e22", "stroke-width": "1", "stroke-dasharray": "3 3"])
        out.element("circle", ["cx": SVGWriter.number(px), "cy": SVGWriter.number(oy), "r": "5", "fill": "#ffffff", "stroke": "#e67e22", "stroke-width": "2",
                               "data-seq": String(p.sequence), "data-replaced": replaced.description],
                    title: "訂正前 \(replaced.grouped)\(unit.rawValue)（事象 \(by) で訂正" + (reason.map { "：\($0)" } ?? "") + "）")
        out.element("circle", ["cx": SVGWriter.number(px), "cy": SVGWriter.number(py), "r": "5", "fill": "#1f5fa8", "data-seq": String(p.sequence)],
                    title: "\(when): \(p.value.grouped)\(unit.rawValue)（訂正後）")
        out.element("text", ["x": SVGWriter.number(px + 8), "y": SVGWriter.number(py - 8), "font-size": "11", "fill": "#1f5fa8"],
                    text: "\(p.value.grouped)\(unit.rawValue)（訂正前 \(replaced.grouped)）")
      case .retracted(let by, let reason):
        let d = 5.0
        out.element("path", ["d": "M\(SVGWriter.number(px - d)) \(SVGWriter.number(py - d))L\(SVGWriter.number(px + d)) \(SVGWriter.number(py + d))M\(SVGWriter.number(px - d)) \(SVGWriter.number(py + d))L\(SVGWriter.number(px + d)) \(SVGWriter.number(py - d))",
                             "stroke": "#999999", "stroke-width": "2", "data-seq": String(p.sequence), "data-retracted": String(by)],
                    title: "取消 \(p.value.grouped)\(unit.rawValue)（事象 \(by) で取消" + (reason.map { "：\($0)" } ?? "") + "）")
        out.element("text", ["x": SVGWriter.number(px + 8), "y": SVGWriter.number(py + 4), "font-size": "11", "fill": "#999999", "text-decoration": "line-through"],
                    text: "\(p.value.grouped)\(unit.rawValue)")
      }
    }
    if shown.isEmpty {
      out.element("text", ["x": SVGWriter.number((Self.plotLeft + Self.plotRight) / 2), "y": SVGWriter.number((Self.plotTop + Self.plotBottom) / 2),
                           "text-anchor": "middle", "font-size": "13", "fill": "#777777"], text: "この時点で記録された値はありません")
    }
    out.close("g")

    // Legend.
    out.open("g", ["id": "legend", "font-size": "11", "fill": "#333333"])
    let ly = Self.height - 40
    out.element("circle", ["cx": "30", "cy": SVGWriter.number(ly), "r": "5", "fill": "#1f5fa8"])
    out.element("text", ["x": "40", "y": SVGWriter.number(ly + 4)], text: "観測値（有効）")
    out.element("circle", ["cx": "150", "cy": SVGWriter.number(ly), "r": "5", "fill": "#ffffff", "stroke": "#e67e22", "stroke-width": "2"])
    out.element("text", ["x": "160", "y": SVGWriter.number(ly + 4)], text: "訂正前の値")
    out.element("path", ["d": "M255 \(SVGWriter.number(ly - 5))L265 \(SVGWriter.number(ly + 5))M255 \(SVGWriter.number(ly + 5))L265 \(SVGWriter.number(ly - 5))", "stroke": "#999999", "stroke-width": "2"])
    out.element("text", ["x": "272", "y": SVGWriter.number(ly + 4)], text: showsRetracted ? "取り消された値" : "取り消された値（非表示）")
    out.element("line", ["x1": "380", "y1": SVGWriter.number(ly), "x2": "410", "y2": SVGWriter.number(ly), "stroke": "#777777", "stroke-width": "1.5", "stroke-dasharray": "6 4"])
    out.element("text", ["x": "416", "y": SVGWriter.number(ly + 4)], text: "基準値")
    out.element("line", ["x1": "470", "y1": SVGWriter.number(ly), "x2": "500", "y2": SVGWriter.number(ly), "stroke": "#c0392b", "stroke-width": "2", "stroke-dasharray": "10 4"])
    out.element("text", ["x": "506", "y": SVGWriter.number(ly + 4)], text: "目標値")
    out.close("g")
    out.close("svg")
    return out.text
  }

  /// `令和2年12月31日現在・最新の記録` and the like.
  func caption(_ dates: DateStyle) -> String {
    var text = asOf.map { dates.text(.day($0)) + "現在" } ?? "全期間"
    switch knownAt {
    case .latest: text += "・最新の記録"
    case .moment(let t): text += "・\(t) 時点の記録"
    case .through(let s): text += "・事象 \(s.rawValue) までの記録"
    }
    return text + "（policy-ledger \(id)）"
  }

  private func valuesShown(_ shown: [Point]) -> [Double] {
    var values = shown.map(\.value.double)
    for p in shown { if case .corrected(let replaced, _, _) = p.status { values.append(replaced.double) } }
    if let baseline { values.append(baseline.value.double) }
    if let target { values.append(target.double) }
    return values
  }

  /// The days the time axis spans: every period shown, padded to whole (fiscal) years.
  private func dayRange(_ shown: [Point]) -> (Int, Int) {
    var periods = shown.map(\.shownPeriod)
    if let p = targetPeriod { periods.append(p) }
    if let p = baseline?.period { periods.append(p) }
    let fiscal = isFiscal
    guard let first = periods.map({ $0.first.firstDay }).min(), let last = periods.map({ ($0.last ?? $0.first).lastDay }).max() else {
      return (CalendarDay(year: 2015, month: 1, day: 1)!.daysSinceEpoch, CalendarDay(year: 2021, month: 1, day: 1)!.daysSinceEpoch)
    }
    func yearStart(_ year: Int) -> Int { CalendarDay(year: year, month: fiscal ? 4 : 1, day: 1)!.daysSinceEpoch }
    let firstYear = fiscal && first.month < 4 ? first.year - 1 : first.year
    let lastYear = fiscal && last.month < 4 ? last.year - 1 : last.year
    return (yearStart(firstYear - 1), yearStart(lastYear + 2))
  }

  /// A value axis with 4–10 round ticks covering `values`.
  static func valueScale(values: [Double]) -> (low: Double, high: Double, step: Double) {
    guard var low = values.min(), var high = values.max() else { return (0, 1, 0.2) }
    if high - low < max(abs(high), 1) * 1e-9 {
      let pad = max(abs(high) * 0.1, 1)
      low -= pad; high += pad
    } else {
      let pad = (high - low) * 0.08
      low -= pad; high += pad
    }
    if low > 0 && low < (high - low) * 0.5 { low = 0 }
    let raw = (high - low) / 6
    var magnitude = 1.0
    while magnitude * 10 <= raw { magnitude *= 10 }
    while magnitude > raw { magnitude /= 10 }
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? magnitude * 10
    return ((low / step).rounded(.down) * step, (high / step).rounded(.up) * step, step)
  }

  /// A tick's label, grouped, with as many decimals as the step needs (`44,000`, `23.5`).
  static func tickLabel(_ value: Double, step: Double) -> String {
    var decimals = 0
    var s = step
    while decimals < 6 && abs(s - s.rounded()) > 1e-9 { s *= 10; decimals += 1 }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int64((value * scale).rounded())
    let decimal = LedgerDecimal(significand: Int128(scaled), scale: decimals)
    return decimal.grouped
  }
}

extension IndicatorChart.Point {
  var isRetracted: Bool { if case .retracted = status { return true } else { return false } }
}

extension LedgerDecimal {
  /// For drawing only: the value as a binary float (never stored or compared).
  var double: Double { Double(description) ?? 0 }
}

/// Writes SVG elements with escaped text and attributes, attributes in sorted order.
struct SVGWriter {
  private(set) var text = ""
  private var depth = 0

  /// A coordinate with at most one decimal, from integer arithmetic: `12`, `12.5`, `-3.2`.
  static func number(_ value: Double) -> String {
    let tenths = Int64((value * 10).rounded())
    let whole = tenths / 10, fraction = abs(tenths % 10)
    let sign = tenths < 0 && whole == 0 ? "-" : ""
    return fraction == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
  }

  /// Text and attribute values escaped for XML (``MarkupText/escaped(_:)``).
  static func escaped(_ text: String) -> String { MarkupText.escaped(text) }


  private func attributes(_ attributes: [String: String]) -> String {
    // Sorted, so that the bytes never depend on a dictionary's order; the namespace first.
    attributes.keys.sorted { a, b in a == "xmlns" ? b != "xmlns" : b == "xmlns" ? false : a < b }.map { " \($0)=\"\(SVGWriter.escaped(attributes[$0]!))\"" }.joined()
  }

  mutating func open(_ name: String, _ attributes: [String: String]) {
    text += String(repeating: "  ", count: depth) + "<\(name)\(self.attributes(attributes))>\n"
    depth += 1
  }

  mutating func close(_ name: String) {
    depth -= 1
    text += String(repeating: "  ", count: depth) + "</\(name)>\n"
  }

  /// An element with optional text content, or a `<title>` child (a tooltip).
  mutating func element(_ name: String, _ attributes: [String: String], text content: String? = nil, title: String? = nil) {
    let indent = String(repeating: "  ", count: depth)
    if let content {
      text += indent + "<\(name)\(self.attributes(attributes))>\(SVGWriter.escaped(content))</\(name)>\n"
    } else if let title {
      text += indent + "<\(name)\(self.attributes(attributes))><title>\(SVGWriter.escaped(title))</title></\(name)>\n"
    } else {
      text += indent + "<\(name)\(self.attributes(attributes))/>\n"
    }
  }
}

/// Escaping shared by the SVG charts and the web view's HTML: `& < > " '` as entities, and the
/// control characters XML 1.0 and HTML do not allow (all of C0 but tab and line feed) as spaces,
/// so that a stored name shows exactly as it was recorded and can never become markup.
public enum MarkupText {
  public static func escaped(_ text: String) -> String {
    var out = ""
    for c in text.unicodeScalars {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default:
        // Control characters are not allowed in XML 1.0: shown as a space.
        if c.value < 0x20 && c != "\n" && c != "\t" { out += " " } else { out.unicodeScalars.append(c) }
      }
    }
    return out
  }
}
