public import PolicyLedgerStorage

/// An error from the ledger, saying what went wrong and where, in words a user can act on.
public enum LedgerError: Error, CustomStringConvertible, Sendable, Equatable {
  /// An event in a batch is invalid. `index` is its 0-based position in the batch.
  case invalidEvent(index: Int, field: String, reason: String)
  /// Optimistic concurrency: the stream was not at the version the caller expected.
  case concurrencyConflict(stream: StreamID, expected: ExpectedVersion, actual: UInt64)
  /// The folder holds an LMDB environment that is not a Policy Ledger, or no LMDB data at all.
  case notALedger(path: String, reason: String)
  /// The ledger's files are damaged (a truncated `data.mdb`, a damaged meta page): restore it
  /// from a backup.
  case damaged(path: String, reason: String)
  /// The ledger was written in a format version this build does not read.
  case unsupportedFormat(path: String, found: String, supported: String)
  /// No ledger exists at the path (and creating one was not asked for).
  case noLedger(path: String)
  /// A stored event cannot be decoded.
  case corruptEvent(sequence: SequenceNumber, reason: String)
  /// An event with that sequence number does not exist.
  case noSuchEvent(SequenceNumber)
  /// The hash chain fails verification at `sequence` (``EventLog/verify(extending:)``), so an
  /// operation that must start from a sound log (a replay, an export) refused to go on.
  case failsVerification(sequence: SequenceNumber, reason: String)
  /// A storage-level failure, with LMDB's code.
  case storage(LMDBError)

  public var description: String {
    switch self {
    case let .invalidEvent(index, field, reason):
      return "event \(index + 1) of the batch, field \"\(field)\": \(reason)"
    case let .concurrencyConflict(stream, expected, actual):
      return "concurrency conflict on stream \(stream): expected \(expected), but the stream is at version \(actual); re-read it and retry"
    case let .notALedger(path, reason):
      return "\(path) is not a Policy Ledger: \(reason)"
    case let .damaged(path, reason):
      return "\(path) is damaged: \(reason); restore the ledger from a backup (`policy-ledger backup` makes verified copies)"
    case let .unsupportedFormat(path, found, supported):
      return "\(path) is a Policy Ledger of format version \(found); this build reads format version \(supported)"
    case let .noLedger(path):
      return "no ledger at \(path): create one with `policy-ledger init` or `import`"
    case let .corruptEvent(sequence, reason):
      return "event \(sequence) is damaged: \(reason)"
    case let .noSuchEvent(sequence):
      return "there is no event \(sequence)"
    case let .failsVerification(sequence, reason):
      return "the log fails verification at event \(sequence): \(reason)"
    case let .storage(error):
      return "storage error: \(error)"
    }
  }
}

/// What a caller expects a stream's version (its number of events) to be before an append,
/// as in EventStoreDB/KurrentDB.
public enum ExpectedVersion: Sendable, Hashable, CustomStringConvertible {
  /// No check.
  case any
  /// The stream must have no events yet.
  case noStream
  /// The stream must have exactly this many events.
  case exact(UInt64)

  public var description: String {
    switch self {
    case .any: "any version"
    case .noStream: "no stream"
    case .exact(let v): "version \(v)"
    }
  }
}
