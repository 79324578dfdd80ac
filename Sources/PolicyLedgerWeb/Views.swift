import Foundation
import Plot
import PolicyLedgerCharts
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerProofs
import PolicyLedgerQuery

/// The pages of the web view, each read through the public query API in read transactions.
struct Views: Sendable {
  let ledger: CouncilLedger
  /// Today's date where the council sits, for a page without `asOf`.
  let today: @Sendable () -> CalendarDay

  static let logPageSize = 50

  func caption(_ q: ViewQuery) -> Node<HTML.BodyContext> {
    var text = "時点: " + q.dates.text(.day(q.day(today: today())))
    if let asOf = q.asOf, asOf.precision != .day || asOf.isApproximate { text += "（\(q.dates.text(asOf))の初日）" }
    if q.asOf == nil { text += "（本日）" }
    switch q.knownAt {
    case .latest: text += "・最新の記録"
    case .moment(let t): text += "・\(t) 時点で記録されていた内容"
    case .through(let s): text += "・事象 \(s.rawValue) までの記録"
    }
    return .p(.class("muted"), .t(text))
  }

  /// `/`: the body tree as of a date.
  func bodies(_ q: ViewQuery) throws -> Page {
    let tree = try ledger.bodyTree(asOf: q.day(today: today()), knownAt: q.knownAt)
    var rows: [[Node<HTML.BodyContext>]] = []
    func walk(_ node: BodyNode, depth: Int) {
      let b = node.body
      rows.append([
        .t(b.id),
        .a(.href(HTMLText.escaped(q.link("/bodies/" + ViewQuery.encoded(b.id)))), .t(String(repeating: "　", count: depth) + b.name.ja)),
        .t(b.kind.japanese), .t(q.dates.text(b.established)), .t(String(b.members.count)),
        .t(b.formerNames.map { "\($0.name.ja)（\(q.dates.text($0.until))まで）" }.joined(separator: "、")),
      ])
      for child in node.children { walk(child, depth: depth + 1) }
    }
    for root in tree { walk(root, depth: 0) }
    return Page(title: "会議体", path: "/", query: q, content: .div(caption(q), table(["id", "会議体", "種別", "設置", "委員数", "旧名称"], rows)))
  }

  /// `/bodies/ID`: a body's roster as of a date.
  func roster(_ id: String, _ q: ViewQuery) throws -> Page {
    let day = q.day(today: today())
    guard let body = try ledger.body(id, asOf: day, knownAt: q.knownAt) else {
      throw WebNotFound("no body \"\(id)\" on \(day)")
    }
    let rows: [[Node<HTML.BodyContext>]] = body.orderedMembers.enumerated().map { i, m in
      [.t(String(i + 1)), .t(m.person), .t(m.name.ja), .t(m.role.japanese), .t(q.dates.text(m.since)), .t(m.affiliations.joined(separator: "、"))]
    }
    let timeline = try MembershipTimeline(ledger: ledger, body: id, end: day, knownAt: q.knownAt)
    return Page(title: body.name.ja, path: "/bodies/" + ViewQuery.encoded(id), query: q,
                content: .div(caption(q), .p(.t("\(body.kind.japanese)・委員 \(rows.count) 名")),
                              table(["#", "id", "氏名", "役職", "就任", "所属"], rows),
                              .h2(.t("委員構成の推移")), .div(.class("chart"), .raw(timeline.svg()))))
  }

  /// `/progress`: the slide's table, with ✓/✗ and the change in the slide's own words.
  func progress(_ q: ViewQuery) throws -> Page {
    let rows = try ledger.progress(asOf: q.day(today: today()), knownAt: q.knownAt)
    let cells: [[Node<HTML.BodyContext>]] = rows.map { r in
      [.t(r.group ?? ""), .a(.href(HTMLText.escaped(q.link("/indicators/" + ViewQuery.encoded(r.indicator)))), .t(r.name.ja)),
       .t(r.baseline.map { $0.value.grouped + r.unit.rawValue } ?? "—"),
       .t(r.latest.map { $0.value.grouped + r.unit.rawValue } ?? "—"),
       .t(r.latest?.period.map { q.dates.text($0) } ?? "—"),
       .t((r.target.map { $0.grouped + r.unit.rawValue } ?? "—") + (r.targetRule?.statedAs.map { "（\($0)）" } ?? "")),
       .t(r.change ?? "—"),
       r.achieved == true ? .span(.class("ok"), .t("✓")) : r.achieved == false ? .span(.class("bad"), .t("✗")) : .t("—")]
    }
    return Page(title: "目標値・主要指標の進捗状況", path: "/progress", query: q,
                content: .div(caption(q), table(["", "指標", "基準値", "最新値", "最新値の期間", "目標値", "変化", "達成"], cells)))
  }

