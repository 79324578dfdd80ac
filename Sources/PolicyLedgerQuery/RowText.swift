import Foundation
public import PolicyLedgerEventLog
import PolicyLedgerStorage

/// Projection rows as text, for people: `check`'s differences and `policy-ledger rows`.
enum RowText {
  static func day(_ bytes: some Collection<UInt8>) -> CalendarDay {
    CalendarDay(daysSinceEpoch: Int(Int32(bitPattern: UInt32(SnapshotKey.u64([0, 0, 0, 0] + Array(bytes.prefix(4)))) ^ 0x8000_0000)))
  }

  static func knownTo(_ v: UInt64) -> String { v == SnapshotKey.current ? "current" : "until event \(v)" }

  /// A key of the database `name` (`snapshots`, `series`, `entities`, `amendments`, `meta`).
  static func key(_ key: [UInt8], in name: String) -> String {
    switch name {
    case "snapshots", "series":
      guard let zero = key.firstIndex(of: 0) else { return hex(key) }
      let id = String(decoding: key[..<zero], as: UTF8.self)
      let rest = Array(key[(zero + 1)...])
      if name == "snapshots", rest.count == 20 {
        return "\(id) @\(day(rest)) event \(SnapshotKey.u64(rest[4...])) known from event \(SnapshotKey.u64(rest[12...]))"
      }
      if name == "series", rest.count == 24 {
        return "\(id) period from \(day(rest)) effective \(day(rest[4...])) event \(SnapshotKey.u64(rest[8...])) known from event \(SnapshotKey.u64(rest[16...]))"
      }
      return id + " " + hex(rest)
    case "amendments":
      guard key.count == 16 else { return hex(key) }
      return "event \(SnapshotKey.u64(key)) amended by event \(SnapshotKey.u64(key[8...]))"
    default:
      return String(decoding: key, as: UTF8.self)
    }
  }

  /// A value of the database `name`, its row decoded to JSON (or why it cannot be).
  static func value(_ value: [UInt8], key: [UInt8], in name: String) -> String {
    func json<T: Encodable>(_ v: T) -> String {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
      return (try? encoder.encode(v)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
    }
    switch name {
    case "snapshots":
      guard value.count >= 8, let zero = key.firstIndex(of: 0) else { return hex(value) }
      let kind = String(decoding: key[..<zero], as: UTF8.self).split(separator: ":").first.map(String.init) ?? ""
      let state = value.count == 8 ? "(no state: the entity does not exist at this point)" : {
        do {
          switch try EntityState.decode(kind: kind, bytes: value[8...]) {
          case .body(let s): return json(s)
          case .person(let s): return json(s)
          case .decision(let s): return json(s)
          case .indicator(let s): return json(s)
          case .membership(let s): return json(s)
          }
        } catch { return "not a row: \(error)" }
      }()
      return "\(knownTo(SnapshotKey.u64(value))) \(state)"
    case "series":
      guard value.count >= 8 else { return hex(value) }
      let record = (try? readRow(value[8...]) { try ObservationRecord(reading: &$0) }).map(json) ?? "not a row"
      return "\(knownTo(SnapshotKey.u64(value))) \(record)"
    case "amendments":
      return value == [1] ? "corrected" : value == [2] ? "retracted" : hex(value)
    case "entities":
      return value.count == 8 ? "created by event \(SnapshotKey.u64(value))" : hex(value)
    default:
      if value.count == 8 { return "\(SnapshotKey.u64(value))" }
      if value.count == 1 { return "\(value[0])" }
      return String(decoding: value, as: UTF8.self)
    }
  }

  static func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
  }
}

extension CouncilLedger {
  /// One projection row as text.
  public struct RowDescription: Sendable, Hashable {
    /// `snapshots`, `series`, `entities`, `amendments` or `meta`.
    public var database: String
    public var key: String
    public var value: String
  }

  /// The rows of one projection database whose keys start with `prefix` (an entity id such as
  /// `body:csti` or `membership:basic-plan-panel/`; empty: all), in key order, as text: keys
  /// spelled out, states and observations decoded to JSON. At most `limit` rows.
  /// - Throws: ``ProjectionError/unknownEntityKind(_:)`` for an unknown database name.
  public func rows(of database: String, prefix: String = "", limit: Int = 1000) throws -> [RowDescription] {
    guard let index = ProjectionSet.names.firstIndex(of: database) else { throw ProjectionError.unknownEntityKind(database) }
    let db = live.all[index]
    let start = Array(prefix.utf8)
    return try log.environment.read { txn in
      try txn.withCursor(db) { c in
        var out: [RowDescription] = []
        // (An empty key is not one LMDB can seek to: the whole database starts at its first key.)
        var entry = try start.isEmpty ? c.first() : c.seek(atLeast: start)
        while out.count < limit, let e = entry, e.key.starts(with: start) {
          out.append(RowDescription(database: database, key: RowText.key(e.key, in: database), value: RowText.value(e.value, key: e.key, in: database)))
          entry = try c.next()
        }
        return out
      }
    }
  }
}
