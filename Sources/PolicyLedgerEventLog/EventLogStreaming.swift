public import PolicyLedgerStorage

/// The outcome of ``EventLog/appendStream(expectations:open:afterChunk:)``.
public struct StreamedAppend: Sendable, Hashable {
  /// How many events were appended.
  public var count: Int
  /// The first and last sequence numbers appended (`nil` when none were).
  public var first: SequenceNumber?
  public var last: SequenceNumber?
  /// The head of the log after the append.
  public var head: LedgerDigest?
}

extension EventLog {
  /// Appends events produced chunk by chunk, all in **one** write transaction: all of them, or
  /// nothing. Memory stays bounded by one chunk, whatever the total: each chunk is encoded,
  /// hashed and written, handed to `afterChunk` (for projections kept in the same transaction),
  /// and dropped; LMDB spills the transaction's dirty pages to the file itself when they grow
  /// large, and nothing is visible to readers until the commit.
  ///
  /// - Parameters:
  ///   - expectations: Per stream, the version it must have before the first event.
  ///   - open: Called at the start of every attempt (the whole unit reruns when the map has to
  ///     grow), it returns the producer of chunks: called with the transaction (so that a chunk
  ///     can be prepared against everything written so far), it returns the next chunk, or `nil`
  ///     at the end. An empty chunk is skipped.
  ///   - afterChunk: Runs inside the transaction with each chunk's recorded events and the
  ///     0-based index of its first event in the whole stream; throwing aborts everything.
  ///   - beforeCommit: Runs last, inside the transaction, with the outcome; throwing aborts
  ///     everything (a dry run throws here).
  /// - Returns: The count, the range of sequence numbers, and the new head.
  /// - Throws: ``LedgerError/invalidEvent(index:field:reason:)`` (index in the whole stream),
  ///   ``LedgerError/concurrencyConflict(stream:expected:actual:)``, what the closures throw, or
  ///   ``LedgerError/storage(_:)``. Nothing is written when it throws.
  @discardableResult
  public func appendStream(
    expectations: [StreamID: ExpectedVersion] = [:],
    open: () throws -> (borrowing LMDBWriteTransaction) throws -> [ProposedEvent]?,
    afterChunk: (borrowing LMDBWriteTransaction, [RecordedEvent], Int) throws -> Void,
    beforeCommit: (borrowing LMDBWriteTransaction, StreamedAppend) throws -> Void = { _, _ in }
  ) throws -> StreamedAppend {
    try storageErrors {
      try environment.write { txn in
        let next = try open()
        var count = 0
        var first: SequenceNumber?
        var last: SequenceNumber?
        while let chunk = try next(txn) {
          if chunk.isEmpty { continue }
          for (index, event) in chunk.enumerated() {
            if let (field, reason) = event.validationError() { throw LedgerError.invalidEvent(index: count + index, field: field, reason: reason) }
          }
          let recorded: [RecordedEvent]
          do {
            recorded = try appendInTransaction(chunk, expectations: count == 0 ? expectations : [:], txn: txn)
          } catch let LedgerError.invalidEvent(index, field, reason) {
            throw LedgerError.invalidEvent(index: count + index, field: field, reason: reason)
          }
          try afterChunk(txn, recorded, count)
          if first == nil { first = recorded.first?.sequence }
          last = recorded.last?.sequence
          count += recorded.count
        }
        let summary = StreamedAppend(count: count, first: first, last: last, head: try headDigest(in: txn))
        try beforeCommit(txn, summary)
        return summary
      }
    }
  }
}

extension EventLog {
  /// A page of `stream`'s events: up to `limit` sequence numbers from stream version `from`
  /// (1-based) on, in order; one seek in the `streams` index. For reading a long stream a page
  /// at a time, with memory bounded by the page.
  public func sequences<T: LMDBReader & ~Copyable>(inStream stream: StreamID, fromVersion from: UInt64, limit: Int,
                                                  in txn: borrowing T) throws -> [SequenceNumber] {
    let prefix = EventLog.streamPrefix(stream)
    return try txn.withCursor(streams) { c in
      var out: [SequenceNumber] = []
      var entry = try c.seek(atLeast: prefix + withUnsafeBytes(of: from.bigEndian, Array.init))
      while out.count < limit, let e = entry, e.key.starts(with: prefix) {
        out.append(SequenceNumber(keyBytes: e.value))
        entry = try c.next()
      }
      return out
    }
  }
}

extension EventLog {
  /// The events of every stream whose id begins with `prefix` (such as `key:`), in sequence
  /// order: one walk over that part of the `streams` index. For families of short streams.
  public func sequences<T: LMDBReader & ~Copyable>(inStreamsWithPrefix prefix: String, in txn: borrowing T) throws -> [SequenceNumber] {
    let bytes = Array(prefix.utf8)
    return try storageErrors {
      try txn.withCursor(streams) { c in
        var out: [SequenceNumber] = []
        var entry = try c.seek(atLeast: bytes)
        while let e = entry, e.key.starts(with: bytes) {
          out.append(SequenceNumber(keyBytes: e.value))
          entry = try c.next()
        }
        return out.sorted()
      }
    }
  }
}
