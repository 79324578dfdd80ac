import Foundation
public import PolicyLedgerDomain
public import PolicyLedgerEventLog
public import PolicyLedgerQuery

/// The two clocks of a web page, read from its query string: `asOf` (any date form the command
/// line takes, 和暦 included) and `knownAt` (a moment, or `seq:N`), plus the page number of a
/// paged list. A link made by ``link(_:extra:)`` reproduces the view exactly.
public struct ViewQuery: Sendable, Hashable {
  /// The text given for `asOf`, or `nil`.
  public var asOfText: String?
  /// The text given for `knownAt`, or `nil`.
  public var knownAtText: String?
  public var asOf: EffectiveDate?
  public var knownAt: KnowledgeTime
  /// The text given for `dates` (`iso`, `wareki` or `japanese`), or `nil`.
  public var datesText: String?
  /// How the page prints dates: `dates`, else 和暦 (the pages' default).
  public var dates: DateStyle
  /// Other parameters kept in links (`page`, `actor`, `type`…), in sorted order.
  public var extra: [String: String]

  /// Reads the parameters; an unreadable date is a ``ViewQueryError`` whose message says why.
  public init(_ parameters: [String: String]) throws(ViewQueryError) {
    var rest = parameters
    asOfText = rest.removeValue(forKey: "asOf").flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
    knownAtText = rest.removeValue(forKey: "knownAt").flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
    datesText = rest.removeValue(forKey: "dates").flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
    extra = rest
    if let datesText {
      guard let style = DateStyle(rawValue: datesText.trimmingCharacters(in: .whitespaces).lowercased()) else {
        throw ViewQueryError("dates: \"\(datesText)\" is not a date style; use iso, wareki or japanese")
      }
      dates = style
    } else {
      dates = .wareki
    }
    if let asOfText {
      do { asOf = try EffectiveDate(parsing: asOfText) } catch { throw ViewQueryError("asOf: \(error.description)") }
    } else {
      asOf = nil
    }
    knownAt = .latest
    if let knownAtText {
      let trimmed = knownAtText.trimmingCharacters(in: .whitespaces)
      if trimmed.lowercased().hasPrefix("seq:") {
        guard let n = UInt64(trimmed.dropFirst(4)) else { throw ViewQueryError("knownAt: \"\(knownAtText)\" is not seq:N") }
        knownAt = .through(SequenceNumber(n))
      } else {
        do { knownAt = .moment(try LedgerTimestamp(parsing: trimmed)) } catch { throw ViewQueryError("knownAt: \(error.description)") }
      }
    }
  }

  /// This view with its dates printed in `style` (the link keeps it).
  public func with(dates style: DateStyle) -> ViewQuery {
    var copy = self
    copy.dates = style
    copy.datesText = style.rawValue
    return copy
  }

  /// The day as-of questions count from: the date's first day, else `today`.
  public func day(today: CalendarDay) -> CalendarDay { asOf?.firstDay ?? today }

  /// A link to `path` with this view's clocks and `extra` parameters (percent-encoded).
  public func link(_ path: String, extra more: [String: String] = [:]) -> String {
    var parameters: [(String, String)] = []
    if let asOfText { parameters.append(("asOf", asOfText)) }
    if let knownAtText { parameters.append(("knownAt", knownAtText)) }
    if let datesText { parameters.append(("dates", datesText)) }
    let merged = extra.merging(more) { _, new in new }
    for key in merged.keys.sorted() where !merged[key]!.isEmpty { parameters.append((key, merged[key]!)) }
    guard !parameters.isEmpty else { return path }
    return path + "?" + parameters.map { "\(ViewQuery.encoded($0))=\(ViewQuery.encoded($1))" }.joined(separator: "&")
  }

  /// The parameters of a query string as a browser's form sends them: `&`-separated `key=value`,
  /// `+` for a space, percent-encoded UTF-8. A key given twice keeps its last value.
  public static func parameters(query: String) -> [String: String] {
    var out: [String: String] = [:]
    for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let key = decoded(String(parts[0])), value = parts.count > 1 ? decoded(String(parts[1])) : ""
      if !key.isEmpty { out[key] = value }
    }
    return out
  }

  /// `+` as a space and `%XX` as a byte; malformed escapes are kept as written; invalid UTF-8 is
  /// replaced by U+FFFD.
  static func decoded(_ text: String) -> String {
    var bytes: [UInt8] = []
    var utf8 = Array(text.utf8)[...]
    func hex(_ b: UInt8) -> UInt8? {
      switch b {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
      default: return nil
      }
    }
    while let b = utf8.popFirst() {
      if b == UInt8(ascii: "+") { bytes.append(0x20); continue }
      if b == UInt8(ascii: "%"), utf8.count >= 2, let h = hex(utf8[utf8.startIndex]), let l = hex(utf8[utf8.startIndex + 1]) {
        bytes.append(h << 4 | l)
        utf8 = utf8.dropFirst(2)
        continue
      }
      bytes.append(b)
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Percent-encoding for a query component: everything but unreserved ASCII.
  public static func encoded(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
           UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
        out.unicodeScalars.append(Unicode.Scalar(byte))
      default:
        let hex = Array("0123456789ABCDEF")
        out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0xF)])
      }
    }
    return out
  }
}

/// A query parameter that cannot be read: the page answers 400 with this message.
public struct ViewQueryError: Error, Sendable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// The JSON of the API under `/api/`, in the same shapes as the command line's `--format json`:
/// the command line hands the web server its own renderings, so the two cannot drift apart.
public protocol LedgerJSONSource: Sendable {
  /// The JSON text for `route` (with `id` for the routes that name an entity).
  /// - Throws: ``WebNotFound`` for an unknown entity, ``ViewQueryError`` for a bad parameter.
  func json(_ route: APIRoute, id: String?, query: ViewQuery) throws -> String
}

/// The routes of the JSON API.
public enum APIRoute: String, Sendable, CaseIterable {
  /// `/api/bodies`: as `policy-ledger bodies --format json`.
  case bodies
  /// `/api/bodies/ID/members`: as `policy-ledger members ID --format json`.
  case members
  /// `/api/progress`: as `policy-ledger progress --format json`.
  case progress
  /// `/api/indicators`: as `policy-ledger indicators --format json`.
  case indicators
  /// `/api/indicators/ID/history`: as `policy-ledger history ID --format json`.
  case history
  /// `/api/log`: as `policy-ledger log --format json` (with `from`, `limit`, `actor`, `type`, `stream`).
  case log
  /// `/api/integrity`: as `policy-ledger verify --format json`.
  case integrity
}

/// No such entity (a 404).
public struct WebNotFound: Error, Sendable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
