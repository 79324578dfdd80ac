#if canImport(CDispatch)
// Linux: with SwiftNIO in the build, `struct stat` is owned by libdispatch's C module.
import CDispatch
#endif
import Foundation
import PolicyLedgerQuery

/// An input file opened for reading line by line, after the checks `import` makes.
final class InputFile {
  /// The most `import` reads in one transaction.
  static let maximumSize = 512 << 20

  let name: String
  /// Its size in bytes.
  let size: Int
  private let handle: FileHandle
  /// A spooled copy of standard input, removed by ``close()``.
  private let spool: String?

  private init(name: String, size: Int, handle: FileHandle, spool: String?) {
    self.name = name; self.size = size; self.handle = handle; self.spool = spool
  }

  /// Opens `path` (or standard input for `-`, copied to a temporary file so that it can be read
  /// again if the transaction has to start over).
  /// - Throws: ``Failure`` 66 (missing, not a regular file), 65 (too large, empty), 74 (unreadable).
  static func open(_ path: String) throws -> InputFile {
    if path == "-" {
      let spool = FileManager.default.temporaryDirectory.appendingPathComponent("policy-ledger-stdin-\(UUID().uuidString)").path
      guard FileManager.default.createFile(atPath: spool, contents: nil, attributes: [.posixPermissions: 0o600]),
            let out = FileHandle(forWritingAtPath: spool) else { throw Failure(.ioError, "cannot spool standard input to \(spool)") }
      var size = 0
      do {
        defer { try? out.close() }
        while true {
          let chunk: Data
          do { chunk = try FileHandle.standardInput.read(upToCount: 1 << 20) ?? Data() } catch {
            throw Failure(.ioError, "cannot read standard input: \(Failure.reason(error))")
          }
          if chunk.isEmpty { break }
          size += chunk.count
          if size > maximumSize { throw Failure(.dataError, "standard input holds more than 512 MiB; import at most 512 MiB at once (split the file)") }
          do { try out.write(contentsOf: chunk) } catch { throw Failure(.ioError, "cannot spool standard input: \(Failure.reason(error))") }
        }
      } catch {
        try? FileManager.default.removeItem(atPath: spool)
        throw error
      }
      guard size > 0, let handle = FileHandle(forReadingAtPath: spool) else {
        try? FileManager.default.removeItem(atPath: spool)
        throw Failure(.dataError, "standard input is empty: there are no events to import")
      }
      return InputFile(name: "standard input", size: size, handle: handle, spool: spool)
    }
    var info = stat()
    guard stat(path, &info) == 0 else {
      let code = errno
      if code == ENOENT || code == ENOTDIR { throw Failure(.noInput, "no file at \(path)") }
      throw Failure(.ioError, "cannot read \(path): \(String(cString: strerror(code)).lowercased())")
    }
    let type = info.st_mode & S_IFMT
    guard type == S_IFREG else {
      let what = type == S_IFDIR ? "a folder" : type == S_IFIFO ? "a pipe" : type == S_IFCHR || type == S_IFBLK ? "a device" : type == S_IFSOCK ? "a socket" : "not a regular file"
      throw Failure(.noInput, "\(path) is \(what), not a regular file; give an NDJSON file (or - for standard input)")
    }
    guard info.st_size <= maximumSize else {
      throw Failure(.dataError, "\(path) is \(info.st_size) bytes; at most 512 MiB can be imported at once (split the file)")
    }
    guard info.st_size > 0 else { throw Failure(.dataError, "\(path) is empty: there are no events to import") }
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw Failure(.ioError, "cannot read \(path): \(String(cString: strerror(errno)).lowercased())")
    }
    return InputFile(name: path, size: Int(info.st_size), handle: handle, spool: nil)
  }

  /// Up to `count` bytes from the current position (empty at the end).
  func read(upTo count: Int) throws -> [UInt8] {
    do { return Array(try handle.read(upToCount: count) ?? Data()) } catch {
      throw Failure(.ioError, "cannot read \(name): \(Failure.reason(error))")
    }
  }

  func rewind() throws {
    do { try handle.seek(toOffset: 0) } catch { throw Failure(.ioError, "cannot read \(name) again: \(Failure.reason(error))") }
  }

  func close() {
    try? handle.close()
    if let spool { try? FileManager.default.removeItem(atPath: spool) }
  }
}

/// NDJSON lines into ledger entries, a chunk at a time, keeping the line number of each entry
/// of the current chunk (for errors). Memory: one read buffer (1 MiB), one line, one chunk.
final class NDJSONSource {
  let input: InputFile
  let defaultActor: String
  /// Entries per chunk handed to the ledger.
  let chunkSize: Int

  private var buffer: [UInt8] = []
  private var position = 0
  private var atEnd = false
  private var number = 0
  private var previous: CouncilLedger.Entry?
  private(set) var bytesRead = 0
  /// The index (in the whole input) of the current chunk's first entry, and its entries' lines.
  private var chunkStart = 0
  private var chunkLines: [Int] = []
  private var entriesRead = 0

  init(input: InputFile, defaultActor: String, chunkSize: Int = 1000) {
    self.input = input
    self.defaultActor = defaultActor
    self.chunkSize = chunkSize
  }

