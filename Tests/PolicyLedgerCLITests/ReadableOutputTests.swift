import Foundation
import PolicyLedgerTestSupport
import SwiftCSV
import Testing

@Suite("output people read: dates, CSV for Excel, diff, log filters, tables that fit")
struct ReadableOutputTests {
  @Test("--dates wareki and $POLICY_LEDGER_DATES print 和暦 in tables and CSV; JSON keeps ISO")
  func warekiDates() throws {
    let seed = try SeedLedger("dates")
    let table = try seed.run(["members", "basic-plan-panel", "--as-of", "2020-03-26", "--dates", "wareki"])
    #expect(table.status == 0, "\(table)")
    #expect(table.stdout.contains("As of 令和2年3月26日"))
    #expect(tableRows(table.stdout).first?.contains("平成31年4月") == true, "\(table.stdout)")
    #expect(!table.stdout.contains("2019-04"))

    let env = try cli(["bodies", "--as-of", "2020-12-31", "--ledger", seed.path], environment: ["POLICY_LEDGER_DATES": "wareki"])
    #expect(env.stdout.contains("平成26年5月") || env.stdout.contains("平成"), "\(env.stdout)")
    #expect(env.stdout.contains("As of 令和2年12月31日"))
    // The flag wins over the environment.
    let iso = try cli(["bodies", "--as-of", "2020-12-31", "--dates", "iso", "--ledger", seed.path], environment: ["POLICY_LEDGER_DATES": "wareki"])
    #expect(iso.stdout.contains("As of 2020-12-31"))
    #expect(!iso.stdout.contains("令和"))
    // Japanese with a Gregorian year; a coarse as-of date is described in the style too.
    let japanese = try seed.run(["progress", "--as-of", "2020年度", "--dates", "japanese"])
    #expect(japanese.stdout.contains("As of 2020年4月1日 (FY2020 = 2020年度, counted from its first day)"), "\(japanese.stdout)")
    let warekiFiscal = try seed.run(["progress", "--as-of", "2020年度", "--dates", "wareki"])
    #expect(warekiFiscal.stdout.contains("令和2年度"), "\(warekiFiscal.stdout)")

    // CSV carries the style; JSON stays ISO whatever is asked.
    let csv = try seed.run(["members", "basic-plan-panel", "--as-of", "2020-03-26", "--dates", "wareki", "--format", "csv"])
    #expect(csv.stdout.contains(",平成31年4月,"))
    let json = try cli(["members", "basic-plan-panel", "--as-of", "2020-03-26", "--format", "json", "--ledger", seed.path],
                       environment: ["POLICY_LEDGER_DATES": "wareki"]).rows()
    #expect(json.first?["since"] as? String == "2019-04")

    expectFailure(try cli(["bodies", "--ledger", seed.path], environment: ["POLICY_LEDGER_DATES": "meiji"]), status: 64, mentioning: ["POLICY_LEDGER_DATES=meiji", "wareki"])
    expectFailure(try seed.run(["bodies", "--dates", "julian"]), status: 64, mentioning: ["julian"])
  }

  @Test("--excel writes a UTF-8 BOM and CRLF; members CSV has the role as shown and its code; progress CSV the id and unit")
  func excelCSV() throws {
    let seed = try SeedLedger("excel")
    let members = try seed.run(["members", "basic-plan-panel", "--as-of", "2020-03-26", "--format", "csv", "--excel"])
    #expect(members.status == 0, "\(members)")
    #expect(Array(members.stdoutData.prefix(3)) == [0xEF, 0xBB, 0xBF])
    let text = String(decoding: members.stdoutData.dropFirst(3), as: UTF8.self)
    #expect(text.hasPrefix("#,person,name,role,role code,since,affiliations\r\n"))
    // Every line ends in CRLF: no bare LF.
    #expect(members.stdoutData.split(separator: 0x0A, omittingEmptySubsequences: true).allSatisfy { $0.last == 0x0D })
    let rows = try CSV<Named>(string: text).rows
    #expect(rows.count == 19)
    #expect(rows.first?["role"] == "会長")
    #expect(rows.first?["role code"] == "chair")
    #expect(rows.first?["person"] == "ueyama-takahiro")
    // Without --excel: no BOM.
    let plain = try seed.run(["members", "basic-plan-panel", "--as-of", "2020-03-26", "--format", "csv"])
    #expect(plain.stdoutData.first == UInt8(ascii: "#"))

    let progress = try seed.run(["progress", "--as-of", "2020-12-31", "--format", "csv", "--excel"])
    let progressRows = try CSV<Named>(string: String(decoding: progress.stdoutData.dropFirst(3), as: UTF8.self)).rows
    let young = try #require(progressRows.first { $0["id"] == "young-faculty" })
    #expect(young["unit"] == "人")
    #expect(young["latest"] == "43153")
    // The table shows the id near the front, not the unit column.
    let table = try seed.run(["progress", "--as-of", "2020-12-31"])
    #expect(tableHeader(table.stdout)?.hasPrefix("mark  id") == true)
    #expect(tableHeader(table.stdout)?.contains("unit") == false)
  }

