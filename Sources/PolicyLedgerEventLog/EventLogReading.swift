public import PolicyLedgerStorage
import Crypto
import Foundation

// The event log's reads outside a caller's transaction (each in a short read transaction of its
// own, long scans paged) and its integrity walk: split from EventLog.swift by concept.
extension EventLog {
  // MARK: Reading

  /// The head digest, or `nil` for an empty ledger.
  public func head() throws -> LedgerDigest? {
    try storageErrors { try environment.read { txn in try headDigest(in: txn) } }
  }

  /// The event at `sequence`.
  /// - Throws: ``LedgerError/noSuchEvent(_:)``, ``LedgerError/corruptEvent(sequence:reason:)``.
  /// - Complexity: O(log n).
  public func event(_ sequence: SequenceNumber) throws -> RecordedEvent {
    guard let e = try storageErrors({ try environment.read { txn in try event(sequence, in: txn) } }) else {
      throw LedgerError.noSuchEvent(sequence)
    }
    return e
  }

  /// The events with sequence numbers in `range`, in order. Long ranges are read in pages of
  /// `pageSize` events, each in its own short read transaction.
  /// - Complexity: O(log n + k).
  public func events(in range: ClosedRange<UInt64>, pageSize: Int = 10_000) throws -> [RecordedEvent] {
    var out: [RecordedEvent] = []
    try forEachEvent(from: SequenceNumber(range.lowerBound), through: SequenceNumber(range.upperBound), pageSize: pageSize) { out.append($0); return true }
    return out
  }

  /// Calls `body` with each event from `start` through `end` (or the head), in order, until
  /// `body` returns false. Reads in pages, each in its own read transaction.
  public func forEachEvent(from start: SequenceNumber = SequenceNumber(1), through end: SequenceNumber? = nil, pageSize: Int = 10_000, _ body: (RecordedEvent) throws -> Bool) throws {
    var next = start
    while true {
      var page: [RecordedEvent] = []
      try storageErrors {
        try environment.read { txn in
          try txn.withCursor(events) { c in
            var entry = try c.seek(atLeast: next.keyBytes)
            while let e = entry, page.count < pageSize {
              let seq = SequenceNumber(keyBytes: e.key)
              if let end, seq > end { break }
              page.append(try EventLog.decodeRecord(e.value, sequence: seq))
              entry = try c.next()
            }
          }
        }
      }
      for event in page where try !body(event) { return }
      guard let last = page.last, page.count == pageSize else { return }
      next = last.sequence.next
    }
  }

  /// All events of `stream`, in order.
  /// - Complexity: O(log n + k) for k events in the stream.
  public func events(inStream stream: StreamID) throws -> [RecordedEvent] {
    try storageErrors {
      try environment.read { txn in
        try sequences(inStream: stream, in: txn).map { seq in
          guard let e = try event(seq, in: txn) else { throw LedgerError.corruptEvent(sequence: seq, reason: "the stream index names it but the log does not hold it") }
          return e
        }
      }
    }
  }

  /// The number of events in `stream`.
  public func streamVersion(_ stream: StreamID) throws -> UInt64 {
    try storageErrors { try environment.read { txn in try streamVersion(stream, in: txn) } }
  }

  /// The events whose effective date starts on a day in `days`, ordered by that day and then by
  /// sequence number.
  /// - Complexity: O(log n + k).
  public func events(effectiveFrom first: CalendarDay, through last: CalendarDay) throws -> [RecordedEvent] {
    try storageErrors {
      try environment.read { txn in
        try txn.withCursor(effective) { c in
          var out: [RecordedEvent] = []
          let end = EventLog.dayKey(last)
          var entry = try c.seek(atLeast: EventLog.dayKey(first))
          while let e = entry, Array(e.key.prefix(4)).lexicographicallyPrecedes(end) || Array(e.key.prefix(4)) == end {
            let seq = SequenceNumber(keyBytes: e.key, at: 4)
            guard let event = try event(seq, in: txn) else { throw LedgerError.corruptEvent(sequence: seq, reason: "the effective-date index names it but the log does not hold it") }
            out.append(event)
            entry = try c.next()
          }
          return out
        }
      }
    }
  }

  /// The last sequence number recorded at or before `moment` (transaction time), or `nil` when
  /// nothing had been recorded by then.
  /// - Complexity: O(log n).
  public func sequence<T: LMDBReader & ~Copyable>(knownAt moment: LedgerTimestamp, in txn: borrowing T) throws -> SequenceNumber? {
    try txn.withCursor(recorded) { c in
      var key = EventLog.timestampKey(moment)
      key.append(0xFF)  // sorts after the exact moment's key
      guard let entry = try c.seek(before: key) else { return nil }
      return SequenceNumber(keyBytes: entry.value)
    }
  }

  /// The last sequence number recorded at or before `moment`, or `nil`.
  public func sequence(knownAt moment: LedgerTimestamp) throws -> SequenceNumber? {
    try storageErrors { try environment.read { txn in try sequence(knownAt: moment, in: txn) } }
  }

  // MARK: Integrity

  /// Walks the hash chain from event 1 to the head: every sequence number present with no gap,
  /// every record's previous hash equal to the hash before it, every hash equal to SHA-256 over
  /// the previous hash and the canonical bytes. Optionally checks that the log extends `digest`
  /// (the event at `digest.sequence` still has `digest.hash`: nothing up to it was rewritten).
  ///
  /// - Returns: A report naming the first sequence number that fails, if any.
  /// - Throws: ``LedgerError/storage(_:)`` only; damage is reported, not thrown.
  /// - Complexity: O(n); reads in pages of 50,000 events, each in its own read transaction.
  public func verify(extending digest: LedgerDigest? = nil) throws -> VerificationReport {
    try verify(extending: digest, pageSize: 50_000)
  }

