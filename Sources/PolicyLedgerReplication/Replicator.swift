public import PolicyLedgerEventLog
public import PolicyLedgerQuery
import Foundation
import PostgresNIO

/// What one replication run did.
public struct ReplicationReport: Sendable, Equatable {
  /// The ledger's id (its `meta` database's `ledger-id`), the key of its rows in PostgreSQL.
  public let ledgerID: String
  /// PostgreSQL's head for this ledger when the run started (0: it held none of its events).
  public let startHead: UInt64
  /// PostgreSQL's head now.
  public var head: UInt64
  /// Events written by this run.
  public var eventsWritten: UInt64 { head - startHead }
  /// PostgreSQL transactions that wrote events.
  public var batches: Int
  /// Signatures written into rows replicated before the replica had its signature columns (the
  /// backfill at the start of the run; 0 once every row has its own).
  public var signaturesFilled: Int = 0
}

/// Keeps a PostgreSQL database in step with a ledger: copies the events PostgreSQL does not hold
/// yet, a batch at a time, each batch in one PostgreSQL transaction.
///
/// ```swift
/// let replicator = Replicator(ledger: ledger, target: try PostgresTarget(url: "postgresql://ledger@localhost/council"))
/// let report = try await replicator.replicate()
/// ```
///
/// - **Idempotent and resumable**: each batch starts from the head PostgreSQL holds for the
///   ledger (`ledgers.head_seq`, locked `FOR UPDATE` for the batch, so two replicators of one
///   ledger take turns), and writes the events and the new head in one transaction. A run killed
///   at any moment leaves PostgreSQL at the end of a batch; the next run continues from there.
/// - **Checked**: the ledger is verified first (``CouncilLedger/requireVerifiedLog(_:)``); every
///   event shipped is re-hashed and its link checked; before each batch, PostgreSQL's hash at
///   its head must equal the ledger's hash at that sequence number, else
///   ``ReplicationError/diverged(ledgerID:sequence:reason:)`` and nothing is written.
/// - **Signed**: an event's actor's signature (``EventSignature``) is written with its row, in
///   the same transaction. A replica made before the signature columns existed gets them, and
///   its rows their signatures, at the start of the next run, in a transaction of its own
///   (``ReplicationReport/signaturesFilled``).
/// - **Several ledgers** share one database: every row is keyed by the ledger id.
public final class Replicator: Sendable {
  public let ledger: CouncilLedger
  public let target: PostgresTarget
  /// Events per PostgreSQL transaction.
  public let batchSize: Int

  public init(ledger: CouncilLedger, target: PostgresTarget, batchSize: Int = 1_000) {
    self.ledger = ledger
    self.target = target
    self.batchSize = max(1, batchSize)
  }

  static let logger: Logger = {
    var logger = Logger(label: "policy-ledger.replication")
    logger.logLevel = .critical
    return logger
  }()

  /// Copies every event PostgreSQL does not hold yet; with `follow`, then keeps copying each new
  /// one until the task is cancelled.
  /// - Parameters:
  ///   - follow: Keep running, looking at the ledger's head every `pollInterval`.
  ///   - pollInterval: How long to sleep between two looks while there is nothing new.
  ///   - progress: Called after each batch is committed.
  /// - Returns: What was written.
  /// - Throws: ``ReplicationError``; `LedgerError.failsVerification` when the ledger does not
  ///   verify (nothing is written).
  public func replicate(follow: Bool = false, pollInterval: Duration = .milliseconds(200),
                        progress: (@Sendable (ReplicationReport) -> Void)? = nil) async throws -> ReplicationReport {
    try ledger.requireVerifiedLog("nothing was replicated")
    let connection = try await connect()
    do {
      try await prepareSchema(connection)
      let filled = try await transaction(connection) { try await self.backfillSignatures(connection) }
      var report: ReplicationReport?
      while !Task.isCancelled {
        let (before, after) = try await transaction(connection) { try await self.shipBatch(connection) }
        if report == nil { report = ReplicationReport(ledgerID: ledger.log.ledgerID, startHead: before, head: before, batches: 0, signaturesFilled: filled) }
        if after > before {
          report!.head = after
          report!.batches += 1
          progress?(report!)
          continue
        }
        guard follow else { break }
        // Caught up: wait for the ledger's head to move, without touching PostgreSQL, but
        // stop as soon as the connection is lost (a restart ends the run now, not at the next event).
        while !Task.isCancelled, (try ledger.log.head()?.sequence.rawValue ?? 0) <= after {
          try connection.checkConnected()
          do { try await Task.sleep(for: pollInterval) } catch { break }
        }
      }
      await connection.close()
      return report ?? ReplicationReport(ledgerID: ledger.log.ledgerID, startHead: 0, head: 0, batches: 0, signaturesFilled: filled)
    } catch {
      await connection.close()
      throw Replicator.mapped(error, target: target, connecting: false)
    }
  }

