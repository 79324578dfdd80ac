import Foundation

/// Monotonic time in nanoseconds.
@inline(__always)
func nowNanos() -> UInt64 {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Seconds taken by `body`.
@inline(__always)
func seconds(_ body: () throws -> Void) rethrows -> Double {
  let start = nowNanos()
  try body()
  return Double(nowNanos() - start) / 1e9
}

/// Latency samples in nanoseconds.
struct Samples {
  var values: [UInt64] = []
  mutating func add(_ v: UInt64) { values.append(v) }
  /// Nearest-rank percentile (0…100) in nanoseconds.
  func percentile(_ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
    return Double(sorted[min(max(rank, 0), sorted.count - 1)])
  }
  var median: Double { percentile(50) }
}

/// A recorded clock for the ledger: 1 ms per call from 2026-04-01T00:00:00Z, so that the
/// recorded-at moments (and so the canonical bytes and their sizes) are the same on every run.
final class BenchClock: @unchecked Sendable {
  private let lock = NSLock()
  private var next: Int64 = 1_775_001_600_000_000
  func tick() -> Int64 {
    lock.lock(); defer { lock.unlock() }
    next += 1000
    return next
  }
}

/// Prints to standard error (progress), flushed.
func progress(_ text: String) {
  FileHandle.standardError.write((text + "\n").data(using: .utf8)!)
}

/// A number for a table: 3 significant digits, thousands separated.
func fmt(_ v: Double?) -> String {
  guard let v, v.isFinite else { return "—" }
  let a = abs(v)
  if a >= 1000 {
    let rounded = Int(v.rounded())
    var s = String(abs(rounded))
    var out = ""
    while s.count > 3 { out = "," + s.suffix(3) + out; s = String(s.dropLast(3)) }
    return (rounded < 0 ? "-" : "") + s + out
  }
  if a >= 100 { return String(format: "%.0f", v) }
  if a >= 10 { return String(format: "%.1f", v) }
  if a >= 1 { return String(format: "%.2f", v) }
  if a >= 0.01 { return String(format: "%.3f", v) }
  return String(format: "%.2g", v)
}

/// A ratio for a table: `0.123×`.
func ratio(_ a: Double?, _ b: Double?) -> String {
  guard let a, let b, a.isFinite, b.isFinite, b != 0 else { return "—" }
  let r = a / b
  if r >= 100 { return String(format: "%.0f×", r) }
  if r >= 10 { return String(format: "%.1f×", r) }
  if r >= 0.1 { return String(format: "%.2f×", r) }
  return String(format: "%.3f×", r)
}

/// Size of a file in bytes (0 when missing).
func fileSize(_ path: String) -> Int {
  (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
}

/// A shell-free read of a small text file's first matching line (for /proc facts).
func firstLine(of path: String, containing: String) -> String? {
  guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
  return text.split(separator: "\n").first { $0.contains(containing) }.map(String.init)
}

/// An integer with thousands separators.
func integer(_ v: Int) -> String {
  var s = String(abs(v))
  var out = ""
  while s.count > 3 { out = "," + s.suffix(3) + out; s = String(s.dropLast(3)) }
  return (v < 0 ? "-" : "") + s + out
}
