// Actors' signatures in the replica: read from the ledger's `signatures` database with the events
// they sign, and filled into rows replicated before the replica had its signature columns. See
// ARCHITECTURE.md, "Scale-out: the change feed and PostgreSQL".
import PolicyLedgerEventLog
import PolicyLedgerQuery
import PostgresNIO

extension Replicator {
  /// The ledger's signatures of events `from` through `through`, by sequence number.
  /// - Throws: ``ReplicationError/ledgerFailsVerification(sequence:reason:)`` for a damaged value.
  func storedSignatures(from: SequenceNumber, through: SequenceNumber) throws -> [SequenceNumber: EventSignature] {
    var found: [SequenceNumber: EventSignature] = [:]
    try ledger.log.forEachStoredSignature(from: from) { sequence, value in
      guard sequence <= through else { return false }
      found[sequence] = try Replicator.signature(value, of: sequence)
      return true
    }
    return found
  }

  static func signature(_ value: [UInt8], of sequence: SequenceNumber) throws -> EventSignature {
    guard let signature = EventSignature(bytes: value) else {
      throw ReplicationError.ledgerFailsVerification(
        sequence: sequence, reason: EventSignature.damage(of: value))
    }
    return signature
  }

  /// Inside a transaction, before the first batch: gives the rows PostgreSQL already holds of
  /// this ledger the signatures they lack (rows written before the replica had its signature
  /// columns, or by a `replicate` of before). Returns the number of rows filled.
  ///
  /// Cheap when nothing is missing: the signed rows PostgreSQL holds up to its head (counted
  /// through `events_signed_idx`) are compared with the ledger's signatures up to that head; only
  /// when the counts differ are the ledger's signatures read, with their events' chain hashes,
  /// and written 1,000 at a time, each onto the row with that `seq` **and that `hash`** whose
  /// signature is `NULL` (so a row that is not the ledger's event never gets its signature, and
  /// a signature already there is left). Idempotent; the `ledgers` row is locked `FOR UPDATE`,
  /// so a replicator of the same ledger waits.
  func backfillSignatures(_ connection: ReplicaConnection) async throws -> Int {
    let id = ledger.log.ledgerID
    var head: Int64 = 0
    for row in try await connection.rows("SELECT head_seq FROM ledgers WHERE ledger_id = \(id) FOR UPDATE") {
      head = try row.decode(Int64.self)
    }
    guard head > 0 else { return 0 }
    let through = SequenceNumber(UInt64(head))
    let inPostgres = try await single(connection, """
      SELECT count(*) FROM events WHERE ledger_id = \(id) AND signature_key_id IS NOT NULL AND seq <= \(head)
      """, as: Int64.self) ?? 0
    let log = ledger.log
    var inLedger: Int64 = 0
    try log.forEachStoredSignature { sequence, _ in
      guard sequence <= through else { return false }
      inLedger += 1
      return true
    }
    guard inLedger != inPostgres else { return 0 }

    var filled = 0
    var next = SequenceNumber(1)
    while next <= through {
      var chunk: [(sequence: SequenceNumber, signature: EventSignature)] = []
      try log.forEachStoredSignature(from: next) { sequence, value in
        guard sequence <= through, chunk.count < 1_000 else { return false }
        chunk.append((sequence, try Replicator.signature(value, of: sequence)))
        return true
      }
      // The signed events' hashes, in one read (the ledger holds them: the log verified, gap-free).
      let seqs = chunk.map { Int64($0.sequence.rawValue) }
      let hashOf = try log.hashes(of: chunk.map(\.sequence))
      let hashes = try chunk.map { signed in
        guard let hash = hashOf[signed.sequence] else { throw ReplicationError.ledgerFailsVerification(sequence: signed.sequence, reason: "a signature is stored for it, but the log does not hold it") }
        return ByteBuffer(bytes: hash.bytes)
      }
      let keyIDs = chunk.map { keyIDHex($0.signature.keyID) }
      let signatures = chunk.map { ByteBuffer(bytes: $0.signature.signature) }
      guard let last = seqs.last else { break }
      filled += Int(try await single(connection, """
        WITH filled AS (
          UPDATE events e SET signature_key_id = u.key_id, signature = u.signature
          FROM unnest(\(seqs)::bigint[], \(hashes)::bytea[], \(keyIDs)::text[], \(signatures)::bytea[]) AS u(seq, hash, key_id, signature)
          WHERE e.ledger_id = \(id) AND e.seq = u.seq AND e.hash = u.hash AND e.signature IS NULL
          RETURNING e.seq)
        SELECT count(*) FROM filled
        """, as: Int64.self) ?? 0)
      next = SequenceNumber(UInt64(last) + 1)
    }
    return filled
  }
}
