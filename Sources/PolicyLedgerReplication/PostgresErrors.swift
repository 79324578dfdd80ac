import Foundation
import PolicyLedgerEventLog
import PostgresNIO

/// How errors from postgres-nio become ``ReplicationError``s: one line each, naming what to do.
extension Replicator {
  static func mapped(_ error: any Error, target: PostgresTarget, connecting: Bool) -> any Error {
    if error is ReplicationError || error is LedgerError || error is CancellationError { return error }
    // A lost connection is reported with the reason postgres-nio gave for it (57P01 at a restart).
    if let lost = error as? ConnectionLost {
      guard let reason = lost.reason else { return ReplicationError.connection(Replicator.closedUnexplained) }
      return mapped(reason, target: target, connecting: connecting)
    }
    if let error = error as? PSQLError {
      // A statement sent on a connection that had just closed carries the reason it closed.
      if error.code == .clientClosedConnection || error.code == .serverClosedConnection {
        guard let reason = error.underlying else { return ReplicationError.connection(Replicator.closedUnexplained) }
        return mapped(reason, target: target, connecting: connecting)
      }
      if error.code == .server {
        let state = error.serverInfo?[.sqlState] ?? "?????"
        let message = error.serverInfo?[.message] ?? "no message"
        // 28000 invalid authorization, 28P01 invalid password, 3D000 no such database, 42501 no privilege.
        if ["28000", "28P01", "3D000", "42501"].contains(state) || (connecting && state.hasPrefix("08")) {
          return ReplicationError.refused(target.description, reason: message)
        }
        return ReplicationError.server(sqlState: state, message: message)
      }
      switch error.code {
      case .unexpectedBackendMessage:
        if let (state, message) = serverError(inDebugDescription: String(reflecting: error)) {
          return ReplicationError.server(sqlState: state, message: message)
        }
        return ReplicationError.connection("PostgreSQL sent a message out of turn, and the connection was closed")
      case .authMechanismRequiresPassword:
        return ReplicationError.refused(target.description, reason: "the server asks for a password; put it in the URL or in $PGPASSWORD")
      case .unsupportedAuthMechanism, .saslError:
        return ReplicationError.refused(target.description, reason: "authentication failed (\(error.code))")
      case .sslUnsupported:
        return ReplicationError.refused(target.description, reason: "the server does not offer TLS (sslmode=require)")
      default:
        let reason = error.underlying.map(describe) ?? "\(error.code)"
        return connecting ? ReplicationError.unreachable(target.description, reason: reason) : ReplicationError.connection(reason)
      }
    }
    return connecting ? ReplicationError.unreachable(target.description, reason: describe(error)) : ReplicationError.connection(describe(error))
  }

  /// postgres-nio 1.33 reports a server error that arrives between a statement's CommandComplete
  /// and ReadyForQuery as `unexpectedBackendMessage`: a server shutting down (`57P01`) ends the
  /// session there when it handles the statement's Sync. The server's fields are then only in
  /// the error's debug description (`… ErrorResponse(fields: [… Message: "…", Code: "57P01", …])`);
  /// its SQLSTATE and message are read from there, nil when that text has another form.
  static func serverError(inDebugDescription text: String) -> (state: String, message: String)? {
    guard text.contains("ErrorResponse("),
          let state = text.firstMatch(of: /Code: "([0-9A-Z]{5})"/)?.1,
          let message = text.firstMatch(of: /Message: "((?:[^"\\]|\\.)*)"/)?.1 else { return nil }
    return (String(state), String(message))
  }

  static let closedUnexplained = "PostgreSQL closed it (the server stopped or restarted, or the network dropped the connection)"

  static func describe(_ error: any Error) -> String {
    let text = String(describing: error)
    if text.localizedCaseInsensitiveContains("refused") { return "connection refused" }
    if text.localizedCaseInsensitiveContains("reset by peer") { return "the connection was reset (the server stopped, or the network dropped it)" }
    if text.localizedCaseInsensitiveContains("timeout") || text.localizedCaseInsensitiveContains("timed out") { return "the connection timed out" }
    if text.localizedCaseInsensitiveContains("dns") || text.localizedCaseInsensitiveContains("resolve") { return "the host name cannot be resolved" }
    return text
  }
}
