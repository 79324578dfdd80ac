import Foundation
import PolicyLedgerTestSupport
import Testing

@Suite("policy-ledger read commands on the seed ledger")
struct ReadCommandTests {
  @Test("members on 2020-03-26: 19 rows in the slide's order, 上山 隆大 first")
  func members() throws {
    let seed = try SeedLedger("members")
    let table = try seed.run(["members", "basic-plan-panel", "--as-of", "2020-03-26"])
    #expect(table.status == 0, "\(table)")
    let rows = tableRows(table.stdout)
    #expect(rows.count == 19)
    #expect(rows.first?.contains("上山 隆大") == true)
    #expect(rows.first?.contains("会長") == true)
    #expect(rows.last?.contains("久能 祐子") == true)
    #expect(table.stdout.contains("As of 2020-03-26"))

    let json = try seed.run(["members", "basic-plan-panel", "--as-of", "2020-03-26", "--format", "json"]).rows()
    #expect(json.count == 19)
    #expect(json.first?["name"] as? String == "上山 隆大")
    #expect(json.first?["id"] as? String == "ueyama-takahiro")
    #expect(json.first?["nameEn"] as? String != nil)
    #expect(json.first?["role"] as? String == "chair")
    #expect(json.filter { $0["role"] as? String == "executive-member" }.count == 7)
    #expect(json.filter { $0["role"] as? String == "expert-member" }.count == 10)
    let ataka = try #require(json.first { $0["name"] as? String == "安宅 和人" })
    #expect(ataka["affiliations"] as? [String] == ["慶應義塾大学環境情報学部教授", "ヤフー株式会社チーフストラテジーオフィサー"])

    let csv = try seed.run(["members", "basic-plan-panel", "--as-of", "2020-03-26", "--format", "csv"])
    #expect(csv.lines.count == 20)
    #expect(csv.lines.first == "#,person,name,role,role code,since,affiliations\r")

    // Before the panel was set up it did not exist: a clear error, not an empty list.
    let before = try seed.run(["members", "basic-plan-panel", "--as-of", "2019-03-31"])
    expectFailure(before, status: 66, mentioning: ["basic-plan-panel", "2019-03-31", "established 2019-04"])
    expectFailure(try seed.run(["members", "no-such-body"]), status: 66, mentioning: ["no body \"no-such-body\""])
  }

  @Test("bodies: the rename CSTP → CSTI seen through --as-of, and the tree")
  func bodies() throws {
    let seed = try SeedLedger("bodies")
    let before = try seed.run(["bodies", "--as-of", "2014-04-30"])
    #expect(before.status == 0, "\(before)")
    #expect(before.stdout.contains("総合科学技術会議"))
    #expect(!before.stdout.contains("総合科学技術・イノベーション会議"))
    let after = try seed.run(["bodies", "--as-of", "2014-05-01"])
    #expect(after.status == 0)
    #expect(tableRows(after.stdout).contains { $0.hasPrefix("総合科学技術・イノベーション会議") })
    #expect(after.stdout.contains("総合科学技術会議 (until 2014-05)"))

    let json = try seed.run(["bodies", "--as-of", "2014-05-01", "--format", "json"]).rows()
    let csti = try #require(json.first { $0["id"] as? String == "csti" })
    #expect(csti["name"] as? String == "総合科学技術・イノベーション会議")
    #expect((csti["formerNames"] as? [[String: Any]])?.first?["name"] as? String == "総合科学技術会議")

    // The 2020 tree: the panel under CSTI, the working groups under the panel, indented.
    let tree = try seed.run(["bodies", "--as-of", "2020-07-01"])
    let rows = tableRows(tree.stdout)
    let panel = try #require(rows.first { $0.contains("basic-plan-panel ") })
    let wg = try #require(rows.first { $0.contains("institutional-issues-wg") })
    #expect(panel.hasPrefix("  基本計画専門調査会"))
    #expect(wg.hasPrefix("    制度課題WG"))
    let treeJSON = try seed.run(["bodies", "--as-of", "2020-07-01", "--format", "json"]).rows()
    #expect(treeJSON.first { $0["id"] as? String == "institutional-issues-wg" }?["parent"] as? String == "basic-plan-panel")
    #expect(treeJSON.first { $0["id"] as? String == "institutional-issues-wg" }?["depth"] as? Int == 2)
  }

