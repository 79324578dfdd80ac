import Foundation

// The optional replication phase (--replicate-url URL): `policy-ledger replicate` of the scale's
// ledger into a fresh PostgreSQL database, against `COPY` of the same rows (exported from the
// replicated `events` table) into a table of the same shape (`LIKE events INCLUDING ALL`: the
// same columns and indexes). It runs the CLI and psql as processes, so that this package needs
// no PostgreSQL client library (and `swift run ledger-bench --quick` no PostgreSQL server).

struct ReplicationResult {
  var events = 0
  /// `policy-ledger replicate` wall time, its own `verify` of the ledger included.
  var replicateSeconds = 0.0
  /// `\copy events_copy FROM file` of the same rows.
  var copySeconds = 0.0
}

/// The `policy-ledger` binary: --policy-ledger, else the main package's release build, else its debug build.
func policyLedgerBinary(_ options: BenchOptions) throws -> String {
  if let given = options.policyLedger { return given }
  var root = URL(fileURLWithPath: #filePath)
  for _ in 0..<5 { root.deleteLastPathComponent() }
  for build in ["release", "debug"] {
    let path = root.path + "/.build/\(build)/policy-ledger"
    if FileManager.default.isExecutableFile(atPath: path) { return path }
  }
  throw BenchError(description: "--replicate-url needs the policy-ledger binary: build it (`swift build -c release --product policy-ledger` at the repository root) or give --policy-ledger PATH")
}

@discardableResult
func runTool(_ arguments: [String]) throws -> String {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = arguments
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  process.standardInput = FileHandle.nullDevice
  try process.run()
  let data = out.fileHandleForReading.readDataToEndOfFile()
  let errors = err.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  guard process.terminationStatus == 0 else {
    throw BenchError(description: "\(arguments.prefix(2).joined(separator: " ")) failed (\(process.terminationStatus)): \(String(decoding: errors.suffix(400), as: UTF8.self))")
  }
  return String(decoding: data, as: UTF8.self)
}

/// Replicates the ledger at `ledgerPath` into a new database `ledger_bench_<pid>` on the server
/// of `url` (the role must be allowed to create databases), times it against COPY, drops the database.
func runReplication(ledgerPath: String, events: Int, work: String, options: BenchOptions) throws -> ReplicationResult {
  guard let url = options.replicateURL else { return ReplicationResult() }
  let binary = try policyLedgerBinary(options)
  guard let slash = url.range(of: "/", options: .backwards), url[..<slash.lowerBound].hasSuffix("//") == false else {
    throw BenchError(description: "--replicate-url \(url): expected postgresql://user:password@host:port/database")
  }
  let name = "ledger_bench_\(getpid())"
  let database = String(url[..<slash.upperBound]) + name
  try runTool(["psql", url, "-qc", "DROP DATABASE IF EXISTS \(name) WITH (FORCE)", "-c", "CREATE DATABASE \(name) TEMPLATE template0 ENCODING 'UTF8'"])
  defer { _ = try? runTool(["psql", url, "-qc", "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"]) }
  var result = ReplicationResult()
  result.events = events
  var start = nowNanos()
  try runTool([binary, "replicate", "--ledger", ledgerPath, "--to", database])
  result.replicateSeconds = Double(nowNanos() - start) / 1e9
  let rows = work + "/events.copy"
  try runTool(["psql", database, "-qc", "\\copy (SELECT * FROM events ORDER BY seq) TO '\(rows)'"])
  try runTool(["psql", database, "-qc", "CREATE TABLE events_copy (LIKE events INCLUDING ALL)"])
  start = nowNanos()
  try runTool(["psql", database, "-qc", "\\copy events_copy FROM '\(rows)'"])
  result.copySeconds = Double(nowNanos() - start) / 1e9
  try? FileManager.default.removeItem(atPath: rows)
  let copied = try runTool(["psql", database, "-tAc", "SELECT count(*) FROM events_copy"]).trimmingCharacters(in: .whitespacesAndNewlines)
  result.events = Int(copied) ?? events
  return result
}