  // MARK: Connection

  func connect() async throws -> ReplicaConnection {
    var configuration = PostgresConnection.Configuration(
      host: target.host, port: target.port, username: target.username, password: target.password, database: target.database,
      tls: .disable)
    if target.requireTLS {
      do { configuration.tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration())) } catch {
        throw ReplicationError.refused(target.description, reason: "TLS cannot be set up: \(error)")
      }
    }
    configuration.options.connectTimeout = .seconds(10)
    let connection: ReplicaConnection
    do {
      connection = ReplicaConnection(try await PostgresConnection.connect(configuration: configuration, id: 1, logger: Replicator.logger))
    } catch {
      throw Replicator.mapped(error, target: target, connecting: true)
    }
    do {
      let encoding = try await single(connection, "SHOW server_encoding", as: String.self)
      guard encoding == "UTF8" else {
        throw ReplicationError.refused(target.description, reason: "the database's encoding is \(encoding ?? "unknown"); a replica needs UTF8 (CREATE DATABASE … ENCODING 'UTF8')")
      }
    } catch {
      await connection.close()
      throw Replicator.mapped(error, target: target, connecting: false)
    }
    return connection
  }

  /// Runs `body` in one PostgreSQL transaction: committed when it returns, rolled back when it throws.
  /// (A lost connection is not rolled back: the server rolls back a session that ends.)
  func transaction<R: Sendable>(_ connection: ReplicaConnection, _ body: () async throws -> R) async throws -> R {
    try await connection.execute("BEGIN")
    do {
      let result = try await body()
      try await connection.execute("COMMIT")
      return result
    } catch {
      try? await connection.execute("ROLLBACK")
      throw error
    }
  }

  func single<T: PostgresDecodable & Sendable>(_ connection: ReplicaConnection, _ query: PostgresQuery, as type: T.Type) async throws -> T? {
    try await connection.rows(query).last.map { try $0.decode(T.self) }
  }

  // MARK: Schema

  /// Creates the tables, adds the columns a replica made before lacks, checks the columns (a table
  /// changed by hand is refused before anything is written), then creates the functions and views.
  func prepareSchema(_ connection: ReplicaConnection) async throws {
    try await transaction(connection) {
      // Two replicators creating the schema at once take turns.
      try await connection.execute("SELECT pg_advisory_xact_lock(7372010013)")
      for statement in Replicator.statements(ReplicaSchema.tables) {
        try await connection.execute(PostgresQuery(unsafeSQL: statement))
      }
      let present = Set(try await columns(connection, table: "events").keys)
      for added in ReplicaSchema.addedEventColumns where !present.contains(added.column.name) {
        try await connection.execute(PostgresQuery(unsafeSQL: added.statement))
      }
      for statement in Replicator.statements(ReplicaSchema.addedIndexes) {
        try await connection.execute(PostgresQuery(unsafeSQL: statement))
      }
      try await checkColumns(connection, table: "events", expected: ReplicaSchema.eventColumns)
      try await checkColumns(connection, table: "ledgers", expected: ReplicaSchema.ledgerColumns)
      for statement in Replicator.statements(ReplicaSchema.views) {
        try await connection.execute(PostgresQuery(unsafeSQL: statement))
      }
    }
  }

  /// The columns of `table` and their `data_type`s.
  func columns(_ connection: ReplicaConnection, table: String) async throws -> [String: String] {
    let rows = try await connection.rows("""
      SELECT column_name::text, data_type::text FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = \(table)
      """)
    var found: [String: String] = [:]
    for row in rows {
      let (name, type) = try row.decode((String, String).self)
      found[name] = type
    }
    return found
  }

  func checkColumns(_ connection: ReplicaConnection, table: String, expected: [ReplicaSchema.Column]) async throws {
    let found = try await columns(connection, table: table)
    for column in expected {
      guard let type = found[column.name] else { throw ReplicationError.tableChanged(table: table, reason: "its column \(column.name) is missing") }
      guard type == column.dataType else {
        throw ReplicationError.tableChanged(table: table, reason: "its column \(column.name) is \(type), not \(column.dataType)")
      }
    }
  }

  /// The statements of a script, split at each `;` that ends a line.
  static func statements(_ script: String) -> [String] {
    script.components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
      .map { $0.hasSuffix(";") ? String($0.dropLast()) : $0 }
      .filter { !$0.isEmpty }
  }

  // MARK: One batch

  /// The first sequence number, up to `last`, whose hash PostgreSQL and the ledger disagree on,
  /// or `nil` when they agree through `last`. Chains that part stay apart (each hash covers the
  /// one before), so a binary search finds it in log₂(last) lookups.
  func firstDifference(_ connection: ReplicaConnection, through last: UInt64) async throws -> UInt64? {
    let id = ledger.log.ledgerID
    func agrees(_ seq: UInt64) async throws -> Bool {
      var theirs: [UInt8]?
      for row in try await connection.rows("SELECT hash FROM events WHERE ledger_id = \(id) AND seq = \(Int64(seq))") {
        theirs = Array(buffer: try row.decode(ByteBuffer.self))
      }
      return theirs == (try ledger.log.event(SequenceNumber(seq))).hash.bytes
    }
    guard last > 0, try await !agrees(last) else { return nil }
    var (low, high) = (UInt64(1), last)  // the first difference is in low...high
    while low < high {
      let middle = low + (high - low) / 2
      if try await agrees(middle) { low = middle + 1 } else { high = middle }
    }
    return low
  }

  /// Inside a transaction: locks the ledger's row, checks that PostgreSQL's head is the ledger's,
  /// and writes the next batch. Returns PostgreSQL's head before and after.
  func shipBatch(_ connection: ReplicaConnection) async throws -> (UInt64, UInt64) {
    let id = ledger.log.ledgerID
    try await connection.execute("INSERT INTO ledgers (ledger_id) VALUES (\(id)) ON CONFLICT (ledger_id) DO NOTHING")
    var headSeq: Int64 = 0
    var headHash: ByteBuffer?
    for row in try await connection.rows("SELECT head_seq, head_hash FROM ledgers WHERE ledger_id = \(id) FOR UPDATE") {
      (headSeq, headHash) = try row.decode((Int64, ByteBuffer?).self)
    }
    var lastSeq: Int64 = 0
    var lastHash: ByteBuffer?
    for row in try await connection.rows("SELECT seq, hash FROM events WHERE ledger_id = \(id) ORDER BY seq DESC LIMIT 1") {
      let (seq, hash) = try row.decode((Int64, ByteBuffer).self)
      (lastSeq, lastHash) = (seq, hash)
    }
    guard lastSeq == headSeq, lastHash == headHash else {
      throw ReplicationError.tableChanged(table: "ledgers", reason: "it gives event \(headSeq) as the head of ledger \(id), but events holds through event \(lastSeq) with another hash")
    }
    var previous = EventHash.genesis
    if headSeq > 0 {
      guard let pgHash = EventHash(bytes: Array(buffer: headHash ?? ByteBuffer())) else {
        throw ReplicationError.tableChanged(table: "ledgers", reason: "the head hash of ledger \(id) is not 32 bytes")
      }
      let ledgerHead = try ledger.log.head()?.sequence.rawValue ?? 0
      guard UInt64(headSeq) <= ledgerHead else {
        // Shorter here: events lost at the end, unless the copies part earlier.
        let first = try await firstDifference(connection, through: ledgerHead)
        throw ReplicationError.diverged(ledgerID: id, sequence: SequenceNumber(first ?? ledgerHead + 1),
                                        reason: "PostgreSQL holds events through \(headSeq), this ledger ends at event \(ledgerHead)"
                                          + (first.map { "; the two first differ at event \($0)" } ?? ""))
      }
      let mine = try ledger.log.event(SequenceNumber(UInt64(headSeq)))
      guard mine.hash == pgHash else {
        // Name where the copies part, not only where PostgreSQL ends: the first rewritten event.
        let first = try await firstDifference(connection, through: UInt64(headSeq)) ?? mine.sequence.rawValue
        throw ReplicationError.diverged(ledgerID: id, sequence: SequenceNumber(first),
                                        reason: "its first event that differs; at its head, event \(headSeq), PostgreSQL holds hash \(pgHash), this ledger \(mine.hash)")
      }
      previous = mine.hash
    }
    let batch = try ledger.log.events(from: SequenceNumber(UInt64(headSeq) + 1), limit: batchSize)
    guard let final = batch.last else { return (UInt64(headSeq), UInt64(headSeq)) }
    var rows = EventRows(capacity: batch.count)
    let signatures = try storedSignatures(from: batch[0].sequence, through: final.sequence)
    for event in batch {
      guard event.previousHash == previous, EventLog.hash(previous: previous, canonical: event.canonicalBytes) == event.hash else {
        throw ReplicationError.ledgerFailsVerification(sequence: event.sequence, reason: "its hash or its link to the event before does not match")
      }
      try rows.append(event, signature: signatures[event.sequence])
      previous = event.hash
    }
    try await connection.execute(rows.insert(ledgerID: id))
    try await connection.execute("""
      UPDATE ledgers SET head_seq = \(Int64(final.sequence.rawValue)), head_hash = \(ByteBuffer(bytes: final.hash.bytes)),
        replicated_at = now() WHERE ledger_id = \(id)
      """)
    return (UInt64(headSeq), final.sequence.rawValue)
  }
}

