import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerStorage

/// Keys of the series index (`proj.series`): every observed value of every indicator, one row per
/// version of an observation, in the order the latest value is chosen by.
///
/// Key: indicator id UTF-8 ‖ `0x00` ‖ period day (4) ‖ effective first day (4) ‖ the
/// observation's sequence number (8 BE) ‖ known-from (8 BE). The period day is the first day of
/// the observation's last period (of its effective date when it has none); days are encoded as in
/// `EventLog.dayKey`. Value: known-to (8 BE; `0xFF…FF` while current) ‖ the observation row
/// (``ObservationRecord/write(to:)``).
enum SeriesKey {
  static func prefix(_ indicator: StreamID) -> [UInt8] { Array(indicator.rawValue.utf8) + [0] }

  /// Where an observation sorts: (period day, effective day, sequence number), 16 bytes.
  static func position(_ record: ObservationRecord) -> [UInt8] {
    EventLog.dayKey(ObservationRecord.periodDay(record.period, effective: record.effective)) + EventLog.dayKey(record.effective.firstDay)
      + record.sequence.keyBytes
  }

  static func key(_ indicator: StreamID, position: [UInt8], knownFrom: UInt64) -> [UInt8] {
    prefix(indicator) + position + knownFrom.bigEndianBytes
  }
}

/// One row of the series index, as stored.
struct SeriesRow {
  let key: [UInt8]
  let knownTo: UInt64
  let value: [UInt8]
  let prefixLength: Int

  var effectiveDayKey: ArraySlice<UInt8> { key[(prefixLength + 4)..<(prefixLength + 8)] }
  var sequence: UInt64 { SnapshotKey.u64(key[(prefixLength + 8)...]) }
  var knownFrom: UInt64 { SnapshotKey.u64(key[(prefixLength + 16)...]) }
  func isVisible(knownThrough s: UInt64) -> Bool { knownFrom <= s && s < knownTo }
  func record() throws -> ObservationRecord { try readRow(value.dropFirst(8)) { try ObservationRecord(reading: &$0) } }
}

extension ObservationRecord {
  /// The observation row: value, unit, period?, note?, effective date, recorded-at (microseconds,
  /// varint of the two's-complement bits), actor, source?, then the correction in force? (its
  /// sequence number, reason, recorded-at, actor). The sequence number is in the key.
  func write(to w: inout RowWriter) {
    w.decimal(value)
    w.term(unit)
    w.optional(period) { $1.write(to: &$0) }
    w.optional(note) { $0.string($1) }
    w.date(effective)
    w.timestamp(recordedAt)
    w.string(actor)
    w.optional(source) { $0.string($1) }
    w.optional(correction) { w, c in w.varint(c.sequence.rawValue); w.string(c.reason); w.timestamp(c.recordedAt); w.string(c.actor) }
  }

  init(reading r: inout RowReader, sequence: SequenceNumber = SequenceNumber(0)) throws {
    let value = try r.decimal()
    let unit = try r.term(IndicatorUnit.self)
    let period = try r.optional { try ObservedPeriod(reading: &$0) }
    let note = try r.optional { try $0.string() }
    let effective = try r.date()
    let recordedAt = try r.timestamp()
    let actor = try r.string()
    let source = try r.optional { try $0.string() }
    let correction = try r.optional { r in
      CorrectionNote(sequence: SequenceNumber(try r.varint()), reason: try r.string(), recordedAt: try r.timestamp(), actor: try r.string())
    }
    self.init(value: value, unit: unit, period: period, note: note, effective: effective, sequence: sequence, recordedAt: recordedAt,
              actor: actor, source: source, correction: correction)
  }

  /// The record of an observation as it stands (`e` with its correction applied, if any).
  init?(_ e: EffectiveEvent) {
    guard case .indicatorObserved(let p) = e.event else { return nil }
    self.init(value: p.value, unit: p.unit, period: p.period, note: p.note, effective: e.effective, sequence: e.original.sequence,
              recordedAt: e.original.recordedAt, actor: e.original.actor, source: e.original.source, correction: e.correction)
  }
}

extension Projector {
  /// Adds the current row of an observation, known from event `s`.
  static func addObservation(_ record: ObservationRecord, indicator: StreamID, knownFrom s: SequenceNumber, set: ProjectionSet,
                             in txn: borrowing LMDBWriteTransaction) throws {
    var w = RowWriter()
    record.write(to: &w)
    let key = SeriesKey.key(indicator, position: SeriesKey.position(record), knownFrom: s.rawValue)
    try txn.put(SnapshotKey.current.bigEndianBytes + w.bytes, for: key, in: set.series)
  }

