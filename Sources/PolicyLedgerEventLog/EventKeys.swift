public import PolicyLedgerStorage
import Crypto

/// Idempotency keys: how the ledger knows that an event it is asked to record is one it already
/// holds (a retried import, a `record` run twice), as KurrentDB's event ids and Marten's do.
///
/// An event is known by its **explicit key** when the caller gave one (stored in the event, the
/// envelope member `key`), else by its **content**: SHA-256 over the canonical bytes of
/// `{"effective":…,"payload":…,"schema":…,"type":…}`. The actor and the source do not count: the
/// same fact retried by another user (a cron job run under another account) or with its source
/// reworded is still the same fact. Both are kept in the `keys` database, written in the same
/// transaction as the event, and recomputable from the events (``EventLog/rebuildKeyIndex()``):
///
/// | key | value |
/// |---|---|
/// | `0x01` ‖ explicit key (UTF-8) | sequence (8 BE) ‖ content digest (32) |
/// | `0x02` ‖ content digest (32) | sequence (8 BE) of the first event with that content |
public enum EventKey {
  /// The longest key, in bytes.
  public static let maximumLength = 200

  private static let allowedPunctuation: Set<UInt8> = Set("._:/-@#+=".utf8)

  /// Why `key` cannot be a key, or `nil`: 1–200 characters of `A–Z a–z 0–9 . _ : / - @ # + =`.
  public static func validationError(_ key: String) -> String? {
    if key.isEmpty || key.utf8.count > maximumLength { return "a key is 1 to \(maximumLength) characters" }
    if !key.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || allowedPunctuation.contains($0) }) {
      return "\"\(key)\" is not a key: use letters A–Z a–z, digits and . _ : / - @ # + = (such as \"import-2026-12-01:42\")"
    }
    return nil
  }

  /// SHA-256 over the canonical bytes of `{"effective":…,"payload":…,"schema":…,"type":…}`.
  public static func contentDigest(type: String, schemaVersion: Int, effective: EffectiveDate, payload: CanonicalValue) throws -> [UInt8] {
    let bytes = try CanonicalValue.object([
      "effective": .string(effective.description), "payload": payload,
      "schema": .integer(schemaVersion), "type": .string(type),
    ]).canonicalBytes()
    return Array(SHA256.hash(data: bytes))
  }

  public static func contentDigest(of e: ProposedEvent) throws -> [UInt8] {
    try contentDigest(type: e.type, schemaVersion: e.schemaVersion, effective: e.effective, payload: e.payload)
  }

  public static func contentDigest(of e: RecordedEvent) throws -> [UInt8] {
    try contentDigest(type: e.type, schemaVersion: e.schemaVersion, effective: e.effective, payload: e.payload)
  }

  static func explicitIndexKey(_ key: String) -> [UInt8] { [1] + Array(key.utf8) }
  static func contentIndexKey(_ digest: [UInt8]) -> [UInt8] { [2] + digest }
}

/// What the key index says of an event about to be recorded.
public enum KeyMatch: Sendable, Hashable {
  /// Nothing recorded has its key (or, without one, its content).
  case new
  /// Event N has the same key (or, without one, the same content) and the same content: this is
  /// a retry, to be acknowledged without a second event.
  case duplicate(SequenceNumber)
  /// Event N has the same explicit key but different content.
  case conflict(SequenceNumber)
}

extension EventLog {
  /// Whether `event` (with content digest `digest`) is already recorded: by its explicit key, or
  /// without one by its content. One seek in the `keys` database.
  public func keyMatch<T: LMDBReader & ~Copyable>(for event: ProposedEvent, contentDigest digest: [UInt8], in txn: borrowing T) throws -> KeyMatch {
    guard let keys else { return .new }
    if let key = event.key {
      guard let value = try txn.value(for: EventKey.explicitIndexKey(key), in: keys), value.count == 40 else { return .new }
      let sequence = SequenceNumber(keyBytes: value)
      return value[8...].elementsEqual(digest) ? .duplicate(sequence) : .conflict(sequence)
    }
    guard let value = try txn.value(for: EventKey.contentIndexKey(digest), in: keys), value.count >= 8 else { return .new }
    return .duplicate(SequenceNumber(keyBytes: value))
  }

