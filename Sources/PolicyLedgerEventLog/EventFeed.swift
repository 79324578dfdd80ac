import Foundation
import PolicyLedgerStorage

// The change feed: the log read as a catch-up subscription. Every event from a sequence number
// on, then each new one as any process commits it. It is only reading the log: each page is one
// LMDB read transaction, which sees committed transactions only, so an event being appended
// (or an append that is rolled back) is never handed out.

extension EventLog {
  /// The events from `start` on, at most `limit` of them, read in one read transaction (a
  /// consistent snapshot of what is committed).
  /// - Parameters:
  ///   - start: The first sequence number wanted.
  ///   - limit: The most events returned.
  /// - Returns: The events `start`, `start + 1`, … up to the head or `limit` (empty when the log
  ///   ends before `start`).
  /// - Throws: ``LedgerError/corruptEvent(sequence:reason:)``, ``LedgerError/storage(_:)``.
  /// - Complexity: O(log n + k).
  public func events(from start: SequenceNumber, limit: Int) throws -> [RecordedEvent] {
    var page: [RecordedEvent] = []
    try storageErrors {
      try environment.read { txn in
        try txn.withCursor(events) { c in
          var entry = try c.seek(atLeast: start.keyBytes)
          var expected = start
          while let e = entry, page.count < limit {
            let seq = SequenceNumber(keyBytes: e.key)
            // The log is gap-free: a gap is damage, not the end of the feed.
            guard seq == expected else {
              throw LedgerError.corruptEvent(sequence: expected, reason: "event \(expected) is missing (the next key is \(seq))")
            }
            page.append(try EventLog.decodeRecord(e.value, sequence: seq))
            expected = seq.next
            entry = try c.next()
          }
        }
      }
    }
    return page
  }

  /// The log as an endless feed of pages of events: every committed event from `start` on, then
  /// each new one as any process commits it. See ``RecordedEventFeed``.
  /// - Parameters:
  ///   - start: The first sequence number (1 for the whole log; the last one seen + 1 to resume).
  ///   - pageSize: The most events handed over at once.
  ///   - pollInterval: How long to sleep between two looks at the head while there is nothing new.
  public func changePages(from start: SequenceNumber = SequenceNumber(1), pageSize: Int = 1_000,
                          pollInterval: Duration = .milliseconds(50)) -> RecordedEventPages {
    RecordedEventPages(log: self, start: start, pageSize: max(1, pageSize), pollInterval: pollInterval)
  }

  /// The log as an endless feed of events: every committed event from `start` on, then each new
  /// one as any process commits it (a catch-up subscription).
  ///
  /// ```swift
  /// for try await event in log.changes(from: SequenceNumber(lastSeen + 1)) {
  ///   ship(event)
  /// }
  /// ```
  /// The feed ends (returns `nil`) when the task iterating it is cancelled; it never ends by
  /// itself. While it has caught up it sleeps `pollInterval` between two reads of the head (one
  /// short read transaction each): a commit is seen within about that time, at almost no CPU.
  public func changes(from start: SequenceNumber = SequenceNumber(1), pollInterval: Duration = .milliseconds(50)) -> RecordedEventFeed {
    RecordedEventFeed(pages: changePages(from: start, pollInterval: pollInterval))
  }
}

/// An `AsyncSequence` of pages of committed events, from a sequence number on, that waits for
/// new commits when it has caught up. Made by ``EventLog/changePages(from:pageSize:pollInterval:)``.
/// Each page is read in its own read transaction; pages follow one another without a gap.
public struct RecordedEventPages: AsyncSequence, Sendable {
  public typealias Element = [RecordedEvent]
  let log: EventLog
  let start: SequenceNumber
  let pageSize: Int
  let pollInterval: Duration

  public struct AsyncIterator: AsyncIteratorProtocol {
    let log: EventLog
    /// The next sequence number to hand over.
    public private(set) var position: SequenceNumber
    let pageSize: Int
    let pollInterval: Duration

    /// The next non-empty page, waiting for one as long as it takes; `nil` once the task is
    /// cancelled.
    /// - Throws: what ``EventLog/events(from:limit:)`` throws.
    public mutating func next() async throws -> [RecordedEvent]? {
      while !Task.isCancelled {
        let page = try log.events(from: position, limit: pageSize)
        if let last = page.last {
          position = last.sequence.next
          return page
        }
        do { try await Task.sleep(for: pollInterval) } catch { return nil }
      }
      return nil
    }
  }

  public func makeAsyncIterator() -> AsyncIterator {
    AsyncIterator(log: log, position: start, pageSize: pageSize, pollInterval: pollInterval)
  }
}

/// An `AsyncSequence` of committed events, one at a time: ``RecordedEventPages`` flattened. Made
/// by ``EventLog/changes(from:pollInterval:)``.
public struct RecordedEventFeed: AsyncSequence, Sendable {
  public typealias Element = RecordedEvent
  let pages: RecordedEventPages

  public struct AsyncIterator: AsyncIteratorProtocol {
    var pages: RecordedEventPages.AsyncIterator
    var buffered: [RecordedEvent] = []
    var index = 0

    public mutating func next() async throws -> RecordedEvent? {
      if index == buffered.count {
        guard let page = try await pages.next() else { return nil }
        buffered = page
        index = 0
      }
      defer { index += 1 }
      return buffered[index]
    }
  }

  public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(pages: pages.makeAsyncIterator()) }
}
