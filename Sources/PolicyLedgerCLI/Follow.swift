import ArgumentParser
import Dispatch
import Foundation
import PolicyLedgerEventLog
import PolicyLedgerProofs
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

        --from-checkpoint also takes a signed checkpoint (what `policy-ledger checkpoint` prints, \
        a C2SP checkpoint note): the feed then starts after the checkpoint's tree size, once it \
        has checked that the checkpoint's origin is this ledger and that the log still extends it \
        (the log's tree of that size has the checkpoint's root hash); otherwise it stops with \
        status 65 and writes nothing. Which of the two the file is, is decided by its content: a \
        decimal number (optionally followed by a newline) is a resume file, anything else is read \
        as a checkpoint note. A checkpoint file is only read, never replaced. Its signatures are \
        not checked here: `verify --checkpoint FILE --key KEY` does that.
        """)

    @Option(help: ArgumentHelp("The first sequence number to write (default 1: the whole log).", valueName: "seq"))
    var from: UInt64?
    @Option(name: .customLong("from-checkpoint"),
            help: ArgumentHelp("Start after the sequence number held in this file (from 1 when it does not exist yet), and keep it up to date; or after a signed checkpoint's tree size, when the file holds one.", valueName: "file"),
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
      var resumeFile: String? = nil
      if let checkpoint {
        switch try ResumeFile.start(checkpoint) {
        case .resume(let last):
          resumeFile = checkpoint
          if let last {
            // Written last past the head: the file belongs to another ledger, or this one was
            // restored from an older copy; going on would skip the events in between unseen.
            let head = try ledger.log.head()?.sequence.rawValue ?? 0
            if last > head {
              throw Failure(.usage, "--from-checkpoint \(checkpoint) says event \(last) was written last, but the ledger holds events 1–\(head): it belongs to another ledger, or this one was restored from an older copy; remove the file or write \(head) in it to go on")
            }
            start = SequenceNumber(last + 1)
          }
        case .checkpoint(let signed):
          try ResumeFile.requireExtends(signed, ledger.log, path: checkpoint)
          start = SequenceNumber(signed.checkpoint.size + 1)
        }
      }
      // Starting past the next event would wait, without a word, for events that do not exist yet
      // and then skip nothing visible: almost certainly a mistyped number.
      let head = try ledger.log.head()?.sequence.rawValue ?? 0
      if let from, from > head + 1 {
        throw Failure(.usage, "--from \(from) is past the head: the ledger holds events 1–\(head); give --from \(head + 1) to wait for the next event")
      }
      let outcome = try FeedWriter.follow(ledger.log, from: start, checkpoint: resumeFile)
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
/// The same option also reads a signed checkpoint note, which it never writes.
enum ResumeFile {
  enum Start {
    /// A resume file: the last sequence number written, or nil when the file does not exist yet.
    case resume(UInt64?)
    /// A signed checkpoint: start after its tree size.
    case checkpoint(SignedCheckpoint)
  }

  /// Tells a resume file (a decimal number) from a checkpoint note (anything else) by its content.
  /// - Throws: ``Failure`` 66 (unreadable), 65 (neither a number nor a checkpoint note).
  static func start(_ path: String) throws -> Start {
    guard FileManager.default.fileExists(atPath: path) else { return .resume(nil) }
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw Failure(.noInput, "cannot read the checkpoint file \(path): \(Failure.reason(error))")
    }
    if let text = String(data: data, encoding: .utf8), let value = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
      return .resume(value)
    }
    do { return .checkpoint(try SignedCheckpoint(parsing: Array(data))) } catch {
      throw Failure(.dataError, "the checkpoint file \(path) holds neither a sequence number (a resume file) nor a signed checkpoint note: \(error)")
    }
  }

  /// Refuses a checkpoint of another ledger, larger than the log, or whose root hash the log's
  /// tree of the same size does not have (status 65).
  static func requireExtends(_ signed: SignedCheckpoint, _ log: EventLog, path: String) throws {
    let tree = try LedgerTree(log: log)
    let option = "--from-checkpoint \(path)"
    try ProofFiles.requireFits(signed, log, size: tree.size, option: option)
    guard try tree.tree.root(size: signed.checkpoint.size) == signed.checkpoint.rootHash else {
      throw Failure(.dataError, "\(option): " + CheckpointMismatch.rootDiffers(size: signed.checkpoint.size, firstDifferingEvent: nil).description)
    }
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
            bytes += try NDJSON.exportLine(event, signature: try log.signature(of: event.sequence))
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
