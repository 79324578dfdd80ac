import Foundation
@testable import PolicyLedgerEventLog
import PolicyLedgerStorage
import PolicyLedgerTestSupport
import Testing

@Suite("The change feed")
struct EventFeedTests {
  struct RolledBack: Error {}

  @Test("pages from a sequence number, then each new commit; the feed ends when its task is cancelled")
  func catchUpThenFollow() async throws {
    let folder = TemporaryFolder("feed")
    let log = try openLog(folder)
    try log.append((1...25).map { sampleEvent($0) })
    var pages = log.changePages(from: SequenceNumber(1), pageSize: 10, pollInterval: .milliseconds(10)).makeAsyncIterator()
    var sizes: [Int] = []
    var seen: [UInt64] = []
    for _ in 0..<3 {
      let page = try #require(try await pages.next())
      sizes.append(page.count)
      seen += page.map(\.sequence.rawValue)
    }
    #expect(sizes == [10, 10, 5])
    #expect(seen == Array(1...25))
    let appender = Task.detached {
      try await Task.sleep(for: .milliseconds(100))
      try log.append([sampleEvent(26), sampleEvent(27)])
    }
    let next = try #require(try await pages.next())
    try await appender.value
    // The two may arrive in one page or two.
    var newer = next.map(\.sequence.rawValue)
    if newer.count == 1 { newer += try #require(try await pages.next()).map(\.sequence.rawValue) }
    #expect(newer == [26, 27])
    #expect(pages.position == SequenceNumber(28))

    // The event sequence, from 20, ends (nil, no error) when cancelled.
    let counter = Task.detached { () async throws -> [UInt64] in
      var out: [UInt64] = []
      for try await event in log.changes(from: SequenceNumber(20), pollInterval: .milliseconds(10)) { out.append(event.sequence.rawValue) }
      return out
    }
    try await Task.sleep(for: .milliseconds(300))
    counter.cancel()
    #expect(try await counter.value == Array(20...27))
  }

  @Test("an append not yet committed, or rolled back, is never handed out")
  func committedOnly() async throws {
    let folder = TemporaryFolder("feed-uncommitted")
    let log = try openLog(folder)
    try log.append((1...5).map { sampleEvent($0) })
    let holding = DispatchSemaphore(value: 0)
    let release = DispatchSemaphore(value: 0)
    let writer = Thread {
      _ = try? log.environment.write { txn in
        _ = try log.appendInTransaction([sampleEvent(99)], expectations: [:], txn: txn)
        holding.signal()
        release.wait()
        throw RolledBack()
      }
    }
    writer.start()
    holding.wait()
    // Event 6 is written inside an open transaction: readers must not see it.
    for _ in 0..<20 {
      #expect(try log.events(from: SequenceNumber(6), limit: 10).isEmpty)
      try await Task.sleep(for: .milliseconds(5))
    }
    release.signal()
    try await Task.sleep(for: .milliseconds(50))
    #expect(try log.events(from: SequenceNumber(6), limit: 10).isEmpty)
    try log.append([sampleEvent(7)])
    var feed = log.changes(from: SequenceNumber(6), pollInterval: .milliseconds(10)).makeAsyncIterator()
    let sixth = try #require(try await feed.next())
    #expect(sixth.sequence == SequenceNumber(6))
    #expect(sixth.source == "slide 7", "the committed event, not the rolled-back one")
  }
}