  /// Closes the current row of an observation (its known-to becomes `s`): a correction replaced
  /// it or a retraction withdrew it. O(log n): one seek to its position.
  static func closeObservation(_ record: ObservationRecord, indicator: StreamID, by s: SequenceNumber, set: ProjectionSet,
                               in txn: borrowing LMDBWriteTransaction) throws {
    let prefix = SeriesKey.prefix(indicator) + SeriesKey.position(record)
    let current = try txn.withCursor(set.series) { c -> ([UInt8], [UInt8])? in
      var entry = try c.seek(atLeast: prefix)
      while let e = entry, e.key.starts(with: prefix) {
        if SnapshotKey.u64(e.value) == SnapshotKey.current { return (e.key, e.value) }
        entry = try c.next()
      }
      return nil
    }
    guard let (key, value) = current else { return }
    try txn.put(s.keyBytes + value.dropFirst(8), for: key, in: set.series)
  }

  /// The observation of `indicator` describing the latest period among those effective on or
  /// before `day` (nil: any), as known after event `knownThrough`, and after the definition
  /// point `after` (effective day, sequence) of the indicator.
  ///
  /// Walks the series backwards from its end: the first visible row effective by `day` is the
  /// answer, since rows sort by (period, effective, sequence). O(log n) for the latest date;
  /// for an earlier date, plus the rows of later periods.
  static func latestObservation<T: LMDBReader & ~Copyable>(of indicator: StreamID, asOf day: CalendarDay?, knownThrough: UInt64,
                                                          after definition: (CalendarDay, SequenceNumber), set: ProjectionSet,
                                                          in txn: borrowing T) throws -> ObservationRecord? {
    let prefix = SeriesKey.prefix(indicator)
    let dayLimit = day.map(EventLog.dayKey)
    let definitionPoint = EventLog.dayKey(definition.0) + definition.1.keyBytes
    return try txn.withCursor(set.series) { c in
      var entry = try c.seek(before: Array(indicator.rawValue.utf8) + [1])
      while let e = entry, e.key.starts(with: prefix) {
        let row = SeriesRow(key: e.key, knownTo: SnapshotKey.u64(e.value), value: e.value, prefixLength: prefix.count)
        if row.isVisible(knownThrough: knownThrough), dayLimit.map({ !$0.lexicographicallyPrecedes(row.effectiveDayKey) }) ?? true,
           definitionPoint.lexicographicallyPrecedes(e.key[(prefix.count + 4)..<(prefix.count + 16)]) {
          do { return try row.record().with(sequence: SequenceNumber(row.sequence)) } catch {
            throw ProjectionError.damagedSnapshot(entity: indicator.rawValue, reason: "a series row: \(error)")
          }
        }
        entry = try c.previous()
      }
      return nil
    }
  }

  /// Whether a current row of `indicator`'s series (other than those of `ignoring`) is effective
  /// before `from` or on or after `until`: used before a retirement, or a definition moved or
  /// withdrawn, is accepted. O(k) for k rows of the series: such changes are rare.
  static func observation<T: LMDBReader & ~Copyable>(of indicator: StreamID, before from: CalendarDay?, orFrom until: CalendarDay?,
                                                    ignoring: Set<UInt64>, set: ProjectionSet, in txn: borrowing T) throws -> SeriesRow? {
    let prefix = SeriesKey.prefix(indicator)
    let low = from.map(EventLog.dayKey), high = until.map(EventLog.dayKey)
    return try txn.withCursor(set.series) { c in
      var entry = try c.seek(atLeast: prefix)
      while let e = entry, e.key.starts(with: prefix) {
        let row = SeriesRow(key: e.key, knownTo: SnapshotKey.u64(e.value), value: e.value, prefixLength: prefix.count)
        if row.knownTo == SnapshotKey.current, !ignoring.contains(row.sequence) {
          let day = Array(row.effectiveDayKey)
          if let low, day.lexicographicallyPrecedes(low) { return row }
          if let high, !day.lexicographicallyPrecedes(high) { return row }
        }
        entry = try c.next()
      }
      return nil
    }
  }
}

extension ObservationRecord {
  func with(sequence: SequenceNumber) -> ObservationRecord {
    var copy = self
    copy.sequence = sequence
    return copy
  }
}
