import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerStorage

/// Keys of the tenure index (`proj.tenures`): every time a person held a seat on a body, as the
/// ledger knows it now, ordered by when the tenure ended, so that the seats held on a day are
/// found without reading every seat the body ever had.
///
/// Key: body id UTF-8 ‖ `0x00` ‖ until (4: the day the seat was left, `0xFFFFFFFF` while it is
/// held) ‖ person id UTF-8 ‖ `0x00` ‖ since (4: the day it was taken). Value: empty. Days are
/// `EventLog.dayKey`. The index reflects the latest knowledge only (it is rewritten for a seat
/// whenever the seat's rows change); a question as known at an earlier moment reads every seat.
enum TenureKey {
  static let held: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF]

  static func prefix(_ body: String) -> [UInt8] { Array(body.utf8) + [0] }

  static func key(body: String, person: String, _ tenure: Tenure) -> [UInt8] {
    prefix(body) + (tenure.until.map(EventLog.dayKey) ?? held) + Array(person.utf8) + [0] + EventLog.dayKey(tenure.since)
  }
}

/// One continuous holding of a seat: from `since` to `until` (the day it was left; nil while held).
struct Tenure: Hashable {
  let since: CalendarDay
  let until: CalendarDay?
}

extension Projector {
  /// The tenures of a seat (`membership:BODY/PERSON`) under the latest knowledge, read from its
  /// current snapshot rows in point order: a tenure opens where the seat gets a state (or a new
  /// appointment date) and closes where it loses it.
  static func tenures(of seat: StreamID, set: ProjectionSet, cache: StateCache, in txn: borrowing LMDBWriteTransaction) throws -> [Tenure] {
    let prefix = SnapshotKey.prefix(seat)
    let rows = try txn.withCursor(set.snapshots) { c -> [SnapshotRow] in
      var rows: [SnapshotRow] = []
      var entry = try c.seek(atLeast: prefix)
      while let e = entry, e.key.starts(with: prefix) {
        let row = SnapshotRow(key: e.key, value: e.value, prefixLength: prefix.count)
        if row.knownTo == SnapshotKey.current { rows.append(row) }
        entry = try c.next()
      }
      return rows
    }
    var out: [Tenure] = []
    var open: CalendarDay?
    for row in rows {
      let day = RowText.day(row.point)
      if let m = try cache.state(for: row.key, entity: seat, bytes: row.stateBytes)?.membership {
        if let since = open, since != m.since.firstDay { out.append(Tenure(since: since, until: day)); open = nil }
        if open == nil { open = m.since.firstDay }
      } else if let since = open {
        out.append(Tenure(since: since, until: day))
        open = nil
      }
    }
    if let since = open { out.append(Tenure(since: since, until: nil)) }
    return out
  }

  /// Runs `change` (which rewrites a seat's rows) and brings the seat's tenure rows up to date.
  static func trackingTenures(of entity: StreamID, strict: Bool, set: ProjectionSet, cache: StateCache, in txn: borrowing LMDBWriteTransaction,
                              _ change: () throws -> Void) throws {
    guard entity.kind == "membership" else { return try change() }
    let local = entity.localID
    guard let slash = local.firstIndex(of: "/") else { return try change() }
    let (body, person) = (String(local[..<slash]), String(local[local.index(after: slash)...]))
    let before = try tenures(of: entity, set: set, cache: cache, in: txn)
    try change()
    let after = try tenures(of: entity, set: set, cache: cache, in: txn)
    // Unchanged tenures seat nobody new: nothing to check or write.
    guard before != after else { return }
    if strict {
      // A dissolved body seats nobody: whatever changed this seat (a backdated appointment, a
      // departure retracted or moved) must leave it empty on the dissolution's date.
      if let b = try state(of: .body(body), asOf: nil, knownThrough: .max - 1, set: set, cache: cache, in: txn)?.body, let dissolved = b.dissolved,
         let m = try state(of: entity, asOf: dissolved.firstDay, knownThrough: .max - 1, set: set, cache: cache, in: txn)?.membership {
        throw ProjectionError.wouldInvalidate(sequence: b.dissolvedSequence ?? SequenceNumber(0), type: "body.dissolved",
                                              reason: "\(m.name.ja) (\(m.person)) would still sit on \"\(body)\" when it is dissolved on \(dissolved); record the departure (on or before that date) first")
      }
    }
    for tenure in before where !after.contains(tenure) { try txn.delete(TenureKey.key(body: body, person: person, tenure), in: set.tenures) }
    for tenure in after where !before.contains(tenure) { try txn.put([], for: TenureKey.key(body: body, person: person, tenure), in: set.tenures) }
  }

  /// The people who may hold a seat on `body` on `day` (nil: at the end) under the latest
  /// knowledge: every tenure that ends after the day and began on or before it. One seek, then
  /// the tenures ending after the day: for today, the body's current seats.
  static func seatHolders<T: LMDBReader & ~Copyable>(of body: String, on day: CalendarDay?, set: ProjectionSet, in txn: borrowing T) throws -> [String] {
    let prefix = TenureKey.prefix(body)
    let from = prefix + (day.map { EventLog.dayKey(CalendarDay(daysSinceEpoch: $0.daysSinceEpoch + 1)) } ?? TenureKey.held)
    let dayKey = day.map(EventLog.dayKey)
    return try txn.withCursor(set.tenures) { c in
      var people: [String] = []
      var seen: Set<[UInt8]> = []
      var entry = try c.seek(atLeast: from)
      while let e = entry, e.key.starts(with: prefix) {
        let rest = e.key[(prefix.count + 4)...]
        guard rest.count > 5 else { throw ProjectionError.damagedSnapshot(entity: "membership:\(body)/", reason: "a tenure key is too short") }
        let person = Array(rest.dropLast(5))
        let since = Array(rest.suffix(4))
        if dayKey.map({ !$0.lexicographicallyPrecedes(since) }) ?? true, seen.insert(person).inserted {
          people.append(String(decoding: person, as: UTF8.self))
        }
        entry = try c.next()
      }
      return people
    }
  }
}
