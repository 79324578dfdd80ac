import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PolicyLedgerTestSupport
import Testing

/// `policy-ledger serve --port 0` in its own process, on loopback; stopped when the test ends.
final class ServedLedger {
  let process = Process()
  let port: Int
  let banner: String
  private let scratch = TemporaryFolder("serve")

  init(ledger: String) throws {
    let outPath = scratch.child("stdout"), errPath = scratch.child("stderr")
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    process.executableURL = URL(fileURLWithPath: cliBinary)
    process.arguments = ["serve", "--port", "0", "--ledger", ledger]
    process.standardOutput = try #require(FileHandle(forWritingAtPath: outPath))
    process.standardError = try #require(FileHandle(forWritingAtPath: errPath))
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Wait (at most 60 s) for the one line that names the port.
    let deadline = Date().addingTimeInterval(60)
    var line = ""
    while Date() < deadline {
      line = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
      if line.contains("\n") || !process.isRunning { break }
      Thread.sleep(forTimeInterval: 0.05)
    }
    banner = line
    guard let range = line.range(of: #"127\.0\.0\.1:([0-9]+)/"#, options: .regularExpression),
          let port = Int(line[range].dropFirst("127.0.0.1:".count).dropLast()) else {
      process.terminate()
      let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
      throw CLITestError("serve did not start: stdout \(line) stderr \(stderr)")
    }
    self.port = port
  }

  deinit {
    if process.isRunning { process.terminate(); process.waitUntilExit() }
  }

  struct Answer {
    let status: Int
    let headers: [String: String]
    let body: String
    func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
  }

  /// One request with Foundation's URLSession, waited for (at most 30 s).
  func fetch(_ path: String, method: String = "GET") throws -> Answer {
    var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)\(path)")))
    request.httpMethod = method
    request.timeoutInterval = 30
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: Result<Answer, any Error> = .failure(CLITestError("no answer"))
    URLSession.shared.dataTask(with: request) { data, response, error in
      if let error { result = .failure(error) } else if let http = response as? HTTPURLResponse {
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields { headers["\(k)"] = "\(v)" }
        result = .success(Answer(status: http.statusCode, headers: headers, body: String(decoding: data ?? Data(), as: UTF8.self)))
      }
      done.signal()
    }.resume()
    _ = done.wait(timeout: .now() + 35)
    return try result.get()
  }
}

/// `path` with the query percent-encoded.
func q(_ path: String, _ parameters: [(String, String)]) -> String {
  var allowed = CharacterSet.alphanumerics
  allowed.insert(charactersIn: "-._~")
  return path + "?" + parameters.map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
}

