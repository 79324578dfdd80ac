// ledger-bench: Policy Ledger against raw LMDB and SQLite doing the same work.
//
//   swift run -c release ledger-bench [--scales 10000,100000] [--quick] [--output FILE]
//                                     [--batch 1000] [--lookups 2000] [--appends 50]
//                                     [--only asof,state,history,rebuild,verify,append,backdate,signing]
//                                     [--membership 10,100,1000] [--membership-events 50000]
//                                     [--write-ndjson FILE] [--backdate-values N]
//                                     [--no-baselines] [--dir PATH] [--keep] [--seed N] [--map-gib N]
//
// See BENCHMARKS.md at the repository root for what each figure means.
import Baselines
import Foundation

let usage = """
  usage: ledger-bench [options]
    --scales N,N,…    history sizes in events (default 10000,100000; "none" for the membership figure alone)
    --quick           a few thousand events, fewer samples: the smoke run (under a minute in debug)
    --output FILE     also write the markdown report to FILE
    --batch N         events per write transaction in the batch import (default 1000)
    --lookups N       random as-of lookups per system (default 2000)
    --appends N       single durable appends per system (default 50)
    --only P,P,…      after the import, run only these phases: verify, asof, state, history, rebuild, append, backdate, signing
    --backdate-values N  values of the series a backdated observation goes before (default min(scale, 100000))
    --membership S,S,…   also run the membership-heavy figure: one council per seat count S whose roster
                      churns (default: not run; issue 9 asks for 10,100,1000)
    --membership-events N  events per membership-heavy history (default 50000)
    --write-ndjson FILE  write the first scale's generated history as NDJSON import lines to FILE, for
                      timing `policy-ledger import FILE` (and its peak memory) outside this process
    --replicate-url URL  also time `policy-ledger replicate` of each scale's ledger into a new database
                      on this PostgreSQL server (its role must create databases), against COPY of the
                      same rows; needs psql and the policy-ledger binary (default: not run)
    --policy-ledger PATH  the binary for --replicate-url (default ../../.build/release/policy-ledger, else debug)
    --no-baselines    measure the ledger only (for profiling)
    --dir PATH        working folder (default: a fresh folder under the temporary directory)
    --keep            keep the ledgers and baseline files
    --map-gib N       initial LMDB map size for every environment, in GiB (default 64; use 2 under valgrind)
    --seed N          generator seed (default 20140519)
  """

func parseOptions(_ arguments: [String]) throws -> BenchOptions {
  var options = BenchOptions()
  var explicitScales = false
  var i = 1
  func value() throws -> String {
    i += 1
    guard i < arguments.count else { throw BenchError(description: "\(arguments[i - 1]) needs a value\n\(usage)") }
    return arguments[i]
  }
  func number(_ text: String) throws -> Int {
    guard let v = Int(text.replacingOccurrences(of: "_", with: "")), v > 0 else { throw BenchError(description: "not a positive number: \(text)") }
    return v
  }
  while i < arguments.count {
    switch arguments[i] {
    case "--scales":
      let text = try value()
      options.scales = text == "none" ? [] : try text.split(separator: ",").map { try number(String($0)) }
      explicitScales = true
    case "--membership": options.membership = try value().split(separator: ",").map { try number(String($0)) }
    case "--membership-events": options.membershipEvents = try number(value())
    case "--write-ndjson": options.writeNDJSON = try value()
    case "--backdate-values": options.backdateValues = try number(value())
    case "--quick": options.quick = true
    case "--output": options.output = try value()
    case "--batch": options.batch = try number(value())
    case "--lookups": options.lookups = try number(value())
    case "--appends": options.appends = try number(value())
    case "--only": options.only = Set(try value().split(separator: ",").map(String.init))
    case "--no-baselines": options.baselines = false
    case "--replicate-url": options.replicateURL = try value()
    case "--policy-ledger": options.policyLedger = try value()
    case "--dir": options.directory = try value()
    case "--keep": options.keep = true
    case "--map-gib": options.mapSize = try number(value()) << 30
    case "--seed": options.seed = UInt64(try number(value()))
    case "--help", "-h": print(usage); exit(0)
    default: throw BenchError(description: "unknown option \(arguments[i])\n\(usage)")
    }
    i += 1
  }
  if let small = options.membership.first(where: { $0 + 1 > options.membershipEvents }) {
    throw BenchError(description: "--membership-events \(options.membershipEvents) leaves no room to churn \(small) seats")
  }
  if options.quick {
    if !explicitScales { options.scales = [2000] }
    options.lookups = min(options.lookups, 300)
    options.appends = min(options.appends, 10)
    options.batch = min(options.batch, 500)
  }
  return options
}

