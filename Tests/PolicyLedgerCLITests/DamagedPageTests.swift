import Foundation
import PolicyLedgerTestSupport
import Testing

/// Bytes flipped in every page of a seed ledger, meta pages included, and every read command run
/// on each copy: never a crash, never a hang; an answer, or one `error:` line with a documented
/// status.
@Suite("Damaged pages and every read command")
struct DamagedPageTests {
  static let commands: [[String]] = [
    ["verify"], ["digest"], ["log", "--limit", "5"], ["state"], ["bodies"], ["members", "basic-plan-panel"],
    ["decisions"], ["indicators"], ["progress"], ["history", "young-faculty"], ["audit", "body:csti"],
    ["diff", "--from", "2019-01-01", "--to", "2020-12-31"], ["rows", "snapshots", "--limit", "5"], ["export"],
  ]

  /// Runs the CLI, killing it after `seconds`; nil when it had to be killed (a hang).
  static func run(_ arguments: [String], seconds: Double) throws -> (status: Int32, stderr: String)? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: cliBinary)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["POLICY_LEDGER_PATH"] = nil
    process.environment = env
    process.standardOutput = FileHandle.nullDevice
    let err = Pipe()
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning && Date() < deadline { usleep(5_000) }
    if process.isRunning { process.terminate(); process.waitUntilExit(); return nil }
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    return (status, stderr)
  }

  @Test("64 bytes flipped in each page in turn (meta pages too): every read command ends with an answer or one error line, in time")
  func everyPageEveryCommand() throws {
    let seed = try SeedLedger("damaged-pages")
    let original = try Data(contentsOf: URL(fileURLWithPath: seed.path + "/data.mdb"))
    let pageSize = 4096
    let pages = original.count / pageSize
    final class Problems: @unchecked Sendable {
      private let lock = NSLock()
      private(set) var list: [String] = []
      func add(_ p: String) { lock.lock(); list.append(p); lock.unlock() }
    }
    let problems = Problems()
    for page in 0..<pages {
      let copy = seed.folder.child("flip-\(page)")
      try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
      var bytes = original
      // A different place in each page, so that headers, keys and values all get their turn.
      let offset = page * pageSize + (page * 1237 + 16) % (pageSize - 64)
      for i in offset..<(offset + 64) { bytes[i] ^= 0xFF }
      try bytes.write(to: URL(fileURLWithPath: copy + "/data.mdb"))
      DispatchQueue.concurrentPerform(iterations: DamagedPageTests.commands.count) { i in
        let command = DamagedPageTests.commands[i]
        let problem: String?
        do {
          if let result = try DamagedPageTests.run(command + ["--ledger", copy], seconds: 30) {
            let lines = result.stderr.split(separator: "\n")
            if ![0, 1, 64, 65, 66, 74].contains(result.status) {
              problem = "page \(page), \(command.joined(separator: " ")): status \(result.status): \(result.stderr.prefix(300))"
            } else if result.status != 0 && (lines.count != 1 || !result.stderr.hasPrefix("error: ")) {
              problem = "page \(page), \(command.joined(separator: " ")): not one error line: \(result.stderr.prefix(300))"
            } else {
              problem = nil
            }
          } else {
            problem = "page \(page), \(command.joined(separator: " ")): still running after 30 s"
          }
        } catch {
          problem = "page \(page), \(command.joined(separator: " ")): \(error)"
        }
        if let problem { problems.add(problem) }
      }
      try FileManager.default.removeItem(atPath: copy)
    }
    #expect(problems.list.isEmpty, Comment(rawValue: "\(problems.list.count) problems:\n" + problems.list.prefix(20).joined(separator: "\n")))
  }
}
