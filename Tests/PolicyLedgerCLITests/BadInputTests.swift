import Foundation
import PolicyLedgerStorage
import PolicyLedgerTestSupport
import Testing

@Suite("policy-ledger never crashes on bad input")
struct BadInputTests {
  @Test("import refuses empty, huge-line, non-UTF-8, binary, prose and non-regular input with one clear line")
  func badFiles() throws {
    let folder = TemporaryFolder("cli-bad-input")
    let ledger = folder.child("ledger")
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
      let path = folder.child(name)
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      return path
    }
    let empty = try write("empty.ndjson", [])
    expectFailure(try cli(["import", empty, "--ledger", ledger]), status: 65, mentioning: ["empty.ndjson", "empty"])

    let huge = try write("huge.ndjson", Array(#"{"type":""#.utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 10 << 20) + Array(#""}"#.utf8) + [0x0A])
    expectFailure(try cli(["import", huge, "--ledger", ledger]), status: 65, mentioning: ["huge.ndjson line 1", "longer than 1048576 bytes"])

    let line = #"{"type":"body.established","effective":"2020","payload":{"body":"x","kind":"council","name":{"ja":"#
    let latin1 = try write("latin1.ndjson", Array(line.utf8) + [0x22, 0xE9, 0x22] + Array("}}}\n".utf8))
    expectFailure(try cli(["import", latin1, "--ledger", ledger]), status: 65, mentioning: ["latin1.ndjson line 1", "not valid UTF-8", "0xE9"])

    let png = try write("picture.ndjson", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0, 0, 1, 0])
    expectFailure(try cli(["import", png, "--ledger", ledger]), status: 65, mentioning: ["line 1", "PNG image", "not NDJSON"])

    let prose = try write("notes.txt", Array("The council met on 26 March.\nNothing else happened.\n".utf8))
    expectFailure(try cli(["import", prose, "--ledger", ledger]), status: 65, mentioning: ["notes.txt line 1", "not valid JSON"])

    let blank = try write("blank.ndjson", Array("\n  \n\t\n".utf8))
    expectFailure(try cli(["import", blank, "--ledger", ledger]), status: 65, mentioning: ["no events"])

    expectFailure(try cli(["import", folder.path, "--ledger", ledger]), status: 66, mentioning: ["is a folder", "not a regular file"])
    expectFailure(try cli(["import", folder.child("absent.ndjson"), "--ledger", ledger]), status: 66, mentioning: ["no file at", "absent.ndjson"])
    expectFailure(try cli(["import", "-", "--ledger", ledger], stdin: Data()), status: 65, mentioning: ["standard input", "empty"])
    // None of these created a ledger.
    #expect(!FileManager.default.fileExists(atPath: ledger))
    // Standard input works for good data.
    let piped = try cli(["import", "-", "--ledger", ledger], stdin: try Data(contentsOf: URL(fileURLWithPath: seedFixturePath)))
    #expect(piped.status == 0, "\(piped)")
  }

  @Test("read commands on a missing ledger exit 66 and create nothing; bad flags exit 64")
  func missingLedger() throws {
    let folder = TemporaryFolder("cli-missing")
    let path = folder.child("nowhere")
    for command in [["members", "basic-plan-panel"], ["bodies"], ["progress"], ["state"], ["log"], ["verify"], ["digest"], ["export"], ["check"],
                    ["history", "young-faculty"], ["audit", "csti"], ["decisions"], ["indicators"], ["diff", "--from", "2020-01-01"]] {
      expectFailure(try cli(command + ["--ledger", path]), status: 66, mentioning: ["no ledger at \(path)"])
    }
    #expect(!FileManager.default.fileExists(atPath: path))
    // A folder that holds no ledger is not a ledger either.
    expectFailure(try cli(["state", "--ledger", folder.path]), status: 66, mentioning: ["no ledger at"])
    expectFailure(try cli(["members"]), status: 64, mentioning: ["<body>"])
    expectFailure(try cli(["progress", "--format", "xml"]), status: 64, mentioning: ["xml", "table"])
    expectFailure(try cli(["no-such-command"]), status: 64, mentioning: ["no-such-command"])
    expectFailure(try cli(["log", "--limit", "0", "--ledger", path]), status: 64, mentioning: ["--limit"])
  }