/// The main package's git revision (short hash and subject), and whether its Sources differ from it.
func revision() -> String {
  // A build from an exported tree (no .git) can say which revision it is.
  if let given = ProcessInfo.processInfo.environment["LEDGER_BENCH_REVISION"] { return given }
  var root = URL(fileURLWithPath: #filePath)
  for _ in 0..<5 { root.deleteLastPathComponent() }  // …/Tools/Benchmarks/Sources/ledger-bench/main.swift
  func git(_ arguments: [String]) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    process.arguments = ["-C", root.path] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  }
  guard let head = git(["log", "-1", "--format=%h %s"]) else { return "unknown (not a git checkout)" }
  let dirty = git(["status", "--porcelain", "--", "Sources/PolicyLedgerStorage", "Sources/PolicyLedgerEventLog", "Sources/PolicyLedgerDomain", "Sources/PolicyLedgerQuery", "Package.swift"]).map { !$0.isEmpty } ?? false
  return "`\(head)`" + (dirty ? " plus uncommitted changes in the library modules" : "")
}

func machineDescription() -> [String] {
  let cpu = firstLine(of: "/proc/cpuinfo", containing: "model name").map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? $0 } ?? "unknown"
  let memory = firstLine(of: "/proc/meminfo", containing: "MemTotal").map { line -> String in
    let kb = Double(line.split(separator: " ").dropFirst().first.map(String.init) ?? "") ?? 0
    return String(format: "%.1f GiB", kb / 1024 / 1024)
  } ?? "unknown"
  let kernel = (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
  #if DEBUG
  let build = "debug"
  #else
  let build = "release"
  #endif
  return [
    "Policy Ledger revision: \(revision())",
    "cores (nproc): \(ProcessInfo.processInfo.activeProcessorCount); CPU: \(cpu); memory: \(memory); Linux \(kernel)",
    "LMDB: \(LibraryVersions.lmdb); SQLite: \(SQLiteStore.version); build: \(build)",
  ]
}

do {
  let options = try parseOptions(CommandLine.arguments)
  try FileManager.default.createDirectory(atPath: options.directory, withIntermediateDirectories: true)
  defer { if !options.keep { try? FileManager.default.removeItem(atPath: options.directory) } }
  var results: [ScaleResult] = []
  var membership: [MembershipResult] = []
  let started = nowNanos()
  let machine = machineDescription()
  var report = ""
  func write() throws {
    report = Report(options: options, results: results, membership: membership, machine: machine, wallSeconds: Double(nowNanos() - started) / 1e9).markdown()
    // Written after each scale, so that a long run that is stopped keeps what it measured.
    if let output = options.output { try report.write(toFile: output, atomically: true, encoding: .utf8) }
  }
  for n in options.scales {
    results.append(try runScale(n, options: options))
    try write()
  }
  for seats in options.membership {
    membership.append(try runMembership(seats: seats, options: options))
    try write()
  }
  if results.isEmpty && membership.isEmpty { try write() }
  print(report)
  if let output = options.output { progress("wrote \(output)") }
} catch {
  progress("ledger-bench: \(error)")
  exit(1)
}
