import Foundation
public import PolicyLedgerEventLog
import PolicyLedgerStorage

/// A forger with write access to `data.mdb`: replaces `old` with `new` in event `sequence`'s
/// canonical bytes and recomputes the hash of it and of every later event, so that the chain
/// verifies again (only the stored tree, signatures and checkpoints kept elsewhere can tell).
public func forgeEvent(ledger path: String, sequence first: UInt64, replacing old: String, with new: String) throws {
  let log = try EventLog.open(at: path)
  guard let events = try log.environment.database(named: "events", create: false) else {
    throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path])
  }
  try log.environment.write { txn in
    var previous: [UInt8]?
    var sequence = first
    while let record = try txn.value(for: SequenceNumber(sequence).keyBytes, in: events) {
      var canonical = Array(record[65...])
      if sequence == first { canonical = Array(String(decoding: canonical, as: UTF8.self).replacingOccurrences(of: old, with: new).utf8) }
      let prev = previous ?? Array(record[1..<33])
      let hash = EventLog.hash(previous: EventHash(bytes: prev)!, canonical: canonical).bytes
      try txn.put([1] + prev + hash + canonical, for: SequenceNumber(sequence).keyBytes, in: events)
      previous = hash
      sequence += 1
    }
  }
}

