import Foundation
import PolicyLedgerTestSupport
import Testing

/// A `policy-ledger follow` running in the background, its standard output read as it comes.
final class Follower: @unchecked Sendable {
  let process = Process()
  private let pipe = Pipe()
  private let lock = NSLock()
  private var received = Data()
  let stderrPath: String
  private let scratch = TemporaryFolder("follow")

  init(_ arguments: [String]) throws {
    stderrPath = scratch.child("stderr")
    _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
    process.executableURL = URL(fileURLWithPath: cliBinary)
    process.arguments = ["follow"] + arguments
    var environment = ProcessInfo.processInfo.environment
    environment["POLICY_LEDGER_PATH"] = nil
    process.environment = environment
    process.standardOutput = pipe
    process.standardError = try #require(FileHandle(forWritingAtPath: stderrPath))
    process.standardInput = FileHandle.nullDevice
    pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
      let data = handle.availableData
      guard let self, !data.isEmpty else { return }
      self.lock.lock(); self.received.append(data); self.lock.unlock()
    }
    try process.run()
  }

  /// The complete lines received so far.
  var lines: [String] {
    lock.lock(); defer { lock.unlock() }
    return received.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
  }

  /// Waits until at least `count` lines have arrived (or `timeout` seconds pass); returns them
  /// and when the last needed one arrived.
  func waitForLines(_ count: Int, timeout: Double = 20) -> (lines: [String], at: Date) {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      let now = lines
      if now.count >= count { return (now, Date()) }
      usleep(5_000)
    }
    return (lines, Date())
  }

  /// Sends `signal` and waits (at most 10 s) for the process to end; returns its status, or
  /// nil when it did not end (it is then killed).
  func stop(_ signal: Int32) -> Int32? {
    kill(process.processIdentifier, signal)
    return waitForExit()
  }

  func waitForExit(timeout: Double = 10) -> Int32? {
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit(); return nil }
    pipe.fileHandleForReading.readabilityHandler = nil
    return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
  }

  var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

  /// User plus system CPU time used so far, in seconds (/proc/PID/stat, clock ticks).
  var cpuSeconds: Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return -1 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // After the command name: state is field 3, utime 14, stime 15 (1-based over the whole line).
    let utime = Double(fields[11]) ?? 0, stime = Double(fields[12]) ?? 0
    return (utime + stime) / Double(sysconf(Int32(_SC_CLK_TCK)))
  }
}

/// The `seq` of an export line.
private func seq(_ line: String) -> Int? {
  guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
  return (object["seq"] as? NSNumber)?.intValue
}

@Suite("policy-ledger follow: the change feed")
struct FollowTests {
  static let newObservation = #"{"type":"indicator.observed","effective":"2021","actor":"test","payload":{"indicator":"young-faculty","value":"43000","unit":"人"}}"#

  @Test("writes every event as export does, then each new commit by another process within a second; SIGTERM ends it with 0")
  func followsCommits() throws {
    let seed = try SeedLedger("follow")
    let export = try seed.run(["export"])
    #expect(export.status == 0)
    let follower = try Follower(["--ledger", seed.path])
    let (caughtUp, _) = follower.waitForLines(export.lines.count)
    #expect(caughtUp == export.lines, "the catch-up lines are the export's lines")

    // Idle: it must not spin. Over a second of waiting it may use a little CPU, not a core.
    let before = follower.cpuSeconds
    usleep(1_000_000)
    let idleCPU = follower.cpuSeconds - before
    #expect(idleCPU >= 0 && idleCPU < 0.2, "an idle follower used \(idleCPU) s of CPU in 1 s")

    for n in 1...2 {
      let input = TemporaryFolder("follow-input")
      let file = input.child("one.ndjson")
      try Data((FollowTests.newObservation.replacingOccurrences(of: "43000", with: "4300\(n)") + "\n").utf8).write(to: URL(fileURLWithPath: file))
      let recorded = try seed.run(["import", file])
      #expect(recorded.status == 0, "\(recorded)")
      let committed = Date()
      let (lines, at) = follower.waitForLines(export.lines.count + n, timeout: 5)
      #expect(lines.count == export.lines.count + n)
      #expect(at.timeIntervalSince(committed) < 1.0, "the new event showed after \(at.timeIntervalSince(committed)) s")
      #expect(lines.last.flatMap(seq) == export.lines.count + n)
      #expect(lines.last?.contains("\"value\":\"4300\(n)\"") == true)
    }
    // The new lines are what export now writes for them (prev and hash included).
    let exportAfter = try seed.run(["export"])
    #expect(follower.lines == exportAfter.lines)

    #expect(follower.stop(SIGTERM) == 0)
    #expect(follower.stderr.isEmpty, "\(follower.stderr)")
  }

  @Test("--from resumes exactly; SIGINT ends it with 0")
  func resumesFrom() throws {
    let seed = try SeedLedger("follow-from")
    let export = try seed.run(["export"])
    let follower = try Follower(["--ledger", seed.path, "--from", "90"])
    let (lines, _) = follower.waitForLines(export.lines.count - 89)
    usleep(200_000)
    #expect(follower.lines == Array(export.lines[89...]))
    #expect(lines.first.flatMap(seq) == 90)
    #expect(follower.stop(SIGINT) == 0)
    // The next event (head + 1): nothing yet, and no error. (Further on is refused: see bad input.)
    let ahead = try Follower(["--ledger", seed.path, "--from", "97"])
    usleep(300_000)
    #expect(ahead.lines.isEmpty)
    #expect(ahead.stop(SIGTERM) == 0)
  }

