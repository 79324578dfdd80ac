import Foundation
import PolicyLedgerTestSupport
import Testing

/// Debian's headless Chromium, when installed (`.ci/run` installs it).
let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// Runs headless Chromium on `url` with `arguments` (`--screenshot=…`, `--dump-dom`), at most 90 s.
func runChromium(_ arguments: [String], url: String, profile: TemporaryFolder) throws -> (stdout: String, stderr: String, status: Int32) {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: chromium!)
  p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-extensions",
                 "--user-data-dir=\(profile.path)", "--enable-logging=stderr", "--v=0", "--window-size=1100,1100"] + arguments + [url]
  let out = profile.child("chromium.out"), err = profile.child("chromium.err")
  _ = FileManager.default.createFile(atPath: out, contents: nil)
  _ = FileManager.default.createFile(atPath: err, contents: nil)
  p.standardOutput = try #require(FileHandle(forWritingAtPath: out))
  p.standardError = try #require(FileHandle(forWritingAtPath: err))
  p.standardInput = FileHandle.nullDevice
  try p.run()
  let deadline = Date().addingTimeInterval(90)
  while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
  if p.isRunning { p.terminate(); p.waitUntilExit() }
  return (try String(contentsOfFile: out, encoding: .utf8), try String(contentsOfFile: err, encoding: .utf8), p.terminationStatus)
}

@Suite("the web view in a real browser (headless Chromium)", .serialized,
       .enabled(if: chromium != nil, "headless Chromium is not installed (apt-get install -y chromium); .ci/run installs it"))
struct BrowserTests {
  @Test("every page renders in Chromium: a screenshot that is not blank, the chart's SVG in the DOM, no console error, escaping held")
  func pagesRender() throws {
    let seed = try SeedLedger("browser")
    #expect(try seed.run(["record", "member-appointed", "--body", "csti", "--person", "p-x", "--name-ja", "<script>document.title='pwned'</script>",
                          "--role", "member", "--affiliation", "<img src=x onerror=alert(1)>", "--effective", "2021-04-01"]).status == 0)
    let server = try ServedLedger(ledger: seed.path)
    let pages: [(String, [String])] = [
      ("/", ["総合科学技術・イノベーション会議", "基本計画専門調査会"]),
      (q("/bodies/basic-plan-panel", [("asOf", "令和2年3月26日")]), ["上山 隆大", "久能 祐子"]),
      (q("/bodies/csti", [("asOf", "2021-04-02")]), ["&lt;script&gt;document.title='pwned'&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;"]),
      (q("/progress", [("asOf", "2020-12-31")]), ["✓", "✗"]),
      (q("/indicators/young-faculty", [("asOf", "2020-12-31")]), ["<svg", "43,153人", "目標値"]),
      ("/log", ["body.established"]),
      ("/integrity", ["ハッシュ連鎖は完全です"]),
    ]
    for (index, (path, needles)) in pages.enumerated() {
      let url = "http://127.0.0.1:\(server.port)\(path)"
      let profile = TemporaryFolder("chromium-\(index)")
      // The DOM after the browser has parsed the page (and run whatever it would run).
      let dom = try runChromium(["--dump-dom"], url: url, profile: profile)
      #expect(dom.status == 0, "\(path): \(dom.stderr.suffix(500))")
      for needle in needles { #expect(dom.stdout.contains(needle), "\(path) should show \(needle)") }
      #expect(!dom.stdout.contains("<title>pwned"), "\(path): a stored script ran")
      #expect(!dom.stdout.contains("<script") && !dom.stdout.contains("<img"), "\(path): markup from the ledger became elements")
      // Chromium logs console messages and CSP refusals on stderr.
      for bad in ["Refused to", "Uncaught", "CONSOLE"] {
        #expect(!dom.stderr.contains(bad), "\(path): \(dom.stderr.components(separatedBy: "\n").filter { $0.contains(bad) })")
      }
      // A screenshot: a blank page compresses to a few KiB; a rendered one is far larger.
      let png = profile.child("page.png")
      let shot = try runChromium(["--screenshot=\(png)"], url: url, profile: TemporaryFolder("chromium-shot-\(index)"))
      let data = try Data(contentsOf: URL(fileURLWithPath: png))
      #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "\(path): not a PNG: \(shot.stderr.suffix(300))")
      #expect(data.count > 20_000, "\(path): the screenshot looks blank (\(data.count) bytes)")
      if let keep = ProcessInfo.processInfo.environment["POLICY_LEDGER_SCREENSHOTS"], !keep.isEmpty {
        try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
        try? data.write(to: URL(fileURLWithPath: keep + "/page-\(index).png"))
      }
    }
  }
}
