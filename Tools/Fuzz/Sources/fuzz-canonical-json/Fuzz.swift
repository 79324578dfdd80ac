import FuzzDriver
import PolicyLedgerEventLog

/// The canonical JSON reader: never a crash, and what it reads writes canonical bytes that read
/// back to the same value and the same bytes.
public func fuzzCanonicalJSON(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: count)
  guard let value = try? CanonicalValue.parse(bytes), let canonical = try? value.canonicalBytes() else { return 0 }
  guard let again = try? CanonicalValue.parse(canonical) else { fatalError("canonical bytes do not parse: \(canonical)") }
  guard (try? again.canonicalBytes()) == canonical else { fatalError("canonical bytes are not stable") }
  return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  guard let data else { return 0 }
  return fuzzCanonicalJSON(data, count)
}

/// The entry point a SwiftPM debug build links `main` to: libFuzzer's driver.
@_cdecl("fuzz_canonical_json_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  var argc = argc
  var argv = argv
  return LLVMFuzzerRunDriver(&argc, &argv) { data, count in testOneInput(data, count) }
}