@Suite("policy-ledger serve: the read-only web view", .serialized)
struct WebTests {
  @Test("pages answer with the seed's data, a strict CSP and no script; links keep the clocks; the API has the CLI's JSON shapes")
  func pages() throws {
    let seed = try SeedLedger("web-pages")
    let server = try ServedLedger(ledger: seed.path)
    #expect(server.banner.contains("read-only at http://127.0.0.1:"))

    let home = try server.fetch("/")
    #expect(home.status == 200)
    #expect(home.header("Content-Type")?.hasPrefix("text/html") == true)
    let csp = try #require(home.header("Content-Security-Policy"))
    #expect(csp.contains("default-src 'none'") && !csp.contains("script-src") && !csp.contains("unsafe-inline"))
    #expect(home.body.contains("総合科学技術・イノベーション会議"))
    #expect(!home.body.contains("<script"))
    #expect(!home.body.contains("http://") && !home.body.contains("https://"), "no external asset")

    // The roster on a date written in 和暦; the link to it keeps the date.
    let roster = try server.fetch(q("/bodies/basic-plan-panel", [("asOf", "令和2年3月26日")]))
    #expect(roster.status == 200, "\(roster.body)")
    #expect(roster.body.contains("上山 隆大") && roster.body.contains("久能 祐子"))
    #expect(roster.body.components(separatedBy: "<tr>").count - 2 == 19, "19 members")
    #expect(roster.body.contains("value=\"令和2年3月26日\""))
    #expect(roster.body.contains("基本計画専門調査会の委員構成の推移") && roster.body.components(separatedBy: "data-role=").count - 1 == 19)
    let before = try server.fetch(q("/bodies/basic-plan-panel", [("asOf", "平成31年3月31日")]))
    #expect(before.status == 404)
    let tree = try server.fetch(q("/", [("asOf", "令和2年3月26日")]))
    #expect(tree.body.contains("href=\"/bodies/basic-plan-panel?asOf=%E4%BB%A4%E5%92%8C2%E5%B9%B43%E6%9C%8826%E6%97%A5\""), "links reproduce the view")

    let progress = try server.fetch(q("/progress", [("asOf", "2020-12-31")]))
    #expect(progress.body.contains("✓") && progress.body.contains("✗") && progress.body.contains("１割増加（48,139人）"))

    let indicator = try server.fetch(q("/indicators/young-faculty", [("asOf", "2020-12-31")]))
    #expect(indicator.status == 200)
    #expect(indicator.body.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""))
    #expect(indicator.body.contains("43,153人"))
    let chart = try server.fetch(q("/indicators/young-faculty/chart.svg", [("asOf", "2020-12-31")]))
    #expect(chart.header("Content-Type")?.hasPrefix("image/svg+xml") == true)
    #expect(chart.body == (try String(contentsOfFile: repositoryRoot + "/docs/young-faculty.svg", encoding: .utf8)))

    let log = try server.fetch(q("/log", [("page", "2")]))
    #expect(log.status == 200 && log.body.contains("← 前へ") && log.body.contains(">51<"))
    let filtered = try server.fetch(q("/log", [("type", "indicator.observed")]))
    #expect(!filtered.body.contains(">body.established<") && filtered.body.contains(">indicator.observed<"))

    let integrity = try server.fetch("/integrity")
    #expect(integrity.body.contains(try seed.digest()))
    #expect(integrity.body.contains("ハッシュ連鎖は完全です"))
    // Actors' signatures: none in the seed (no key registered), the policy optional.
    let flat = integrity.body.replacingOccurrences(of: "\\s+", with: "", options: .regularExpression)
    #expect(flat.contains("署名のない事象</td><td>96<") && flat.contains("署名の方針</td><td>任意<"), "\(integrity.body)")
    #expect(log.body.contains("<th>署名</th>"))

    // The JSON API: byte for byte what --format json prints.
    for (path, arguments) in [
      (q("/api/bodies/basic-plan-panel/members", [("asOf", "2020-03-26")]), ["members", "basic-plan-panel", "--as-of", "2020-03-26", "--format", "json"]),
      (q("/api/progress", [("asOf", "2020-12-31")]), ["progress", "--as-of", "2020-12-31", "--format", "json"]),
      (q("/api/bodies", [("asOf", "2014-04-30")]), ["bodies", "--as-of", "2014-04-30", "--format", "json"]),
      ("/api/indicators/young-faculty/history", ["history", "young-faculty", "--format", "json"]),
      ("/api/integrity", ["verify", "--format", "json"]),
      (q("/api/log", [("limit", "5")]), ["log", "--limit", "5", "--format", "json"]),
    ] {
      let api = try server.fetch(path)
      #expect(api.status == 200, "\(path): \(api.body)")
      #expect(api.header("Content-Type")?.hasPrefix("application/json") == true)
      if path == "/api/integrity" {
        // verify's JSON, plus the head's checkpoint body.
        var served = try #require(try JSONSerialization.jsonObject(with: Data(api.body.utf8)) as? [String: Any])
        #expect(served.removeValue(forKey: "headCheckpoint") != nil)
        let printed = try #require(try seed.run(arguments).json() as? [String: Any])
        #expect(NSDictionary(dictionary: served) == NSDictionary(dictionary: printed))
        continue
      }
      #expect(api.body == (try seed.run(arguments)).stdout, "\(path)")
    }
    #expect(try server.fetch("/api/bodies/no-such/members").status == 404)
  }

