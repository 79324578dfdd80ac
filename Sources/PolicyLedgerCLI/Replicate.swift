import ArgumentParser
import Dispatch
import Foundation
import PolicyLedgerEventLog
import PolicyLedgerQuery
import PolicyLedgerReplication

extension PolicyLedger {
  /// `replicate`: keeps a PostgreSQL database in step with the ledger.
  struct Replicate: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Copy the events PostgreSQL does not hold yet into a PostgreSQL database (once, or with --follow continuously).",
      discussion: """
        PostgreSQL is a replica: the ledger stays the source of truth. The database gets an \
        `events` table (the envelope as typed columns, the payload as jsonb, the canonical \
        bytes, prev and hash, keyed by ledger id and seq), a `ledgers` table (each ledger's \
        replicated head), and views for analysts (events_in_force, bodies, memberships, \
        indicator_values, indicator_latest_values, event_signatures). A signed event's row \
        carries its actor's signature (signature_key_id, signature); a replica made before \
        those columns existed gets them, and its rows their signatures, on the next run. \
        Several ledgers can share one database.

        Each run continues from the last seq PostgreSQL holds for this ledger, in batches of \
        --batch events, each batch in one PostgreSQL transaction; a run that is killed loses \
        and duplicates nothing. Before each batch, PostgreSQL's hash at its last seq must be \
        this ledger's hash at that seq; else it stops, names the seq, and writes nothing. A \
        ledger that fails verify is refused. The password may be given in $PGPASSWORD \
        instead of the URL.

        EXIT STATUS: 0 done (or stopped by SIGINT/SIGTERM with --follow); 1 the ledger fails \
        verification, or PostgreSQL's copy differs from the ledger (a fork); 64 a bad URL; \
        65 a replica table was changed by hand; 74 PostgreSQL cannot be reached, refused the \
        credentials, or failed.
        """)

    @Option(help: ArgumentHelp("The database: postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=require].", valueName: "url"))
    var to: String
    @Flag(help: "Keep running: copy each new event as it is committed, until SIGINT or SIGTERM.")
    var follow = false
    @Option(help: ArgumentHelp("Events per PostgreSQL transaction (default 1000).", valueName: "count"))
    var batch: Int = 1_000
    @OptionGroup var ledger: LedgerOptions

    func validate() throws {
      if batch < 1 || batch > 100_000 { throw ValidationError("--batch must be 1 to 100000.") }
    }

    func run() throws {
      let target: PostgresTarget
      do { target = try PostgresTarget(url: to) } catch { throw Replicate.failure(error) }
      let ledger = try self.ledger.openForReading()
      // As export: a copy elsewhere must not carry the events without the evidence their stored
      // Merkle tree holds against them. (The chain itself is verified by the replicator.)
      try ProofFiles.requireStoredTreeMatches(ledger.log, refusing: "PostgreSQL would hold the events without that evidence; compare the ledger with a checkpoint kept elsewhere (`verify --checkpoint`); nothing was written")
      let replicator = Replicator(ledger: ledger, target: target, batchSize: batch)
      let follow = self.follow
      let result = try Replicate.runCancellable { () async throws -> ReplicationReport in
        try await replicator.replicate(follow: follow) { report in
          if follow { Console.note("replicated through event \(report.head)") }
        }
      }
      switch result {
      case .success(let report):
        let holds = report.head == 0 ? "PostgreSQL holds none of its events" : "PostgreSQL holds events 1–\(report.head)"
        Console.line("Replicated \(Render.count(Int(report.eventsWritten), "event")) of ledger \(report.ledgerID) into \(target); \(holds).")
        if report.signaturesFilled > 0 {
          Console.line("Filled in the signatures of \(Render.count(report.signaturesFilled, "event")) replicated before the replica had signature columns.")
        }
      case .failure(let error as ReplicationError): throw Replicate.failure(error)
      case .failure(is CancellationError): return
      case .failure(let error): throw error
      }
    }

    static func failure(_ error: ReplicationError) -> Failure {
      switch error {
      case .badURL: Failure(.usage, error.description)
      case .diverged, .ledgerFailsVerification: Failure(.problemFound, error.description)
      case .tableChanged: Failure(.dataError, error.description)
      case .unreachable, .refused, .server, .connection: Failure(.ioError, error.description)
      }
    }

    /// Runs `body` on a task while the main thread waits; SIGINT and SIGTERM cancel the task.
    static func runCancellable<R: Sendable>(_ body: @escaping @Sendable () async throws -> R) throws -> Result<R, any Error> {
      let box = ResultBox<R>()
      let finished = DispatchSemaphore(value: 0)
      StopSignals.install()
      let task = Task.detached {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        finished.signal()
      }
      let watch = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "policy-ledger.replicate.watch"))
      watch.schedule(deadline: .now() + .milliseconds(50), repeating: .milliseconds(50))
      watch.setEventHandler { if StopSignals.requested { task.cancel() } }
      watch.resume()
      finished.wait()
      watch.cancel()
      return box.result ?? .failure(CancellationError())
    }
  }
}

/// The result of a task, handed to the thread that waited for it (written once, then read after
/// the semaphore that orders the two).
final class ResultBox<R: Sendable>: @unchecked Sendable {
  var result: Result<R, any Error>?
}
