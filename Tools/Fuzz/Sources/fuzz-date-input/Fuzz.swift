import FuzzDriver
import PolicyLedgerDomain
import PolicyLedgerEventLog

/// The date input parser (ISO, 和暦, 年度, 旬, 頃, full-width digits): never a crash, and a date
/// it reads prints back (canonically and in 和暦) to text it reads as the same date.
public func fuzzDateInput(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
  if let date = try? EffectiveDate(parsing: text) {
    guard EffectiveDate(canonical: date.description) == date else { fatalError("\(text): canonical \(date) does not read back") }
    guard (try? EffectiveDate(parsing: date.warekiDescription)) == date else { fatalError("\(text): 和暦 \(date.warekiDescription) does not read back as \(date)") }
  }
  _ = try? LedgerTimestamp(parsing: text)
  return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  guard let data else { return 0 }
  return fuzzDateInput(data, count)
}

/// The entry point a SwiftPM debug build links `main` to: libFuzzer's driver.
@_cdecl("fuzz_date_input_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  var argc = argc
  var argv = argv
  return LLVMFuzzerRunDriver(&argc, &argv) { data, count in testOneInput(data, count) }
}
