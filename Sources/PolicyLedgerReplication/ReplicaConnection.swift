import PostgresNIO
import Synchronization

/// The replicator's connection to PostgreSQL, on which every wait ends: each statement returns,
/// fails, or throws ``ConnectionLost`` as soon as the connection is lost.
///
/// Why it is needed (postgres-nio 1.33.2): `PostgresConnection.query` hands its statement to the
/// channel with `channel.write(…, promise: nil)` and then waits for a promise that only
/// postgres-nio's channel handler completes. When the connection closes, SwiftNIO removes the
/// channel's handlers one event-loop tick later (the tick that completes `closeFuture`). A
/// statement written after that never reaches the handler: NIO fails the write, which has no
/// promise to tell, and the statement's promise is never completed, so `query` waits for ever,
/// and cancelling the task does not end the wait. When PostgreSQL restarts under
/// `replicate --follow` (each session ends with `57P01`), the replicator's next statement races
/// that tick: the ROLLBACK after the statement the server failed, or the BEGIN or the next
/// statement of a batch when the server's error came between two statements. It lost about one
/// race in three. (vapor/postgres-nio#487 fixed the leak inside postgres-nio; #501 reverted it.)
///
/// So each statement runs on a task of its own while its caller waits for whichever comes first:
/// the statement's outcome, or the loss of the connection. The loss is learnt two ways:
/// - a `LISTEN` on a channel nobody notifies: postgres-nio ends every listener with the reason
///   the connection is closing (the server's FATAL error such as `57P01`, a reset, an end of
///   file) before it closes the channel; this is how that reason reaches the error message even
///   when no statement was waiting;
/// - a backstop, one second after `closeFuture` (time for the listener's reason to arrive
///   first), in case the `LISTEN` never took effect.
///
/// A statement that was abandoned this way leaves its task suspended for good (it holds only its
/// statement and promise); the run is ending with an error, so at most a couple are left.
///
/// There is deliberately no timeout on a statement: a batch of up to 100,000 events, or a batch
/// waiting for another replicator's `FOR UPDATE` lock, can legitimately take minutes, and no
/// fixed bound separates that from a hang. What ends a wait is the end of the connection, which
/// is what a restart, a crash, a `pg_terminate_backend` or a reset produce. (A peer that vanishes
/// without a reset is noticed only when TCP gives up on unacknowledged data.)
final class ReplicaConnection: Sendable {
  let connection: PostgresConnection
  private let watch = LossWatch()

  /// The channel of the `LISTEN` that watches the connection (no one notifies it).
  static let watchChannel = "policy_ledger_replicate_watch"

  init(_ connection: PostgresConnection) {
    self.connection = connection
    let watch = watch
    connection.closeFuture.whenComplete { _ in
      connection.eventLoop.scheduleTask(in: .seconds(1)) { watch.lose(nil) }
    }
    Task {
      do {
        try await connection.listen(on: ReplicaConnection.watchChannel) { notifications in
          for try await _ in notifications {}
        }
      } catch {
        // A live connection whose server refused the LISTEN: the backstop still watches it.
        guard connection.isClosed else { return }
        watch.lose((error as? PSQLError)?.code == .listenFailed ? nil : error)
      }
    }
  }

  /// Runs `body` with the connection and returns what it returns, or throws ``ConnectionLost``
  /// as soon as the connection is lost, whether or not `body` ever ends. A statement that
  /// completed just as the connection was lost may be reported lost: harmless, since each run
  /// starts from the head PostgreSQL holds.
  func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
    try checkConnected()
    let connection = connection, watch = watch
    return try await withCheckedThrowingContinuation { continuation in
      let once = ResumeOnce(continuation)
      let waiter = watch.onLoss { once.resume(with: .failure($0)) }
      Task {
        let outcome: Result<T, any Error>
        do { outcome = .success(try await body(connection)) } catch { outcome = .failure(error) }
        if let waiter { watch.remove(waiter) }
        once.resume(with: outcome)
      }
    }
  }

  /// Runs one statement; its rows, if any, are discarded.
  func execute(_ query: PostgresQuery) async throws {
    try await run { connection in
      _ = try await connection.query(query, logger: Replicator.logger)
    }
  }

  /// Runs one statement and returns all its rows.
  func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
    try await run { connection in
      var rows: [PostgresRow] = []
      for try await row in try await connection.query(query, logger: Replicator.logger) { rows.append(row) }
      return rows
    }
  }

  /// Throws ``ConnectionLost`` if the connection has been lost (for `--follow`, which looks
  /// between batches, when no statement is waiting).
  func checkConnected() throws {
    if let lost = watch.lost { throw lost }
  }

  /// Closes the connection (never waits on the server: NIO completes `closeFuture` itself).
  func close() async {
    try? await connection.close()
  }
}

/// The connection to PostgreSQL was lost. `reason` is postgres-nio's error for it when known
/// (the server's `57P01` at a restart, a reset), nil when the channel simply closed.
struct ConnectionLost: Error {
  let reason: (any Error)?
}

/// Whether a connection was lost, and who waits to hear it.
final class LossWatch: Sendable {
  private struct State {
    var lost: ConnectionLost?
    var waiters: [Int: @Sendable (ConnectionLost) -> Void] = [:]
    var next = 0
  }
  private let state = Mutex(State())

  var lost: ConnectionLost? { state.withLock { $0.lost } }

  /// Records the loss (the first call wins) and tells every waiter.
  func lose(_ reason: (any Error)?) {
    let (lost, waiters) = state.withLock { state -> (ConnectionLost?, [@Sendable (ConnectionLost) -> Void]) in
      guard state.lost == nil else { return (nil, []) }
      let lost = ConnectionLost(reason: reason)
      state.lost = lost
      defer { state.waiters = [:] }
      return (lost, Array(state.waiters.values))
    }
    guard let lost else { return }
    for waiter in waiters { waiter(lost) }
  }

  /// Calls `waiter` when the connection is lost (at once if it already is: then returns nil).
  func onLoss(_ waiter: @escaping @Sendable (ConnectionLost) -> Void) -> Int? {
    let (id, lost) = state.withLock { state -> (Int?, ConnectionLost?) in
      if let lost = state.lost { return (nil, lost) }
      state.next += 1
      state.waiters[state.next] = waiter
      return (state.next, nil)
    }
    if let lost { waiter(lost) }
    return id
  }

  func remove(_ id: Int) {
    state.withLock { _ = $0.waiters.removeValue(forKey: id) }
  }
}

/// A continuation resumed by the first of several callers; the others are ignored.
final class ResumeOnce<T: Sendable>: Sendable {
  private let continuation: Mutex<CheckedContinuation<T, any Error>?>

  init(_ continuation: CheckedContinuation<T, any Error>) {
    self.continuation = Mutex(continuation)
  }

  func resume(with outcome: Result<T, any Error>) {
    let taken = continuation.withLock { continuation -> CheckedContinuation<T, any Error>? in
      defer { continuation = nil }
      return continuation
    }
    taken?.resume(with: outcome)
  }
}
