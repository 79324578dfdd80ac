import Foundation
import PolicyLedgerTestSupport
import Testing

/// Issue 10: field-level corrections, corrections that omit a field, and renames by appointment.
@Suite("Corrections field by field, and names")
struct CorrectionTests {
  @Test("record correct --value/--period keeps the other fields; history shows what is in force, in the table, CSV and JSON")
  func fieldLevel() throws {
    let seed = try SeedLedger("correct-fields")
    let recorded = try seed.run(["record", "indicator-observed", "--indicator", "young-faculty", "--value", "43,513", "--unit", "人",
                                 "--period", "FY2020", "--note", "速報", "--effective", "2021-06", "--source", "学校教員統計調査"])
    #expect(recorded.stdout.contains("Recorded event 97"), "\(recorded)")
    let first = try seed.run(["record", "correct", "--event", "97", "--value", "43,315", "--reason", "typed 43,513 for 43,315"])
    #expect(first.status == 0 && first.stdout.contains("Recorded event 98"), "\(first)")
    func entry97() throws -> [String: Any] {
      try #require(try seed.run(["history", "young-faculty", "--format", "json"]).rows().first { $0["seq"] as? Int == 97 })
    }
    var e = try entry97()
    #expect(e["value"] as? String == "43513")
    #expect(e["currentValue"] as? String == "43315")
    #expect(e["currentPeriod"] as? String == "FY2020")
    #expect(e["currentNote"] as? String == "速報")
    #expect(e["currentEffective"] as? String == "2021-06")
    // A second correction starts from the first's content: the corrected value stays.
    let second = try seed.run(["record", "correct", "--event", "97", "--period", "FY2021", "--effective", "2021-07", "--reason", "the survey's year"])
    #expect(second.status == 0 && second.stdout.contains("Recorded event 99"), "\(second)")
    e = try entry97()
    #expect(e["status"] as? String == "corrected")
    #expect(e["amendedBy"] as? Int == 99)
    #expect(e["currentValue"] as? String == "43315")
    #expect(e["currentPeriod"] as? String == "FY2021")
    #expect(e["currentNote"] as? String == "速報")
    #expect(e["currentEffective"] as? String == "2021-07")
    let table = try seed.run(["history", "young-faculty"])
    #expect(table.stdout.contains("corrected by 99: the survey's year → 43,315, period FY2021, effective 2021-07"), "\(table)")
    let csv = try seed.run(["history", "young-faculty", "--format", "csv"])
    #expect(csv.stdout.contains("→ 43,315, period FY2021, effective 2021-07"), "\(csv)")
    let progress = try #require(try seed.run(["progress", "--as-of", "2021-12-31", "--format", "json"]).rows().first { $0["indicator"] as? String == "young-faculty" })
    #expect(progress["latest"] as? String == "43315")
    #expect(progress["latestPeriod"] as? String == "FY2021")

    // A whole payload that leaves a field out is refused, pointing to the field-level form.
    let omitted = try seed.run(["record", "correct", "--event", "97", "--reason", "r",
                                "--payload", #"{"indicator":"young-faculty","value":"43315","unit":"人","note":"速報"}"#])
    expectFailure(omitted, status: 65, mentioning: ["\"period\"", "omits", "--value"])
    // Field flags that do not fit the event's type, or with --payload, are usage errors.
    expectFailure(try seed.run(["record", "correct", "--event", "97", "--affiliation", "X", "--reason", "r"]), status: 64, mentioning: ["--affiliation", "indicator.observed"])
    expectFailure(try seed.run(["record", "correct", "--event", "97", "--value", "1", "--payload", "{}", "--reason", "r"]), status: 64, mentioning: ["not both"])
    expectFailure(try seed.run(["record", "correct", "--event", "97", "--reason", "r"]), status: 64, mentioning: ["--value"])
    #expect(try seed.digest().hasPrefix("99:"))
    #expect(try seed.run(["check"]).status == 0)
  }

  @Test("record correct --affiliation on an appointment keeps the name and role")
  func affiliations() throws {
    let seed = try SeedLedger("correct-affiliations")
    let appointed = try seed.run(["record", "member-appointed", "--body", "csti", "--person", "new-member", "--name-ja", "新 委員", "--role", "member",
                                  "--affiliation", "A大学", "--effective", "2021-04"])
    #expect(appointed.stdout.contains("Recorded event 97"), "\(appointed)")
    let corrected = try seed.run(["record", "correct", "--event", "97", "--affiliation", "B大学", "--affiliation", "C研究所", "--reason", "wrong line"])
    #expect(corrected.status == 0, "\(corrected)")
    let member = try #require(try seed.run(["members", "csti", "--as-of", "2021-05-01", "--format", "json"]).rows().first { $0["person"] as? String == "new-member" })
    #expect(member["affiliations"] as? [String] == ["B大学", "C研究所"])
    #expect(member["name"] as? String == "新 委員")
    #expect(member["role"] as? String == "member")
    expectFailure(try seed.run(["record", "correct", "--event", "97", "--value", "1", "--reason", "r"]), status: 64, mentioning: ["--value", "member.appointed"])
  }

  @Test("appointing a known person id under another name is refused unless --rename says the name changed")
  func rename() throws {
    let seed = try SeedLedger("rename")
    let appoint = ["record", "member-appointed", "--body", "csti", "--person", "kuno-yuko", "--role", "member", "--affiliation", "S&R財団", "--effective", "2021-04"]
    let refused = try seed.run(appoint + ["--name-ja", "久能 裕子"])
    expectFailure(refused, status: 65, mentioning: ["--name-ja", "久能 祐子", "--rename"])
    // The same name needs no flag; the line form says it with "renamed": true.
    let line = #"{"type":"member.appointed","effective":"2021-05","payload":{"body":"math-ds-ai-accreditation-council","person":"kuno-yuko","name":{"ja":"久能 祐子"},"role":"member","affiliations":["S&R財団"]}}"#
    // Another English name is another name.
    let english = line.replacingOccurrences(of: #"{"ja":"久能 祐子"}"#, with: #"{"ja":"久能 祐子","en":"Yuko Kuno-Smith"}"#)
      .replacingOccurrences(of: "math-ds-ai-accreditation-council", with: "integrated-innovation-strategy-council")
    expectFailure(try seed.run(["record", "--json", english]), status: 65, mentioning: ["Kuno Yuko", "--rename"])
    #expect(try seed.run(["record", "--json", line]).status == 0)
    let renamed = try seed.run(appoint + ["--name-ja", "久能 裕子", "--rename"])
    #expect(renamed.status == 0, "\(renamed)")
    // Each seat keeps the name it was appointed under.
    let before = try #require(try seed.run(["members", "basic-plan-panel", "--as-of", "2020-03-26", "--format", "json"]).rows().first { $0["person"] as? String == "kuno-yuko" })
    #expect(before["name"] as? String == "久能 祐子")
    let after = try #require(try seed.run(["members", "csti", "--as-of", "2021-05-01", "--format", "json"]).rows().first { $0["person"] as? String == "kuno-yuko" })
    #expect(after["name"] as? String == "久能 裕子")
    #expect(try seed.run(["export"]).stdout.contains(#""renamed":true"#))
  }
}
