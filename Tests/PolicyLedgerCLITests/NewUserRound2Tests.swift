import Foundation
import PolicyLedgerTestSupport
import Testing

/// What a new user found after the projections redesign, each now refused or right.
@Suite("What a new user met, second round")
struct NewUserRound2Tests {
  func ledger(_ label: String) -> (TemporaryFolder, String) {
    let folder = TemporaryFolder(label)
    return (folder, folder.child("ledger"))
  }

  @Test("a dissolved body keeps nobody seated: a backdated appointment, or a departure retracted, is refused")
  func dissolvedBodySeatsNobody() throws {
    let (_, path) = ledger("round2-dissolved")
    func record(_ args: [String]) throws -> CLIResult { try cli(["record"] + args + ["--ledger", path]) }
    #expect(try record(["body-established", "--body", "wg", "--name-ja", "WG", "--kind", "working-group", "--effective", "2020-01-01"]).status == 0)
    #expect(try record(["member-appointed", "--body", "wg", "--person", "a", "--name-ja", "A", "--role", "member", "--affiliation", "X", "--effective", "2020-02-01"]).status == 0)
    #expect(try record(["member-departed", "--body", "wg", "--person", "a", "--effective", "2020-06-01"]).status == 0)
    #expect(try record(["body-dissolved", "--body", "wg", "--effective", "2020-07-01"]).status == 0)
    let backdated = try record(["member-appointed", "--body", "wg", "--person", "b", "--name-ja", "B", "--role", "member", "--affiliation", "X", "--effective", "2020-03-01"])
    expectFailure(backdated, status: 65, mentioning: ["B (b) would still sit on \"wg\" when it is dissolved on 2020-07-01"])
    let retracted = try record(["retract", "--event", "3", "--reason", "oops"])
    expectFailure(retracted, status: 65, mentioning: ["A (a) would still sit on \"wg\""])
    let members = try cli(["members", "wg", "--as-of", "2020-08-01", "--format", "json", "--ledger", path])
    #expect(try members.rows().isEmpty)
    // Any backdated appointment with no departure by the dissolution is refused.
    #expect(try record(["member-appointed", "--body", "wg", "--person", "c", "--name-ja", "C", "--role", "member", "--affiliation", "X", "--effective", "2020-03-01"]).status == 65)
    #expect(try cli(["check", "--ledger", path]).status == 0)
  }

  @Test("a working group set up under a parent dissolved later must be dissolved by then, in the same import")
  func workingGroupDoesNotOutliveItsParent() throws {
    let (folder, path) = ledger("round2-parent")
    func record(_ args: [String]) throws -> CLIResult { try cli(["record"] + args + ["--ledger", path]) }
    #expect(try record(["body-established", "--body", "q", "--name-ja", "Q", "--kind", "council", "--effective", "2019-01-01"]).status == 0)
    #expect(try record(["body-dissolved", "--body", "q", "--effective", "2019-06-01"]).status == 0)
    let alone = try record(["body-established", "--body", "qc", "--name-ja", "QC", "--kind", "working-group", "--parent", "q", "--effective", "2019-03-01"])
    expectFailure(alone, status: 65, mentioning: ["\"qc\" under it would outlive it"])
    let lines = [#"{"type":"body.established","effective":"2019-03-01","payload":{"body":"qc","name":{"ja":"QC"},"kind":"working-group","parent":"q"}}"#,
                 #"{"type":"body.dissolved","effective":"2019-05-31","payload":{"body":"qc"}}"#]
    try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: folder.child("wg.ndjson")))
    #expect(try cli(["import", folder.child("wg.ndjson"), "--ledger", path]).status == 0)
  }

  @Test("rows without --prefix lists the database from its first key")
  func rowsWithoutPrefix() throws {
    let seed = try SeedLedger("round2-rows")
    for database in ["snapshots", "series", "entities", "amendments", "meta"] {
      let result = try cli(["rows", database, "--limit", "3", "--format", "json", "--ledger", seed.path])
      #expect(result.status == 0, "\(database): \(result)")
    }
    let all = try cli(["rows", "--ledger", seed.path, "--format", "json"]).rows()
    #expect(all.count > 50 && all.count <= 200)
  }

  @Test("history --as-of goes by the date in force after a correction that moved the value")
  func historyAsOfFollowsCorrections() throws {
    let (_, path) = ledger("round2-history")
    func record(_ args: [String]) throws -> CLIResult { try cli(["record"] + args + ["--ledger", path]) }
    #expect(try record(["indicator-defined", "--indicator", "x", "--name-ja", "X", "--unit", "人", "--effective", "2010"]).status == 0)
    #expect(try record(["indicator-observed", "--indicator", "x", "--value", "150", "--unit", "人", "--period", "FY2018", "--effective", "2019-06-01"]).status == 0)
    let moved = try record(["correct", "--event", "2", "--reason", "wrong date", "--effective", "2016-06-01",
                            "--payload", #"{"indicator":"x","value":"155","unit":"人","period":"FY2015"}"#])
    #expect(moved.status == 0, "\(moved)")
    #expect(try cli(["history", "x", "--as-of", "2017-01-01", "--format", "json", "--ledger", path]).rows().count == 1)
    #expect(try cli(["history", "x", "--as-of", "2015-01-01", "--format", "json", "--ledger", path]).rows().isEmpty)
  }
}
