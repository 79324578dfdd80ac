import Foundation
import PolicyLedgerTestSupport
import Testing

/// What a careless command must not be able to do to a ledger.
@Suite("Safety of the ledger's files")
struct SafetyTests {
  @Test("export never writes into a ledger folder nor over an existing file without --overwrite")
  func exportCannotClobber() throws {
    let seed = try SeedLedger("clobber")
    let before = try seed.digest()
    let intoLedger = try seed.run(["export", "--output", seed.path + "/data.mdb"])
    #expect(intoLedger.status == 64)
    #expect(intoLedger.stderr.contains("inside a ledger folder"))
    // Nor into a folder nested in one.
    try FileManager.default.createDirectory(atPath: seed.path + "/notes", withIntermediateDirectories: true)
    expectFailure(try seed.run(["export", "--output", seed.path + "/notes/events.ndjson"]), status: 64, mentioning: ["inside a ledger folder"])
    let file = seed.folder.child("events.ndjson")
    #expect(try seed.run(["export", "--output", file]).status == 0)
    let again = try seed.run(["export", "--output", file])
    #expect(again.status == 64)
    #expect(again.stderr.contains("already exists"))
    #expect(try seed.run(["export", "--output", file, "--overwrite"]).status == 0)
    #expect(try seed.digest() == before)
    // Imported into the ledger it came from, every line is already there (same numbers, same
    // hashes): acknowledged, nothing written.
    let reimport = try seed.run(["import", file])
    #expect(reimport.status == 0 && reimport.stdout.contains("Nothing new"), "\(reimport)")
    #expect(try seed.digest() == before)
    // An export keeps its numbers: into another, non-empty ledger it is refused.
    let other = seed.folder.child("other")
    #expect(try cli(["record", "body-established", "--body", "x", "--name-ja", "会議", "--kind", "council", "--effective", "2020", "--ledger", other]).status == 0)
    let elsewhere = try cli(["import", file, "--ledger", other])
    #expect(elsewhere.status == 65)
    #expect(elsewhere.stderr.contains("field \"seq\""), "\(elsewhere)")
    // Into an empty ledger it restores the same events.
    let restored = seed.folder.child("restored")
    #expect(try cli(["import", file, "--ledger", restored]).status == 0)
    #expect(try cli(["export", "--ledger", restored]).stdout.split(separator: "\n").count == 96)
  }

  @Test("an export altered, cut or reordered after it was written is refused on import, naming the line")
  func tamperedExport() throws {
    let seed = try SeedLedger("tampered-export")
    let lines = try seed.run(["export"]).stdout.split(separator: "\n").map(String.init)
    #expect(lines.count == 96)
    func importing(_ lines: [String], _ label: String) throws -> CLIResult {
      let file = seed.folder.child(label + ".ndjson")
      try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: file))
      return try cli(["import", file, "--ledger", seed.folder.child("into-" + label)])
    }
    // A name changed, its hash kept.
    var changed = lines
    changed[4] = changed[4].replacingOccurrences(of: "\"ja\":\"", with: "\"ja\":\"改")
    #expect(changed[4] != lines[4])
    expectFailure(try importing(changed, "changed"), status: 65, mentioning: ["line 5", "field \"hash\"", "changed after it was exported"])
    // A line taken out, or two swapped: the chain breaks at the next line. (A line taken out also
    // shifts the numbers; the chain is checked as the file is read, before the numbers.)
    var cut = lines
    cut.remove(at: 10)
    expectFailure(try importing(cut, "cut"), status: 65, mentioning: ["line 11", "field \"prev\"", "removed, inserted or reordered"])
    var swapped = lines
    swapped.swapAt(20, 21)
    expectFailure(try importing(swapped, "swapped"), status: 65, mentioning: ["line 21", "field \"prev\""])
    // A line whose hash (or hash and prev) was deleted to get an edit through.
    for fields in [["hash"], ["hash", "prev"]] {
      var stripped = lines
      var object = try #require(try JSONSerialization.jsonObject(with: Data(stripped[30].utf8)) as? [String: Any])
      for field in fields { object[field] = nil }
      stripped[30] = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
      expectFailure(try importing(stripped, "stripped-" + fields.joined()), status: 65, mentioning: ["line 31", "export line"])
    }
    // Export lines and new events mixed in one input.
    let newEvent = #"{"type":"body.renamed","effective":"2030","payload":{"body":"csti","name":{"ja":"新しい名前"}}}"#
    expectFailure(try importing(lines + [newEvent], "mixed"), status: 65, mentioning: ["line 97", "not both"])
    // record --json does not take an export line.
    expectFailure(try cli(["record", "--json", lines[0], "--ledger", seed.folder.child("into-record")]), status: 65, mentioning: ["export line", "import"])
    // The first line's own prev must be the genesis hash.
    expectFailure(try importing(Array(lines.dropFirst()), "headless"), status: 65, mentioning: ["line 1"])
    // Nothing of any of them was recorded.
    for label in ["changed", "cut", "swapped", "headless", "stripped-hash", "stripped-hashprev", "mixed", "record"] { #expect(!FileManager.default.fileExists(atPath: seed.folder.child("into-" + label) + "/data.mdb")) }
    // The untouched export restores.
    #expect(try importing(lines, "intact").status == 0)
  }

  @Test("a backup is readable by its owner only")
  func backupPermissions() throws {
    let seed = try SeedLedger("backup-mode")
    let target = seed.folder.child("copy")
    #expect(try seed.run(["backup", target]).status == 0)
    let mode = try FileManager.default.attributesOfItem(atPath: target + "/data.mdb")[.posixPermissions] as? Int
    #expect(mode == 0o600)
  }

  @Test("a truncated data.mdb is damage: a clear error and 74, not a crash")
  func truncatedFile() throws {
    let seed = try SeedLedger("truncated")
    let cut = seed.folder.child("cut")
    try FileManager.default.createDirectory(atPath: cut, withIntermediateDirectories: true)
    let data = try Data(contentsOf: URL(fileURLWithPath: seed.path + "/data.mdb"))
    for size in [5_000, data.count / 2] {
      try data.prefix(size).write(to: URL(fileURLWithPath: cut + "/data.mdb"))
      for command in [["verify"], ["bodies"], ["digest"]] {
        let result = try cli(command + ["--ledger", cut])
        #expect(result.status == 74, "\(command) on \(size) bytes: \(result)")
        #expect(result.stderr.hasPrefix("error: ") && result.stderr.contains("truncated"), "\(result)")
      }
    }
  }

  @Test("log as known at a moment or an event; an empty --ledger is refused")
  func logKnownAt() throws {
    let seed = try SeedLedger("log-known-at")
    let three = try seed.run(["log", "--known-at", "seq:3", "--format", "json"]).rows()
    #expect(three.compactMap { $0["seq"] as? Int } == [1, 2, 3])
    let none = try seed.run(["log", "--known-at", "2000-01-01", "--format", "json"]).rows()
    #expect(none.isEmpty)
    for args in [["--ledger", "", "bodies"], ["bodies", "--ledger", ""]] {
      let result = try cli(args)
      #expect(result.status == 64)
      #expect(result.stderr.contains("--ledger needs a folder path"))
    }
  }
}