  @Test("read-only: POST, PUT, DELETE and PATCH answer 405 with Allow; unknown paths 404; a bad date 400, escaped")
  func readOnly() throws {
    let seed = try SeedLedger("web-405")
    let digest = try seed.digest()
    let server = try ServedLedger(ledger: seed.path)
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
      for path in ["/", "/api/progress", "/bodies/csti"] {
        let answer = try server.fetch(path, method: method)
        #expect(answer.status == 405, "\(method) \(path)")
        #expect(answer.header("Allow") == "GET, HEAD")
        #expect(answer.header("Content-Security-Policy") != nil)
      }
    }
    #expect(try server.fetch("/no/such/page").status == 404)
    // HEAD answers as GET would, without a body.
    let head = try server.fetch("/progress", method: "HEAD")
    #expect(head.status == 200 && head.body.isEmpty)
    #expect(head.header("Content-Type")?.hasPrefix("text/html") == true)
    #expect(try server.fetch("/bodies/no-such", method: "HEAD").status == 404)
    let bad = try server.fetch(q("/progress", [("asOf", "<script>x</script>")]))
    #expect(bad.status == 400)
    #expect(bad.body.contains("&lt;script&gt;x&lt;/script&gt;"))
    #expect(!bad.body.contains("<script>"))
    #expect(try server.fetch(q("/api/progress", [("asOf", "令和0年")])).status == 400)
    #expect(try seed.digest() == digest)
  }

  @Test("a member named <script>… shows as text on every page and in the chart")
  func escaping() throws {
    let seed = try SeedLedger("web-escape")
    let name = "<script>alert(\"x\")</script> & &lt;b&gt;"
    let appointed = try seed.run(["record", "member-appointed", "--body", "csti", "--person", "p-x", "--name-ja", name, "--role", "member",
                                  "--affiliation", "<img src=x onerror=alert(1)>", "--effective", "2021-04-01"])
    #expect(appointed.status == 0, "\(appointed)")
    let server = try ServedLedger(ledger: seed.path)
    let page = try server.fetch(q("/bodies/csti", [("asOf", "2021-04-02")]))
    #expect(page.status == 200)
    #expect(page.body.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &amp;lt;b&amp;gt;"), "\(page.body)")
    #expect(page.body.contains("&lt;img src=x onerror=alert(1)&gt;"))
    #expect(!page.body.contains("<script") && !page.body.contains("<img"))
    // A parameter kept in a link or a form field is escaped too.
    let log = try server.fetch(q("/log", [("actor", "\"><script>y</script>")]))
    #expect(!log.body.contains("<script") && log.body.contains("&quot;&gt;&lt;script&gt;y&lt;/script&gt;"))
  }

  @Test("integrity shows the head's checkpoint body and checks a pasted signed checkpoint (read-only); /api/integrity too")
  func checkpoints() throws {
    let ledger = try ProvenLedger("web-checkpoint")
    let server = try ServedLedger(ledger: ledger.path)
    // The body `checkpoint` signs now: origin, size and base64 root, shown on the page.
    let signedNow = try ledger.run(["checkpoint", "--key", ledger.keyFile])
    #expect(signedNow.status == 0, "\(signedNow)")
    let body = try #require(signedNow.stdout.components(separatedBy: "\n\n").first)
    let lines = body.split(separator: "\n").map(String.init)
    #expect(lines.count == 3 && lines[1] == "96")
    let page = try server.fetch("/integrity")
    #expect(page.status == 200)
    #expect(page.body.contains(lines[0] + "\n" + lines[1] + "\n" + lines[2]), "\(page.body)")
    #expect(page.body.contains("name=\"checkpoint\"") && page.body.contains("name=\"key\""))

    // A checkpoint of the first 50 events, signed by the log key: it matches, and the head extends it.
    let cp50 = try String(contentsOfFile: ledger.checkpoint50, encoding: .utf8)
    let before = try Data(contentsOf: URL(fileURLWithPath: ledger.path + "/data.mdb"))
    let good = try server.fetch(q("/integrity", [("checkpoint", cp50.replacingOccurrences(of: "\n", with: "\r\n")), ("key", ledger.verifierKey)]))
    #expect(good.status == 200)
    #expect(good.body.contains("一致: csti-log が署名した大きさ 50 のチェックポイント"), "\(good.body)")
    // Another key: refused, and said why.
    let otherKey = try ledger.run(["keys", "generate", "--name", "someone-else", "--output", ledger.folder.child("other.key")])
    let wrong = try server.fetch(q("/integrity", [("checkpoint", cp50), ("key", otherKey.stdout.trimmingCharacters(in: .whitespacesAndNewlines))]))
    #expect(wrong.body.contains("照合できません") && wrong.body.contains("no signature by the given key"), "\(wrong.body)")
    // A tampered root: refused.
    var cpLines = cp50.components(separatedBy: "\n")
    cpLines[1] = "49"
    let altered = try server.fetch(q("/integrity", [("checkpoint", cpLines.joined(separator: "\n")), ("key", ledger.verifierKey)]))
    #expect(altered.body.contains("照合できません") && !altered.body.contains("一致:"), "\(altered.body)")
    let half = try server.fetch(q("/integrity", [("key", ledger.verifierKey)]))
    #expect(half.body.contains("両方を入れてください"))
    // Checking wrote nothing.
    #expect(try Data(contentsOf: URL(fileURLWithPath: ledger.path + "/data.mdb")) == before)

    // The API: verify --checkpoint --key's JSON, with the head checkpoint.
    let api = try server.fetch(q("/api/integrity", [("checkpoint", cp50), ("key", ledger.verifierKey)]))
    #expect(api.status == 200, "\(api.body)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(api.body.utf8)) as? [String: Any])
    let checked = try #require(json["checkpoint"] as? [String: Any])
    #expect(checked["extended"] as? Bool == true && checked["size"] as? Int == 50)
    let head = try #require(json["headCheckpoint"] as? [String: Any])
    #expect(head["size"] as? Int == 96 && head["text"] as? String == body + "\n" && head["rootHash"] as? String == lines[2])
    #expect(try server.fetch(q("/api/integrity", [("checkpoint", cp50)])).status == 400)
  }

  @Test("dates=iso|wareki: pages print dates in that style (和暦 by default), links and forms keep it, a bad one is 400")
  func datesParameter() throws {
    let seed = try SeedLedger("web-dates")
    let server = try ServedLedger(ledger: seed.path)
    let wareki = try server.fetch(q("/bodies/basic-plan-panel", [("asOf", "2020-03-26")]))
    #expect(wareki.body.contains("時点: 令和2年3月26日"))
    let iso = try server.fetch(q("/bodies/basic-plan-panel", [("asOf", "2020-03-26"), ("dates", "iso")]))
    #expect(iso.status == 200)
    #expect(iso.body.contains("時点: 2020-03-26") && !iso.body.contains("時点: 令和"), "\(iso.body)")
    #expect(iso.body.contains("name=\"dates\" value=\"iso\""), "the clock form keeps dates")
    let tree = try server.fetch(q("/", [("asOf", "2020-03-26"), ("dates", "iso")]))
    #expect(tree.body.contains("href=\"/bodies/basic-plan-panel?asOf=2020-03-26&amp;dates=iso\""), "links keep dates")
    #expect(tree.body.contains("href=\"/progress?asOf=2020-03-26&amp;dates=iso\""))
    let explicit = try server.fetch(q("/progress", [("asOf", "2020-12-31"), ("dates", "wareki")]))
    #expect(explicit.body.contains("令和2年12月31日"))
    let bad = try server.fetch(q("/", [("dates", "<b>meiji")]))
    #expect(bad.status == 400 && bad.body.contains("&lt;b&gt;meiji") && !bad.body.contains("<b>meiji"))
  }

  @Test("it answers while another process records, and shows the new head after")
  func answersWhileWriting() throws {
    let seed = try SeedLedger("web-concurrent")
    let server = try ServedLedger(ledger: seed.path)
    let writer = Thread {
      for i in 0..<8 {
        _ = try? seed.run(["record", "indicator-observed", "--indicator", "young-faculty", "--value", String(44000 + i), "--unit", "人",
                           "--effective", "2021-0\(i + 1)"])
      }
    }
    writer.start()
    var statuses: [Int] = []
    for _ in 0..<8 { statuses.append(try server.fetch("/progress").status) }
    while writer.isExecuting || !writer.isFinished { Thread.sleep(forTimeInterval: 0.1) }
    #expect(statuses.allSatisfy { $0 == 200 })
    let integrity = try server.fetch("/api/integrity")
    #expect(integrity.body.contains(try seed.digest().components(separatedBy: ":")[1]), "\(integrity.body)")
    let history = try server.fetch("/indicators/young-faculty")
    #expect(history.body.contains("44,007人"))
  }
}
