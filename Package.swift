// swift-tools-version: 6.1
//
// Policy Ledger: an embedded, event-sourced, append-only ledger of a science council's actions,
// stored in LMDB. The dependency rule (each module depends only on the ones above it):
//
//   CLMDB (system library) → PolicyLedgerStorage → PolicyLedgerEventLog → PolicyLedgerDomain
//   → PolicyLedgerQuery → PolicyLedgerCharts (SVG) → PolicyLedgerWeb (Hummingbird, Plot)
//   → PolicyLedgerCLI (the `policy-ledger` executable)
//   PolicyLedgerEventLog → PolicyLedgerProofs (Merkle proofs, signed checkpoints) → PolicyLedgerWeb, PolicyLedgerCLI
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
    .library(name: "PolicyLedgerCharts", targets: ["PolicyLedgerCharts"]),
    .library(name: "PolicyLedgerWeb", targets: ["PolicyLedgerWeb"]),
    .library(name: "PolicyLedgerProofs", targets: ["PolicyLedgerProofs"]),
    .library(name: "PolicyLedgerReplication", targets: ["PolicyLedgerReplication"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    .package(url: "https://github.com/swiftcsv/SwiftCSV.git", from: "0.10.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
    .package(url: "https://github.com/JohnSundell/Plot.git", from: "0.14.0"),
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
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
    // The SVG charts: plain text drawn from the query API, no dependency of their own.
    .target(
      name: "PolicyLedgerCharts",
      dependencies: ["PolicyLedgerQuery", "PolicyLedgerDomain", "PolicyLedgerEventLog"],
      swiftSettings: swiftSettings
    ),
    // The read-only web view; the only module that knows an HTTP server.
    .target(
      name: "PolicyLedgerWeb",
      dependencies: [
        "PolicyLedgerCharts", "PolicyLedgerQuery", "PolicyLedgerDomain", "PolicyLedgerEventLog", "PolicyLedgerProofs",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Plot", package: "Plot"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
      ],
      swiftSettings: swiftSettings
    ),
    .target(
      name: "PolicyLedgerProofs",
      dependencies: [
        "PolicyLedgerEventLog", "PolicyLedgerStorage",
        .product(name: "Crypto", package: "swift-crypto"),
      ],
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
        "PolicyLedgerQuery", "PolicyLedgerDomain", "PolicyLedgerEventLog", "PolicyLedgerStorage", "PolicyLedgerProofs",
        "PolicyLedgerCharts", "PolicyLedgerWeb",
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
        "PolicyLedgerQuery", "PolicyLedgerTestSupport", "PolicyLedgerStorage",
        .product(name: "PropertyBased", package: "swift-property-based"),
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "PolicyLedgerChartsTests",
      dependencies: ["PolicyLedgerCharts", "PolicyLedgerQuery", "PolicyLedgerTestSupport"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "PolicyLedgerProofsTests",
      dependencies: ["PolicyLedgerProofs", "PolicyLedgerEventLog", "PolicyLedgerTestSupport", "PolicyLedgerStorage"],
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
        "PolicyLedgerCLI", "PolicyLedgerStorage", "PolicyLedgerEventLog", "PolicyLedgerProofs",
        "PolicyLedgerTestSupport",
        .product(name: "SwiftCSV", package: "SwiftCSV"),
      ],
      swiftSettings: swiftSettings
    ),
  ]
)