  @Test("progress: the slide's targets, derived exactly, with achieved as JSON booleans")
  func progress() throws {
    let seed = try SeedLedger("progress")
    let result = try seed.run(["progress", "--as-of", "2020-12-31", "--format", "json"])
    #expect(result.status == 0, "\(result)")
    let rows = try result.rows()
    #expect(rows.count >= 19)
    let young = try #require(rows.first { $0["name"] as? String == "40歳未満の大学本務教員数" })
    #expect(young["indicator"] as? String == "young-faculty")
    #expect(young["target"] as? String == "48139.3")
    #expect(young["achieved"] as? Bool == false)
    #expect(young["baseline"] as? String == "43763")
    #expect(young["latest"] as? String == "43153")
    #expect(young["change"] as? String == "0.1割減少")
    #expect(young["unit"] as? String == "人")
    // achieved is a real JSON boolean (or null), and decimals are strings, never numbers.
    #expect(result.stdout.contains("\"achieved\": false"))
    #expect(result.stdout.contains("\"achieved\": true"))
    #expect(result.stdout.contains("\"achieved\": null"))
    #expect(!result.stdout.contains("\"target\": 4"))
    let reached = Set(rows.filter { $0["achieved"] as? Bool == true }.compactMap { $0["latest"] as? String })
    #expect(reached == ["882", "17002", "24.8", "17.8", "35.2", "33.1"])
    #expect(rows.first { $0["latest"] as? String == "11083" }?["change"] as? String == "9.2%増加")
    #expect(rows.first { $0["latest"] as? String == "604" }?["change"] as? String == "0.9倍")

    let table = try seed.run(["progress", "--as-of", "2020-12-31"])
    let youngRow = try #require(tableRows(table.stdout).first { $0.contains("40歳未満の大学本務教員数") })
    for piece in ["❶", "43,763人", "43,153人", "48,139.3人", "１割増加（48,139人）", "0.1割減少", "✗"] {
      #expect(youngRow.contains(piece), "\(youngRow)")
    }
    #expect(tableRows(table.stdout).first { $0.contains("大学の特許権実施許諾件数") }?.hasSuffix("✓") == true)
    #expect(tableHeader(table.stdout)?.hasPrefix("mark  id") == true)
  }

