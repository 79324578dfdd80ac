import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

/// SplitMix64: a small, fast, deterministic PRNG (Steele, Lea, Flood 2014). Fixed seed, so every
/// run generates the same history, byte for byte.
struct SplitMix64 {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  /// Uniform in `range` (half-open).
  mutating func int(_ range: Range<Int>) -> Int {
    precondition(!range.isEmpty)
    return range.lowerBound + Int(next() % UInt64(range.count))
  }
  /// Uniform in `range` (closed).
  mutating func int(_ range: ClosedRange<Int>) -> Int { int(range.lowerBound..<(range.upperBound + 1)) }
  /// True with probability `p`.
  mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
  mutating func pick<T>(_ items: [T]) -> T { items[int(0..<items.count)] }
}

/// Day numbers (days since 1970-01-01) for the generator.
func dayNumber(_ y: Int, _ m: Int, _ d: Int) -> Int { CalendarDay(year: y, month: m, day: d)!.daysSinceEpoch }
func calendarDay(_ n: Int) -> CalendarDay { CalendarDay(daysSinceEpoch: n) }

/// A generated history: the entries in record order plus what the measurements need to know.
struct GeneratedHistory {
  /// The entries, in the order they are recorded (sequence number = index + 1).
  var entries: [CouncilLedger.Entry]
  /// Per entry: the first day of its effective date (for the SQLite table and the samples).
  var effectiveDays: [Int]
  /// Indicators defined and never retired in the recorded history (for the single appends).
  var activeIndicators: [(id: String, unit: IndicatorUnit)]
  /// The indicator whose history is measured, and how many events its stream holds.
  var historyIndicator: String
  var historyIndicatorEvents: Int
  /// The last effective day in the history ("today" for the whole-state question).
  var lastDay: Int
  /// Counts by kind, for the report.
  var counts: [String: Int]
  var bodies: Int
  var people: Int
  var decisions: Int
  var indicators: Int
  var backdated: Int
  var corrections: Int
}

/// Generates a realistic synthetic history of a science council, deterministically.
///
/// - tens of bodies (councils, expert panels, working groups) in a tree, some renamed, working
///   groups dissolved at the end of their terms (the members still seated leave the day before);
/// - people appointed to seats on the bodies for terms of 2–6 years, some changing role or
///   affiliation, then departing and being replaced; some people sit on several bodies;
/// - decisions scheduled (with a planned month), some rescheduled, most taken; some taken without
///   a schedule;
/// - hundreds to thousands of indicator series (sub-indicators with parents, relative and
///   absolute targets), each with yearly observed values (one per fiscal year), some targets
///   revised, a few series retired;
/// - backdated values: ~3% of observations are recorded 1–4 years after the date they are
///   effective, so their effective date precedes many events already recorded;
/// - corrections (`event.corrected`): ~1% of observations and ~1% of appointments are corrected
///   1–120 days after they were recorded.
///
/// Every event is valid when recorded: events are recorded in effective-date order except the
/// backdated observations and corrections, which nothing later depends on.
struct Generator {
  let target: Int
  var rng: SplitMix64

  init(events: Int, seed: UInt64) {
    target = events
    rng = SplitMix64(seed: seed)
  }

  static let simStart = dayNumber(2001, 1, 6)
  static let simEnd = dayNumber(2026, 3, 31)

  /// One event waiting for its place in the record order.
  struct Planned {
    var recordDay: Int
    var order: Int
    var effective: EffectiveDate
    var event: CouncilEvent
    /// For a correction: the planned index of the event it corrects (its sequence number is known
    /// only once the record order is fixed). `event` then holds the replacement payload's event.
    var corrects: Int?
    var reason: String?
    var actor: String
    var source: String?
  }

  private var planned: [Planned] = []
  private var counter = 0

  private mutating func add(_ day: Int, _ event: CouncilEvent, effective: EffectiveDate? = nil, recordDay: Int? = nil, source: Bool = true) -> Int {
    counter += 1
    let eff = effective ?? .day(calendarDay(day))
    let src: String? = source && rng.chance(0.5) ? "CSTI資料 \(calendarDay(day).year)年 p.\(rng.int(1...80))" : nil
    planned.append(Planned(recordDay: recordDay ?? eff.firstDay.daysSinceEpoch, order: counter, effective: eff, event: event,
                           corrects: nil, reason: nil, actor: rng.chance(0.8) ? "secretariat" : "cabinet-office-staff", source: src))
    return planned.count - 1
  }

