// swift-tools-version: 6.1
//
// ledger-bench: the performance benchmark of Policy Ledger against two baselines doing the same
// work (raw LMDB with the same record bytes, and SQLite in WAL mode). A separate package so that
// the main package's build and tests do not carry it. See ../../BENCHMARKS.md.
//
//   cd Tools/Benchmarks && swift run -c release ledger-bench --scales 10000,100000
import PackageDescription

let package = Package(
  name: "ledger-benchmarks",
  platforms: [.macOS(.v15)],
  dependencies: [
    // The folder name of the checkout varies (main, a CI clone…), so name the package explicitly.
    .package(name: "policy-ledger", path: "../.."),
  ],
  targets: [
    // System SQLite (Debian libsqlite3-dev) for the SQLite baseline.
    .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
    // System LMDB (Debian liblmdb-dev) for the raw LMDB baseline. The main package's CLMDB module
    // is not a product, so the benchmark has its own.
    .systemLibrary(name: "CBenchLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
    // The baselines import only the C modules (never the ledger's modules), so the two LMDB
    // module maps never meet in one Swift file.
    .target(name: "Baselines", dependencies: ["CSQLite", "CBenchLMDB"]),
    .executableTarget(
      name: "ledger-bench",
      dependencies: [
        "Baselines",
        .product(name: "PolicyLedgerQuery", package: "policy-ledger"),
        .product(name: "PolicyLedgerEventLog", package: "policy-ledger"),
        .product(name: "PolicyLedgerDomain", package: "policy-ledger"),
        .product(name: "PolicyLedgerProofs", package: "policy-ledger"),
      ]
    ),
  ]
)
