import Foundation
import PolicyLedgerTestSupport
import Testing

@Suite("policy-ledger chart")
struct ChartCommandTests {
  @Test("chart writes the seed's ❶ SVG, identical to docs/young-faculty.svg")
  func chartCommand() throws {
    let seed = try SeedLedger("chart")
    let out = seed.folder.child("young.svg")
    let result = try seed.run(["chart", "young-faculty", "--as-of", "2020-12-31", "--output", out])
    #expect(result.status == 0, "\(result)")
    #expect(result.stdout.contains("Wrote \(out)"))
    let svg = try String(contentsOfFile: out, encoding: .utf8)
    #expect(svg == (try String(contentsOfFile: repositoryRoot + "/docs/young-faculty.svg", encoding: .utf8)))
    let stdout = try seed.run(["chart", "young-faculty", "--as-of", "令和2年12月31日", "--output", "-"])
    #expect(stdout.stdout == svg)
    expectFailure(try seed.run(["chart", "no-such", "--output", out]), status: 66, mentioning: ["no indicator \"no-such\""])
    expectFailure(try seed.run(["chart", "young-faculty"]), status: 64, mentioning: ["--output"])
  }
}