  private mutating func addCorrection(of index: Int, replacement: CouncilEvent, recordDay: Int, reason: String) {
    counter += 1
    planned.append(Planned(recordDay: recordDay, order: counter, effective: .day(calendarDay(recordDay)), event: replacement,
                           corrects: index, reason: reason, actor: "auditor", source: nil))
  }

  // MARK: Vocabulary

  static let topics = ["基本計画", "重要課題", "評価", "生命倫理", "知的財産", "宇宙政策", "原子力", "イノベーション政策", "研究開発投資",
                       "人材育成", "大学改革", "地域イノベーション", "国際連携", "Society 5.0", "エネルギー", "防災", "健康・医療",
                       "AI戦略", "量子技術", "バイオ戦略", "マテリアル", "海洋", "農林水産", "データ連携", "研究インテグリティ"]
  static let families = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "佐々木",
                         "山口", "松本", "井上", "木村", "林", "斎藤", "清水", "上山", "安宅", "久能", "梶原", "篠原"]
  static let givens = ["隆大", "和人", "祐子", "健一", "美穂", "誠", "直樹", "恵", "浩", "由美", "翔太", "陽子", "大輔", "彩",
                       "真一", "智子", "剛", "香織", "亮", "裕子"]
  static let affiliations = ["東京大学大学院工学系研究科教授", "京都大学総長", "大阪大学大学院医学系研究科教授", "東北大学教授",
                             "慶應義塾大学環境情報学部教授", "早稲田大学理工学術院教授", "国立研究開発法人理化学研究所理事",
                             "国立研究開発法人科学技術振興機構理事長", "株式会社日立製作所フェロー", "トヨタ自動車株式会社 先進技術開発カンパニー",
                             "日本電気株式会社 中央研究所長", "ヤフー株式会社チーフストラテジーオフィサー", "一般社団法人日本経済団体連合会 常務理事",
                             "名古屋大学大学院理学研究科教授", "九州大学副学長", "北海道大学教授", "筑波大学学長", "日本学術会議会長",
                             "産業技術総合研究所 理事長", "東京工業大学 学長"]
  static let roles: [MemberRole] = [.executiveMember, .expertMember, .expertMember, .expertMember, .member, .advisor]
  static let units: [IndicatorUnit] = [.people, .percent, .oku, .count, .millionYen, .people, .count]

  // MARK: Generation

  struct Body { var id: String; var start: Int; var end: Int; var dissolves: Bool; var kind: BodyKind; var seats: Int }

  mutating func generate() -> GeneratedHistory {
    let n = target
    // Bodies: tens, growing slowly with the history's size.
    let bodyCount = min(80, max(10, 10 + n / 4000))
    var bodies: [Body] = []
    for b in 0..<bodyCount {
      let id = paddedID("body", b)
      var body: Body
      if b == 0 {
        body = Body(id: "csti", start: Generator.simStart, end: Generator.simEnd + 1, dissolves: false, kind: .council, seats: 15)
      } else if b == 1 {
        body = Body(id: "ip-strategy-hq", start: dayNumber(2003, 3, 1), end: Generator.simEnd + 1, dissolves: false, kind: .other, seats: 12)
      } else {
        let parents = bodies.filter { $0.kind != .workingGroup && !$0.dissolves }
        let parent = rng.pick(parents)
        let isWG = parent.kind == .expertPanel && rng.chance(0.7) || rng.chance(0.25)
        let start = min(parent.start + rng.int(30...4000), dayNumber(2022, 12, 31))
        let term = start + rng.int(730...2920)
        let dissolves = isWG && rng.chance(0.6) && term < Generator.simEnd - 30
        body = Body(id: id, start: start, end: dissolves ? term : Generator.simEnd + 1, dissolves: dissolves,
                    kind: isWG ? .workingGroup : .expertPanel, seats: rng.int(6...34))
        let topic = rng.pick(Generator.topics)
        _ = add(start, .bodyEstablished(.init(body: id, name: .init(ja: "\(topic)\(isWG ? "ワーキンググループ" : "専門調査会")（\(b)）", en: "Body \(b)"),
                                               kind: body.kind, parent: parent.id, mandate: "\(topic)に関する調査・検討")),
                effective: .month(calendarDay(start).year, calendarDay(start).month)!)
        bodies.append(body)
        continue
      }
      _ = add(body.start, .bodyEstablished(.init(body: body.id, name: .init(ja: b == 0 ? "総合科学技術会議" : "知的財産戦略本部", en: b == 0 ? "CSTP" : "IP Strategy HQ"),
                                                  kind: body.kind, parent: nil, mandate: "科学技術に関する基本的な政策の調査審議")))
      bodies.append(body)
    }
    // Renames (CSTP → CSTI in May 2014, and ~30% of the others) and dissolutions.
    _ = add(dayNumber(2014, 5, 19), .bodyRenamed(.init(body: "csti", name: .init(ja: "総合科学技術・イノベーション会議", en: "CSTI"))))
    for body in bodies.dropFirst() where rng.chance(0.3) && body.end - body.start > 400 {
      let day = body.start + rng.int(180...(body.end - body.start - 60))
      _ = add(day, .bodyRenamed(.init(body: body.id, name: .init(ja: "\(rng.pick(Generator.topics))検討会（改称）", en: "Renamed body"))))
    }
    for body in bodies where body.dissolves {
      _ = add(body.end, .bodyDissolved(.init(body: body.id, reason: rng.chance(0.5) ? "所掌事務の終了" : nil)))
    }

    // People on seats.
    var personCount = 0
    var bodyPeople: [String: Set<Int>] = [:]
    var appointments: [(index: Int, event: MemberAppointed)] = []
    for body in bodies {
      for seat in 0..<body.seats {
        var t = body.start + rng.int(0...90)
        while t < min(body.end, Generator.simEnd) - 30 {
          // A new person, or (20%) someone already sitting elsewhere who never sat on this body.
          var person = -1
          if personCount > 10 && rng.chance(0.2) {
            let candidate = rng.int(0..<personCount)
            if !(bodyPeople[body.id]?.contains(candidate) ?? false) { person = candidate }
          }
          if person < 0 { person = personCount; personCount += 1 }
          bodyPeople[body.id, default: []].insert(person)
          let pid = paddedID("person", person)
          var rng2 = SplitMix64(seed: UInt64(person) &* 0x9E37_79B9)
          let name = LocalizedName(ja: "\(rng2.pick(Generator.families)) \(rng2.pick(Generator.givens))", en: "Person \(person)")
          var role: MemberRole = seat == 0 ? .chair : rng.pick(Generator.roles)
          let affiliation = [rng.pick(Generator.affiliations)] + (rng.chance(0.2) ? [rng.pick(Generator.affiliations)] : [])
          let appointed = MemberAppointed(body: body.id, person: pid, name: name, role: role, affiliations: affiliation)
          let a = add(t, .memberAppointed(appointed))
          appointments.append((a, appointed))
          let term = rng.int(730...2190)
          let departure = t + term
          let last = min(departure, body.end, Generator.simEnd)
          if rng.chance(0.3) && last - t > 60 {
            var newRole = rng.pick(Generator.roles + [.chair])
            if newRole == role { newRole = role == .member ? .expertMember : .member }
            role = newRole
            _ = add(t + rng.int(30...(last - t - 20)), .memberRoleChanged(.init(body: body.id, person: pid, role: role)))
          }
          if rng.chance(0.2) && last - t > 60 {
            _ = add(t + rng.int(30...(last - t - 20)), .memberAffiliationChanged(.init(body: body.id, person: pid, affiliations: [rng.pick(Generator.affiliations)])))
          }
          if departure < min(body.end, Generator.simEnd) {
            _ = add(departure, .memberDeparted(.init(body: body.id, person: pid, reason: rng.chance(0.3) ? "任期満了" : nil)))
          } else if body.dissolves {
            // A body is dissolved only once its members have left (the ledger refuses it
            // otherwise): the members still seated leave the day before (so they are recorded
            // before the dissolution). No random draw, so the rest of the history is as before.
            _ = add(body.end - 1, .memberDeparted(.init(body: body.id, person: pid, reason: "会議体の廃止")))
          }
          t = departure + rng.int(1...90)
        }
      }
    }

    // Decisions: ~10% of the events.
    let decisionCount = max(10, n / 21)
    var decisionKinds = DecisionKind.allCases
    decisionKinds.removeAll { $0 == .other }
    for d in 0..<decisionCount {
      let body = rng.pick(bodies)
      let lastDay = min(body.end, Generator.simEnd) - 1
      guard lastDay - body.start > 120 else { continue }
      let id = paddedID("decision", d)
      let kind = rng.pick(decisionKinds)
      let title = "\(kind.japanese)：\(rng.pick(Generator.topics))について（第\(d % 97 + 1)回）"
      let s = body.start + rng.int(1...(lastDay - body.start - 100))
      if rng.chance(0.1) {
        _ = add(s, .decisionTaken(.init(decision: id, body: body.id, kind: kind, title: title, document: "資料\(d % 9 + 1)")))
        continue
      }
      var plannedDay = min(s + rng.int(30...365), lastDay + 365)
      let plannedDate = calendarDay(plannedDay)
      _ = add(s, .decisionScheduled(.init(decision: id, body: body.id, kind: kind, title: title, document: rng.chance(0.5) ? "資料\(d % 9 + 1)" : nil,
                                           planned: .month(plannedDate.year, plannedDate.month)!)))
      var last = s
      if rng.chance(0.3) && plannedDay - s > 20 {
        let r = s + rng.int(10...(plannedDay - s - 5))
        plannedDay += rng.int(30...180)
        let p = calendarDay(plannedDay)
        _ = add(r, .decisionRescheduled(.init(decision: id, planned: .month(p.year, p.month)!, reason: rng.chance(0.5) ? "スケジュール見直し" : nil)))
        last = r
      }
      if rng.chance(0.8) {
        let taken = min(max(plannedDay + rng.int(-20...20), last + 1), lastDay)
        if taken > last { _ = add(taken, .decisionTaken(.init(decision: id))) }
      }
    }

    // Indicators: fill the rest, one series at a time, until there are enough events.
    var indicatorCount = 0
    var neverRetired: [(String, IndicatorUnit, Int)] = []
    var corrected: Set<String> = []
    var backdated = 0
    var corrections = 0
    while planned.count < n + n / 50 + 10 {
      let i = indicatorCount
      indicatorCount += 1
      let id = paddedID("ind", i)
      let unit = rng.pick(Generator.units)
      let defineYear = rng.int(1996...2022)
      let defineDay = dayNumber(defineYear, 4, 1) + rng.int(0...200)
      let scale = unit == .percent ? 1 : 0
      var value = Int128(rng.int(100...100_000))
      let baseline = PeriodValue(value: LedgerDecimal(significand: value, scale: scale), period: ObservedPeriod(.fiscalYear(defineYear - 1)!))
      let relative = rng.chance(0.5)
      let target = relative
        ? TargetRule(rule: .relative, factor: LedgerDecimal(significand: Int128(rng.int(11...20)), scale: 1), atLeast: true, statedAs: "\(rng.int(1...9))割増加")
        : TargetRule(rule: .absolute, value: LedgerDecimal(significand: value * 3 / 2, scale: scale), atLeast: true)
      // A sub-indicator (breakdown) of a series defined before it that is never retired.
      var parent: String?
      if neverRetired.count > 10 && rng.chance(0.2) {
        let candidate = rng.pick(neverRetired)
        if candidate.2 < defineDay { parent = candidate.0 }
      }
      let topic = rng.pick(Generator.topics)
      _ = add(defineDay, .indicatorDefined(.init(indicator: id, name: .init(ja: "\(topic)に関する指標（\(i)）", en: "Indicator \(i)"), unit: unit,
                                                  group: rng.chance(0.3) ? "❶" : nil, parent: parent,
                                                  breakdown: parent != nil ? ["sector": rng.pick(["大学等", "研究開発法人", "企業"])] : nil,
                                                  baseline: baseline, reference: nil, target: target,
                                                  targetPeriod: ObservedPeriod(.fiscalYear(defineYear + 5)!),
                                                  changeTerms: rng.pick(ChangeTerms.allCases))))
      let retires = parent == nil && rng.chance(0.05)
      let lastYear = retires ? rng.int(defineYear...2024) : 2024
      var lastReport = defineDay
      var revisedAt: Int? = rng.chance(0.1) ? rng.int(defineYear...lastYear) : nil
      for fy in defineYear...lastYear {
        value = max(1, value + Int128(rng.int(-5...8)) * value / 100)
        let report = dayNumber(fy + 1, 9, 1) + rng.int(0...120)
        lastReport = max(lastReport, report)
        let observed = IndicatorObserved(indicator: id, value: LedgerDecimal(significand: value, scale: scale), unit: unit,
                                         period: ObservedPeriod(.fiscalYear(fy)!), note: rng.chance(0.05) ? "速報値" : nil)
        // ~3% are recorded 1–4 years after the date they are effective (backdated).
        let late = rng.chance(0.03)
        let recordDay = late ? report + rng.int(365...1460) : report
        if late { backdated += 1 }
        let index = add(report, .indicatorObserved(observed), recordDay: recordDay)
        if rng.chance(0.01) {
          var fixed = observed
          fixed.value = LedgerDecimal(significand: value + Int128(rng.int(1...50)), scale: scale)
          addCorrection(of: index, replacement: .indicatorObserved(fixed), recordDay: recordDay + rng.int(1...120), reason: "転記誤りの訂正")
          corrected.insert(id)
          corrections += 1
        }
        if let r = revisedAt, r == fy {
          _ = add(report + 10, .indicatorTargetRevised(.init(indicator: id, target: .init(rule: .absolute, value: LedgerDecimal(significand: value * 2, scale: scale), atLeast: true),
                                                                targetPeriod: ObservedPeriod(.fiscalYear(fy + 5)!))))
          revisedAt = nil
        }
      }
      if retires {
        _ = add(lastReport + rng.int(30...365), .indicatorRetired(.init(indicator: id, reason: "計画期間の終了")))
      } else {
        neverRetired.append((id, unit, defineDay))
      }
    }
    // ~1% of appointments corrected (a misprinted affiliation), 1–60 days after being recorded.
    for (index, appointed) in appointments where rng.chance(0.01) {
      var fixed = appointed
      fixed.affiliations = [rng.pick(Generator.affiliations)]
      addCorrection(of: index, replacement: .memberAppointed(fixed), recordDay: planned[index].recordDay + rng.int(1...60), reason: "所属の誤記の訂正")
      corrections += 1
    }

    // The record order: by record day, then by generation order. Keep the first `n`.
    var order = Array(planned.indices)
    order.sort { (planned[$0].recordDay, planned[$0].order) < (planned[$1].recordDay, planned[$1].order) }
    if order.count > n { order.removeSubrange(n...) }
    var sequenceOf = [Int](repeating: 0, count: planned.count)
    for (position, index) in order.enumerated() { sequenceOf[index] = position + 1 }

    var entries: [CouncilLedger.Entry] = []
    var effectiveDays: [Int] = []
    entries.reserveCapacity(order.count)
    effectiveDays.reserveCapacity(order.count)
    var counts: [String: Int] = [:]
    var defined: Set<String> = []
    var retired: Set<String> = []
    var streamEvents: [String: Int] = [:]
    var lastDay = Int.min
    var peopleSeen: Set<String> = []
    var decisionsSeen: Set<String> = []
    for index in order {
      let p = planned[index]
      var event = p.event
      if let target = p.corrects {
        let payload = try! p.event.payload()
        event = .eventCorrected(.init(corrects: SequenceNumber(UInt64(sequenceOf[target])), reason: p.reason ?? "訂正", payload: payload))
      }
      counts[event.typeName, default: 0] += 1
      switch event {
      case .indicatorDefined(let d): defined.insert(d.indicator)
      case .indicatorRetired(let r): retired.insert(r.indicator)
      case .memberAppointed(let m): peopleSeen.insert(m.person)
      case .decisionScheduled(let d): decisionsSeen.insert(d.decision)
      case .decisionTaken(let d): decisionsSeen.insert(d.decision)
      default: break
      }
      // A correction is in its original's streams (the replacement names the same entities).
      for stream in p.event.streams where stream.kind == "indicator" { streamEvents[stream.localID, default: 0] += 1 }
      entries.append(.init(event, effective: p.effective, actor: p.actor, source: p.source))
      effectiveDays.append(p.effective.firstDay.daysSinceEpoch)
      lastDay = max(lastDay, p.effective.firstDay.daysSinceEpoch)
    }
    let active = neverRetired.filter { defined.contains($0.0) && !retired.contains($0.0) }.map { (id: $0.0, unit: $0.1) }
    _ = indicatorCount
    // The measured history: the longest recorded series that had a correction, else the longest.
    let candidates = corrected.filter { defined.contains($0) }
    let pool = candidates.isEmpty ? defined : candidates
    let history = pool.max { (streamEvents[$0] ?? 0, $1) < (streamEvents[$1] ?? 0, $0) } ?? "ind-000000"
    return GeneratedHistory(entries: entries, effectiveDays: effectiveDays, activeIndicators: active, historyIndicator: history,
                            historyIndicatorEvents: streamEvents[history] ?? 0, lastDay: lastDay, counts: counts,
                            bodies: bodies.count, people: peopleSeen.count, decisions: decisionsSeen.count, indicators: defined.count,
                            backdated: backdated, corrections: corrections)
  }
}

/// `prefix-000042`.
func paddedID(_ prefix: String, _ n: Int) -> String {
  let digits = String(n)
  return prefix + "-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
}
