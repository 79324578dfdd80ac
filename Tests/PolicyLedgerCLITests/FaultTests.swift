import Foundation
import PolicyLedgerTestSupport
import Testing

/// Faults from outside the ledger: a second writer through a hard link, damaged meta pages, a
/// full disk. Each must end with no acknowledged event lost and one clear error.
@Suite("Faults and damage")
struct FaultTests {
  /// Runs `script` with bash (arguments `$0`, `$1`…) in the background.
  private func spawn(_ script: String, _ arguments: [String]) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/bash")
    p.arguments = ["-c", script] + arguments
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    return p
  }

  @Test("two processes writing through a hard link to data.mdb: every acknowledged event is kept once, the other writes are refused")
  func hardLinkedWriters() throws {
    let folder = TemporaryFolder("hard-link")
    let ledger = folder.child("ledger"), linked = folder.child("linked")
    let setup = try cli(["record", "indicator-defined", "--ledger", ledger, "--indicator", "shared", "--name-ja", "共有指標",
                         "--unit", "件", "--effective", "2019"])
    #expect(setup.status == 0, "\(setup)")
    try FileManager.default.createDirectory(atPath: linked, withIntermediateDirectories: true)
    // Each process records 20 observations through its own folder, keeping what was acknowledged
    // and the status of each refusal. The link is made while the first one is already writing.
    let script = """
      for i in $(seq 1 20); do
        if out=$("$0" record indicator-observed --ledger "$1" --indicator shared --value "$2$i" --unit 件 --effective 2020 --actor "$2" --format json 2>>"$3.err"); then
          echo "$out" >>"$3.ok"
        else
          echo "$?" >>"$3.status"
        fi
      done
      """
    let first = try spawn(script, [cliBinary, ledger, "1", folder.child("writer1")])
    let deadline = Date().addingTimeInterval(20)
    while !FileManager.default.fileExists(atPath: folder.child("writer1.ok")) && Date() < deadline { usleep(5_000) }
    #expect(link(ledger + "/data.mdb", linked + "/data.mdb") == 0)
    let writers = [first, try spawn(script, [cliBinary, linked, "2", folder.child("writer2")])]
    // Reading through either folder still works meanwhile.
    #expect(try cli(["digest", "--ledger", linked]).status == 0)
    for p in writers { p.waitUntilExit() }
    var acknowledged = 0
    for writer in ["1", "2"] {
      let ok = (try? String(contentsOfFile: folder.child("writer\(writer).ok"), encoding: .utf8)) ?? ""
      acknowledged += ok.components(separatedBy: "\"type\"").count - 1
      let statuses = (try? String(contentsOfFile: folder.child("writer\(writer).status"), encoding: .utf8)) ?? ""
      #expect(statuses.split(separator: "\n").allSatisfy { $0 == "74" }, "\(statuses)")
      let errors = (try? String(contentsOfFile: folder.child("writer\(writer).err"), encoding: .utf8)) ?? ""
      for line in errors.split(separator: "\n") {
        #expect(line.hasPrefix("error: refusing to write") && line.contains("hard links"), "\(line)")
      }
    }
    // Nothing acknowledged is lost, nothing is there twice, the chain holds.
    let rows = try cli(["log", "--ledger", ledger, "--format", "json", "--limit", "1000"]).rows()
    #expect(acknowledged >= 1)
    #expect(rows.count == 1 + acknowledged)
    #expect(rows.compactMap { $0["seq"] as? Int } == Array(1...rows.count))
    #expect(try cli(["verify", "--ledger", ledger]).status == 0)
    // The refusal names the cause; once the other link is gone, writing works again.
    expectFailure(try cli(["record", "indicator-observed", "--ledger", ledger, "--indicator", "shared", "--value", "7", "--unit", "件",
                           "--effective", "2021"]), status: 74, mentioning: ["hard links", "nothing was written"])
    #expect(unlink(linked + "/data.mdb") == 0)
    let after = try cli(["record", "indicator-observed", "--ledger", ledger, "--indicator", "shared", "--value", "7", "--unit", "件", "--effective", "2021"])
    #expect(after.status == 0, "\(after)")
  }

  @Test("a writer waits for the lock on data.mdb itself, which another process holds; readers do not")
  func dataFileLock() throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/flock") else {
      Issue.record("skipped: util-linux flock(1) is not installed"); return
    }
    let seed = try SeedLedger("data-file-lock")
    let marker = seed.folder.child("locked")
    // Another process holds an exclusive flock on data.mdb (reached by its own path) for 3 s.
    let holder = try spawn(#"exec /usr/bin/flock "$0" bash -c 'touch "$0"; sleep 3' "$1""#, [seed.path + "/data.mdb", marker])
    defer { holder.waitUntilExit() }
    let deadline = Date().addingTimeInterval(10)
    while !FileManager.default.fileExists(atPath: marker) && Date() < deadline { usleep(20_000) }
    #expect(FileManager.default.fileExists(atPath: marker))
    let readStart = Date()
    #expect(try seed.run(["digest"]).status == 0)
    #expect(Date().timeIntervalSince(readStart) < 1.5, "a reader waited for the writer lock")
    let writeStart = Date()
    let record = try seed.run(["record", "indicator-observed", "--indicator", "young-faculty", "--value", "43000", "--unit", "人", "--effective", "2021"])
    #expect(record.status == 0, "\(record)")
    #expect(Date().timeIntervalSince(writeStart) > 1.5, "the writer did not wait for the lock on data.mdb")
  }

  /// A copy of a seed ledger whose two meta pages have had `transform` applied at `offset`.
  private func damagedCopy(of seed: SeedLedger, label: String, offset: Int, _ transform: (UInt8) -> UInt8) throws -> String {
    let copy = seed.folder.child(label)
    try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
    var data = try Data(contentsOf: URL(fileURLWithPath: seed.path + "/data.mdb"))
    for meta in [0, 4096] { data[meta + offset] = transform(data[meta + offset]) }
    try data.write(to: URL(fileURLWithPath: copy + "/data.mdb"))
    return copy
  }

  @Test("a flipped byte in the last-page field of both meta pages is damage: one error line and 74, never a crash")
  func damagedLastPage() throws {
    let seed = try SeedLedger("damaged-meta")
    // MDB_meta on 64-bit Linux, after the 16-byte page header: magic 4, version 4, address 8,
    // mapsize 8, two MDB_db of 48, then the last page number (8 bytes, little-endian).
    let lastPage = 16 + 4 + 4 + 8 + 8 + 2 * 48
    let commands = [["verify"], ["log"], ["check"],
                    ["record", "indicator-observed", "--indicator", "young-faculty", "--value", "1", "--unit", "人", "--effective", "2021"]]
    for byte in 0..<8 {
      for mask: UInt8 in [0x80, 0xFF] {
        let copy = try damagedCopy(of: seed, label: "last-\(byte)-\(mask)", offset: lastPage + byte) { $0 ^ mask }
        for command in commands {
          let result = try cli(command + ["--ledger", copy])
          expectFailure(result, status: 74, mentioning: [copy])
          #expect(result.stderr.contains("damaged"), "byte \(byte) ^ \(mask), \(command): \(result.stderr)")
        }
      }
    }
  }

  @Test("a damaged meta magic or version is damage (74), not 'no ledger' (66); a missing data.mdb is 66")
  func damagedMagic() throws {
    let seed = try SeedLedger("damaged-magic")
    for (label, offset) in [("magic", 16), ("version", 20)] {
      let copy = try damagedCopy(of: seed, label: label, offset: offset) { $0 ^ 0x01 }
      for command in [["verify"], ["log"], ["members", "basic-plan-panel"], ["record", "body-renamed", "--body", "csti", "--name-ja", "x", "--effective", "2030"]] {
        expectFailure(try cli(command + ["--ledger", copy]), status: 74, mentioning: ["is damaged", "meta page"])
      }
    }
    let empty = seed.folder.child("empty-folder")
    try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
    expectFailure(try cli(["verify", "--ledger", empty]), status: 66, mentioning: ["no ledger at"])
  }

  @Test("a full disk: record and import fail with one error and 74, and leave the ledger as it was and readable")
  func diskFull() throws {
    let folder = TemporaryFolder("disk-full")
    let mountPoint = folder.child("tmpfs")
    try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
    let mount = Process()
    mount.executableURL = URL(fileURLWithPath: "/bin/mount")
    mount.arguments = ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint]
    mount.standardError = FileHandle.nullDevice
    try? mount.run()
    mount.waitUntilExit()
    guard mount.terminationStatus == 0 else {
      print("FaultTests.diskFull skipped: cannot mount a 2 MiB tmpfs here (needs root)")
      return
    }
    defer {
      let umount = Process()
      umount.executableURL = URL(fileURLWithPath: "/bin/umount")
      umount.arguments = [mountPoint]
      try? umount.run()
      umount.waitUntilExit()
    }
    let ledger = mountPoint + "/ledger"
    #expect(try cli(["import", seedFixturePath, "--ledger", ledger]).status == 0)
    let before = try cli(["digest", "--ledger", ledger]).stdout
    // Fill the disk.
    let filler = try #require(FileHandle(forWritingAtPath: { _ = FileManager.default.createFile(atPath: mountPoint + "/fill", contents: nil); return mountPoint + "/fill" }()))
    let block = Data(count: 64 << 10)
    while (try? filler.write(contentsOf: block)) != nil {}
    try? filler.close()
    expectFailure(try cli(["record", "indicator-observed", "--ledger", ledger, "--indicator", "young-faculty", "--value", "1", "--unit", "人",
                           "--effective", "2021"]), status: 74, mentioning: ["full", "nothing was written"])
    let batch = folder.child("batch.ndjson")
    let bigLine = #"{"type":"indicator.observed","effective":"2021","payload":{"indicator":"young-faculty","value":"1","unit":"人","note":"NOTE"}}"#
    try Data(((0..<100).map { bigLine.replacingOccurrences(of: "NOTE", with: "観測 \($0) " + String(repeating: "あ", count: 600)) }.joined(separator: "\n") + "\n").utf8)
      .write(to: URL(fileURLWithPath: batch))
    expectFailure(try cli(["import", batch, "--ledger", ledger]), status: 74, mentioning: ["full"])
    // A new ledger on the full disk: an error, not a crash (SIGBUS in LMDB's lock file).
    expectFailure(try cli(["import", seedFixturePath, "--ledger", mountPoint + "/new"]), status: 74, mentioning: ["full"])
    // The ledger is as it was, and readable, while the disk is still full.
    #expect(try cli(["digest", "--ledger", ledger]).stdout == before)
    #expect(try cli(["verify", "--ledger", ledger]).status == 0)
    #expect(try cli(["members", "basic-plan-panel", "--as-of", "2020-03-26", "--ledger", ledger]).status == 0)
    // With space again, it takes writes.
    try FileManager.default.removeItem(atPath: mountPoint + "/fill")
    #expect(try cli(["import", batch, "--ledger", ledger]).status == 0)
    #expect(try cli(["check", "--ledger", ledger]).status == 0)
  }
}