  @Test("--from-checkpoint keeps the last seq written and starts after it")
  func checkpoint() throws {
    let seed = try SeedLedger("follow-checkpoint")
    let count = try seed.run(["export"]).lines.count
    let folder = TemporaryFolder("checkpoint")
    let file = folder.child("feed.checkpoint")
    let first = try Follower(["--ledger", seed.path, "--from-checkpoint", file])
    _ = first.waitForLines(count)
    usleep(200_000)
    #expect(first.stop(SIGTERM) == 0)
    #expect(try String(contentsOfFile: file, encoding: .utf8) == "\(count)\n")
    let input = folder.child("one.ndjson")
    try Data((FollowTests.newObservation + "\n").utf8).write(to: URL(fileURLWithPath: input))
    #expect(try seed.run(["import", input]).status == 0)
    let second = try Follower(["--ledger", seed.path, "--from-checkpoint", file])
    let (lines, _) = second.waitForLines(1)
    usleep(200_000)
    #expect(second.lines.count == 1)
    #expect(lines.first.flatMap(seq) == count + 1)
    #expect(second.stop(SIGTERM) == 0)
    #expect(try String(contentsOfFile: file, encoding: .utf8) == "\(count + 1)\n")
  }

  @Test("--from-checkpoint with a signed checkpoint starts after its size, only when this ledger extends it, and leaves the file alone")
  func signedCheckpoint() throws {
    let seed = try SeedLedger("follow-signed")
    let count = try seed.run(["export"]).lines.count
    let folder = TemporaryFolder("follow-signed-keys")
    let key = folder.child("log.key")
    #expect(try seed.run(["keys", "generate", "--name", "feed-test", "--output", key]).status == 0)
    let signed = try seed.run(["checkpoint", "--key", key])
    #expect(signed.status == 0, "\(signed)")
    let note = folder.child("head.checkpoint")
    try signed.stdoutData.write(to: URL(fileURLWithPath: note))
    let input = folder.child("one.ndjson")
    try Data((FollowTests.newObservation + "\n").utf8).write(to: URL(fileURLWithPath: input))
    #expect(try seed.run(["import", input]).status == 0)
    func write(_ name: String, _ bytes: Data) throws -> String {
      let path = folder.child(name)
      try bytes.write(to: URL(fileURLWithPath: path))
      return path
    }

    let follower = try Follower(["--ledger", seed.path, "--from-checkpoint", note])
    let (lines, _) = follower.waitForLines(1)
    usleep(200_000)
    #expect(follower.lines.count == 1)
    #expect(lines.first.flatMap(seq) == count + 1)
    #expect(follower.stop(SIGTERM) == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: note)) == signed.stdoutData, "a checkpoint file is never replaced")

    // Another ledger's checkpoint.
    let other = try SeedLedger("follow-signed-other")
    expectFailure(try other.run(["follow", "--from-checkpoint", note]), status: 65, mentioning: ["another ledger"])
    // The same origin and size with another root: the log does not extend it.
    var text = signed.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    text[2] = Data(repeating: 0, count: 32).base64EncodedString()
    let forged = try write("forged.checkpoint", Data(text.joined(separator: "\n").utf8))
    expectFailure(try seed.run(["follow", "--from-checkpoint", forged]), status: 65, mentioning: ["rewritten"])
    // Larger than the log.
    text = signed.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    text[1] = "\(count + 100)"
    let larger = try write("larger.checkpoint", Data(text.joined(separator: "\n").utf8))
    expectFailure(try seed.run(["follow", "--from-checkpoint", larger]), status: 65, mentioning: ["\(count + 100)"])
    // Neither a number nor a note.
    let garbage = try write("garbage.checkpoint", Data("twelve\n".utf8))
    expectFailure(try seed.run(["follow", "--from-checkpoint", garbage]), status: 65, mentioning: ["neither a sequence number"])
  }

  @Test("a reader that goes away ends it quietly with status 0, even while it waits")
  func readerGoesAway() throws {
    let seed = try SeedLedger("follow-pipe")
    let started = Date()
    // pipefail: the pipeline's status is follow's unless follow exits 0.
    // timeout: a follower that does not notice fails the test (status 124) instead of hanging it.
    let result = try cli([seed.path], prefix: ["/bin/bash", "-c", "set -o pipefail; timeout 20 \"$0\" follow --ledger \"$1\" | head -n 2"])
    #expect(result.status == 0, "\(result)")
    #expect(result.lines.count == 2)
    #expect(result.stderr.isEmpty, "\(result.stderr)")
    #expect(Date().timeIntervalSince(started) < 10)
  }

  @Test("bad input: --from 0, --from with --from-checkpoint, no ledger")
  func badInput() throws {
    let seed = try SeedLedger("follow-bad")
    expectFailure(try seed.run(["follow", "--from", "0"]), status: 64, mentioning: ["--from"])
    expectFailure(try seed.run(["follow", "--from", "200"]), status: 64, mentioning: ["--from 200 is past the head", "--from 97"])
    // A resume file that says more was written than the ledger holds (another ledger's, or this
    // one restored from an older copy) would skip the events in between.
    let resume = seed.folder.child("resume")
    try "150\n".write(toFile: resume, atomically: true, encoding: .utf8)
    expectFailure(try seed.run(["follow", "--from-checkpoint", resume]), status: 64, mentioning: ["says event 150 was written last", "events 1–96"])
    expectFailure(try seed.run(["follow", "--from", "3", "--from-checkpoint", "/tmp/x"]), status: 64, mentioning: ["--from-checkpoint"])
    let folder = TemporaryFolder("follow-none")
    expectFailure(try cli(["follow", "--ledger", folder.child("missing")]), status: 66, mentioning: [])
  }
}
