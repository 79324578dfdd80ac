import Foundation

/// Where a replica lives: a PostgreSQL URL, `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE`
/// (or `postgres://`), with an optional `?sslmode=disable|require`. Without a password in the
/// URL, `$PGPASSWORD` is used, so that the password need not appear in a process listing.
public struct PostgresTarget: Sendable, Equatable, CustomStringConvertible {
  public var host: String
  public var port: Int
  public var username: String
  public var password: String?
  public var database: String
  /// Whether to require TLS (`sslmode=require`). Default: no TLS (`disable`).
  public var requireTLS: Bool

  /// Reads a PostgreSQL URL.
  /// - Parameters:
  ///   - url: The URL.
  ///   - environment: Where `PGPASSWORD` is read (`nil`: the process's environment).
  /// - Throws: ``ReplicationError/badURL(_:reason:)``.
  public init(url: String, environment: [String: String]? = nil) throws(ReplicationError) {
    let environment = environment ?? ProcessInfo.processInfo.environment
    let shown = PostgresTarget.redacted(url)
    func bad(_ reason: String) -> ReplicationError { .badURL(shown, reason: reason) }
    guard let components = URLComponents(string: url) else { throw bad("it is not a URL") }
    guard let scheme = components.scheme, ["postgresql", "postgres"].contains(scheme.lowercased()) else {
      throw bad("the scheme must be postgresql://")
    }
    guard let host = components.host, !host.isEmpty else { throw bad("it names no host") }
    guard let user = components.user, !user.isEmpty else { throw bad("it names no user (postgresql://USER@HOST/DATABASE)") }
    let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
    guard !path.isEmpty, !path.contains("/") else { throw bad("it names no database (…/DATABASE at the end)") }
    if let port = components.port, !(1...65535).contains(port) { throw bad("the port must be 1 to 65535") }
    var requireTLS = false
    for item in components.queryItems ?? [] {
      switch (item.name, item.value) {
      case ("sslmode", "disable"): requireTLS = false
      case ("sslmode", "require"): requireTLS = true
      case ("sslmode", _): throw bad("sslmode must be disable or require")
      default: throw bad("unknown parameter \(item.name); only sslmode is read")
      }
    }
    self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    self.port = components.port ?? 5432
    self.username = user
    self.password = components.password ?? environment["PGPASSWORD"]
    // `URLComponents.path` is decoded already: decoding it again would turn %2541 into A.
    self.database = path
    self.requireTLS = requireTLS
  }

  /// `user@host:port/database`, without the password.
  public var description: String { "\(username)@\(host):\(port)/\(database)" }

  /// The URL with any password replaced by `***`, for messages.
  static func redacted(_ url: String) -> String {
    guard var components = URLComponents(string: url), components.password != nil else { return url }
    components.password = "***"
    return components.string ?? url
  }
}
