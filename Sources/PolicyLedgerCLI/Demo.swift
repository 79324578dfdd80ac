import ArgumentParser
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

extension PolicyLedger {
  /// `demo`: a guided tour on the seed data, in a temporary ledger.
  struct Demo: ParsableCommand {
    static let fixtureName = "Fixtures/csti-basic-plan.ndjson"

    static let configuration = CommandConfiguration(
      abstract: "A guided tour: build a ledger from the seed data in a temporary folder and ask it questions.",
      discussion: """
        The seed (\(fixtureName)) is found by searching upward from the current folder and from the \
        folder of this program; give it with --fixture otherwise. The temporary ledger is deleted \
        afterwards unless --keep is given.
        """)

    @Option(help: ArgumentHelp("The seed NDJSON file.", valueName: "path"), completion: .file(extensions: ["ndjson"]))
    var fixture: String?
    @Flag(help: "Keep the demo ledger and print where it is.")
    var keep = false

    func run() throws {
      let path = try fixture ?? Demo.findFixture()
      let input = try InputFile.open(path)
      defer { input.close() }
      let source = NDJSONSource(input: input, defaultActor: "demo", chunkSize: .max)
      let entries = try source.allEntries()
      let folder = FileManager.default.temporaryDirectory.appendingPathComponent("policy-ledger-demo-\(UUID().uuidString.prefix(8).lowercased())").path
      defer { if !keep { try? FileManager.default.removeItem(atPath: folder) } }
      let ledger = try CouncilLedger.open(at: folder)
      let recorded: [RecordedEvent]
      do { recorded = try ledger.record(entries) } catch ProjectionError.invalid(let index, let field, let reason) {
        throw Failure(.dataError, "\(path) line \(source.line(ofEntry: index)), field \"\(field)\": \(reason)")
      }

      Console.line("Policy Ledger: a guided tour")
      Console.line("Imported \(Render.count(recorded.count, "event")) from \(path) into a temporary ledger.")

      heading(1, "The expert panel's members on 2020-03-26", command: "policy-ledger members basic-plan-panel --as-of 2020-03-26")
      try Members.report(ledger, body: "basic-plan-panel", time: try TimeOptions.parse(["--as-of", "2020-03-26"])).emit(.table)

      heading(2, "A rename seen through --as-of: CSTP became CSTI in May 2014", command: "policy-ledger bodies --as-of 2014-04-30 (then 2014-05-01)")
      for date in ["2014-04-30", "2014-05-01"] {
        if let day = CalendarDay(iso: date), let csti = try ledger.body("csti", asOf: day) {
          Console.line("  as of \(date): \(csti.name.ja)" + (csti.name.en.map { " — \($0)" } ?? ""))
        }
      }

      heading(3, "One indicator's history: 40歳未満の大学本務教員数 (university faculty under 40)", command: "policy-ledger history young-faculty")
      try History.write(ledger, indicator: "young-faculty", time: try TimeOptions.parse([]), format: .table)

      heading(4, "Progress against the 5th Basic Plan's targets (✓ reached, ✗ not yet)", command: "policy-ledger progress --as-of 2020-12-31")
      try Progress.report(ledger, time: try TimeOptions.parse(["--as-of", "2020-12-31"])).emit(.table)

      heading(5, "Verify the hash chain and note the digest", command: "policy-ledger verify; policy-ledger digest")
      let report = try ledger.log.verify()
      Console.line("  \(report.isValid ? "valid" : "INVALID"): \(Render.count(Int(report.eventsChecked), "event")) checked")
      Console.line("  digest: \(report.head?.description ?? "(empty)")")
      Console.line("  Keep the digest; later `policy-ledger verify --digest <it>` proves nothing up to it was rewritten.")
      Console.line()
      if keep {
        Console.line("The demo ledger is kept at \(folder). Try: policy-ledger state --as-of 2020-03-26 --ledger \(folder)")
      } else {
        Console.line("The demo ledger was deleted (run with --keep to keep it).")
      }
    }

    private func heading(_ number: Int, _ title: String, command: String) {
      Console.line()
      Console.line("== \(number). \(title) ==")
      Console.line("   $ \(command)")
      Console.line()
    }

    /// Searches upward from the current folder and from this program's folder.
    static func findFixture() throws -> String {
      var starts = [FileManager.default.currentDirectoryPath]
      if let executable = executableFolder() { starts.append(executable) }
      for start in starts {
        var folder = (start as NSString).standardizingPath
        while true {
          let candidate = (folder as NSString).appendingPathComponent(fixtureName)
          if FileManager.default.isReadableFile(atPath: candidate) { return candidate }
          let parent = (folder as NSString).deletingLastPathComponent
          if parent == folder || parent.isEmpty { break }
          folder = parent
        }
      }
      throw Failure(.noInput, "cannot find \(fixtureName) above \(starts.joined(separator: " or ")); give the seed with --fixture PATH")
    }

    static func executableFolder() -> String? {
      if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        return (resolved as NSString).deletingLastPathComponent
      }
      return Bundle.main.executableURL?.deletingLastPathComponent().path
    }
  }
}
