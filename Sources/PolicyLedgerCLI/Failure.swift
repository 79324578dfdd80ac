import ArgumentParser
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery
import PolicyLedgerStorage

/// An error the tool reports: one line for standard error and an exit status.
///
/// Every error a command meets is turned into one of these by ``Failure/classify(_:)``, so the
/// user sees `error: <what>, <where>: <why>` and a documented exit status, never a stack trace.
struct Failure: Error, CustomStringConvertible {
  /// The exit statuses documented in the root command's discussion (BSD sysexits.h codes).
  enum Status: Int32, Sendable {
    /// `verify` or `check` found a problem.
    case problemFound = 1
    /// A bad flag or value, including impossible dates (EX_USAGE).
    case usage = 64
    /// An import line or recorded event fails validation (EX_DATAERR).
    case dataError = 65
    /// No ledger at the path, the input file is missing, or the ledger holds no such body or
    /// indicator (on the date asked) (EX_NOINPUT).
    case noInput = 66
    /// A bug in this tool (EX_SOFTWARE).
    case software = 70
    /// LMDB, permissions, disk (EX_IOERR).
    case ioError = 74
  }

  let status: Status
  let message: String

  init(_ status: Status, _ message: String) {
    self.status = status
    self.message = message
  }

  var description: String { message }

  static func noLedger(_ path: String) -> Failure {
    Failure(.noInput, "no ledger at \(path) (`record` or `import` create one; choose another with --ledger or \(LedgerOptions.environmentVariable))")
  }

  /// The failure for an error thrown while a command ran, or `nil` for ArgumentParser's own
  /// errors (help requests, usage errors), which the caller hands back to ArgumentParser.
  static func classify(_ error: any Error) -> Failure? {
    switch error {
    case let failure as Failure:
      return failure
    case let error as LedgerError:
      switch error {
      case .noLedger(let path): return .noLedger(path)
      case .notALedger: return Failure(.noInput, error.description)
      case .damaged: return Failure(.ioError, error.description)
      case .unsupportedFormat: return Failure(.dataError, error.description)
      case let .invalidEvent(index, field, reason): return Failure(.dataError, "event \(index + 1), field \"\(field)\": \(reason)")
      case .concurrencyConflict: return Failure(.dataError, error.description)
      case .corruptEvent: return Failure(.ioError, error.description + " (run `policy-ledger verify`)")
      case .noSuchEvent: return Failure(.usage, error.description)
      case .failsVerification: return Failure(.problemFound, error.description + " (run `policy-ledger verify` for the report)")
      case .storage(let lmdb): return storage(lmdb)
      }
    case let error as LMDBError:
      return storage(error)
    case let error as ProjectionError:
      switch error {
      case let .invalid(index, field, reason): return Failure(.dataError, "event \(index + 1), field \"\(field)\": \(reason)")
      case .incomplete, .rebuilding, .outdatedLayout: return Failure(.ioError, error.description)
      case .noSuchEntity(let what): return Failure(.noInput, "there is no \(what)")
      case .unknownEntityKind: return Failure(.software, "internal error: \(error.description)")
      case .damagedSnapshot: return Failure(.ioError, error.description)
      case .wouldInvalidate: return Failure(.dataError, error.description)
      }
    case let error as NDJSON.LineError:
      return Failure(.dataError, error.description)
    case let error as DateInputError:
      return Failure(.usage, error.description)
    case let error as CouncilEventError:
      return Failure(.dataError, error.description)
    case let error as JSONSyntaxError:
      return Failure(.dataError, "not valid JSON: \(error.description)")
    case let error as CocoaError:
      return Failure(fileStatus(error), reason(error))
    case let error as POSIXError:
      return Failure(.ioError, reason(error))
    default:
      return classifyProofs(error)
    }
  }

