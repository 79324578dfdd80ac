import Foundation
import PolicyLedgerTestSupport
import SwiftCSV
import Testing

@Suite("policy-ledger record and import")
struct WriteCommandTests {
  @Test("record: every kind of event from flags a person can type")
  func recordEveryKind() throws {
    let seed = try SeedLedger("record")
    func record(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
      let result = try seed.run(["record"] + arguments + ["--format", "json"])
      #expect(result.status == 0, "\(arguments): \(result)", sourceLocation: sourceLocation)
      return try result.object()
    }
    let wg = try record(["body-established", "--body", "evaluation-wg", "--name-ja", "評価WG", "--name-en", "Evaluation WG",
                         "--kind", "working-group", "--parent", "basic-plan-panel", "--mandate", "評価", "--effective", "令和２年４月１日",
                         "--source", "test", "--actor", "secretariat"])
    #expect(wg["seq"] as? Int == 97)
    #expect(wg["type"] as? String == "body.established")
    #expect(wg["effective"] as? String == "2020-04-01")
    #expect(wg["actor"] as? String == "secretariat")
    #expect((wg["hash"] as? String)?.count == 64)
    #expect((wg["recorded"] as? String)?.hasSuffix("Z") == true)
    _ = try record(["body-renamed", "--body", "evaluation-wg", "--name-ja", "評価・検証WG", "--effective", "2020-06"])
    _ = try record(["member-appointed", "--body", "evaluation-wg", "--person", "kuno-yuko", "--name-ja", "久能 祐子", "--role", "アドバイザー",
                    "--affiliation", "A", "--affiliation", "B", "--effective", "R2.6.1"])
    _ = try record(["member-role-changed", "--body", "evaluation-wg", "--person", "kuno-yuko", "--role", "chair", "--effective", "2020-07"])
    _ = try record(["member-affiliation-changed", "--body", "evaluation-wg", "--person", "kuno-yuko", "--affiliation", "C", "--effective", "2020-08"])
    let members = try seed.run(["members", "evaluation-wg", "--as-of", "2020-09-01", "--format", "json"]).rows()
    #expect(members.map { $0["role"] as? String } == ["chair"])
    #expect(members.first?["affiliations"] as? [String] == ["C"])
    _ = try record(["member-departed", "--body", "evaluation-wg", "--person", "kuno-yuko", "--reason", "任期満了", "--effective", "2020-12"])
    #expect(try seed.run(["members", "evaluation-wg", "--as-of", "2021-01-01", "--format", "json"]).rows().isEmpty)
    _ = try record(["body-dissolved", "--body", "evaluation-wg", "--effective", "2021-03-31"])
    #expect(try !seed.run(["bodies", "--as-of", "2021-04-01", "--format", "json"]).rows().contains { $0["id"] as? String == "evaluation-wg" })
    #expect(try seed.run(["bodies", "--as-of", "2020-09-01", "--format", "json"]).rows().first { $0["id"] as? String == "evaluation-wg" }?["name"] as? String == "評価・検証WG")

    _ = try record(["decision-scheduled", "--decision", "eval-report", "--body", "basic-plan-panel", "--kind", "報告", "--title", "評価報告",
                    "--planned", "2020年6月上旬", "--effective", "2020-04"])
    _ = try record(["decision-rescheduled", "--decision", "eval-report", "--planned", "2020年8月頃", "--reason", "新型コロナ感染症の影響", "--effective", "2020-05"])
    var decision = try #require(try seed.run(["decisions", "--as-of", "2020-07-01", "--format", "json"]).rows().first { $0["id"] as? String == "eval-report" })
    #expect(decision["planned"] as? String == "2020-08~")
    #expect(decision["earlierPlanned"] as? [String] == ["2020-06-D1"])
    #expect(decision["taken"] is NSNull)
    _ = try record(["decision-taken", "--decision", "eval-report", "--effective", "2020-08-20"])
    decision = try #require(try seed.run(["decisions", "--as-of", "2020-12-31", "--format", "json"]).rows().first { $0["id"] as? String == "eval-report" })
    #expect(decision["taken"] as? String == "2020-08-20")
    _ = try record(["decision-taken", "--decision", "adhoc", "--body", "csti", "--kind", "decision", "--title", "臨時決定", "--effective", "2020-09-01"])

    _ = try record(["indicator-defined", "--indicator", "test-share", "--name-ja", "試験割合", "--unit", "％", "--group", "❾",
                    "--baseline-value", "１０．５", "--baseline-period", "FY2015", "--reference-value", "9.9", "--reference-period", "2013",
                    "--target-factor", "1.1", "--stated-as", "1割増加", "--printed-value", "11.6", "--target-period", "FY2020",
                    "--change-terms", "wari", "--breakdown", "sector=大学等", "--effective", "2016-01"])
    _ = try record(["indicator-observed", "--indicator", "test-share", "--value", "１１．６", "--unit", "%", "--period", "FY2019", "--effective", "2020"])
    var row = try #require(try seed.run(["progress", "--as-of", "2020-12-31", "--format", "json"]).rows().first { $0["indicator"] as? String == "test-share" })
    #expect(row["target"] as? String == "11.55")
    #expect(row["achieved"] as? Bool == true)
    #expect(row["change"] as? String == "1.0割増加")
    #expect(row["unit"] as? String == "%")
    _ = try record(["indicator-target-revised", "--indicator", "test-share", "--target-value", "30", "--at-least", "--eventually", "--effective", "2020-10"])
    row = try #require(try seed.run(["progress", "--as-of", "2020-12-31", "--format", "json"]).rows().first { $0["indicator"] as? String == "test-share" })
    #expect(row["target"] as? String == "30")
    #expect(row["achieved"] as? Bool == false)
    let observed = try record(["indicator-observed", "--indicator", "young-faculty", "--value", "43,135", "--unit", "人", "--effective", "2020"])
    let typo = try #require(observed["seq"] as? Int)
    _ = try record(["correct", "--event", String(typo), "--reason", "typo: 43,153", "--payload", #"{"indicator":"young-faculty","value":"43153","unit":"人"}"#])
    let history = try seed.run(["history", "young-faculty", "--format", "json"]).rows()
    let corrected = try #require(history.first { $0["seq"] as? Int == typo })
    #expect(corrected["status"] as? String == "corrected")
    #expect(corrected["reason"] as? String == "typo: 43,153")
    #expect(corrected["currentValue"] as? String == "43153")
    let retracted = try record(["retract", "--event", String(typo), "--reason", "duplicate of event 74"])
    let audit = try seed.run(["audit", "indicator:young-faculty", "--format", "json"]).rows()
    #expect(audit.first { $0["seq"] as? Int == typo }?["status"] as? String == "retracted")
    #expect(audit.first { $0["seq"] as? Int == typo }?["amendedBy"] as? Int == retracted["seq"] as? Int)
    _ = try record(["indicator-retired", "--indicator", "test-share", "--reason", "test", "--effective", "2021"])
    #expect(try !seed.run(["indicators", "--as-of", "2021-06-01", "--format", "json"]).rows().contains { $0["id"] as? String == "test-share" })

    // Validation errors name the flag and write nothing.
    let head = try seed.digest()
    expectFailure(try seed.run(["record", "member-appointed", "--body", "no-such-body", "--person", "x", "--name-ja", "X", "--role", "advisor",
                                "--affiliation", "A", "--effective", "2020"]), status: 65, mentioning: ["--body", "there is no body \"no-such-body\""])
    expectFailure(try seed.run(["record", "indicator-observed", "--indicator", "young-faculty", "--value", "1", "--unit", "%", "--effective", "2020"]),
                  status: 65, mentioning: ["--unit", "measured in 人"])
    expectFailure(try seed.run(["record", "retract", "--event", "9999", "--reason", "x"]), status: 65, mentioning: ["--event", "no event 9999"])
    expectFailure(try seed.run(["record", "indicator-observed", "--indicator", "young-faculty", "--value", "many", "--unit", "人", "--effective", "2020"]),
                  status: 64, mentioning: ["--value", "\"many\" is not a number"])
    expectFailure(try seed.run(["record", "body-established", "--body", "Bad Id", "--name-ja", "x", "--kind", "council", "--effective", "2020"]),
                  status: 64, mentioning: ["--body", "not a valid id"])
    expectFailure(try seed.run(["record", "body-established", "--body", "x", "--name-ja", "x", "--kind", "council", "--effective", "2020-02-30"]),
                  status: 64, mentioning: ["--effective", "February 2020 has 29 days"])
    expectFailure(try seed.run(["record", "body-established", "--body", "x", "--name-ja", "x", "--kind", "nonsense", "--effective", "2020"]),
                  status: 64, mentioning: ["--kind"])
    expectFailure(try seed.run(["record"]), status: 64, mentioning: ["record member-appointed"])
    #expect(try seed.digest() == head)
  }

  @Test("record --json LINE and --json -, --expected-version, and the OS user as actor")
  func recordJSON() throws {
    let seed = try SeedLedger("record-json")
    let line = #"{"type":"body.established","effective":"2020-10","payload":{"body":"json-wg","name":{"ja":"JSON WG"},"kind":"working-group","parent":"basic-plan-panel"}}"#
    let first = try seed.run(["record", "--json", line, "--expected-version", "none", "--format", "json"])
    #expect(first.status == 0, "\(first)")
    #expect(try first.object()["seq"] as? Int == 97)
    let osUser = String(cString: getpwuid(geteuid())!.pointee.pw_name)
    #expect(try first.object()["actor"] as? String == osUser)
    let rename = #"{"type":"body.renamed","effective":"2020-11","actor":"script","payload":{"body":"json-wg","name":{"ja":"JSON作業部会"}}}"#
    let second = try seed.run(["record", "--json", "-", "--expected-version", "1", "--format", "json"], stdin: Data((rename + "\n").utf8))
    #expect(second.status == 0, "\(second)")
    #expect(try second.object()["actor"] as? String == "script")
    // A retry of the same line is acknowledged (issue 10: retries do not duplicate), even with
    // the expected version it was first recorded at.
    let retry = try seed.run(["record", "--json", rename, "--expected-version", "1"])
    #expect(retry.status == 0 && retry.stdout.contains("already recorded as event 98"), "\(retry)")
    // Another event with a stale expected version is refused.
    let stale = try seed.run(["record", "--json", rename.replacingOccurrences(of: "JSON作業部会", with: "JSON部会"), "--expected-version", "1"])
    expectFailure(stale, status: 65, mentioning: ["body:json-wg", "version 2"])
    expectFailure(try seed.run(["record", "--json", #"{"type":"body.renamed","effective":"2020","payload":{"bdy":"x"}}"#]), status: 65, mentioning: ["--json", "bdy"])
    expectFailure(try seed.run(["record", "--json", "-"], stdin: Data()), status: 65, mentioning: ["standard input", "empty"])
  }

  @Test("import: one bad line (misspelt field, or a body that does not exist) changes nothing and names line 37")
  func importBadLine() throws {
    let seed = try SeedLedger("bad-line")
    let head = try seed.digest()
    let lines = try String(contentsOfFile: seedFixturePath, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(lines[36].contains("\"body\":\"basic-plan-panel\""))
    // Extra events first, so that the bad line is not the first line of the batch.
    let extra = #"{"type":"indicator.observed","effective":"2021","payload":{"indicator":"young-faculty","value":"43500","unit":"人"}}"#
    func file(_ name: String, replacing: String, with: String) throws -> String {
      var copy = Array(repeating: extra, count: 36)
      copy.append(lines[36].replacingOccurrences(of: replacing, with: with).replacingOccurrences(of: "\"body\":\"basic-plan-panel\"", with: "\"body\":\"basic-plan-panel-2\""))
      let path = seed.folder.child(name)
      try (copy.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
      return path
    }
    let misspelt = try file("misspelt.ndjson", replacing: "\"mandate\"", with: "\"mandat\"")
    expectFailure(try seed.run(["import", misspelt]), status: 65, mentioning: ["line 37", "\"payload.mandat\""])
    let unknownBody = try file("unknown-parent.ndjson", replacing: "\"parent\":\"csti\"", with: "\"parent\":\"no-such-council\"")
    expectFailure(try seed.run(["import", unknownBody]), status: 65, mentioning: ["line 37", "\"parent\"", "no-such-council", "nothing was imported"])
    #expect(try seed.digest() == head)

    // The fixture itself with line 37 broken, into a new ledger: nothing is left behind.
    var broken = lines
    broken[36] = broken[36].replacingOccurrences(of: "\"parent\":\"csti\"", with: "\"parent\":\"cstx\"")
    let brokenPath = seed.folder.child("broken.ndjson")
    try broken.joined(separator: "\n").write(toFile: brokenPath, atomically: true, encoding: .utf8)
    let fresh = seed.folder.child("fresh-ledger")
    expectFailure(try cli(["import", brokenPath, "--ledger", fresh]), status: 65, mentioning: ["line 37", "\"parent\"", "cstx"])
    #expect(!FileManager.default.fileExists(atPath: fresh))
  }

  @Test("import --dry-run validates and writes nothing")
  func dryRun() throws {
    let seed = try SeedLedger("dry-run")
    let head = try seed.digest()
    let path = seed.folder.child("one.ndjson")
    try #"{"type":"indicator.observed","effective":"2021","payload":{"indicator":"young-faculty","value":"43500","unit":"人"}}"#.write(toFile: path, atomically: true, encoding: .utf8)
    let dry = try seed.run(["import", "--dry-run", path, "--format", "json"])
    #expect(dry.status == 0, "\(dry)")
    #expect(try dry.object()["events"] as? Int == 1)
    #expect(try dry.object()["first"] as? Int == 97)
    #expect(try dry.object()["dryRun"] as? Bool == true)
    #expect(try seed.digest() == head)
    // The seed again is already recorded, line for line (issue 10: retries do not duplicate).
    let again = try seed.run(["import", "--dry-run", seedFixturePath])
    #expect(again.status == 0 && again.stdout.contains("Dry run: nothing new"), "\(again)")
    // A line that is new but conflicts with the ledger (its indicator exists) is refused, even in a dry run.
    let lines = try String(contentsOfFile: seedFixturePath, encoding: .utf8).split(separator: "\n")
    let changed = seed.folder.child("changed.ndjson")
    try (lines[0].replacingOccurrences(of: #""effective":"1996-04""#, with: #""effective":"1996-05""#) + "\n").write(toFile: changed, atomically: true, encoding: .utf8)
    expectFailure(try seed.run(["import", "--dry-run", changed]), status: 65, mentioning: ["line 1", "\"indicator\"", "already exists"])
    // A dry run into a missing ledger creates nothing.
    let missing = seed.folder.child("missing")
    let result = try cli(["import", "--dry-run", seedFixturePath, "--ledger", missing])
    #expect(result.status == 0, "\(result)")
    #expect(result.stdout.contains("all 96 events"))
    #expect(!FileManager.default.fileExists(atPath: missing))
    // The real import appends.
    #expect(try seed.run(["import", path]).status == 0)
    #expect(try seed.digest().hasPrefix("97:"))
  }

  @Test("the ledger path: --ledger, else $POLICY_LEDGER_PATH, else ./policy-ledger")
  func ledgerPath() throws {
    let folder = TemporaryFolder("cli-path")
    let imported = try cli(["import", seedFixturePath], directory: folder.path)
    #expect(imported.status == 0, "\(imported)")
    #expect(FileManager.default.fileExists(atPath: folder.child("policy-ledger/data.mdb")))
    #expect(try cli(["digest"], directory: folder.path).stdout.hasPrefix("96:"))
    let elsewhere = TemporaryFolder("cli-elsewhere")
    #expect(try cli(["digest"], environment: ["POLICY_LEDGER_PATH": folder.child("policy-ledger")], directory: elsewhere.path).stdout.hasPrefix("96:"))
    // Read commands never create a ledger.
    expectFailure(try cli(["members", "basic-plan-panel"], directory: elsewhere.path), status: 66, mentioning: ["no ledger at ./policy-ledger"])
    #expect(!FileManager.default.fileExists(atPath: elsewhere.child("policy-ledger")))
  }
}

@Suite("policy-ledger output: alignment and spreadsheet safety")
struct OutputTests {
  @Test("members: every row has the same display width up to its last column, with Japanese names")
  func alignment() throws {
    let seed = try SeedLedger("align")
    let table = try seed.run(["members", "basic-plan-panel", "--as-of", "2020-03-26"])
    let rows = tableRows(table.stdout)
    let members = try seed.run(["members", "basic-plan-panel", "--as-of", "2020-03-26", "--format", "json"]).rows()
    #expect(rows.count == members.count)
    var prefixes = Set<Int>()
    for (row, member) in zip(rows, members) {
      let last = (member["affiliations"] as? [String] ?? []).joined(separator: "、")
      #expect(row.hasSuffix(last), "\(row)")
      prefixes.insert(displayWidth(row) - displayWidth(last))
    }
    #expect(prefixes.count == 1, "\(prefixes)")
    let header = try #require(tableHeader(table.stdout))
    #expect(prefixes.first == displayWidth(header) - displayWidth("affiliations"))
    // The name column is padded by display width: 梶原 ゆみ子 (11 columns) sets it.
    #expect(rows[0].contains("上山 隆大    会長"))

    // Progress ends in a one-column mark, so every row has the same whole width.
    let progress = tableRows(try seed.run(["progress", "--as-of", "2020-12-31"]).stdout)
    #expect(Set(progress.map(displayWidth)).count == 1)
  }

  @Test("CSV: a name beginning with = is neutralised with a quote, and SwiftCSV reads it back")
  func csvFormulaEscaping() throws {
    let seed = try SeedLedger("csv")
    let name = #"=HYPERLINK("x")"#
    let recorded = try seed.run(["record", "body-established", "--body", "formula", "--name-ja", name, "--kind", "other",
                                 "--effective", "2020", "--actor", "@evil", "--source=+1,2"])
    #expect(recorded.status == 0, "\(recorded)")

    let bodies = try seed.run(["bodies", "--as-of", "2020-12-31", "--format", "csv"])
    let table = try CSV<Named>(string: bodies.stdout)
    #expect(table.header == ["body", "id", "kind", "established", "members", "former names"])
    let row = try #require(table.rows.first { $0["id"] == "formula" })
    #expect(row["body"] == "'" + name)

    let export = try seed.run(["export", "--format", "csv"])
    let events = try CSV<Named>(string: export.stdout)
    #expect(events.header == ["seq", "recorded", "effective", "type", "actor", "source", "streams", "payload", "hash"])
    #expect(events.rows.count == 97)
    let event = try #require(events.rows.first { $0["seq"] == "97" })
    #expect(event["actor"] == "'@evil")
    #expect(event["source"] == "'+1,2")
    #expect(event["streams"] == "body:formula")
    let payload = try #require(try JSONSerialization.jsonObject(with: Data((event["payload"] ?? "").utf8)) as? [String: Any])
    #expect((payload["name"] as? [String: String])?["ja"] == name)
    #expect(events.rows.first?["type"] == "indicator.defined")
  }
}