  @Test("state, indicators, decisions, history, diff, audit and log")
  func otherReads() throws {
    let seed = try SeedLedger("reads")
    let state = try seed.run(["state", "--as-of", "2020-03-26", "--format", "json"]).object()
    let counts = try #require(state["counts"] as? [String: Int])
    #expect(counts["people"] == 19)
    #expect(counts["indicators"] == 25)
    #expect(state["asOf"] as? String == "2020-03-26")
    #expect((state["bodies"] as? [[String: Any]])?.contains { $0["id"] as? String == "basic-plan-panel" } == true)
    let stateTable = try seed.run(["state", "--as-of", "2020-03-26"])
    #expect(stateTable.stdout.contains("19 people"))

    let indicators = try seed.run(["indicators", "--as-of", "2020-12-31", "--format", "json"]).rows()
    #expect(indicators.count == 25)
    let young = try #require(indicators.first { $0["id"] as? String == "young-faculty" })
    #expect(young["target"] as? String == "48139.3")
    #expect((young["baseline"] as? [String: Any])?["value"] as? String == "43763")
    #expect(young["group"] as? String == "❶")

    let decisions = try seed.run(["decisions", "--from", "2020-01-01", "--to", "2020-12-31", "--format", "json"]).rows()
    let meeting = try #require(decisions.first { $0["id"] as? String == "panel-meeting-2020-03-26" })
    #expect(meeting["taken"] as? String == "2020-03-26")
    #expect(meeting["kindJa"] as? String == "会合")
    #expect(decisions.first { $0["id"] as? String == "next-plan-interim-summary" }?["planned"] as? String == "2020-07")
    #expect(!decisions.contains { $0["id"] as? String == "new-growth-strategy-cabinet-decision" })
    let decisionTable = try seed.run(["decisions", "--from", "2020-01-01", "--to", "2020-12-31"])
    #expect(decisionTable.stdout.contains("中間まとめ"))
    #expect(decisionTable.stdout.contains("次期基本計画中間まとめ"))

    let history = try seed.run(["history", "young-faculty", "--format", "json"]).rows()
    #expect(history.count == 1)
    #expect(history.first?["value"] as? String == "43153")
    #expect(history.first?["effective"] as? String == "2020")
    #expect(history.first?["actor"] as? String == "seed transcription")
    #expect((history.first?["source"] as? String)?.contains("進捗状況") == true)
    #expect(history.first?["status"] as? String == "in force")
    #expect(history.first?["recorded"] as? String != nil)

    let diff = try seed.run(["diff", "--from", "2014-04-30", "--to", "2014-05-01", "--format", "json"]).rows()
    #expect(diff.count == 1)
    #expect(diff.first?["entity"] as? String == "body:csti")
    #expect((diff.first?["details"] as? [String])?.first == "name: 総合科学技術会議 → 総合科学技術・イノベーション会議")

    let audit = try seed.run(["audit", "csti", "--format", "json"]).rows()
    #expect(audit.count == 9)
    #expect(audit.first?["seq"] as? Int == 2)
    #expect(audit.first?["type"] as? String == "body.established")
    #expect(audit.first?["status"] as? String == "in force")
    #expect(audit.first?["actor"] as? String == "seed transcription")
    #expect(audit.first?["effective"] as? String == "2001-01")
    #expect(try seed.run(["audit", "body:csti", "--format", "json"]).rows().count == 9)
    let auditTable = try seed.run(["audit", "young-faculty"])
    // The sub-indicator's definition names young-faculty as its parent, so it is in the stream too.
    #expect(auditTable.stdout.contains("indicator:young-faculty: 3 events."))
    expectFailure(try seed.run(["audit", "nothing-here"]), status: 66, mentioning: ["nothing-here"])

    let log = try seed.run(["log", "--from", "90", "--limit", "3", "--format", "json"]).rows()
    #expect(log.map { $0["seq"] as? Int } == [90, 91, 92])
    #expect((log.first?["hash"] as? String)?.count == 64)
    let logTable = try seed.run(["log", "--limit", "2"])
    let firstRow = try #require(tableRows(logTable.stdout).first)
    #expect(firstRow.contains("indicator.defined"))
    #expect(firstRow.contains("1996-04"))
    #expect(firstRow.split(separator: " ").last?.count == 12)
  }

