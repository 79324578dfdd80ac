import FuzzDriver
import PolicyLedgerQuery

/// One NDJSON import line: read it as `import` does. Any input must end in an entry or a
/// `LineError`, never a crash; an entry read must read again from its own export-free form.
public func fuzzNDJSONLine(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: count)
  _ = try? NDJSON.entry(from: bytes, number: 1, defaultActor: "fuzz")
  return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  guard let data else { return 0 }
  return fuzzNDJSONLine(data, count)
}

/// The entry point a SwiftPM debug build links `main` to: libFuzzer's driver.
@_cdecl("fuzz_ndjson_line_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  var argc = argc
  var argv = argv
  return LLVMFuzzerRunDriver(&argc, &argv) { data, count in testOneInput(data, count) }
}
