import Foundation
import PolicyLedgerEventLog
import PolicyLedgerStorage
import PolicyLedgerTestSupport
import Testing

// Runs the built `policy-ledger` binary with Foundation.Process and captures what it prints.

/// The `policy-ledger` executable: beside the running test bundle (the build folder actually
/// used, `.build` or `.build-cli`), else `$POLICY_LEDGER_BINARY`, else the usual build folders.
let cliBinary: String = {
  var candidates: [String] = []
  if let override = ProcessInfo.processInfo.environment["POLICY_LEDGER_BINARY"], !override.isEmpty { candidates.append(override) }
  if let running = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
    candidates.append(URL(fileURLWithPath: running).deletingLastPathComponent().appendingPathComponent("policy-ledger").path)
  }
  let bundle = Bundle.main.bundleURL
  candidates.append(bundle.appendingPathComponent("policy-ledger").path)
  candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("policy-ledger").path)
  if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
  // Last resort, from this file's path: the newest binary among the usual build folders.
  let builds = [".build", ".build-cli"].map { "\(repositoryRoot)/\($0)/debug/policy-ledger" }
    .filter { FileManager.default.isExecutableFile(atPath: $0) }
  func modified(_ path: String) -> Date { ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? .distantPast }
  return builds.max { modified($0) < modified($1) } ?? "\(repositoryRoot)/.build/debug/policy-ledger"
}()

/// What one run printed, and how it ended.
struct CLIResult: CustomStringConvertible {
  let status: Int32
  let stdoutData: Data
  let stderr: String
  var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
  /// Lines of standard output (without the final empty one).
  /// Lines of standard output, split at each LF byte (a CSV line keeps its CR).
  var lines: [String] {
    var lines = stdoutData.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    if lines.last == "" { lines.removeLast() }
    return lines
  }
  var description: String { "exit \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }

  /// Standard output as JSON.
  func json() throws -> Any { try JSONSerialization.jsonObject(with: stdoutData, options: [.fragmentsAllowed]) }
  /// Standard output as a JSON array of objects.
  func rows() throws -> [[String: Any]] {
    guard let rows = try json() as? [[String: Any]] else { throw CLITestError("not a JSON array of objects: \(stdout.prefix(300))") }
    return rows
  }
  func object() throws -> [String: Any] {
    guard let object = try json() as? [String: Any] else { throw CLITestError("not a JSON object: \(stdout.prefix(300))") }
    return object
  }
}

struct CLITestError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// Runs `policy-ledger` with `arguments`.
/// - Parameters:
///   - stdin: Bytes for standard input (empty input when `nil`).
///   - environment: Variables added to (or, with an empty value, removed from) the test's own.
///   - directory: The working directory.
///   - prefix: A command that runs the binary (`setpriv …`).
func cli(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:], directory: String? = nil, prefix: [String] = []) throws -> CLIResult {
  let scratch = TemporaryFolder("run")
  let outPath = scratch.child("stdout"), errPath = scratch.child("stderr"), inPath = scratch.child("stdin")
  _ = FileManager.default.createFile(atPath: outPath, contents: nil)
  _ = FileManager.default.createFile(atPath: errPath, contents: nil)
  _ = FileManager.default.createFile(atPath: inPath, contents: stdin ?? Data())
  let process = Process()
  if prefix.isEmpty {
    process.executableURL = URL(fileURLWithPath: cliBinary)
    process.arguments = arguments
  } else {
    process.executableURL = URL(fileURLWithPath: prefix[0])
    process.arguments = Array(prefix.dropFirst()) + [cliBinary] + arguments
  }
  var env = ProcessInfo.processInfo.environment
  env["POLICY_LEDGER_PATH"] = nil
  for (key, value) in environment { env[key] = value.isEmpty ? nil : value }
  process.environment = env
  if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
  let out = try #require(FileHandle(forWritingAtPath: outPath))
  let err = try #require(FileHandle(forWritingAtPath: errPath))
  let input = try #require(FileHandle(forReadingAtPath: inPath))
  process.standardOutput = out
  process.standardError = err
  process.standardInput = input
  try process.run()
  process.waitUntilExit()
  try out.close(); try err.close(); try input.close()
  let stdout = try Data(contentsOf: URL(fileURLWithPath: outPath))
  let stderr = String(decoding: try Data(contentsOf: URL(fileURLWithPath: errPath)), as: UTF8.self)
  let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
  return CLIResult(status: status, stdoutData: stdout, stderr: stderr)
}

