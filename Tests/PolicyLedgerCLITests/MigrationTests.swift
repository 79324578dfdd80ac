import Foundation
import PolicyLedgerTestSupport
import Testing

/// A ledger written before the projections redesign (layout 1: JSON states, a body's roster in
/// its state) is migrated by `rebuild`, and answers exactly as it did. See Fixtures/v1-ledger.
@Suite("Migration of a format-1 ledger by rebuild")
struct MigrationTests {
  static let fixture = repositoryRoot + "/Fixtures/v1-ledger"

  /// A copy of the fixture ledger in a temporary folder (mode 0700, as the ledger makes it).
  func copy(_ folder: TemporaryFolder) throws -> String {
    let path = folder.child("ledger")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    try FileManager.default.copyItem(atPath: MigrationTests.fixture + "/data.mdb", toPath: path + "/data.mdb")
    return path
  }

  @Test("old projections are refused with a pointer to rebuild; after rebuild every answer is byte for byte the old one")
  func rebuildMigrates() throws {
    let folder = TemporaryFolder("migration")
    let ledger = try copy(folder)
    let digestBefore = try cli(["digest", "--ledger", ledger])
    #expect(digestBefore.status == 0)

    let refused = try cli(["members", "basic-plan-panel", "--ledger", ledger])
    #expect(refused.status == 74)
    #expect(refused.stderr.contains("row layout 1") && refused.stderr.contains("policy-ledger rebuild"))
    // Nothing is appended to projections of another layout either.
    let append = try cli(["record", "body-renamed", "--body", "basic-plan-panel", "--name-ja", "新名称", "--effective", "2021-01", "--ledger", ledger])
    #expect(append.status == 74)

    let rebuilt = try cli(["rebuild", "--ledger", ledger])
    #expect(rebuilt.status == 0, "\(rebuilt)")
    for (file, arguments) in [
      ("members-2020-09-01.json", ["members", "basic-plan-panel", "--as-of", "2020-09-01"]),
      ("members-2020-09-01-seq98.json", ["members", "basic-plan-panel", "--as-of", "2020-09-01", "--known-at", "seq:98"]),
      ("progress-2026-12-02.json", ["progress", "--as-of", "2026-12-02"]),
      ("state-2026-12-02.json", ["state", "--as-of", "2026-12-02"]),
      ("history-young-faculty.json", ["history", "young-faculty"]),
    ] {
      let now = try cli(arguments + ["--format", "json", "--ledger", ledger])
      let before = try Data(contentsOf: URL(fileURLWithPath: MigrationTests.fixture + "/" + file))
      if file.hasPrefix("history") {
        // history's JSON has since gained the corrected fields in force (currentPeriod…): every
        // field the old build answered is still answered the same.
        let old = try #require(try JSONSerialization.jsonObject(with: before) as? [[String: Any]])
        let new = try #require(try JSONSerialization.jsonObject(with: now.stdoutData) as? [[String: Any]])
        #expect(now.status == 0 && old.count == new.count)
        for (o, n) in zip(old, new) {
          for (key, value) in o { #expect((n[key] as? NSObject) == (value as? NSObject), "\(file) \(key)") }
        }
        continue
      }
      #expect(now.status == 0 && now.stdoutData == before, "\(file): \(now.stdout.prefix(400))")
    }
    #expect(try cli(["check", "--ledger", ledger]).status == 0)
    #expect(try cli(["digest", "--ledger", ledger]).stdout == digestBefore.stdout)
    // The new layout's rows are there to see.
    let rows = try cli(["rows", "snapshots", "--prefix", "membership:basic-plan-panel/ueyama-takahiro", "--format", "json", "--ledger", ledger])
    #expect(rows.status == 0)
    #expect(try rows.rows().count == 2)
    #expect(rows.stdout.contains("総合科学技術・イノベーション会議常勤議員"))
  }
}