  /// Writes the index entries of one event: its explicit key (which must be new) and its content
  /// (the first event with that content keeps it).
  static func indexKeys(key: String?, digest: [UInt8], sequence: SequenceNumber, keys: LMDBDatabase, txn: borrowing LMDBWriteTransaction) throws -> SequenceNumber? {
    if let key {
      do {
        try txn.put(sequence.keyBytes + digest, for: EventKey.explicitIndexKey(key), in: keys, flags: .noOverwrite)
      } catch LMDBError.keyExists {
        return try txn.value(for: EventKey.explicitIndexKey(key), in: keys).map { SequenceNumber(keyBytes: $0) } ?? sequence
      }
    }
    do { try txn.put(sequence.keyBytes, for: EventKey.contentIndexKey(digest), in: keys, flags: .noOverwrite) } catch LMDBError.keyExists {}
    return nil
  }

  /// The entries the `keys` database should hold, recomputed from every event.
  static func expectedKeyIndex<T: LMDBReader & ~Copyable>(events: LMDBDatabase, in txn: borrowing T) throws -> [[UInt8]: [UInt8]] {
    var out: [[UInt8]: [UInt8]] = [:]
    try txn.withCursor(events) { c in
      var entry = try c.first()
      while let e = entry {
        let event = try EventLog.decodeRecord(e.value, sequence: SequenceNumber(keyBytes: e.key))
        let digest = try EventKey.contentDigest(of: event)
        if let key = event.key, out[EventKey.explicitIndexKey(key)] == nil { out[EventKey.explicitIndexKey(key)] = event.sequence.keyBytes + digest }
        if out[EventKey.contentIndexKey(digest)] == nil { out[EventKey.contentIndexKey(digest)] = event.sequence.keyBytes }
        entry = try c.next()
      }
    }
    return out
  }

  static func fillKeyIndex(events: LMDBDatabase, keys: LMDBDatabase, txn: borrowing LMDBWriteTransaction) throws {
    try txn.empty(keys)
    let expected = try expectedKeyIndex(events: events, in: txn)
    for (key, value) in expected.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
      try txn.put(value, for: key, in: keys, flags: .append)
    }
  }

  /// Empties the `keys` database and recomputes it from the events, in one write transaction.
  /// - Returns: The number of entries written.
  @discardableResult
  public func rebuildKeyIndex() throws -> Int {
    try storageErrors {
      try environment.write { txn in
        guard let keys = try self.keys ?? txn.database(named: "keys", create: true) else { return 0 }
        try EventLog.fillKeyIndex(events: events, keys: keys, txn: txn)
        return try txn.count(keys)
      }
    }
  }

  /// How the `keys` database differs from one recomputed from the events (empty when equal):
  /// the key (`key "K"` or `content 1a2b…`) and the problem (`missing from the index`, `not
  /// produced by the events`, `different value`); at most 100.
  public func keyIndexDifferences() throws -> [(key: String, problem: String)] {
    guard let keys else { return [("(all)", "the keys database is missing: run `policy-ledger rebuild`")] }
    return try storageErrors {
      try environment.read { txn in
        var expected = try EventLog.expectedKeyIndex(events: events, in: txn)
        var out: [(key: String, problem: String)] = []
        func name(_ key: [UInt8]) -> String {
          key.first == 1 ? "key \"\(String(decoding: key.dropFirst(), as: UTF8.self))\""
                         : "content " + key.dropFirst().prefix(8).map { String($0, radix: 16).leftPadded(2) }.joined()
        }
        try txn.withCursor(keys) { c in
          var entry = try c.first()
          while let e = entry, out.count < 100 {
            if let want = expected.removeValue(forKey: e.key) {
              if want != e.value { out.append((name(e.key), "different value")) }
            } else {
              out.append((name(e.key), "not produced by the events"))
            }
            entry = try c.next()
          }
        }
        for key in expected.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }).prefix(max(0, 100 - out.count)) {
          out.append((name(key), "missing from the index"))
        }
        return out
      }
    }
  }
}

extension String {
  fileprivate func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
