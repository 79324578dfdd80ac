public import PolicyLedgerDomain
public import PolicyLedgerEventLog
public import PolicyLedgerQuery

/// A body's membership over time: who sat on it, in which role, from when to when, as the
/// ledger knew it at a moment.
///
/// Built from the roster itself (``CouncilLedger/body(_:asOf:knownAt:)``) on every date the
/// body's stream names, so corrections and retractions count exactly as they do in `members`.
public struct MembershipTimeline: Sendable, Hashable {
  /// One stretch of a member's seat in one role: from `from` (inclusive) to `until` (exclusive;
  /// `nil`: still seated on the last day shown).
  public struct Stretch: Sendable, Hashable {
    public var role: MemberRole
    public var from: CalendarDay
    public var until: CalendarDay?
  }

  /// One person's seat: their stretches in order.
  public struct Seat: Sendable, Hashable {
    public var person: String
    public var name: String
    public var stretches: [Stretch]
  }

  public var body: String
  public var name: String
  /// The dates the timeline spans: the body's first membership date to `end`.
  public var start: CalendarDay
  public var end: CalendarDay
  public var seats: [Seat]
  public var knownAt: KnowledgeTime

  /// The timeline of `body` up to `end`, as known at `knownAt`.
  /// - Throws: `ProjectionError.noSuchEntity` when the ledger knows no such body.
  /// - Complexity: one roster read per date named in the body's stream.
  public init(ledger: CouncilLedger, body id: String, end: CalendarDay, knownAt: KnowledgeTime = .latest) throws {
    guard let latest = try ledger.body(id, asOf: nil, knownAt: knownAt) else { throw ProjectionError.noSuchEntity("body:\(id)") }
    var days = Set<CalendarDay>()
    for entry in try ledger.audit(.body(id), knownAt: knownAt) where entry.event.effective.firstDay <= end {
      days.insert(entry.event.effective.firstDay)
    }
    let points = days.sorted()
    var seats: [String: Seat] = [:]
    var order: [String] = []
    for (i, day) in points.enumerated() {
      let next = i + 1 < points.count ? points[i + 1] : nil
      guard let roster = try ledger.body(id, asOf: day, knownAt: knownAt) else { continue }
      for m in roster.orderedMembers {
        if seats[m.person] == nil {
          seats[m.person] = Seat(person: m.person, name: m.name.ja, stretches: [])
          order.append(m.person)
        }
        var seat = seats[m.person]!
        seat.name = m.name.ja
        if let last = seat.stretches.last, last.role == m.role, last.until == day {
          seat.stretches[seat.stretches.count - 1].until = next
        } else {
          seat.stretches.append(Stretch(role: m.role, from: day, until: next))
        }
        seats[m.person] = seat
      }
    }
    self.body = id
    self.name = latest.name.ja
    self.start = points.first ?? end
    self.end = end
    self.seats = order.map { seats[$0]! }
    self.knownAt = knownAt
  }

  static let roleColours: [MemberRole: String] = [
    .chair: "#c0392b", .executiveMember: "#1f5fa8", .expertMember: "#2e8b57", .advisor: "#e67e22", .member: "#7f8c8d",
  ]

  /// The timeline as a standalone SVG document: one row per person, a bar per stretch, coloured
  /// by role; Japanese labels; the same data give the same bytes.
  public func svg() -> String {
    var out = SVGWriter()
    let rowHeight = 22.0, left = 170.0, right = 700.0, top = 70.0
    let height = top + rowHeight * Double(max(seats.count, 1)) + 70
    out.open("svg", ["xmlns": "http://www.w3.org/2000/svg", "width": "740", "height": SVGWriter.number(height),
                     "viewBox": "0 0 740 \(SVGWriter.number(height))", "role": "img", "aria-labelledby": "timeline-title",
                     "font-family": "sans-serif", "data-body": body])
    out.element("title", ["id": "timeline-title"], text: "\(name)の委員構成の推移")
    out.element("rect", ["x": "0", "y": "0", "width": "740", "height": SVGWriter.number(height), "fill": "#ffffff"])
    out.element("text", ["x": "20", "y": "28", "font-size": "16", "font-weight": "bold", "fill": "#111111"], text: "\(name)の委員構成の推移")
    out.element("text", ["x": "20", "y": "48", "font-size": "12", "fill": "#444444"],
                text: "\(DateStyle.wareki.text(.day(end)))まで・" + {
                  switch knownAt {
                  case .latest: return "最新の記録"
                  case .moment(let t): return "\(t) 時点の記録"
                  case .through(let s): return "事象 \(s.rawValue) までの記録"
                  }
                }())
    let first = start.daysSinceEpoch, last = max(end.daysSinceEpoch, first + 1)
    func x(_ day: CalendarDay) -> Double { left + (right - left) * Double(day.daysSinceEpoch - first) / Double(last - first) }
    // Year ticks.
    out.open("g", ["id": "axis", "font-size": "10", "fill": "#333333"])
    for year in start.year...end.year {
      guard let jan = CalendarDay(year: year, month: 1, day: 1), jan >= start, jan <= end else { continue }
      let tx = x(jan)
      out.element("line", ["x1": SVGWriter.number(tx), "y1": SVGWriter.number(top - 6), "x2": SVGWriter.number(tx),
                           "y2": SVGWriter.number(top + rowHeight * Double(seats.count)), "stroke": "#e3e3e3", "stroke-width": "1"])
      out.element("text", ["x": SVGWriter.number(tx), "y": SVGWriter.number(top - 10), "text-anchor": "middle"], text: "\(year)年")
    }
    out.close("g")
    out.open("g", ["id": "seats", "font-size": "11"])
    for (i, seat) in seats.enumerated() {
      let y = top + rowHeight * Double(i)
      out.element("text", ["x": SVGWriter.number(left - 8), "y": SVGWriter.number(y + 15), "text-anchor": "end", "fill": "#111111"], text: seat.name)
      for s in seat.stretches {
        let x1 = x(s.from), x2 = x(s.until ?? end)
        out.element("rect", ["x": SVGWriter.number(x1), "y": SVGWriter.number(y + 4), "width": SVGWriter.number(max(2, x2 - x1)), "height": "14",
                             "fill": Self.roleColours[s.role]!, "data-person": seat.person, "data-role": s.role.rawValue],
                    title: "\(seat.name): \(s.role.japanese) \(DateStyle.wareki.text(.day(s.from)))～" + (s.until.map { DateStyle.wareki.text(.day($0)) } ?? ""))
      }
    }
    if seats.isEmpty {
      out.element("text", ["x": SVGWriter.number(left), "y": SVGWriter.number(top + 15), "fill": "#777777"], text: "委員の記録はありません")
    }
    out.close("g")
    // Legend.
    out.open("g", ["id": "legend", "font-size": "11", "fill": "#333333"])
    let ly = height - 30
    for (i, role) in [MemberRole.chair, .executiveMember, .expertMember, .advisor, .member].enumerated() {
      let lx = 20.0 + Double(i) * 140
      out.element("rect", ["x": SVGWriter.number(lx), "y": SVGWriter.number(ly - 9), "width": "12", "height": "12", "fill": Self.roleColours[role]!])
      out.element("text", ["x": SVGWriter.number(lx + 16), "y": SVGWriter.number(ly + 1)], text: role.japanese)
    }
    out.close("g")
    out.close("svg")
    return out.text
  }
}
