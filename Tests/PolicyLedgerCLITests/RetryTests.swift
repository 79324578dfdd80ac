import Foundation
import PolicyLedgerTestSupport
import Testing

/// Issue 10, "Retries must not duplicate": idempotency keys, explicit and derived from content.
@Suite("Retries do not duplicate")
struct RetryTests {
  @Test("importing the same file twice records nothing new the second time, and says so")
  func importTwice() throws {
    let seed = try SeedLedger("retry-import")
    let before = try seed.digest()
    let again = try seed.run(["import", seedFixturePath])
    #expect(again.status == 0, "\(again)")
    #expect(again.stdout.contains("Nothing new in"), "\(again)")
    #expect(again.stdout.contains("96 lines were already recorded (events 1–96: line 1 as event 1"), "\(again)")
    #expect(try seed.digest() == before)
    let json = try seed.run(["import", seedFixturePath, "--format", "json"]).object()
    #expect(json["events"] as? Int == 0)
    #expect(json["alreadyRecorded"] as? Int == 96)
    #expect(json["first"] is NSNull)
    #expect(((json["duplicates"] as? [[String: Any]])?.first)?["event"] as? Int == 1)
    // A dry run says the same.
    let dry = try seed.run(["import", seedFixturePath, "--dry-run"])
    #expect(dry.status == 0 && dry.stdout.contains("Dry run: nothing new"), "\(dry)")
    #expect(try seed.run(["check"]).status == 0)
  }

  @Test("a file of old and new lines records the new ones and names the old ones' events; a line repeated within a file is recorded once")
  func mixedImport() throws {
    let seed = try SeedLedger("retry-mixed")
    let lines = try String(contentsOfFile: seedFixturePath, encoding: .utf8).split(separator: "\n")
    let new = #"{"type":"indicator.observed","effective":"2021-06","actor":"secretariat","payload":{"indicator":"young-faculty","value":"43315","unit":"人","period":"FY2020"}}"#
    let file = seed.folder.child("mixed.ndjson")
    try ([String(lines[0]), new, String(lines[95]), new].joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
    let result = try seed.run(["import", file])
    #expect(result.status == 0, "\(result)")
    #expect(result.stdout.contains("Imported 1 new event from \(file) as event 97"), "\(result)")
    #expect(result.stdout.contains("3 lines were already recorded (events 1–97: line 1 as event 1, line 3 as event 96, line 4 as event 97)"), "\(result)")
    #expect(try seed.digest().hasPrefix("97:"))
  }

  @Test("re-running the same record acknowledges it; a distinct key records the fact again on purpose; a key with other content is refused")
  func recordTwice() throws {
    let seed = try SeedLedger("retry-record")
    let observe = ["record", "indicator-observed", "--indicator", "young-faculty", "--value", "43315", "--unit", "人", "--period", "FY2020", "--effective", "2021-06"]
    let first = try seed.run(observe)
    #expect(first.status == 0 && first.stdout.contains("Recorded event 97"), "\(first)")
    // Another actor and source do not make it another fact.
    let second = try seed.run(observe + ["--actor", "cron", "--source", "retry"])
    #expect(second.status == 0, "\(second)")
    #expect(second.stdout.contains("Nothing new: this indicator.observed was already recorded as event 97"), "\(second)")
    #expect(try seed.digest().hasPrefix("97:"))
    let json = try seed.run(observe + ["--format", "json"]).object()
    #expect(json["seq"] as? Int == 97)
    #expect(json["alreadyRecorded"] as? Bool == true)

    // The same fact again, on purpose: a key of its own.
    let keyed = try seed.run(observe + ["--key", "survey-2021:second-report", "--format", "json"]).object()
    #expect(keyed["seq"] as? Int == 98)
    #expect(keyed["key"] as? String == "survey-2021:second-report")
    #expect(keyed["alreadyRecorded"] as? Bool == false)
    let retried = try seed.run(observe + ["--key", "survey-2021:second-report"])
    #expect(retried.stdout.contains("already recorded as event 98"), "\(retried)")
    // The key with other content: refused, naming the earlier event.
    let other = try seed.run(["record", "indicator-observed", "--indicator", "young-faculty", "--value", "43316", "--unit", "人",
                              "--period", "FY2020", "--effective", "2021-06", "--key", "survey-2021:second-report"])
    expectFailure(other, status: 65, mentioning: ["--key", "already recorded as event 98 with other content"])
    let bad = try seed.run(observe + ["--key", "no spaces"])
    expectFailure(bad, status: 64, mentioning: ["--key"])
    #expect(try seed.digest().hasPrefix("98:"))

    // record --json takes a "key" too.
    let line = #"{"type":"body.renamed","effective":"2021-04","key":"rename-1","payload":{"body":"basic-plan-panel","name":{"ja":"新名称"}}}"#
    #expect(try seed.run(["record", "--json", line]).stdout.contains("Recorded event 99"))
    #expect(try seed.run(["record", "--json", line]).stdout.contains("already recorded as event 99"))
  }

  @Test("an import line whose key the ledger holds with other content is refused, naming the line and the event; keys survive export, restore and rebuild")
  func keyedImport() throws {
    let seed = try SeedLedger("retry-keys")
    let a = #"{"type":"indicator.observed","effective":"2021-06","key":"batch-1:1","payload":{"indicator":"young-faculty","value":"1","unit":"人"}}"#
    let b = #"{"type":"indicator.observed","effective":"2021-07","key":"batch-1:2","payload":{"indicator":"young-faculty","value":"1","unit":"人"}}"#
    let file = seed.folder.child("keyed.ndjson")
    try (a + "\n" + b + "\n").write(toFile: file, atomically: true, encoding: .utf8)
    #expect(try seed.run(["import", file]).stdout.contains("Imported 2 events"))
    let changed = seed.folder.child("changed.ndjson")
    let c = #"{"type":"indicator.observed","effective":"2021-08","payload":{"indicator":"young-faculty","value":"2","unit":"人"}}"#
    try (c + "\n" + b.replacingOccurrences(of: #""value":"1""#, with: #""value":"3""#) + "\n").write(toFile: changed, atomically: true, encoding: .utf8)
    let refused = try seed.run(["import", changed])
    expectFailure(refused, status: 65, mentioning: ["line 2", "field \"key\"", "already recorded as event 98", "nothing was imported"])
    #expect(try seed.digest().hasPrefix("98:"))

    // Export keeps the key; a restore from it keeps it; rebuild and check cover the index.
    let export = try seed.run(["export"])
    #expect(export.stdout.contains(#""key":"batch-1:1""#))
    let exported = seed.folder.child("export.ndjson")
    try export.stdoutData.write(to: URL(fileURLWithPath: exported))
    let restored = seed.folder.child("restored")
    let restore = try cli(["import", exported, "--ledger", restored])
    #expect(restore.status == 0, "\(restore)")
    let retry = try cli(["import", file, "--ledger", restored])
    #expect(retry.stdout.contains("2 lines were already recorded (events 97–98"), "\(retry)")
    #expect(try cli(["rebuild", "--ledger", restored]).status == 0)
    let check = try cli(["check", "--ledger", restored])
    #expect(check.status == 0, "\(check)")
    #expect(try cli(["import", file, "--ledger", restored]).stdout.contains("Nothing new"))
  }
}