  /// `/indicators`: every indicator, linking to its page.
  func indicators(_ q: ViewQuery) throws -> Page {
    let list = try ledger.indicators(asOf: q.day(today: today()), knownAt: q.knownAt)
    let rows: [[Node<HTML.BodyContext>]] = list.map { i in
      [.t(i.group ?? ""), .t(i.id), .a(.href(HTMLText.escaped(q.link("/indicators/" + ViewQuery.encoded(i.id)))), .t(i.name.ja)), .t(i.unit.rawValue)]
    }
    return Page(title: "指標", path: "/indicators", query: q, content: .div(caption(q), table(["", "id", "指標", "単位"], rows)))
  }

  /// `/indicators/ID`: the chart, and the history with both clocks and corrections.
  func indicator(_ id: String, _ q: ViewQuery) throws -> Page {
    let chart: IndicatorChart
    do {
      chart = try IndicatorChart(ledger: ledger, indicator: id, asOf: q.asOf?.firstDay, knownAt: q.knownAt)
    } catch ProjectionError.noSuchEntity {
      throw WebNotFound("no indicator \"\(id)\"")
    }
    let asOf = q.asOf?.firstDay
    var rows: [[Node<HTML.BodyContext>]] = []
    try ledger.indicatorHistory(id, knownAt: q.knownAt) { e in
      if let asOf, e.event.effective.firstDay > asOf { return }
      let status: Node<HTML.BodyContext>
      switch e.status {
      case .inForce: status = .t("有効")
      case .superseded(let by): status = .t("後続の値あり（事象 \(by)）")
      case .corrected(let by): status = .t("訂正（事象 \(by)）→ \(e.current.map { $0.value.grouped } ?? "—")" + (e.reason.map { "：\($0)" } ?? ""))
      case .retracted(let by): status = .span(.class("struck"), .t("取消（事象 \(by)）" + (e.reason.map { "：\($0)" } ?? "")))
      }
      rows.append([.t(String(e.event.sequence.rawValue)), .t(q.dates.text(e.event.effective)),
                   .t(e.observed.period.map { q.dates.text($0) } ?? "—"), .t(e.observed.value.grouped + e.observed.unit.rawValue),
                   status, .t(e.event.actor), .t(e.event.recordedAt.description), .t(e.event.source ?? "")])
    }
    return Page(title: (chart.group.map { $0 + " " } ?? "") + chart.name.ja, path: "/indicators/" + ViewQuery.encoded(id), query: q,
                content: .div(caption(q), .div(.class("chart"), .raw(chart.svg())),
                              .h2(.t("履歴（有効日・記録日時・訂正）")),
                              table(["事象", "有効日", "期間", "値", "状態", "記録者", "記録日時 (UTC)", "出典"], rows)))
  }

