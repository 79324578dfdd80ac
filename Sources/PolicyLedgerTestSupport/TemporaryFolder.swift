import Foundation

/// A fresh, empty folder under the system's temporary directory, removed when the value is
/// released. Each test gets its own ledger folder from one of these.
public final class TemporaryFolder: @unchecked Sendable {
  /// The folder's absolute path.
  public let path: String

  public init(_ label: String = "ledger") {
    let base = FileManager.default.temporaryDirectory.path
    path = "\(base)/policy-ledger-tests-\(label)-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  /// A path inside the folder (not created).
  public func child(_ name: String) -> String { "\(path)/\(name)" }

  deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A clock for tests: each call returns the next moment, one second apart, starting at `start`.
public final class SteppingClock: @unchecked Sendable {
  private let lock = NSLock()
  private var next: Int64
  private let step: Int64

  /// - Parameters:
  ///   - startMicroseconds: The first moment, in microseconds since the epoch (default 2026-01-01T00:00:00Z).
  ///   - stepSeconds: Seconds between moments.
  public init(startMicroseconds: Int64 = 1_767_225_600_000_000, stepSeconds: Int64 = 1) {
    next = startMicroseconds
    step = stepSeconds * 1_000_000
  }

  /// The next moment in microseconds since the epoch.
  public func tick() -> Int64 {
    lock.lock(); defer { lock.unlock() }
    let value = next
    next += step
    return value
  }
}
