// swift-tools-version: 6.1
//
// Fuzz targets (libFuzzer) for the ledger's parsers of untrusted input: an NDJSON import line, the
// date input parser (和暦, 年度, 旬, 頃, full-width digits), the canonical JSON reader, and the
// projection row reader. A separate package, so that the main build and tests do not carry them.
// Build and run with ./run (Linux; swiftc -sanitize=fuzzer,address): see README's Development.
import PackageDescription

let package = Package(
  name: "ledger-fuzz",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(name: "policy-ledger", path: "../.."),
  ],
  targets: [
    .target(name: "FuzzDriver"),
    .executableTarget(name: "fuzz-ndjson-line", dependencies: ["FuzzDriver", .product(name: "PolicyLedgerQuery", package: "policy-ledger")]),
    .executableTarget(name: "fuzz-date-input", dependencies: ["FuzzDriver", .product(name: "PolicyLedgerDomain", package: "policy-ledger")]),
    .executableTarget(name: "fuzz-canonical-json", dependencies: ["FuzzDriver", .product(name: "PolicyLedgerEventLog", package: "policy-ledger")]),
    // Reads the internal row decoder through @testable import (a debug build is testable).
    .executableTarget(name: "fuzz-state-row", dependencies: ["FuzzDriver", .product(name: "PolicyLedgerQuery", package: "policy-ledger")]),
  ]
)
