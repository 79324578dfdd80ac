public import PolicyLedgerEventLog

/// Why a replication into PostgreSQL stopped. Each says what was (not) written and what to do.
public enum ReplicationError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The `--to` URL cannot be read.
  case badURL(String, reason: String)
  /// The server cannot be reached (refused, unknown host, timed out).
  case unreachable(String, reason: String)
  /// The server refused the credentials or the database (`28P01`, `28000`, `3D000`).
  case refused(String, reason: String)
  /// A table the replica needs differs from what `replicate` created: changed by hand.
  case tableChanged(table: String, reason: String)
  /// PostgreSQL's copy of this ledger does not continue into the ledger: a fork, a rewritten
  /// ledger, or another ledger with the same id. `sequence` is the first number that differs.
  case diverged(ledgerID: String, sequence: SequenceNumber, reason: String)
  /// The ledger's own chain does not verify at `sequence` (checked again as each event is shipped).
  case ledgerFailsVerification(sequence: SequenceNumber, reason: String)
  /// Any other error from the server, with its SQLSTATE.
  case server(sqlState: String, message: String)
  /// The connection broke during replication.
  case connection(String)

  public var description: String {
    switch self {
    case let .badURL(url, reason): "cannot read the PostgreSQL URL \(url): \(reason); write postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
    case let .unreachable(target, reason): "cannot reach PostgreSQL at \(target): \(reason); is the server running and listening there?"
    case let .refused(target, reason): "PostgreSQL at \(target) refused the connection: \(reason); nothing was written"
    case let .tableChanged(table, reason): "the PostgreSQL table \(table) was changed outside policy-ledger (\(reason)); nothing was written. Restore it, or replicate into a new database"
    case let .diverged(id, sequence, reason): "PostgreSQL's copy of ledger \(id) differs from this ledger at event \(sequence): \(reason). It is a fork, a rewritten ledger or another ledger with the same id; nothing was written"
    case let .ledgerFailsVerification(sequence, reason): "the ledger fails verification at event \(sequence): \(reason); nothing more was replicated"
    case let .server(state, message): "PostgreSQL error \(state): \(message)"
    case let .connection(reason): "the connection to PostgreSQL failed: \(reason)"
    }
  }
}
