import Foundation
import Plot
import PolicyLedgerCharts
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

// The HTML pages, built with Plot's typed nodes. Plot escapes `<` and `>` in text but keeps
// anything that looks like an entity (`&lt;`) and does not escape attribute values, so every
// text and attribute here goes through ``HTMLText`` first: a stored `<script>` or `&lt;` shows
// exactly as it was recorded.

/// Escaping for HTML text and attribute values (the charts' ``MarkupText``).
enum HTMLText {
  static func escaped(_ text: String) -> String { MarkupText.escaped(text) }
}

extension Node where Context: HTMLContext {
  /// Text, escaped (see ``HTMLText``).
  static func t(_ text: String) -> Node { .raw(HTMLText.escaped(text)) }
}

/// One page: its title, the view it shows (for the clock form and links), and its content.
struct Page {
  var title: String
  var path: String
  var query: ViewQuery
  var content: Node<HTML.BodyContext>
  /// Whether the page takes the clocks (the integrity page does not).
  var takesClocks = true

  /// The JSON API route with this page's data.
  var apiPath: String {
    if path == "/" { return "/api/bodies" }
    if path.hasPrefix("/bodies/") { return "/api" + path + "/members" }
    if path.hasPrefix("/indicators/") { return "/api" + path + "/history" }
    return "/api" + path
  }

  func html() -> String {
    let document = HTML(
      .lang(.japanese),
      .head(
        .meta(.charset(.utf8)),
        .meta(.name("viewport"), .content("width=device-width, initial-scale=1")),
        .title(HTMLText.escaped(title) + " — Policy Ledger"),
        .link(.rel(.stylesheet), .href("/style.css"))
      ),
      .body(
        .header(
          .nav(
            .a(.href(HTMLText.escaped(query.link("/"))), .t("会議体")),
            .a(.href(HTMLText.escaped(query.link("/progress"))), .t("進捗")),
            .a(.href(HTMLText.escaped(query.link("/indicators"))), .t("指標")),
            .a(.href(HTMLText.escaped(query.link("/log"))), .t("事象ログ")),
            .a(.href("/integrity"), .t("完全性"))
          ),
          .if(takesClocks, clockForm())
        ),
        .main(.h1(.t(title)), content),
        .footer(.p(.t("Policy Ledger — read-only view. The same data as JSON: "),
                   .a(.href(HTMLText.escaped(query.link(apiPath))), .t(apiPath))))
      )
    )
    return "<!DOCTYPE html>\n" + document.render(indentedBy: .spaces(1)).replacingOccurrences(of: "<!DOCTYPE html>", with: "") + "\n"
  }

  /// The clocks: a date field that takes every form the command line takes (和暦 included), and
  /// a moment or `seq:N` for what the ledger knew. Submitting keeps the view's other parameters.
  func clockForm() -> Node<HTML.BodyContext> {
    .form(
      .action(HTMLText.escaped(path)), .method(.get), .class("clocks"),
      .label(.t("時点（asOf）"), .input(.name("asOf"), .type(.text), .value(HTMLText.escaped(query.asOfText ?? "")),
                                    .placeholder(HTMLText.escaped("令和2年3月26日, 2020-03-26, 2020年度…")))),
      .label(.t("記録時点（knownAt）"), .input(.name("knownAt"), .type(.text), .value(HTMLText.escaped(query.knownAtText ?? "")),
                                          .placeholder(HTMLText.escaped("2026-11-29T12:00:00Z, seq:42")))),
      .forEach(query.extra.keys.sorted().filter { $0 != "page" }) { key in
        .input(.type(.hidden), .name(HTMLText.escaped(key)), .value(HTMLText.escaped(query.extra[key]!)))
      },
      .if(query.datesText != nil, .input(.type(.hidden), .name("dates"), .value(HTMLText.escaped(query.datesText ?? "")))),
      .button(.type(.submit), .t("表示")),
      .span(.class("dates"), .t(" 日付: "),
            .a(.href(HTMLText.escaped(query.with(dates: .wareki).link(path))), .t("和暦")), .t(" · "),
            .a(.href(HTMLText.escaped(query.with(dates: .iso).link(path))), .t("ISO")))
    )
  }
}

/// A table from a header and rows of nodes.
func table(_ header: [String], _ rows: [[Node<HTML.BodyContext>]]) -> Node<HTML.BodyContext> {
  .table(
    .tr(.forEach(header) { .th(.t($0)) }),
    .forEach(rows) { row in .tr(.forEach(row) { .td($0) }) }
  )
}

/// A stylesheet served from this server (no external asset; no inline style or script).
let styleSheet = """
  body { font-family: "Noto Sans CJK JP", "Hiragino Sans", sans-serif; margin: 0; color: #1b1b1b; background: #fafafa; }
  header { background: #1f3a5f; color: #fff; padding: 0.6em 1.2em; }
  header nav a { color: #fff; margin-right: 1.2em; text-decoration: none; font-weight: bold; }
  form.clocks { margin-top: 0.5em; display: flex; gap: 1em; flex-wrap: wrap; align-items: end; }
  form.clocks label { display: flex; flex-direction: column; font-size: 0.85em; }
  form.clocks input { padding: 0.3em; min-width: 16em; }
  main { padding: 1em 1.2em; }
  table { border-collapse: collapse; background: #fff; margin: 0.5em 0 1.5em; }
  th, td { border: 1px solid #d0d0d0; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
  th { background: #eef2f7; white-space: nowrap; }
  td { white-space: nowrap; }
  td:last-child { white-space: normal; }
  .ok { color: #1e7d32; font-weight: bold; }
  .bad { color: #b71c1c; font-weight: bold; }
  .muted { color: #777; }
  .struck { text-decoration: line-through; color: #888; }
  .chart svg { max-width: 100%; height: auto; border: 1px solid #ddd; background: #fff; }
  footer { padding: 1em 1.2em; color: #666; font-size: 0.85em; }
  p.error { color: #b71c1c; font-weight: bold; }
  """