  /// `/log`: the event log, a page at a time, filterable by actor, type and stream.
  func log(_ q: ViewQuery) throws -> Page {
    let page = max(1, Int(q.extra["page"] ?? "1") ?? 1)
    let (actor, type, stream) = (q.extra["actor"].flatMap { $0.isEmpty ? nil : $0 }, q.extra["type"].flatMap { $0.isEmpty ? nil : $0 },
                                 q.extra["stream"].flatMap { $0.isEmpty ? nil : $0 })
    let filter = EventFilter(actor: actor, type: type, stream: stream)
    let through = try ledger.lastSequence(knownAt: q.knownAt)
    var rows: [[Node<HTML.BodyContext>]] = []
    var matched = 0
    let skip = (page - 1) * Views.logPageSize
    var more = false
    var signatures = try SignatureLookup(ledger)
    if through != SequenceNumber(0) {
      try ledger.log.forEachEvent(from: SequenceNumber(1), through: through) { e in
        guard filter.matches(e) else { return true }
        matched += 1
        if matched <= skip { return true }
        if rows.count == Views.logPageSize { more = true; return false }
        rows.append([.t(String(e.sequence.rawValue)), .t(q.dates.text(e.effective)), .t(e.recordedAt.description), .t(e.actor), .t(e.type),
                     .t(e.streams.map(\.rawValue).joined(separator: " ")), .t(String(e.hash.description.prefix(12))),
                     Views.signature(try signatures.status(of: e))])
        return true
      }
    }
    let navigation: Node<HTML.BodyContext> = .p(
      .if(page > 1, .a(.href(HTMLText.escaped(q.link("/log", extra: ["page": String(page - 1)]))), .t("← 前へ"))),
      .t("　\(page) ページ　"),
      .if(more, .a(.href(HTMLText.escaped(q.link("/log", extra: ["page": String(page + 1)]))), .t("次へ →")))
    )
    let filters: Node<HTML.BodyContext> = .form(
      .action("/log"), .method(.get),
      .if(q.asOfText != nil, .input(.type(.hidden), .name("asOf"), .value(HTMLText.escaped(q.asOfText ?? "")))),
      .if(q.knownAtText != nil, .input(.type(.hidden), .name("knownAt"), .value(HTMLText.escaped(q.knownAtText ?? "")))),
      .if(q.datesText != nil, .input(.type(.hidden), .name("dates"), .value(HTMLText.escaped(q.datesText ?? "")))),
      .label(.t("記録者 "), .input(.name("actor"), .type(.text), .value(HTMLText.escaped(actor ?? "")))),
      .label(.t(" 種別 "), .input(.name("type"), .type(.text), .value(HTMLText.escaped(type ?? "")))),
      .label(.t(" ストリーム "), .input(.name("stream"), .type(.text), .value(HTMLText.escaped(stream ?? "")))),
      .button(.type(.submit), .t("絞り込む"))
    )
    return Page(title: "事象ログ", path: "/log", query: q,
                content: .div(caption(q), filters, navigation,
                              table(["seq", "有効日", "記録日時 (UTC)", "記録者", "種別", "ストリーム", "ハッシュ", "署名"], rows), navigation))
  }

  /// A signature's cell in the log: the key that signed it, nothing when unsigned, or what is wrong.
  static func signature(_ status: SignatureStatus) -> Node<HTML.BodyContext> {
    switch status {
    case .signed(let key, _): .t(key.label)
    case .unsigned(nil): .t("")
    case .unsigned, .bad: .span(.class("bad"), .attribute(named: "title", value: HTMLText.escaped(status.summary)), .t("不備"))
    }
  }

