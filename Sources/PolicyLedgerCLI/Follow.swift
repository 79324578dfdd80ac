import ArgumentParser
import Dispatch
import Foundation
import PolicyLedgerEventLog
import PolicyLedgerQuery

extension PolicyLedger {
  /// `follow`: the change feed. Every event from a sequence number on, then each new one as it is
  /// committed by any process, in the export line format.
  struct Follow: ParsableCommand {
    enum FollowFormat: String, ExpressibleByArgument, CaseIterable, Sendable { case ndjson }

    static let configuration = CommandConfiguration(
      abstract: "Write every event from a sequence number on, then each new one as it is committed (a change feed), as NDJSON export lines.",
      discussion: """
        Each line is what `export` writes (seq, recorded, streams, prev and hash included), so a \
        reader can recompute each hash and check its link to the line before. Only committed \
        events are written. While there is nothing new, the head is read every 50 ms (one short \
        read transaction; the process sleeps in between), so a commit by any process shows \
        within about 50 ms.

        It runs until stopped: SIGINT (Ctrl-C) or SIGTERM end it with status 0 after the batch of lines \
        being written, and so does its reader going away (a closed pipe: `follow | head -3`). \
        To resume where a run stopped, start at the last seq it wrote plus one (--from), or let \
        --from-checkpoint FILE keep that number: after each batch of lines is written the file \
        is replaced by one holding the last seq written, and a run with the same file starts \
        after it. A crash between writing a batch and the file may repeat that batch, never skip \
        an event: skip lines whose seq you have already seen.
        """)

    @Option(help: ArgumentHelp("The first sequence number to write (default 1: the whole log).", valueName: "seq"))
    var from: UInt64?
    @Option(name: .customLong("from-checkpoint"),
            help: ArgumentHelp("Start after the sequence number held in this file (from 1 when it does not exist yet), and keep it up to date.", valueName: "file"),
            completion: .file())
    var checkpoint: String?
    @Option(help: ArgumentHelp("ndjson (the only format, the export line).", valueName: "format"))
    var format: FollowFormat = .ndjson
    @OptionGroup var ledger: LedgerOptions

    func validate() throws {
      if let from, from < 1 { throw ValidationError("--from is a sequence number, from 1.") }
      if from != nil && checkpoint != nil { throw ValidationError("give --from or --from-checkpoint, not both.") }
      if let checkpoint, checkpoint.trimmingCharacters(in: .whitespaces).isEmpty {
        throw ValidationError("--from-checkpoint needs a file name, not an empty string.")
      }
    }

    func run() throws {
      let ledger = try self.ledger.openForReading()
      var start = SequenceNumber(from ?? 1)
      if let checkpoint, let last = try ResumeFile.read(checkpoint) { start = SequenceNumber(last + 1) }
      let outcome = try FeedWriter.follow(ledger.log, from: start, checkpoint: checkpoint)
      switch outcome {
      case .stopped, .readerGone: return
      case .writeFailed(let code):
        throw Failure(.ioError, "cannot write to standard output (\(String(cString: strerror(code)).lowercased())); stopped")
      case .failed(let error): throw error
      }
    }
  }
}

/// The file `--from-checkpoint` keeps: the last sequence number written, as decimal text.
enum ResumeFile {
  static func read(_ path: String) throws -> UInt64? {
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    let text: String
    do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
      throw Failure(.noInput, "cannot read the checkpoint file \(path): \(Failure.reason(error))")
    }
    guard let value = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
      throw Failure(.dataError, "the checkpoint file \(path) does not hold a sequence number")
    }
    return value
  }

  /// Replaces the file with one holding `sequence` (written beside it, then renamed over it).
  static func write(_ sequence: UInt64, to path: String) throws {
    let temporary = path + ".partial-\(getpid())"
    guard FileManager.default.createFile(atPath: temporary, contents: Data("\(sequence)\n".utf8)), rename(temporary, path) == 0 else {
      let reason = String(cString: strerror(errno)).lowercased()
      unlink(temporary)
      throw Failure(.ioError, "cannot write the checkpoint file \(path): \(reason)")
    }
  }
}

/// Runs the feed on a task and writes it to standard output, while the main thread waits for a
/// signal, for the reader to go away, or for an error.
enum FeedWriter {
  enum Outcome: @unchecked Sendable {
    /// SIGINT or SIGTERM.
    case stopped
    /// Standard output is a pipe whose reader closed it (EPIPE, or POLLERR while waiting).
    case readerGone
    case writeFailed(Int32)
    case failed(any Error)
  }

  /// The first outcome set wins.
  final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Outcome?
    func set(_ outcome: Outcome) { lock.lock(); if value == nil { value = outcome }; lock.unlock() }
    var outcome: Outcome { lock.lock(); defer { lock.unlock() }; return value ?? .stopped }
  }

  static func follow(_ log: EventLog, from start: SequenceNumber, checkpoint: String?) throws -> Outcome {
    // A closed pipe is an ordinary end of a feed: see EPIPE instead of dying of SIGPIPE.
    signal(SIGPIPE, SIG_IGN)
    StopSignals.install()
    let box = OutcomeBox()
    let finished = DispatchSemaphore(value: 0)
    let task = Task.detached {
      defer { finished.signal() }
      do {
        for try await page in log.changePages(from: start, pageSize: 1_000, pollInterval: .milliseconds(50)) {
          var bytes: [UInt8] = []
          for event in page {
            bytes += try NDJSON.exportLine(event)
            bytes.append(0x0A)
          }
          if let code = writeAll(bytes) {
            box.set(code == EPIPE ? .readerGone : .writeFailed(code))
            return
          }
          if let checkpoint, let last = page.last { try ResumeFile.write(last.sequence.rawValue, to: checkpoint) }
        }
      } catch {
        box.set(.failed(error))
      }
    }
    // Every 50 ms: a stop signal cancels the task; and while the feed waits, a pipe whose reader
    // has gone shows POLLERR on our end.
    let watch = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "policy-ledger.follow.watch"))
    watch.schedule(deadline: .now() + .milliseconds(50), repeating: .milliseconds(50))
    watch.setEventHandler {
      if StopSignals.requested {
        box.set(.stopped)
        task.cancel()
        return
      }
      var descriptor = pollfd(fd: STDOUT_FILENO, events: 0, revents: 0)
      if poll(&descriptor, 1, 0) > 0, descriptor.revents & Int16(POLLERR | POLLHUP) != 0 {
        box.set(.readerGone)
        task.cancel()
      }
    }
    watch.resume()
    finished.wait()
    watch.cancel()
    return box.outcome
  }

  /// Writes all of `bytes` to standard output. Returns the `errno` of a failed write, or `nil`.
  static func writeAll(_ bytes: [UInt8]) -> Int32? {
    var offset = 0
    while offset < bytes.count {
      let written = bytes.withUnsafeBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress! + offset, $0.count - offset) }
      if written < 0 {
        if errno == EINTR { continue }
        return errno
      }
      offset += written
    }
    return nil
  }
}

/// SIGINT and SIGTERM, for the commands that run until stopped (`follow`, `replicate --follow`):
/// the handler only sets a flag (async-signal-safe), which a timer reads and turns into the
/// cancellation of the running task.
enum StopSignals {
  nonisolated(unsafe) private static var flag: sig_atomic_t = 0

  static func install() {
    signal(SIGINT) { _ in StopSignals.flag = 1 }
    signal(SIGTERM) { _ in StopSignals.flag = 1 }
    // A parent may start us with these blocked (the mask is inherited): unblock them here, on
    // the main thread, so that they are delivered at all.
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
  }

  static var requested: Bool { flag != 0 }
}