/// A ledger built from the seed fixture by `policy-ledger import`, in its own temporary folder.
struct SeedLedger {
  let folder: TemporaryFolder
  let path: String

  init(_ label: String = "seed") throws {
    folder = TemporaryFolder("cli-\(label)")
    path = folder.child("ledger")
    let result = try cli(["import", seedFixturePath, "--ledger", path])
    guard result.status == 0 else { throw CLITestError("the seed import failed: \(result)") }
  }

  /// Runs a command against this ledger (`--ledger` is appended).
  func run(_ arguments: [String], stdin: Data? = nil) throws -> CLIResult {
    try cli(arguments + ["--ledger", path], stdin: stdin)
  }

  /// The head digest as `digest` prints it.
  func digest() throws -> String {
    let result = try run(["digest"])
    guard result.status == 0 else { throw CLITestError("digest failed: \(result)") }
    return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  }
}

/// Checks that a failure is reported the documented way: the expected status, one line on
/// standard error starting `error: `, and no crash output.
func expectFailure(_ result: CLIResult, status: Int32, mentioning needles: [String], sourceLocation: SourceLocation = #_sourceLocation) {
  #expect(result.status == status, "\(result)", sourceLocation: sourceLocation)
  let errorLines = result.stderr.split(separator: "\n")
  #expect(errorLines.count == 1, "stderr should be one line: \(result.stderr)", sourceLocation: sourceLocation)
  #expect(result.stderr.hasPrefix("error: "), "\(result.stderr)", sourceLocation: sourceLocation)
  for bad in ["Fatal error", "Stack dump", "Current stack trace", "Illegal instruction", "Segmentation"] {
    #expect(!result.stderr.contains(bad), "\(result.stderr)", sourceLocation: sourceLocation)
  }
  for needle in needles {
    #expect(result.stderr.contains(needle), "stderr should mention \(needle): \(result.stderr)", sourceLocation: sourceLocation)
  }
}

/// Terminal display width by East Asian Width, written independently of the tool's own:
/// Wide and Fullwidth code points take two columns, combining marks none.
func displayWidth(_ text: String) -> Int {
  text.unicodeScalars.reduce(0) { total, scalar in
    let v = scalar.value
    switch scalar.properties.generalCategory {
    case .nonspacingMark, .enclosingMark, .format: return total
    default: break
    }
    let wide = (0x1100...0x115F).contains(v) || (0x2E80...0x303F).contains(v) || (0x3041...0x33FF).contains(v)
      || (0x3400...0x4DBF).contains(v) || (0x4E00...0x9FFF).contains(v) || (0xA000...0xA4CF).contains(v)
      || (0xAC00...0xD7A3).contains(v) || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v)
      || (0xFF01...0xFF60).contains(v) || (0xFFE0...0xFFE6).contains(v) || (0x20000...0x3FFFD).contains(v)
    return total + (wide ? 2 : 1)
  }
}

/// The data rows of a table printed by the tool: the lines after the dashed rule under the header.
func tableRows(_ output: String) -> [String] {
  let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
  guard let rule = lines.firstIndex(where: { !$0.isEmpty && $0.allSatisfy { $0 == "-" || $0 == " " } }) else { return [] }
  return Array(lines[(rule + 1)...].prefix { !$0.isEmpty })
}

/// The header line of a table printed by the tool.
func tableHeader(_ output: String) -> String? {
  let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
  guard let rule = lines.firstIndex(where: { !$0.isEmpty && $0.allSatisfy { $0 == "-" || $0 == " " } }), rule > 0 else { return nil }
  return lines[rule - 1]
}

/// Runs one query with `psql` against `url` and returns its unaligned output, trimmed.
/// - Throws: ``CLITestError`` when psql cannot run or the query fails.
func psql(_ url: String, _ sql: String) throws -> String {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = ["psql", url, "-tAc", sql]
  let out = Pipe()
  process.standardOutput = out
  process.standardError = FileHandle.nullDevice
  process.standardInput = FileHandle.nullDevice
  try process.run()
  let data = out.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  guard process.terminationStatus == 0 else { throw CLITestError("psql failed: \(sql)") }
  return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Runs `command` (a shell command line) under script(1), which gives it a terminal, and
/// returns what it printed there.
func onTerminal(_ command: String) throws -> String {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
  p.arguments = ["-qec", command, "/dev/null"]
  let out = Pipe()
  p.standardOutput = out
  p.standardInput = FileHandle.nullDevice
  try p.run()
  let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  p.waitUntilExit()
  return text
}