  /// `/integrity`: the hash chain verified now, the digest to note, and the head checkpoint's
  /// body (C2SP form: origin, size, base64 Merkle root) to compare with a signed one; with the
  /// `checkpoint` and `key` parameters, a pasted signed checkpoint is checked against the events
  /// (read-only: nothing is written or signed).
  func integrity(_ q: ViewQuery) throws -> Page {
    let report = try ledger.log.verify()
    let head = try ledger.log.head()
    let verdict: Node<HTML.BodyContext> = report.isValid
      ? .p(.class("ok"), .t("ハッシュ連鎖は完全です（\(report.eventsChecked) 事象を検証）。"))
      : .p(.class("bad"), .t("ハッシュ連鎖に不整合: 事象 \(report.failure!.sequence) — \(report.failure!.reason)"))
    // The root from the events themselves (not the stored tree a forger may have rewritten).
    let size = head?.sequence.rawValue ?? 0
    var leaves: [[UInt8]]? = nil
    var current: Checkpoint? = nil
    if report.isValid {
      let hashes = try LedgerTree.leafHashes(ledger.log, through: size)
      leaves = hashes
      current = Checkpoint(origin: Checkpoint.origin(ledgerID: ledger.log.ledgerID), size: size, rootHash: try MerkleTree(leafHashes: hashes).root())
    }
    // Actors' signatures, checked only over an intact chain (as `verify` does).
    let signatures = report.isValid ? try ledger.verifySignatures() : nil
    var signatureRows: [[Node<HTML.BodyContext>]] = []
    if let r = signatures {
      let byKey = r.signedByKey.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "、")
      let first = r.failures.first.map { "（最初: 事象 \($0.sequence) — \($0.status.summary)）" } ?? ""
      let policy = r.policy.policy == .required ? "必須（事象 \(r.policy.since?.description ?? "?") の次から）" : "任意"
      signatureRows = [
        [.t("記録者の署名のある事象"), .t(String(r.signed) + (byKey.isEmpty ? "" : "（\(byKey)）"))],
        [.t("署名のない事象"), .t(String(r.unsigned))],
        [.t("署名の不備"), .t(String(r.failureCount) + first)],
        [.t("署名の方針"), .t(policy)],
      ]
    }
    let checkpointNode: Node<HTML.BodyContext> = current.map { .pre(.class("checkpoint"), .t($0.text)) }
      ?? .p(.class("bad"), .t("ハッシュ連鎖が完全でないため、チェックポイントは示しません。"))
    let pasted = q.extra["checkpoint"].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
    let key = q.extra["key"].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
    var result: Node<HTML.BodyContext> = .empty
    if pasted != nil || key != nil {
      let outcome = Views.checkPasted(pasted, key: key, current: current, leaves: leaves)
      result = .p(.class(outcome.ok ? "ok" : "bad"), .t(outcome.message))
    }
    let form: Node<HTML.BodyContext> = .form(
      .action("/integrity"), .method(.get), .class("checkpoint-check"),
      .label(.t("署名付きチェックポイント"), .textarea(.name("checkpoint"), .attribute(named: "rows", value: "7"), .attribute(named: "cols", value: "72"),
                                             .t(pasted ?? ""))),
      .label(.t("検証鍵 (NAME+KEYID+BASE64)"), .input(.name("key"), .type(.text), .value(HTMLText.escaped(key ?? "")))),
      .button(.type(.submit), .t("照合する"))
    )
    return Page(title: "完全性", path: "/integrity", query: q,
                content: .div(verdict,
                              table(["項目", "値"], [
                                [.t("検証した事象"), .t(String(report.eventsChecked))],
                                [.t("ダイジェスト (SEQ:HEX)"), .t(head?.description ?? "—")],
                                [.t("木の大きさ"), .t(current.map { String($0.size) } ?? "—")],
                                [.t("Merkle ルート (base64)"), .t(current.map { Data($0.rootHash).base64EncodedString() } ?? "—")],
                              ] + signatureRows),
                              .if(signatures.map { !$0.isClean } ?? false, .p(.class("bad"), .t("記録者の署名に不備があります。policy-ledger verify が事象ごとに示します。"))),
                              .p(.class("muted"), .t("ダイジェストを控えておけば、後で policy-ledger verify --digest SEQ:HEX がそれまでの記録が書き換えられていないことを証明します。")),
                              .h2(.t("現在のチェックポイント（本文）")),
                              checkpointNode,
                              .p(.class("muted"), .t("C2SP 形式のチェックポイント本文（起点、大きさ、ルート）です。policy-ledger checkpoint が署名したものと同じ本文で、お手元の署名付きチェックポイントと照合できます。")),
                              .h2(.t("署名付きチェックポイントの照合")),
                              result,
                              form,
                              .p(.class("muted"), .t("照合は読むだけで、何も書き込みません（policy-ledger verify --checkpoint FILE --key KEY と同じ判定）。"))),
                takesClocks: false)
  }

  /// Checks a pasted signed checkpoint with one verifier key against the events: signed by the
  /// key, this ledger's origin, no larger than the log, and the root of its first `size` events.
  static func checkPasted(_ text: String?, key: String?, current: Checkpoint?, leaves: [[UInt8]]?) -> (ok: Bool, message: String) {
    guard let text, let key else { return (false, "署名付きチェックポイントと検証鍵の両方を入れてください。") }
    guard let current, let leaves else { return (false, "ハッシュ連鎖が完全でないため照合できません。") }
    // A browser sends a text area's line breaks as CRLF; a note's lines end in LF.
    let note = text.replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
    do {
      let verifier = try NoteVerifier(key)
      let signed = try SignedCheckpoint(parsing: Array(note.utf8))
      let signers = try signed.verify(keys: [verifier], origin: current.origin)
      let checkpoint = signed.checkpoint
      if checkpoint.size > current.size {
        return (false, "照合できません: " + CheckpointMismatch.largerThanLog(checkpoint: checkpoint.size, log: current.size).description)
      }
      guard try MerkleTree(leafHashes: Array(leaves.prefix(Int(checkpoint.size)))).root() == checkpoint.rootHash else {
        return (false, "照合できません: " + CheckpointMismatch.rootDiffers(size: checkpoint.size, firstDifferingEvent: nil).description)
      }
      return (true, "一致: \(signers.map(\.name).joined(separator: ", ")) が署名した大きさ \(checkpoint.size) のチェックポイントは、この台帳の最初の \(checkpoint.size) 事象と一致し、現在の \(current.size) 事象はその続きです。")
    } catch {
      return (false, "照合できません: \(error)")
    }
  }

  /// A page for an error: a bad parameter (400) or an unknown entity (404).
  func error(_ message: String, title: String, _ q: ViewQuery) -> Page {
    Page(title: title, path: "/", query: q, content: .p(.class("error"), .t(message)))
  }
}
