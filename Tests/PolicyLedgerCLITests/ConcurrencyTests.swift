import Foundation
import PolicyLedgerTestSupport
import Testing

@Suite("Two processes appending at once")
struct ConcurrencyTests {
  @Test("two processes appending at once lose nothing and keep the chain valid")
  func twoProcesses() throws {
    let folder = TemporaryFolder("two-processes")
    let ledger = folder.child("ledger")
    let setup = try cli(["record", "indicator-defined", "--ledger", ledger, "--indicator", "shared", "--name-ja", "共有指標",
                         "--unit", "件", "--effective", "2019"])
    #expect(setup.status == 0, "\(setup)")
    // Each process appends 40 observations, one write transaction each, as fast as it can.
    let script = """
      for i in $(seq 1 40); do
        "$0" record indicator-observed --ledger "$1" --indicator shared --value "$2$i" --unit 件 --effective 2020 --actor "$2" >/dev/null || exit 1
      done
      """
    let processes = try ["1", "2"].map { writer -> Process in
      let p = Process()
      p.executableURL = URL(fileURLWithPath: "/bin/bash")
      p.arguments = ["-c", script, cliBinary, ledger, writer]
      try p.run()
      return p
    }
    for p in processes { p.waitUntilExit(); #expect(p.terminationStatus == 0) }
    let verify = try cli(["verify", "--ledger", ledger, "--format", "json"])
    #expect(verify.status == 0, "\(verify)")
    let log = try cli(["log", "--ledger", ledger, "--format", "json", "--limit", "1000"])
    let rows = try log.rows()
    #expect(rows.count == 81)
    let sequences = rows.compactMap { ($0["seq"] as? Int) ?? ($0["sequence"] as? Int) }
    #expect(sequences == Array(1...81))
    let actors = rows.compactMap { $0["actor"] as? String }
    #expect(actors.filter { $0 == "1" }.count == 40)
    #expect(actors.filter { $0 == "2" }.count == 40)
    // The two writers really ran at the same time: their events interleave in the log.
    let switches = zip(actors.dropFirst(), actors.dropFirst(2)).filter { $0 != $1 }.count
    #expect(switches >= 2, "the writers did not overlap: \(actors)")
    let check = try cli(["check", "--ledger", ledger])
    #expect(check.status == 0, "\(check)")
  }
}
