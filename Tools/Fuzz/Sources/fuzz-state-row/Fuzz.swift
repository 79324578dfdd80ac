import FuzzDriver
@testable import PolicyLedgerQuery

/// The projection row reader (`EntityState.decode(kind:bytes:)`, what `rows` and every query read
/// from `data.mdb`): any bytes end in a state or an error, never a crash; a state read writes a
/// row that reads back to the same state. The first byte picks the entity kind.
public func fuzzStateRow(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  guard count > 0 else { return 0 }
  let kinds = ["body", "person", "decision", "indicator", "membership"]
  let kind = kinds[Int(data[0]) % kinds.count]
  let bytes = UnsafeBufferPointer(start: data + 1, count: count - 1)
  guard let state = try? EntityState.decode(kind: kind, bytes: bytes) else { return 0 }
  let row = state.encoded()
  guard let again = try? EntityState.decode(kind: kind, bytes: row), again.encoded() == row else {
    fatalError("a \(kind) row read from the input does not read back from its own encoding")
  }
  return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  guard let data else { return 0 }
  return fuzzStateRow(data, count)
}

/// The entry point a SwiftPM debug build links `main` to: libFuzzer's driver.
@_cdecl("fuzz_state_row_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  var argc = argc
  var argv = argv
  return LLVMFuzzerRunDriver(&argc, &argv) { data, count in testOneInput(data, count) }
}
