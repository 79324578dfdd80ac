import Foundation
import PolicyLedgerReplication
import PostgresNIO
import Testing

/// The PostgreSQL server the tests use: `$POLICY_LEDGER_TEST_POSTGRES_URL` (set by `.ci/run`,
/// which starts Debian's PostgreSQL 15 on loopback). Each test gets a database of its own.
enum PostgresFixture {
  static let variable = "POLICY_LEDGER_TEST_POSTGRES_URL"
  static let baseURL: String? = ProcessInfo.processInfo.environment[variable].flatMap { $0.isEmpty ? nil : $0 }

  /// Whether a server answers at the URL; when not, says why on standard output once.
  static let available: Bool = {
    guard let baseURL else {
      print("PolicyLedgerReplicationTests: SKIPPED: \(variable) is not set, so no PostgreSQL server is known (.ci/run starts one: bash .ci/postgres-up)")
      return false
    }
    guard let target = try? PostgresTarget(url: baseURL) else {
      print("PolicyLedgerReplicationTests: SKIPPED: \(variable) is not a PostgreSQL URL")
      return false
    }
    let semaphore = DispatchSemaphore(value: 0)
    final class Box: @unchecked Sendable { var error: (any Error)? }
    let box = Box()
    Task.detached {
      do {
        let connection = try await connect(target)
        try? await connection.close()
      } catch { box.error = error }
      semaphore.signal()
    }
    semaphore.wait()
    if let error = box.error {
      print("PolicyLedgerReplicationTests: SKIPPED: no PostgreSQL server answers at \(target): \(String(reflecting: error))")
      return false
    }
    return true
  }()

  static let skipReason: Comment = "no PostgreSQL server (set \(variable); .ci/run starts one)"

  static let logger: Logger = {
    var logger = Logger(label: "policy-ledger.tests")
    logger.logLevel = .critical
    return logger
  }()

  static func connect(_ target: PostgresTarget) async throws -> PostgresConnection {
    try await PostgresConnection.connect(
      configuration: .init(host: target.host, port: target.port, username: target.username, password: target.password,
                           database: target.database, tls: .disable),
      id: 1, logger: logger)
  }

  /// A new, empty database for one test; returns its URL. Dropped by ``drop(_:)``.
  static func scratchDatabase() async throws -> String {
    let base = try PostgresTarget(url: try #require(baseURL))
    let name = "policy_ledger_t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
    let connection = try await connect(base)
    try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE template0 ENCODING 'UTF8'"), logger: logger)
    try? await connection.close()
    let baseURL = try #require(baseURL)
    var components = try #require(URLComponents(string: baseURL))
    components.path = "/" + name
    return try #require(components.string)
  }

  static func drop(_ url: String) async {
    guard let baseURL, let base = try? PostgresTarget(url: baseURL), let target = try? PostgresTarget(url: url),
          let connection = try? await connect(base) else { return }
    _ = try? await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(target.database) WITH (FORCE)"), logger: logger)
    try? await connection.close()
  }
}

/// A connection to one test database, for reading what the replicator wrote.
struct Database {
  let url: String
  let connection: PostgresConnection

  static func open(_ url: String) async throws -> Database {
    Database(url: url, connection: try await PostgresFixture.connect(try PostgresTarget(url: url)))
  }

  func close() async { try? await connection.close() }

  func execute(_ sql: String) async throws {
    try await connection.query(PostgresQuery(unsafeSQL: sql), logger: PostgresFixture.logger)
  }

  /// Every row of `sql`, each column cast to text by the query (`::text`), NULL as nil.
  func rows(_ sql: String, columns: Int) async throws -> [[String?]] {
    let result = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: PostgresFixture.logger)
    var out: [[String?]] = []
    for try await row in result {
      var values: [String?] = []
      var cells = row.makeIterator()
      for _ in 0..<columns { values.append(try cells.next()?.decode(String?.self)) }
      out.append(values)
    }
    return out
  }

  func value(_ sql: String) async throws -> String? { try await rows(sql, columns: 1).first?.first ?? nil }
}