  @Test("export --format csv --excel: a UTF-8 BOM, CRLF lines, the rows unchanged; --excel alone is refused")
  func exportExcelCSV() throws {
    let seed = try SeedLedger("export-excel")
    let excel = try seed.run(["export", "--format", "csv", "--excel"])
    #expect(excel.status == 0, "\(excel)")
    #expect(Array(excel.stdoutData.prefix(3)) == [0xEF, 0xBB, 0xBF])
    #expect(excel.stdoutData.split(separator: 0x0A, omittingEmptySubsequences: true).allSatisfy { $0.last == 0x0D })
    let plain = try seed.run(["export", "--format", "csv"])
    #expect(plain.stdoutData.first == UInt8(ascii: "s"))
    #expect(Data(excel.stdoutData.dropFirst(3)) == plain.stdoutData)
    let rows = try CSV<Named>(string: String(decoding: excel.stdoutData.dropFirst(3), as: UTF8.self)).rows
    #expect(rows.first?["seq"] == "1")
    expectFailure(try seed.run(["export", "--excel"]), status: 64, mentioning: ["--excel"])
  }

  @Test("history CSV carries the unit, the value in force and what amended it")
  func historyCSV() throws {
    let seed = try SeedLedger("history-csv")
    let observed = try seed.run(["record", "indicator-observed", "--indicator", "young-faculty", "--value", "43135", "--unit", "人",
                                 "--period", "FY2019", "--effective", "2020-06"])
    #expect(observed.status == 0, "\(observed)")
    let seq = try #require(try seed.run(["log", "--format", "json"]).rows().last?["seq"] as? Int)
    let corrected = try seed.run(["record", "correct", "--event", String(seq), "--reason", "typo",
                                  "--payload", #"{"indicator":"young-faculty","value":"43153","unit":"人","period":"FY2019"}"#])
    #expect(corrected.status == 0, "\(corrected)")
    let csv = try seed.run(["history", "young-faculty", "--format", "csv"])
    let rows = try CSV<Named>(string: csv.stdout).rows
    #expect(csv.stdout.hasPrefix("seq,effective,period,value,unit,status,value in force,amended by,actor,recorded (UTC),source\r\n"))
    let row = try #require(rows.first { $0["seq"] == String(seq) })
    #expect(row["unit"] == "人")
    #expect(row["value"] == "43135")
    #expect(row["value in force"] == "43153")
    #expect(row["amended by"] == String(seq + 1))
    #expect(rows.first { $0["seq"] != String(seq) }?["amended by"] == "")
    // The table keeps its columns (no unit, in-force or amended-by columns: the status says it).
    #expect(tableHeader(try seed.run(["history", "young-faculty"]).stdout)?.contains("amended by") == false)
  }

  @Test("diff shows old → new for a role, affiliations, a title and a value")
  func diffOldToNew() throws {
    let seed = try SeedLedger("diff")
    let panel = try seed.run(["members", "basic-plan-panel", "--as-of", "2020-03-26", "--format", "json"]).rows()
    let ataka = try #require(panel.first { $0["name"] as? String == "安宅 和人" })
    let person = try #require(ataka["id"] as? String)
    #expect(try seed.run(["record", "member-role-changed", "--body", "basic-plan-panel", "--person", person, "--role", "advisor", "--effective", "2020-10-01"]).status == 0)
    #expect(try seed.run(["record", "member-affiliation-changed", "--body", "basic-plan-panel", "--person", person, "--affiliation", "慶應義塾大学",
                          "--effective", "2020-10-01"]).status == 0)
    #expect(try seed.run(["record", "indicator-observed", "--indicator", "young-faculty", "--value", "44000", "--unit", "人", "--effective", "2020-10-01"]).status == 0)
    let diff = try seed.run(["diff", "--from", "2020-09-30", "--to", "2020-10-02", "--format", "json"]).rows()
    let details = diff.flatMap { $0["details"] as? [String] ?? [] }
    #expect(details.contains("role of 安宅 和人: 専門委員 → アドバイザー"), "\(details)")
    #expect(details.contains("affiliations of 安宅 和人: 慶應義塾大学環境情報学部教授、ヤフー株式会社チーフストラテジーオフィサー → 慶應義塾大学"), "\(details)")
    #expect(details.contains { $0.hasPrefix("latest: 43153人") && $0.hasSuffix("→ 44000人") }, "\(details)")
    #expect(details.contains("basic-plan-panel: expert-member → advisor"), "\(details)")
  }

  @Test("log filters by actor, type, stream and recorded-at range")
  func logFilters() throws {
    let seed = try SeedLedger("log-filters")
    #expect(try seed.run(["record", "indicator-observed", "--indicator", "young-faculty", "--value", "44000", "--unit", "人",
                          "--effective", "2021-06", "--actor", "監査 花子"]).status == 0)
    let all = try seed.run(["log", "--format", "json"]).rows()
    let mine = try seed.run(["log", "--actor", "監査 花子", "--format", "json"]).rows()
    #expect(mine.count == 1)
    #expect(mine.first?["type"] as? String == "indicator.observed")
    let observed = try seed.run(["log", "--type", "indicator.observed", "--format", "json"]).rows()
    #expect(!observed.isEmpty && observed.allSatisfy { $0["type"] as? String == "indicator.observed" })
    let indicatorAll = try seed.run(["log", "--type", "indicator", "--format", "json"]).rows()
    #expect(indicatorAll.count > observed.count)
    #expect(indicatorAll.allSatisfy { ($0["type"] as? String)?.hasPrefix("indicator.") == true })
    let stream = try seed.run(["log", "--stream", "indicator:young-faculty", "--format", "json"]).rows()
    #expect(stream.allSatisfy { ($0["streams"] as? [String])?.contains("indicator:young-faculty") == true })
    #expect(stream.count == (try seed.run(["log", "--stream", "young-faculty", "--format", "json"]).rows().count))
    // The recorded-at range: the last event alone.
    let last = try #require(all.last?["recorded"] as? String)
    let range = try seed.run(["log", "--recorded-from", last, "--recorded-to", last, "--format", "json"]).rows()
    #expect(range.count == 1 && range.first?["actor"] as? String == "監査 花子")
    let table = try seed.run(["log", "--actor", "監査 花子"])
    #expect(table.stdout.contains("1 event shown of \(all.count)") && table.stdout.contains("(filtered)"), "\(table.stdout)")
    expectFailure(try seed.run(["log", "--recorded-from", "2026-12-02T00:00:00Z", "--recorded-to", "2026-12-01T00:00:00Z"]), status: 64, mentioning: ["--recorded-to"])
  }

  @Test("tables are cut with … to a terminal's width, never in a pipe",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "needs script(1) for a terminal"))
  func fitsTheTerminal() throws {
    let seed = try SeedLedger("width")
    let arguments = ["members", "basic-plan-panel", "--as-of", "2020-03-26", "--ledger", seed.path]
    let piped = try cli(arguments)
    #expect(!piped.stdout.contains("…"))
    #expect(piped.lines.map(displayWidth).max()! > 80)
    // script(1) gives the command a terminal; stty sets its width to 80 columns.
    let command = "stty cols 80 rows 50; " + ([cliBinary] + arguments).map { "'\($0)'" }.joined(separator: " ")
    let text = try onTerminal(command)
    let lines = text.replacingOccurrences(of: "\r", with: "").split(separator: "\n").map(String.init)
    #expect(lines.contains { $0.contains("…") }, "\(text)")
    #expect(lines.allSatisfy { displayWidth($0) <= 80 }, "\(lines.map(displayWidth))")
    // Ids are never cut.
    #expect(lines.contains { $0.contains("ueyama-takahiro") })
  }
}
