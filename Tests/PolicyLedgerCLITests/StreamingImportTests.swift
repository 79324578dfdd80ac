import Foundation
import PolicyLedgerTestSupport
import Testing

/// `import` records its input chunk by chunk (1,000 lines) in one transaction: what spans chunks
/// must behave exactly as within one.
@Suite("Streaming import")
struct StreamingImportTests {
  /// An indicator and `count` monthly observations of it, as NDJSON lines.
  func lines(observations count: Int) -> [String] {
    var out = [#"{"type":"indicator.defined","effective":"1990","payload":{"indicator":"long","name":{"ja":"長い系列"},"unit":"件"}}"#]
    for i in 0..<count {
      let year = 1991 + i / 12, month = 1 + i % 12
      let m = month < 10 ? "0\(month)" : "\(month)"
      out.append(#"{"type":"indicator.observed","effective":"\#(year)-\#(m)","payload":{"indicator":"long","value":"\#(i)","unit":"件","period":"\#(year)-\#(m)"}}"#)
    }
    return out
  }

  func write(_ lines: [String], to path: String) throws {
    try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
  }

  @Test("a correction in the third chunk names an event of the first; a bad line in the second chunk names its line and leaves nothing")
  func acrossChunks() throws {
    let folder = TemporaryFolder("streaming-import")
    let ledger = folder.child("ledger")
    // A bad line deep in the second chunk: refused by its line number, nothing written.
    var bad = lines(observations: 1500)
    bad[1499] = #"{"type":"indicator.observed","effective":"2100","payload":{"indicator":"long","value":"1","unit":"人"}}"#
    try write(bad, to: folder.child("bad.ndjson"))
    let refused = try cli(["import", folder.child("bad.ndjson"), "--ledger", ledger])
    #expect(refused.status == 65)
    #expect(refused.stderr.contains("bad.ndjson line 1500, field \"unit\""), "\(refused.stderr)")
    let log = try cli(["log", "--format", "json", "--ledger", ledger])
    #expect(log.status == 66 || log.stdout == "[]\n", "\(log)")

    // 2,500 lines: the correction on the last line names event 2, recorded in the first chunk.
    var good = lines(observations: 2499)
    good.append(#"{"type":"event.corrected","effective":"2030","payload":{"corrects":2,"reason":"typo","payload":{"indicator":"long","value":"1000","unit":"件","period":"1991-01"}}}"#)
    try write(good, to: folder.child("good.ndjson"))
    let imported = try cli(["import", folder.child("good.ndjson"), "--format", "json", "--ledger", ledger])
    #expect(imported.status == 0, "\(imported)")
    let summary = try imported.object()
    #expect(summary["events"] as? Int == 2501 && summary["first"] as? Int == 1 && summary["last"] as? Int == 2501)
    let history = try cli(["history", "long", "--format", "json", "--ledger", ledger]).rows()
    #expect(history.count == 2499)
    #expect(history.first?["status"] as? String == "corrected" && history.first?["currentValue"] as? String == "1000")
    #expect(try cli(["check", "--ledger", ledger]).status == 0)
    // The same file from standard input (spooled) into a second ledger gives the same events.
    let second = folder.child("second")
    let piped = try cli(["import", "-", "--ledger", second], stdin: try Data(contentsOf: URL(fileURLWithPath: folder.child("good.ndjson"))))
    #expect(piped.status == 0, "\(piped)")
    func values(_ path: String) throws -> [String] {
      try cli(["history", "long", "--format", "json", "--ledger", path]).rows().map { "\($0["seq"]!) \($0["value"]!) \($0["status"]!) \($0["currentValue"]!)" }
    }
    #expect(try values(second) == (try values(ledger)))
    #expect(try values(second).count == 2499)
  }
}