/// A batch of events as column arrays, inserted with one `INSERT … SELECT FROM unnest(…)`.
struct EventRows {
  var seqs: [Int64] = [], types: [String] = [], schemas: [Int32] = [], streams: [String] = []
  var effectives: [String] = [], firstDays: [String] = [], recordeds: [String] = [], actors: [String] = []
  var hasSources: [Bool] = [], sources: [String] = [], payloads: [String] = []
  var canonicals: [ByteBuffer] = [], prevs: [ByteBuffer] = [], hashes: [ByteBuffer] = []
  var signeds: [Bool] = [], keyIDs: [String] = [], signatures: [ByteBuffer] = []

  init(capacity: Int) {
    seqs.reserveCapacity(capacity)
  }

  mutating func append(_ event: RecordedEvent, signature: EventSignature?) throws {
    seqs.append(Int64(event.sequence.rawValue))
    types.append(event.type)
    schemas.append(Int32(event.schemaVersion))
    streams.append(String(decoding: try CanonicalValue.array(event.streams.map { .string($0.rawValue) }).canonicalBytes(), as: UTF8.self))
    effectives.append(event.effective.description)
    firstDays.append(event.effective.firstDay.description)
    recordeds.append(event.recordedAt.description)
    actors.append(event.actor)
    hasSources.append(event.source != nil)
    sources.append(event.source ?? "")
    payloads.append(String(decoding: try event.payload.canonicalBytes(), as: UTF8.self))
    canonicals.append(ByteBuffer(bytes: event.canonicalBytes))
    prevs.append(ByteBuffer(bytes: event.previousHash.bytes))
    hashes.append(ByteBuffer(bytes: event.hash.bytes))
    signeds.append(signature != nil)
    keyIDs.append(signature.map { keyIDHex($0.keyID) } ?? "")
    signatures.append(ByteBuffer(bytes: signature?.signature ?? []))
  }

