import ArgumentParser
import Foundation

/// `policy-ledger`: the command line of the council ledger.
struct PolicyLedger: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "policy-ledger",
    abstract: "An append-only, hash-chained ledger of Japan's science council (CSTI): its bodies, members, decisions and indicators, on any date.",
    discussion: """
      THE LEDGER
      Every command that touches a ledger takes --ledger PATH; without it, the path comes from \
      the environment variable POLICY_LEDGER_PATH, and without that it is ./policy-ledger (a \
      folder in the current directory). record, import and rebuild create the folder when it is \
      missing; read commands open the ledger read-only and never create one.

      TWO CLOCKS
      --as-of DATE asks about the state on a date (valid time; default: today in Japan, UTC+9). \
      --known-at MOMENT asks what the ledger knew at a moment (transaction time), or seq:N for \
      "as known through event N". Dates may be written 2020-03-26, 令和２年３月２６日, R2.3.26, \
      平成31年4月, 2020年度, FY2020, 2020年6月上旬 or 2019年8月頃; a coarse date counts from the \
      first day of its period (2020年度 from 2020-04-01).

      OUTPUT
      Read commands take --format table (aligned for Japanese text), json (arrays of objects \
      with sorted keys; decimals are strings) or csv (RFC 4180; a cell beginning with = + - @ \
      is prefixed with ' so that spreadsheets do not run it).

      EXIT STATUS
        0   success
        1   verify or check found a problem
        64  usage error: a bad flag or value, an impossible date
        65  bad input data: an import line or event that fails validation
        66  not found: no ledger at the path, a missing input file, or no such body or
            indicator (on the date asked)
        70  internal error
        74  storage or I/O error (LMDB, permissions, a full disk, a damaged data.mdb,
            a data.mdb with more than one hard link)
      Errors go to standard error as one line beginning "error: ".

      SHELL COMPLETION
        policy-ledger --generate-completion-script bash > policy-ledger.bash
      (also zsh and fish), then source the script from your shell's startup file.

      Try `policy-ledger demo` for a guided tour of the seed data.
      """,
    version: "policy-ledger 0.1.0",
    subcommands: [
      Record.self, Import.self,
      State.self, Bodies.self, Members.self, Decisions.self, Indicators.self, Progress.self,
      History.self, Diff.self, Audit.self, Chart.self, Serve.self,
      Log.self, Verify.self, Digest.self, Rebuild.self, Check.self, Rows.self, Export.self, Backup.self,
      Keys.self, CheckpointCommand.self, Prove.self, AuditPack.self,
      Follow.self, Replicate.self,
      Demo.self,
    ])

  /// Parses the command line, runs the command and exits with a documented status. Errors are
  /// reported as one `error:` line on standard error.
  static func runAndExit(_ arguments: [String]) -> Never {
    var command: any ParsableCommand
    do {
      command = try parseAsRoot(arguments)
    } catch {
      exitAfterParsing(error)
    }
    do {
      try command.run()
      Foundation.exit(standardOutputFailed() ?? 0)
    } catch {
      let status = report(error)
      Console.flush()
      Foundation.exit(status)
    }
  }

  /// Flushes standard output and reports a write that failed (a full disk, a closed file): the
  /// output is incomplete, so the command must not exit 0. Returns the status to exit with.
  private static func standardOutputFailed() -> Int32? {
    if Console.flush() { return nil }
    let reason = String(cString: strerror(Console.writeFailure ?? EIO)).lowercased()
    FileHandle.standardError.write(Data("error: cannot write to standard output (\(reason)); the output is incomplete\n".utf8))
    return Failure.Status.ioError.rawValue
  }

  /// Help, version and completion requests print and exit 0; usage errors exit 64 with one line.
  private static func exitAfterParsing(_ error: any Error) -> Never {
    let code = exitCode(for: error)
    if code == .success { self.exit(withError: error) }
    var message = self.message(for: error)
    if message.isEmpty { message = "the command line could not be read" }
    // ArgumentParser's full message ends "See 'policy-ledger members --help' for more
    // information."; keep the command to run, on the same line.
    let full = fullMessage(for: error, columns: 10_000)
    if let hint = full.split(separator: "\n").last(where: { $0.contains("See '") }),
       let open = hint.range(of: "'"), let close = hint[open.upperBound...].range(of: "'") {
      message += " (see '\(hint[open.upperBound..<close.lowerBound])')"
    }
    Console.error(message)
    Foundation.exit(code.rawValue == 0 ? Failure.Status.usage.rawValue : code.rawValue)
  }

  /// The exit status for an error thrown by a running command, after printing it.
  static func report(_ error: any Error) -> Int32 {
    if let exit = error as? ExitCode { return exit.rawValue }
    if let failure = Failure.classify(error) {
      Console.error(failure.message)
      return failure.status.rawValue
    }
    // ArgumentParser's own errors: `--help` returns a help command whose run() throws, and
    // ValidationErrors thrown by run() are usage errors too.
    if error is ValidationError || error is CleanExit || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
      exitAfterParsing(error)
    }
    Console.error("internal error: \(String(describing: error))")
    return Failure.Status.software.rawValue
  }
}