  /// A storage error in words: permissions and a full disk get their own sentences.
  static func storage(_ error: LMDBError) -> Failure {
    let place = error.context.isEmpty ? "the ledger" : error.context
    switch error.code {
    case EACCES, EPERM, EROFS:
      return Failure(.ioError, "permission denied: \(place) cannot be opened for writing by this user (\(error.operation) failed with \(error.codeName)); the ledger is read-only here")
    case ENOSPC:
      return Failure(.ioError, "the disk holding \(place) is full (\(error.operation) failed with ENOSPC); nothing was written")
    case ENOENT:
      return Failure(.noInput, "no ledger at \(place) (\(error.operation) failed with ENOENT)")
    case EMLINK:
      return Failure(.ioError, "refusing to write: \(place); nothing was written. Remove the other link (make copies with `policy-ledger backup`); reading still works")
    case ESTALE:
      return Failure(.ioError, "refusing to write: \(place); nothing was written")
    case _ where ["MDB_CORRUPTED", "MDB_PAGE_NOTFOUND"].contains(error.codeName):
      // LMDB keeps no page checksums: damage shows up as a page it cannot follow.
      return Failure(.ioError, "storage error: \(error.description); a page of \(place) is damaged. If `policy-ledger verify` passes, the damage is only in the projections, and `export --output FILE` then `import FILE` into a new folder restores the ledger (with new recorded-at times and hashes); otherwise restore the ledger from a backup")
    default:
      return Failure(.ioError, "storage error: \(error.description)")
    }
  }

  static func fileStatus(_ error: CocoaError) -> Status {
    switch error.code {
    case .fileNoSuchFile, .fileReadNoSuchFile: return .noInput
    case .fileReadInvalidFileName: return .usage
    default: return .ioError
    }
  }

  /// A short reason for a Foundation or POSIX error, without Foundation's domain noise.
  static func reason(_ error: any Error) -> String {
    if let cocoa = error as? CocoaError {
      if let posix = cocoa.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(posix.code))).lowercased()
      }
      switch cocoa.code {
      case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or folder"
      case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied"
      case .fileWriteOutOfSpace: return "the disk is full"
      case .fileWriteFileExists: return "it already exists"
      case .fileWriteVolumeReadOnly: return "the volume is read-only"
      default: break
      }
    }
    if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)).lowercased() }
    return (error as NSError).localizedDescription
  }
}

/// Writes to standard output and standard error (unbuffered order within each stream).
enum Console {
  /// Standard output not yet written. The command line is single-threaded: only the main
  /// thread writes here.
  nonisolated(unsafe) private static var pending: [UInt8] = []
  /// The `errno` of the first write to standard output that failed (a full disk, a closed file).
  nonisolated(unsafe) private(set) static var writeFailure: Int32?

  static func out(_ text: String) {
    pending.append(contentsOf: text.utf8)
    if pending.count >= 1 << 16 { flush() }
  }

  static func line(_ text: String = "") {
    out(text + "\n")
  }

  /// Writes what is pending to standard output (file descriptor 1), remembering a failure
  /// instead of losing it: the command must then exit non-zero. Returns false once any write failed.
  @discardableResult
  static func flush() -> Bool {
    var offset = 0
    while offset < pending.count, writeFailure == nil {
      let written = pending.withUnsafeBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress! + offset, $0.count - offset) }
      if written < 0 {
        if errno == EINTR { continue }
        writeFailure = errno
      } else {
        offset += written
      }
    }
    pending.removeAll(keepingCapacity: true)
    return writeFailure == nil
  }

  /// Writes to standard error, after flushing standard output so that the two keep their order.
  static func stderr(_ text: String) {
    flush()
    FileHandle.standardError.write(Data(text.utf8))
  }

  /// One `error: …` line on standard error, with any line breaks in `message` folded.
  static func error(_ message: String) {
    let folded = message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    stderr("error: \(folded)\n")
  }

  static func note(_ text: String) {
    stderr(text + "\n")
  }

  /// Whether standard error is a terminal (for progress bars).
  static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}
