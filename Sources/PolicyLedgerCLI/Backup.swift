import ArgumentParser
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery
import PolicyLedgerStorage

extension PolicyLedger {
  /// `backup PATH`: a hot, compacted, verified copy.
  struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Copy the ledger into a new folder while it is in use (compacted), then verify the copy.",
      discussion: """
        The folder is created; an existing folder must be empty. The copy is opened read-only, its hash chain \
        verified, and its head checked against the source's head at copy time. Never copy a live data.mdb with cp.
        """)

    @Argument(help: ArgumentHelp("A new (or empty) folder for the copy.", valueName: "path"), completion: .directory)
    var destination: String
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
      if destination.trimmingCharacters(in: .whitespaces).isEmpty { throw Failure(.usage, "backup needs a folder path, not an empty string") }
      let source = try ledger.openForReading()
      // A copy inside a ledger folder (its own or another) would be lost or mistaken with it.
      // (A destination that is itself a ledger is refused below as not empty.)
      if let folder = ledger.enclosingLedgerFolder(of: destination), folder != URL(fileURLWithPath: destination).resolvingSymlinksInPath().path {
        throw Failure(.usage, "\(destination) is inside the ledger folder \(folder); back up somewhere else")
      }
      // The source is verified first: a damaged ledger is reported as itself, before any copy.
      try source.requireVerifiedLog("no backup was made")
      let existed = FileManager.default.fileExists(atPath: destination)
      try Backup.prepare(destination)
      let before = try source.log.head()
      let report: VerificationReport
      do {
        // A plain page-by-page copy, not a compacting one: compaction walks every B-tree, and
        // LMDB's walk can crash on a damaged page, while a plain copy reads pages without
        // following them; the copy is then verified.
        do { try source.log.environment.copy(to: destination, compact: false) } catch { throw Failure.storage(error) }
        let after = try source.log.head()
        var options = EventLog.Options()
        options.readOnly = true
        options.create = false
        report = try CouncilLedger.open(at: destination, options: options).log.verify(extending: before)
        if let failure = report.failure {
          throw Failure(.ioError, "the copy does not verify (event \(failure.sequence): \(failure.reason)), so no backup was made; run `policy-ledger verify` on the source")
        }
        if before == after && report.head != before {
          throw Failure(.ioError, "the copy's head \(report.head?.description ?? "(empty)") differs from the source's head \(before?.description ?? "(empty)") at copy time, so no backup was made")
        }
      } catch {
        // A partial or failed copy (a full disk, a source that fails verification) must not be
        // left looking like a ledger.
        for file in ["data.mdb", "lock.mdb"] { try? FileManager.default.removeItem(atPath: destination + "/" + file) }
        if !existed { try? FileManager.default.removeItem(atPath: destination) }
        throw error
      }
      let copied = report.head
      let table = TextTable(["ledger", "path", "head"], rows: [
        [Cell("source"), Cell(source.log.path), Cell.optional(before?.description)],
        [Cell("backup"), Cell(destination), Cell.optional(copied?.description)],
      ])
      let json = JSON.object(["source": .string(source.log.path), "backup": .string(destination), "sourceHead": .optional(before?.description),
                              "backupHead": .optional(copied?.description), "eventsVerified": .integer(report.eventsChecked), "valid": .bool(true)])
      Report(caption: ["Backed up \(Render.count(Int(report.eventsChecked), "event")) to \(destination) and verified the copy: its head equals the source's."],
             table: table, json: json).emit(output.format)
    }

    /// Creates the destination folder, or checks that an existing one is empty.
    static func prepare(_ path: String) throws {
      // A symbolic link to nothing: fileExists follows it and says no, and creating the folder
      // then fails with "already exists". It is a wrong path given, not an I/O failure.
      if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path),
         !FileManager.default.fileExists(atPath: path) {
        throw Failure(.usage, "\(path) is a symbolic link to \(target), which does not exist; back up into a new or empty folder")
      }
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else { throw Failure(.usage, "\(path) is a file; back up into a new or empty folder") }
        let contents: [String]
        do { contents = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
          throw Failure(.ioError, "cannot read the folder \(path): \(Failure.reason(error))")
        }
        if !contents.isEmpty { throw Failure(.usage, "\(path) exists and is not empty; back up into a new or empty folder") }
        return
      }
      do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
      } catch {
        throw Failure(.ioError, "cannot create the folder \(path): \(Failure.reason(error))")
      }
    }
  }
}
