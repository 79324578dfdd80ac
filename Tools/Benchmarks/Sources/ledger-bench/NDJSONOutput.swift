import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog
import PolicyLedgerQuery

/// Writes `entries` to `path` as NDJSON import lines, one canonical JSON object per line:
/// `{"actor":…,"effective":…,"payload":{…},"source":…,"type":…}` (`source` only when there is
/// one). Corrections name the events they correct by the sequence number those get when the
/// whole file is imported into an empty ledger in order (line number = sequence number), which
/// is how the generator numbered them.
///
/// So `policy-ledger import FILE` can be timed, and its peak memory taken, outside this process
/// (`/usr/bin/time -v`). - Returns: The bytes written.
@discardableResult
func writeNDJSON(_ entries: [CouncilLedger.Entry], to path: String) throws -> Int {
  guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path) else {
    throw BenchError(description: "cannot write \(path)")
  }
  defer { try? file.close() }
  var buffer: [UInt8] = []
  buffer.reserveCapacity(1 << 20 + 4096)
  var total = 0
  for entry in entries {
    var line: [String: CanonicalValue] = [
      "type": .string(entry.event.typeName),
      "effective": .string(entry.effective.description),
      "actor": .string(entry.actor),
      "payload": try entry.event.payload(),
    ]
    if let source = entry.source { line["source"] = .string(source) }
    buffer += try CanonicalValue.object(line).canonicalBytes()
    buffer.append(0x0A)
    if buffer.count >= 1 << 20 {
      try file.write(contentsOf: buffer)
      total += buffer.count
      buffer.removeAll(keepingCapacity: true)
    }
  }
  try file.write(contentsOf: buffer)
  total += buffer.count
  return total
}