  @Test("verify, digest, check, rebuild, export and backup")
  func integrity() throws {
    let seed = try SeedLedger("integrity")
    let digest = try seed.digest()
    #expect(digest.hasPrefix("96:"))
    #expect(digest.count == 3 + 64)
    let verify = try seed.run(["verify", "--format", "json"])
    #expect(verify.status == 0, "\(verify)")
    let report = try verify.object()
    #expect(report["head"] as? String == digest)
    #expect(report["eventsChecked"] as? Int == 96)
    #expect(report["valid"] as? Bool == true)
    #expect(try seed.run(["verify", "--digest", digest]).status == 0)
    let wrong = try seed.run(["verify", "--digest", "5:" + String(repeating: "0", count: 64)])
    #expect(wrong.status == 1)
    #expect(wrong.stderr.hasPrefix("error: verification failed at event 5"))
    expectFailure(try seed.run(["verify", "--digest", "nonsense"]), status: 64, mentioning: ["--digest", "SEQ:HEX"])

    let check = try seed.run(["check"])
    #expect(check.status == 0, "\(check)")
    #expect(check.stdout.contains("equal a fresh replay of 96 events"))
    let rebuild = try seed.run(["rebuild", "--format", "json"]).object()
    #expect(rebuild["replayed"] as? Int == 96)
    #expect(try seed.run(["check"]).status == 0)
    #expect(try seed.digest() == digest)

    // NDJSON export: one line per event, re-importable.
    let export = try seed.run(["export"])
    #expect(export.status == 0)
    #expect(export.lines.count == 96)
    #expect(export.lines.count == report["eventsChecked"] as? Int)
    let first = try #require(try JSONSerialization.jsonObject(with: Data(export.lines[0].utf8)) as? [String: Any])
    #expect(first["seq"] as? Int == 1)
    #expect(first["type"] as? String == "indicator.defined")
    let file = seed.folder.child("export.ndjson")
    #expect(try seed.run(["export", "--output", file]).status == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == export.stdoutData)
    let copy = seed.folder.child("reimported")
    #expect(try cli(["import", file, "--ledger", copy]).status == 0)
    #expect(try cli(["members", "basic-plan-panel", "--as-of", "2020-03-26", "--ledger", copy, "--format", "json"]).rows().count == 19)

    // Backup: a verified copy whose head is the source's.
    let backup = seed.folder.child("backup")
    let result = try seed.run(["backup", backup, "--format", "json"])
    #expect(result.status == 0, "\(result)")
    let backed = try result.object()
    #expect(backed["sourceHead"] as? String == digest)
    #expect(backed["backupHead"] as? String == digest)
    #expect(try cli(["verify", "--ledger", backup]).status == 0)
    #expect(try cli(["digest", "--ledger", backup]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == digest)
    expectFailure(try seed.run(["backup", backup]), status: 64, mentioning: ["not empty"])
  }

  @Test("every date form on --as-of; impossible dates exit 64 saying why")
  func dateForms() throws {
    let seed = try SeedLedger("dates")
    let forms: [(String, String)] = [
      ("2020-03-26", "2020-03-26"), ("令和２年３月２６日", "2020-03-26"), ("R2.3.26", "2020-03-26"), ("2020年度", "2020-04-01"),
      ("FY2020", "2020-04-01"), ("2020年6月上旬", "2020-06-01"), ("2019年8月頃", "2019-08-01"), ("平成31年4月", "2019-04-01"),
    ]
    for (form, day) in forms {
      let result = try seed.run(["members", "basic-plan-panel", "--as-of", form])
      #expect(result.status == 0, "\(form): \(result)")
      #expect(result.stdout.contains("As of \(day)"), "\(form): \(result.stdout.prefix(200))")
      #expect(tableRows(result.stdout).count == 19, "\(form)")
    }
    let impossible: [(String, String)] = [
      ("2020-02-30", "February 2020 has 29 days"), ("平成32年", "the Heisei era ended on 2019-04-30"),
      ("令和0年", "era years start at 1"), ("令和元年4月", "the Reiwa era began on 2019-05-01"),
    ]
    for (form, why) in impossible {
      expectFailure(try seed.run(["members", "basic-plan-panel", "--as-of", form]), status: 64, mentioning: ["--as-of", form, why])
    }
    expectFailure(try seed.run(["progress", "--known-at", "2026-11-29T25:00Z"]), status: 64, mentioning: ["--known-at", "hour 25"])

    // Known-at: seq:N and a moment.
    let record = try seed.run(["record", "indicator-observed", "--indicator", "young-faculty", "--value", "43,500", "--unit", "人", "--period", "FY2020", "--effective", "2021"])
    #expect(record.status == 0, "\(record)")
    func latest(_ extra: [String]) throws -> String? {
      try seed.run(["progress", "--as-of", "2021-12-31", "--format", "json"] + extra).rows().first { $0["indicator"] as? String == "young-faculty" }?["latest"] as? String
    }
    #expect(try latest([]) == "43500")
    #expect(try latest(["--known-at", "seq:96"]) == "43153")
    #expect(try latest(["--known-at", "2000-01-01T00:00:00Z"]) == nil)
    #expect(try latest(["--known-at", "2999-01-01"]) == "43500")
  }
}
