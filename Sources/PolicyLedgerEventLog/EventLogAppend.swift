public import PolicyLedgerStorage
import Crypto
import Foundation

// Appending: sequence numbers, recorded-at moments, canonical bytes and the hash chain, the
// indexes, and exact restores of export lines (ProposedEvent.restoring).

extension EventLog {
  /// Appends `batch` in one write transaction: all of it, or nothing.
  ///
  /// Each event gets the next sequence number, a recorded-at moment (UTC, strictly greater than
  /// the previous event's) and its hash; the stream, effective-date and recorded-at indexes are
  /// updated in the same transaction. `beforeCommit` runs inside that transaction with the
  /// recorded events, so projections kept by other modules commit (or fail) together with them.
  ///
  /// - Parameters:
  ///   - batch: The events, in order. An empty batch does nothing.
  ///   - expectations: Per stream, the version (number of events) it must have before the batch.
  ///   - beforeCommit: Extra work in the same transaction; throwing aborts the whole append.
  /// - Returns: The recorded events, in order.
  /// - Throws: ``LedgerError/invalidEvent(index:field:reason:)``,
  ///   ``LedgerError/concurrencyConflict(stream:expected:actual:)``, what `beforeCommit` throws,
  ///   or ``LedgerError/storage(_:)``. Nothing is written when it throws.
  /// - Complexity: O(k log n) for k events in a log of n.
  @discardableResult
  public func append(
    _ batch: [ProposedEvent],
    expectations: [StreamID: ExpectedVersion] = [:],
    beforeCommit: ((borrowing LMDBWriteTransaction, [RecordedEvent]) throws -> Void)? = nil
  ) throws -> [RecordedEvent] {
    if batch.isEmpty { return [] }
    for (index, event) in batch.enumerated() {
      if let (field, reason) = event.validationError() { throw LedgerError.invalidEvent(index: index, field: field, reason: reason) }
    }
    return try storageErrors {
      try environment.write { txn in
        let recordedEvents = try self.appendInTransaction(batch, expectations: expectations, txn: txn)
        try beforeCommit?(txn, recordedEvents)
        return recordedEvents
      }
    }
  }

  func appendInTransaction(_ batch: [ProposedEvent], expectations: [StreamID: ExpectedVersion], txn: borrowing LMDBWriteTransaction) throws -> [RecordedEvent] {
    let head = try headDigest(in: txn)
    var sequence = head?.sequence ?? SequenceNumber(0)
    var previousHash = head?.hash ?? .genesis
    var lastMoment = try txn.withCursor(recorded) { c in
      try c.last().map { LedgerTimestamp(microseconds: Int64(bitPattern: SequenceNumber(keyBytes: $0.key).rawValue ^ 0x8000_0000_0000_0000)) }
    }
    for (stream, expected) in expectations {
      let actual = try streamVersion(stream, in: txn)
      let ok: Bool
      switch expected {
      case .any: ok = true
      case .noStream: ok = actual == 0
      case .exact(let v): ok = actual == v
      }
      if !ok { throw LedgerError.concurrencyConflict(stream: stream, expected: expected, actual: actual) }
    }
    var versions: [StreamID: UInt64] = [:]
    var out: [RecordedEvent] = []
    out.reserveCapacity(batch.count)
    let now = clock()
    for (index, event) in batch.enumerated() {
      sequence = sequence.next
      var moment = now
      if let last = lastMoment, moment <= last { moment = LedgerTimestamp(microseconds: last.microseconds + 1) }
      // An export line appended where its chain continues is restored exactly: its own moment.
      let restored = event.restoring.flatMap { $0.previous == previousHash ? $0 : nil }
      if let restored {
        if let last = lastMoment, restored.recordedAt <= last {
          throw LedgerError.invalidEvent(index: index, field: "recorded", reason: "\(restored.recordedAt) is not after the moment of the event before it (\(last)): an export's moments only grow")
        }
        // A moment from the future would stamp every later event after it: transaction time
        // falsified. (Ten minutes allow for the clocks of two machines.)
        if restored.recordedAt.microseconds > now.microseconds + 600_000_000 {
          throw LedgerError.invalidEvent(index: index, field: "recorded", reason: "\(restored.recordedAt) is later than now (\(now)): an export only holds moments of the past")
        }
        moment = restored.recordedAt
      }
      if moment > LedgerTimestamp.latest {
        throw LedgerError.invalidEvent(index: index, field: "recorded", reason: "the event would be recorded at \(moment), past the last moment a ledger can write (\(LedgerTimestamp.latest)): the event before it is stamped in the far future")
      }
      lastMoment = moment
      let canonical: [UInt8]
      do {
        canonical = try EventCodec.canonicalBytes(sequence: sequence, recordedAt: moment, event: event)
      } catch {
        throw LedgerError.invalidEvent(index: index, field: "payload", reason: "\(error)")
      }
      let hash = EventLog.hash(previous: previousHash, canonical: canonical)
      if let restored, hash != restored.hash {
        throw LedgerError.invalidEvent(index: index, field: "hash", reason: "restored here, the line gives the hash \(hash), not the export's \(restored.hash): its content does not encode back to the same bytes (exported by another version?)")
      }
      if let keys {
        let digest: [UInt8]
        do { digest = try event.contentDigest ?? EventKey.contentDigest(of: event) } catch {
          throw LedgerError.invalidEvent(index: index, field: "payload", reason: "\(error)")
        }
        if let earlier = try EventLog.indexKeys(key: event.key, digest: digest, sequence: sequence, keys: keys, txn: txn) {
          throw LedgerError.invalidEvent(index: index, field: "key", reason: "the key \"\(event.key ?? "")\" is already event \(earlier)'s: an explicit key names one event")
        }
      }
      var record = [UInt8]()
      record.reserveCapacity(65 + canonical.count)
      record.append(1)
      record.append(contentsOf: previousHash.bytes)
      record.append(contentsOf: hash.bytes)
      record.append(contentsOf: canonical)
      let seqKey = sequence.keyBytes
      try txn.put(record, for: seqKey, in: events, flags: .append)
      try txn.put(seqKey, for: EventLog.timestampKey(moment), in: recorded, flags: .append)
      try txn.put([], for: EventLog.effectiveKey(event.effective.firstDay, sequence), in: effective, flags: .noOverwrite)
      for stream in event.streams {
        let version: UInt64
        if let v = versions[stream] { version = v + 1 } else { version = try streamVersion(stream, in: txn) + 1 }
        versions[stream] = version
        try txn.put(seqKey, for: EventLog.streamPrefix(stream) + withUnsafeBytes(of: version.bigEndian, Array.init), in: streams, flags: .noOverwrite)
      }
      out.append(RecordedEvent(sequence: sequence, recordedAt: moment, type: event.type, schemaVersion: event.schemaVersion,
                               streams: event.streams, effective: event.effective, actor: event.actor, source: event.source,
                               payload: event.payload, previousHash: previousHash, hash: hash, canonicalBytes: canonical, key: event.key))
      previousHash = hash
    }
    // The Merkle tree grows with the events, in the same transaction (MerkleNodes.swift).
    try extendMerkleTree(with: out, in: txn)
    return out
  }

  /// SHA-256 over the previous hash's 32 bytes followed by the canonical bytes.
  public static func hash(previous: EventHash, canonical: [UInt8]) -> EventHash {
    var hasher = SHA256()
    hasher.update(data: previous.bytes)
    hasher.update(data: canonical)
    return EventHash(unchecked: Array(hasher.finalize()))
  }
}