  func verify(extending digest: LedgerDigest?, pageSize: Int) throws -> VerificationReport {
    var expected = SequenceNumber(1)
    var previous = [UInt8](repeating: 0, count: 32)
    var failure: VerificationReport.Failure?
    var digestMatched = digest == nil
    enum Step { case next, stop }
    // Checks one record in place (no copy of the key or the value): gap, link, hash, digest.
    func check(_ key: UnsafeRawBufferPointer, _ record: UnsafeRawBufferPointer) -> Step {
      let seq = SequenceNumber(keyBytes: key)
      if key.count != 8 || seq != expected {
        failure = .init(sequence: expected, reason: "event \(expected) is missing (the next key is \(seq))")
        return .stop
      }
      guard record.count > 65, record[0] == 1 else {
        failure = .init(sequence: seq, reason: "its record header is malformed")
        return .stop
      }
      if !record[1..<33].elementsEqual(previous) {
        failure = .init(sequence: seq, reason: "its previous-hash link does not match the hash of event \(seq.rawValue - 1)")
        return .stop
      }
      var hasher = SHA256()
      hasher.update(data: previous)
      hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: record[65...]))
      let computed = hasher.finalize()
      let matches = computed.withUnsafeBytes { $0.elementsEqual(record[33..<65]) }
      if !matches {
        failure = .init(sequence: seq, reason: "its stored hash does not match SHA-256 of its bytes (the event was changed)")
        return .stop
      }
      computed.withUnsafeBytes { bytes in previous.withUnsafeMutableBytes { $0.copyMemory(from: bytes) } }
      if let digest, digest.sequence == seq {
        guard previous == digest.hash.bytes else {
          failure = .init(sequence: seq, reason: "its hash \(EventHash(unchecked: previous)) differs from the digest's \(digest.hash): history up to it was rewritten")
          return .stop
        }
        digestMatched = true
      }
      expected = expected.next
      return .next
    }
    outer: while true {
      var count = 0
      try storageErrors {
        try environment.read { txn in
          try txn.withCursor(events) { c in
            guard try c.seek(atLeast: expected.keyBytes) != nil else { return }
            var step = try c.withCurrent(check) ?? .stop
            count += 1
            while step == .next && count < pageSize {
              guard let next = try c.withNext(check) else { break }
              step = next
              count += 1
            }
          }
        }
      }
      if failure != nil || count < pageSize { break outer }
    }
    let checked = expected.rawValue - 1
    if failure == nil, let digest, !digestMatched {
      failure = .init(sequence: digest.sequence, reason: "the ledger ends at event \(checked), before the digest's event \(digest.sequence)")
    }
    let head = checked == 0 ? nil : LedgerDigest(sequence: SequenceNumber(checked), hash: EventHash(unchecked: previous))
    return VerificationReport(eventsChecked: checked, head: failure == nil ? head : nil, failure: failure)
  }
}

extension EventLog {
  /// The first event whose stored canonical bytes are not in canonical form: they do not parse
  /// as this format's JSON, or writing what they hold again gives other bytes. The hash chain
  /// cannot tell (it hashes whatever is stored); an export line of such an event would not match
  /// its own hash on import. One read transaction per page of 50,000 events.
  /// - Returns: The event and why, or `nil` when every event is in canonical form.
  /// - Throws: ``LedgerError/storage(_:)``.
  public func firstNonCanonicalEvent() throws -> (sequence: SequenceNumber, reason: String)? {
    var next = SequenceNumber(1)
    while true {
      let (found, last, count) = try storageErrors {
        try environment.read { txn -> ((SequenceNumber, String)?, SequenceNumber?, Int) in
          try txn.withCursor(events) { c in
            var entry = try c.seek(atLeast: next.keyBytes)
            var count = 0
            var last: SequenceNumber?
            while let e = entry, count < 50_000 {
              let sequence = SequenceNumber(keyBytes: e.key)
              last = sequence
              count += 1
              let canonical = e.value.dropFirst(65)
              let value: CanonicalValue
              do { value = try CanonicalValue.parse(canonical) } catch {
                return ((sequence, "its bytes do not parse as canonical JSON (\(error))"), last, count)
              }
              guard let again = try? value.canonicalBytes(), again.elementsEqual(canonical) else {
                return ((sequence, "written again, its bytes differ (spacing, key order, escapes or number forms not canonical)"), last, count)
              }
              entry = try c.next()
            }
            return (nil, last, count)
          }
        }
      }
      if let found { return found }
      guard count == 50_000, let last else { return nil }
      next = last.next
    }
  }
}

extension EventLog {
  /// The chain hashes of `sequences`, read in one read transaction from the records' headers
  /// (no event is decoded). A sequence number the log does not hold is left out.
  public func hashes(of sequences: [SequenceNumber]) throws -> [SequenceNumber: EventHash] {
    try storageErrors {
      try environment.read { txn in
        var out: [SequenceNumber: EventHash] = [:]
        for sequence in sequences {
          if let record = try txn.value(for: sequence.keyBytes, in: events), record.count >= 65 {
            out[sequence] = EventHash(unchecked: Array(record[33..<65]))
          }
        }
        return out
      }
    }
  }
}