  /// Known binary formats, for a clearer error than "not UTF-8".
  static let signatures: [(bytes: [UInt8], name: String)] = [
    ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG image"),
    ([0xFF, 0xD8, 0xFF], "a JPEG image"),
    ([0x25, 0x50, 0x44, 0x46, 0x2D], "a PDF document"),
    ([0x50, 0x4B, 0x03, 0x04], "a ZIP archive (or an Office document)"),
    ([0x1F, 0x8B], "a gzip archive (decompress it first)"),
    ([0x47, 0x49, 0x46, 0x38], "a GIF image"),
  ]

  /// Back to the start of the input (a transaction that starts over reads it again).
  func restart() throws {
    try input.rewind()
    buffer = []; position = 0; atEnd = false; number = 0; previous = nil; bytesRead = 0
    chunkStart = 0; chunkLines = []; entriesRead = 0
  }

  /// The line number of the entry at `index` (0-based, in the whole input), when it is in the
  /// current chunk; else the next line to be read.
  func line(ofEntry index: Int) -> Int {
    let i = index - chunkStart
    return i >= 0 && i < chunkLines.count ? chunkLines[i] : number + 1
  }

  /// The next entries, or `nil` at the end of the input.
  /// - Throws: ``Failure`` 65 naming the line (and field) of a bad line.
  func nextChunk() throws -> [CouncilLedger.Entry]? {
    var entries: [CouncilLedger.Entry] = []
    chunkStart = entriesRead
    chunkLines = []
    while entries.count < chunkSize, var line = try nextLine() {
      if line.last == 0x0D { line = line.dropLast() }
      if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
      if line.count <= NDJSON.maximumLineLength, let offset = NDJSONSource.firstInvalidUTF8(line) {
        let byte = line[line.startIndex + offset]
        throw Failure(.dataError, "\(input.name) line \(number): not valid UTF-8 text (byte \(offset + 1) of the line is 0x\(String(byte, radix: 16, uppercase: true))); save the file as UTF-8")
      }
      do throws(NDJSON.LineError) {
        let entry = try NDJSON.entry(from: line, number: number, defaultActor: defaultActor)
        if let error = NDJSON.chainError(after: previous, entry, number: number) { throw error }
        previous = entry
        entries.append(entry)
        chunkLines.append(number)
      } catch {
        throw Failure(.dataError, "\(input.name) line \(number)" + (error.field.map { ", field \"\($0)\"" } ?? "") + ": \(error.reason)")
      }
    }
    entriesRead += entries.count
    return entries.isEmpty ? nil : entries
  }

  /// Every entry of the input (for small inputs: the demo's fixture).
  func allEntries() throws -> [CouncilLedger.Entry] {
    var out: [CouncilLedger.Entry] = []
    while let chunk = try nextChunk() { out += chunk }
    if out.isEmpty { throw Failure(.dataError, "\(input.name) holds no events: every line is blank") }
    return out
  }

  /// The next line without its LF, or `nil` at the end. A line longer than the limit is refused
  /// as soon as the limit is passed, so that memory stays bounded.
  private func nextLine() throws -> ArraySlice<UInt8>? {
    while true {
      if let end = buffer[position...].firstIndex(of: 0x0A) {
        let line = buffer[position..<end]
        position = end + 1
        number += 1
        return line
      }
      if atEnd {
        guard position < buffer.count else { return nil }
        let line = buffer[position...]
        position = buffer.count
        number += 1
        return line
      }
      if buffer.count - position > NDJSON.maximumLineLength {
        throw Failure(.dataError, "\(input.name) line \(number + 1): the line is longer than \(NDJSON.maximumLineLength) bytes (1 MiB), the most a line may hold")
      }
      let chunk = try input.read(upTo: 1 << 20)
      if bytesRead == 0 {
        if let kind = NDJSONSource.signatures.first(where: { chunk.starts(with: $0.bytes) }) {
          throw Failure(.dataError, "\(input.name) line 1: this is \(kind.name), not NDJSON text (one JSON event a line)")
        }
      }
      var fresh = chunk[...]
      if bytesRead == 0, fresh.starts(with: [0xEF, 0xBB, 0xBF]) { fresh = fresh.dropFirst(3) }  // a UTF-8 byte-order mark
      bytesRead += chunk.count
      if chunk.isEmpty { atEnd = true }
      buffer.removeSubrange(0..<position)
      position = 0
      buffer += fresh
    }
  }

  /// The offset of the first byte that is not part of valid UTF-8, or `nil`.
  static func firstInvalidUTF8(_ bytes: some Collection<UInt8>) -> Int? {
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var offset = 0
    while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let encoded): offset += encoded.count
      case .emptyInput: return nil
      case .error: return offset
      }
    }
  }
}

/// A one-line progress bar on standard error (only drawn when standard error is a terminal).
struct ProgressBar {
  let total: Int
  let label: String
  let unit: String
  private var drawn = -1

  init(total: Int, label: String, unit: String = "lines") {
    self.total = max(total, 1)
    self.label = label
    self.unit = unit
  }

  mutating func update(_ done: Int) {
    let percent = min(100, done * 100 / total)
    guard percent != drawn else { return }
    drawn = percent
    let filled = percent * 30 / 100
    let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
    let amount = unit == "bytes" ? "\(done >> 20)/\(total >> 20) MiB" : "\(done)/\(total) \(unit)"
    Console.stderr("\r\(label) [\(bar)] \(percent)% (\(amount))" + (percent == 100 ? ", committing…" : ""))
  }

  func finish() {
    guard drawn >= 0 else { return }
    Console.stderr("\r\u{1B}[K")
  }
}