  @Test("a read-only ledger: reading works, record fails with exit 74")
  func readOnlyLedger() throws {
    let seed = try SeedLedger("read-only")
    let copy = seed.folder.child("read-only-copy")
    try FileManager.default.copyItem(atPath: seed.path, toPath: copy)
    var prefix: [String] = []
    if geteuid() == 0 {
      // Root ignores file permissions: run as nobody on a copy nobody owns.
      guard let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
        Issue.record("setpriv is missing: the read-only ledger check could not run as an unprivileged user")
        return
      }
      let chown = Process()
      chown.executableURL = URL(fileURLWithPath: "/bin/chown")
      chown.arguments = ["-R", "65534:65534", copy]
      try chown.run()
      chown.waitUntilExit()
      #expect(chown.terminationStatus == 0)
      prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    }
    let chmod = Process()
    chmod.executableURL = URL(fileURLWithPath: "/bin/chmod")
    chmod.arguments = ["-R", "a-w", copy]
    try chmod.run()
    chmod.waitUntilExit()
    defer {
      // Let the temporary folder be removed.
      _ = try? Process.run(URL(fileURLWithPath: "/bin/chmod"), arguments: ["-R", "u+w", copy]).waitUntilExit()
    }
    let members = try cli(["members", "basic-plan-panel", "--as-of", "2020-03-26", "--ledger", copy], prefix: prefix)
    #expect(members.status == 0, "\(members)")
    #expect(tableRows(members.stdout).count == 19)
    #expect(try cli(["verify", "--ledger", copy], prefix: prefix).status == 0)
    let record = try cli(["record", "body-dissolved", "--body", "cabinet", "--effective", "2030", "--ledger", copy], prefix: prefix)
    expectFailure(record, status: 74, mentioning: ["permission denied", "read-only"])
    let importing = try cli(["import", seedFixturePath, "--ledger", copy], prefix: prefix)
    expectFailure(importing, status: 74, mentioning: ["permission denied"])
    #expect(try cli(["digest", "--ledger", copy], prefix: prefix).stdout.hasPrefix("96:"))
  }

  @Test("--help, --version, shell completion and the demo")
  func helpAndDemo() throws {
    let help = try cli(["--help"])
    #expect(help.status == 0)
    for needle in ["EXIT STATUS", "64", "65", "66", "74", "POLICY_LEDGER_PATH", "--generate-completion-script", "members", "progress"] {
      #expect(help.stdout.contains(needle), "\(needle)")
    }
    let recordHelp = try cli(["record", "member-appointed", "--help"])
    #expect(recordHelp.status == 0)
    #expect(recordHelp.stdout.contains("--affiliation"))
    #expect(recordHelp.stdout.contains("--expected-version"))
    #expect(try cli(["progress", "--help"]).stdout.contains("--known-at"))
    let version = try cli(["--version"])
    #expect(version.status == 0)
    #expect(version.stdout.contains("policy-ledger"))
    let completion = try cli(["--generate-completion-script", "bash"])
    #expect(completion.status == 0)
    #expect(completion.stdout.contains("policy-ledger"))

    let demo = try cli(["demo"], directory: repositoryRoot)
    #expect(demo.status == 0, "\(demo)")
    for needle in ["上山 隆大", "as of 2014-04-30: 総合科学技術会議", "as of 2014-05-01: 総合科学技術・イノベーション会議", "43,153人", "48,139.3人", "valid: 96 events checked", "digest: 96:", "deleted"] {
      #expect(demo.stdout.contains(needle), "\(needle)")
    }
    // Found from the executable's folder too, when the current folder is elsewhere.
    let elsewhere = TemporaryFolder("cli-demo")
    #expect(try cli(["demo"], directory: elsewhere.path).status == 0)
    expectFailure(try cli(["demo", "--fixture", elsewhere.child("none.ndjson")], directory: elsewhere.path), status: 66, mentioning: ["no file at"])
  }
}

