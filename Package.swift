// swift-tools-version: 6.1
//
// Policy Ledger: an embedded, event-sourced, append-only ledger of a science council's actions,
// stored in LMDB. The dependency rule (each module depends only on the ones above it):
//
//   CLMDB (system library) → PolicyLedgerStorage → PolicyLedgerEventLog → PolicyLedgerDomain
//   → PolicyLedgerQuery → PolicyLedgerCLI (the `policy-ledger` executable)
//
// See ARCHITECTURE.md.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("InternalImportsByDefault"),
  .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
  name: "policy-ledger",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "policy-ledger", targets: ["PolicyLedgerCLI"]),
    .library(name: "PolicyLedgerEventLog", targets: ["PolicyLedgerEventLog"]),
    .library(name: "PolicyLedgerDomain", targets: ["PolicyLedgerDomain"]),
    .library(name: "PolicyLedgerQuery", targets: ["PolicyLedgerQuery"]),
    .library(name: "PolicyLedgerReplication", targets: ["PolicyLedgerReplication"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    .package(url: "https://github.com/swiftcsv/SwiftCSV.git", from: "0.10.0"),
    .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
  ],
  targets: [
    .systemLibrary(
      name: "CLMDB",
      pkgConfig: "lmdb",
      providers: [.apt(["liblmdb-dev"])]
    ),
    .target(
      name: "PolicyLedgerStorage",
      dependencies: ["CLMDB"],
      swiftSettings: swiftSettings
    ),
    .target(
      name: "PolicyLedgerEventLog",
      dependencies: [
        "PolicyLedgerStorage",
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: swiftSettings
    ),
    .target(
      name: "PolicyLedgerDomain",
      dependencies: ["PolicyLedgerEventLog"],
      swiftSettings: swiftSettings
    ),
    .target(
      name: "PolicyLedgerQuery",
      dependencies: ["PolicyLedgerDomain", "PolicyLedgerEventLog", "PolicyLedgerStorage"],
      swiftSettings: swiftSettings
    ),
    // Replication of the log into PostgreSQL (a replica: LMDB stays the only store). The only
    // module that depends on postgres-nio; the core products do not.
    .target(
      name: "PolicyLedgerReplication",
      dependencies: [
        "PolicyLedgerQuery", "PolicyLedgerEventLog",
        .product(name: "PostgresNIO", package: "postgres-nio"),
      ],
      swiftSettings: swiftSettings
    ),
    .executableTarget(
      name: "PolicyLedgerCLI",
      dependencies: [
        "PolicyLedgerQuery", "PolicyLedgerDomain", "PolicyLedgerEventLog", "PolicyLedgerStorage",
        "PolicyLedgerReplication",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: swiftSettings
    ),
    .target(
      name: "PolicyLedgerTestSupport",
      dependencies: ["PolicyLedgerQuery", "PolicyLedgerStorage", "CLMDB"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "PolicyLedgerStorageTests",
      dependencies: ["PolicyLedgerStorage", "PolicyLedgerTestSupport", "CLMDB"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "PolicyLedgerEventLogTests",
      dependencies: ["PolicyLedgerEventLog", "PolicyLedgerTestSupport", "PolicyLedgerStorage", "CLMDB"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "PolicyLedgerDomainTests",
      dependencies: ["PolicyLedgerDomain", "PolicyLedgerTestSupport"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "PolicyLedgerQueryTests",
      dependencies: [
        "PolicyLedgerQuery", "PolicyLedgerTestSupport",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "PolicyLedgerReplicationTests",
      dependencies: [
        "PolicyLedgerReplication", "PolicyLedgerQuery", "PolicyLedgerEventLog", "PolicyLedgerStorage", "PolicyLedgerTestSupport",
        .product(name: "PostgresNIO", package: "postgres-nio"),
      ],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "PolicyLedgerCLITests",
      dependencies: [
        "PolicyLedgerCLI", "PolicyLedgerStorage",
        "PolicyLedgerTestSupport",
        .product(name: "SwiftCSV", package: "SwiftCSV"),
      ],
      swiftSettings: swiftSettings
    ),
  ]
)