  func insert(ledgerID: String) -> PostgresQuery {
    """
    INSERT INTO events (ledger_id, seq, type, schema, streams, effective, effective_first_day, recorded, actor, source,
                        payload, canonical, prev, hash, signature_key_id, signature)
    SELECT \(ledgerID), u.seq, u.type, u.schema, ARRAY(SELECT jsonb_array_elements_text(u.streams::jsonb)), u.effective,
           u.first_day::date, u.recorded::timestamptz, u.actor, CASE WHEN u.has_source THEN u.source END,
           u.payload::jsonb, u.canonical, u.prev, u.hash,
           CASE WHEN u.signed THEN u.key_id END, CASE WHEN u.signed THEN u.signature END
    FROM unnest(\(seqs)::bigint[], \(types)::text[], \(schemas)::int[], \(streams)::text[], \(effectives)::text[],
                \(firstDays)::text[], \(recordeds)::text[], \(actors)::text[], \(hasSources)::bool[], \(sources)::text[],
                \(payloads)::text[], \(canonicals)::bytea[], \(prevs)::bytea[], \(hashes)::bytea[],
                \(signeds)::bool[], \(keyIDs)::text[], \(signatures)::bytea[])
      AS u(seq, type, schema, streams, effective, first_day, recorded, actor, has_source, source, payload, canonical, prev, hash,
           signed, key_id, signature)
    """
  }
}