@Suite("policy-ledger finds damage")
struct DamageTests {
  @Test("check exits 1 listing a projection that differs from a replay; rebuild repairs it")
  func damagedProjection() throws {
    let seed = try SeedLedger("damaged-projection")
    try damage(seed.path) { txn in
      let entities = try #require(try txn.database(named: "proj.entities", create: false))
      let key = try #require(try txn.withCursor(entities) { try $0.first()?.key })
      #expect(try txn.delete(key, in: entities))
    }
    let check = try seed.run(["check"])
    expectFailure(check, status: 1, mentioning: ["the projections differ from a fresh replay in 1 place;", "policy-ledger rebuild"])
    #expect(tableRows(check.stdout).count == 1)
    #expect(tableRows(check.stdout).first?.contains("missing from the stored projections") == true)
    let json = try seed.run(["check", "--format", "json"])
    #expect(json.status == 1)
    #expect(try json.object()["consistent"] as? Bool == false)
    #expect(try seed.run(["rebuild"]).status == 0)
    #expect(try seed.run(["check"]).status == 0)
    // A snapshot row whose bytes were damaged: reads say so and point to rebuild, which repairs it.
    try damage(seed.path) { txn in
      let snapshots = try #require(try txn.database(named: "proj.snapshots", create: false))
      let prefix = Array("body:csti".utf8) + [0]
      let (key, value) = try #require(try txn.withCursor(snapshots) { c -> ([UInt8], [UInt8])? in
        var entry = try c.seek(atLeast: prefix)
        var last: ([UInt8], [UInt8])?
        while let e = entry, e.key.starts(with: prefix) { last = (e.key, e.value); entry = try c.next() }
        return last
      })
      var broken = value
      broken[broken.count / 2] = 0xFF
      try txn.put(broken, for: key, in: snapshots)
    }
    expectFailure(try seed.run(["bodies"]), status: 74, mentioning: ["a stored state of body:csti is damaged", "policy-ledger rebuild"])
    #expect(try seed.run(["rebuild"]).status == 0)
    #expect(try seed.run(["bodies"]).status == 0)
  }

  @Test("verify exits 1 naming the first event whose bytes were changed")
  func damagedEvent() throws {
    let seed = try SeedLedger("damaged-event")
    let digest = try seed.digest()
    try damage(seed.path) { txn in
      let events = try #require(try txn.database(named: "events", create: false))
      let key: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 5]
      var record = try #require(try txn.value(for: key, in: events))
      // Change one byte of the event's canonical bytes (after the 65-byte header): 1996 → 1997 style.
      let index = try #require(record.indices.dropFirst(65).first { record[$0] == UInt8(ascii: "0") })
      record[index] = UInt8(ascii: "1")
      try txn.put(record, for: key, in: events)
    }
    let verify = try seed.run(["verify"])
    expectFailure(verify, status: 1, mentioning: ["verification failed at event 5", "changed"])
    #expect(verify.stdout.contains("Checked 4 events"))
    let report = try seed.run(["verify", "--format", "json"])
    #expect(report.status == 1)
    let object = try report.object()
    #expect(object["valid"] as? Bool == false)
    #expect((object["failure"] as? [String: Any])?["sequence"] as? Int == 5)
    #expect(try seed.run(["verify", "--digest", digest]).status == 1)
    // Nothing replays or copies a log that fails verification: a rebuild would make the altered
    // event look consistent, and a backup would look like a good ledger.
    expectFailure(try seed.run(["check"]), status: 1, mentioning: ["fails verification at event 5"])
    expectFailure(try seed.run(["rebuild"]), status: 1, mentioning: ["fails verification at event 5"])
    let exported = seed.folder.child("damaged.ndjson")
    expectFailure(try seed.run(["export", "--output", exported]), status: 1, mentioning: ["fails verification at event 5", "nothing was exported"])
    #expect(!FileManager.default.fileExists(atPath: exported))
    let backup = seed.folder.child("backup")
    expectFailure(try seed.run(["backup", backup]), status: 1, mentioning: ["fails verification at event 5", "no backup was made"])
    #expect(!FileManager.default.fileExists(atPath: backup))
  }

  @Test("a zeroed page anywhere in data.mdb: verify and backup report it (exit 1 or 74, one error line), never a crash")
  func zeroedPages() throws {
    let seed = try SeedLedger("zeroed-pages")
    let original = try Data(contentsOf: URL(fileURLWithPath: seed.path + "/data.mdb"))
    let pageSize = 4096
    var damageReports = 0
    // Pages 0 and 1 are LMDB's meta pages (refused at open); every other page is tried.
    for page in 2..<(original.count / pageSize) {
      let copy = seed.folder.child("page-\(page)")
      try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
      var bytes = original
      bytes.replaceSubrange((page * pageSize)..<((page + 1) * pageSize), with: Data(count: pageSize))
      try bytes.write(to: URL(fileURLWithPath: copy + "/data.mdb"))
      // verify, and backup (whose compacting copy used to crash inside LMDB on such pages).
      let backup = try cli(["backup", copy + "-backup", "--ledger", copy])
      #expect([0, 1, 74].contains(backup.status) && !backup.stderr.contains("crashed"), "page \(page): \(backup)")
      if backup.status != 0 { #expect(!FileManager.default.fileExists(atPath: copy + "-backup"), "page \(page)") }
      try? FileManager.default.removeItem(atPath: copy + "-backup")
      let result = try cli(["verify", "--ledger", copy])
      #expect([0, 1, 74].contains(result.status), "page \(page): \(result)")
      for bad in ["Fatal error", "Stack dump", "crashed", "Backtracing", "Segmentation"] {
        #expect(!result.stderr.contains(bad), "page \(page): \(result.stderr)")
      }
      if result.status == 74 {
        expectFailure(result, status: 74, mentioning: ["is damaged", "restore the ledger from a backup"])
        damageReports += 1
      }
      try FileManager.default.removeItem(atPath: copy)
    }
    // Some pages (the events database's branch pages) are ones LMDB cannot follow at all.
    #expect(damageReports > 0)
  }

  @Test("record --json with an id the grammar refuses exits 65 naming the field, and records nothing")
  func recordJSONBadIDs() throws {
    let seed = try SeedLedger("json-bad-ids")
    let digest = try seed.digest()
    let cases: [(type: String, payload: String, field: String)] = [
      ("body.established", #"{"body":"a b","kind":"council","name":{"ja":"x"}}"#, "body"),
      ("body.established", #"{"body":"é","kind":"council","name":{"ja":"x"}}"#, "body"),
      ("body.established", #"{"body":"wg","kind":"council","name":{"ja":"x"},"parent":"ｃｓｔｉ"}"#, "parent"),
      ("member.appointed", #"{"body":"csti","person":"a\u0000","name":{"ja":"x"},"role":"member","affiliations":["x"]}"#, "person"),
      ("indicator.observed", #"{"indicator":"a/../b c","value":"1","unit":"人"}"#, "indicator"),
      ("decision.scheduled", "{\"decision\":\"" + String(repeating: "d", count: 5000) + #"","body":"csti","kind":"report","title":"t","planned":"2021-03"}"#, "decision"),
    ]
    for c in cases {
      let line = #"{"type":""# + c.type + #"","effective":"2020-01-01","payload":"# + c.payload + "}"
      expectFailure(try seed.run(["record", "--json", line]), status: 65, mentioning: [c.type, c.field])
    }
    #expect(try seed.digest() == digest)
  }

  @Test("mistakes that used to pass: backup into a ledger folder, rebuild of a missing ledger, known-at past the head, an unknown word")
  func quietMistakes() throws {
    let seed = try SeedLedger("quiet-mistakes")
    expectFailure(try seed.run(["backup", seed.path + "/inner"]), status: 64, mentioning: ["inside the ledger folder"])
    #expect(!FileManager.default.fileExists(atPath: seed.path + "/inner"))
    let missing = seed.folder.child("typo")
    expectFailure(try cli(["rebuild", "--ledger", missing]), status: 66, mentioning: ["no ledger at"])
    #expect(!FileManager.default.fileExists(atPath: missing))
    expectFailure(try seed.run(["bodies", "--known-at", "seq:97"]), status: 64, mentioning: ["no event 97"])
    #expect(try seed.run(["bodies", "--known-at", "seq:96"]).status == 0)
    let line = #"{"type":"body.established","effective":"2020-01-01","payload":{"body":"x","kind":"会議","name":{"ja":"x"}}}"#
    let word = try seed.run(["record", "--json", line])
    expectFailure(word, status: 65, mentioning: ["field \"payload.kind\": \"会議\" is not one of: council, expert-panel, working-group, other"])
    #expect(!word.stderr.contains("field \"kind\""))
  }

  @Test("names refuse control and bidirectional-override characters and unbounded length")
  func unsafeText() throws {
    let seed = try SeedLedger("unsafe-text")
    let digest = try seed.digest()
    func appoint(_ name: String, affiliation: String = "東京大学") throws -> CLIResult {
      try seed.run(["record", "member-appointed", "--body", "csti", "--person", "p-x", "--name-ja", name, "--role", "member",
                    "--affiliation", affiliation, "--effective", "2021-04-01"])
    }
    expectFailure(try appoint("A\u{1B}[31mRED"), status: 65, mentioning: ["name.ja", "U+001B"])
    expectFailure(try appoint("\u{202E}abc"), status: 65, mentioning: ["name.ja", "U+202E"])
    expectFailure(try appoint(String(repeating: "名", count: 501)), status: 65, mentioning: ["name.ja", "at most 500 characters"])
    expectFailure(try appoint("山田", affiliation: "l1\nl2"), status: 65, mentioning: ["affiliations[0]", "U+000A"])
    let line = #"{"type":"body.established","effective":"2020-01-01","payload":{"body":"x","kind":"council","name":{"ja":"a\u0000b"}}}"#
    expectFailure(try seed.run(["record", "--json", line]), status: 65, mentioning: ["name.ja", "U+0000"])
    #expect(try seed.digest() == digest)
    // Ordinary Japanese, emoji and a variation sequence are fine.
    #expect(try appoint("葛\u{E0100}飾 太郎👍🏽").status == 0)
  }

  @Test("a failed write to standard output exits 74, not 0; --output refuses devices",
        .enabled(if: FileManager.default.fileExists(atPath: "/dev/full"), "needs /dev/full"))
  func unwritableOutput() throws {
    let seed = try SeedLedger("dev-full")
    let toFull = ["/bin/sh", "-c", #"exec "$0" "$@" > /dev/full"#]
    for command in [["export"], ["export", "--format", "csv"], ["bodies"], ["log", "--format", "json"]] {
      let result = try cli(command + ["--ledger", seed.path], prefix: toFull)
      expectFailure(result, status: 74, mentioning: ["standard output"])
    }
    expectFailure(try seed.run(["export", "--output", "/dev/null", "--overwrite"]), status: 64, mentioning: ["not a regular file"])
    var info = stat()
    #expect(lstat("/dev/null", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR)
  }

  /// Opens the ledger's LMDB environment directly and changes it behind the ledger's back.
  func damage(_ path: String, _ change: (borrowing LMDBWriteTransaction) throws -> Void) throws {
    let environment = try LMDBEnvironment.open(path: path)
    try environment.write { txn in try change(txn) }
  }
}

@Suite("policy-ledger import size limit")
struct SizeLimitTests {
  @Test("a file larger than 512 MiB is refused before it is read")
  func tooLarge() throws {
    let folder = TemporaryFolder("cli-too-large")
    let path = folder.child("huge.ndjson")
    #expect(FileManager.default.createFile(atPath: path, contents: Data("{}\n".utf8)))
    let handle = try #require(FileHandle(forWritingAtPath: path))
    try handle.truncate(atOffset: 513 << 20)  // sparse: takes no disk space
    try handle.close()
    expectFailure(try cli(["import", path, "--ledger", folder.child("ledger")]), status: 65, mentioning: ["huge.ndjson", "512 MiB"])
    #expect(!FileManager.default.fileExists(atPath: folder.child("ledger")))
  }
}
