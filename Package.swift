// swift-tools-version: 6.2
import PackageDescription

/// Strict settings, applied to every target of the package in one place.
let strictSettings: [SwiftSetting] = [
  .swiftLanguageMode(.v6),
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("MemberImportVisibility"),
  .enableUpcomingFeature("InternalImportsByDefault"),
  .treatAllWarnings(as: .error),
]

let package = Package(
  name: "zpr",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "zpr", targets: ["zpr"]),
    .library(name: "ZPRPolicy", targets: ["ZPRPolicy"]),
    .library(name: "ZPRModel", targets: ["ZPRModel"]),
    .library(name: "ZPREngine", targets: ["ZPREngine"]),
    .library(name: "ZPRStore", targets: ["ZPRStore"]),
    .library(name: "ZPRIAM", targets: ["ZPRIAM"]),
    .library(name: "ZPRServer", targets: ["ZPRServer"]),
    .library(name: "ZPREnforcer", targets: ["ZPREnforcer"]),
    .library(name: "ZPRClient", targets: ["ZPRClient"]),
    .library(name: "ZPRLab", targets: ["ZPRLab"]),
    .library(name: "ZPRTesting", targets: ["ZPRTesting"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/x-sheep/swift-property-based.git", exact: "2.0.1"),
    .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
    .package(url: "https://github.com/vapor/postgres-nio.git", exact: "1.33.2"),
    .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
    .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
    .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
  ],
  targets: [
    .target(name: "ZPRPolicy"),
    .target(
      name: "ZPRModel",
      dependencies: ["ZPRPolicy", "ZPRIAM", .product(name: "Yams", package: "Yams")]),
    .target(name: "ZPREngine", dependencies: ["ZPRPolicy", "ZPRModel"]),
    // The tenancy file holds IAM policies and checks them as it reads them, so the language sits
    // below the model (it needs only ZPRPolicy's diagnostics).
    .target(name: "ZPRIAM", dependencies: ["ZPRPolicy"]),
    .target(
      name: "ZPRStore",
      dependencies: [
        "ZPRModel",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "Logging", package: "swift-log"),
      ]),
    .target(
      name: "ZPRServer",
      dependencies: [
        "ZPRPolicy", "ZPRModel", "ZPREngine", "ZPRIAM", "ZPRStore",
        .product(name: "Yams", package: "Yams"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdTLS", package: "hummingbird"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "NIOCore", package: "swift-nio"),
      ]),
    .target(name: "ZPREnforcer", dependencies: ["ZPRPolicy", "ZPRModel", "ZPREngine"]),
    // The REST API's client: Foundation's URLSession, nothing of the server.
    .target(name: "ZPRClient", dependencies: ["ZPRPolicy"]),
    .target(
      name: "ZPRLab",
      dependencies: ["ZPRPolicy", "ZPRModel", "ZPREngine", "ZPREnforcer", "ZPRTesting"]),
    .target(name: "ZPRTesting", dependencies: ["ZPRPolicy", "ZPRModel"]),
    .executableTarget(
      name: "zpr",
      dependencies: [
        "ZPRPolicy",
        "ZPRModel",
        "ZPREngine",
        "ZPRIAM",
        "ZPRStore",
        "ZPRServer",
        "ZPREnforcer",
        "ZPRClient",
        "ZPRLab",
        "ZPRTesting",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .testTarget(
      name: "ZPRPolicyTests",
      dependencies: [
        "ZPRPolicy",
        "ZPRTesting",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ]
    ),
    .testTarget(
      name: "ZPRModelTests",
      dependencies: [
        "ZPRModel", "ZPRPolicy", "ZPRIAM", "ZPRTesting",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ]),
    .testTarget(
      name: "ZPREngineTests",
      dependencies: [
        "ZPREngine", "ZPRModel", "ZPRPolicy", "ZPRTesting",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ]),
    .testTarget(name: "ZPRStoreTests", dependencies: ["ZPRStore", "ZPRModel"]),
    .testTarget(
      name: "ZPRIAMTests",
      dependencies: [
        "ZPRIAM", "ZPRPolicy", "ZPRTesting",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ]),
    .testTarget(
      name: "ZPRServerTests",
      dependencies: [
        "ZPRServer", "ZPRStore", "ZPRModel", "ZPREngine", "ZPRPolicy", "ZPRTesting",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdTesting", package: "hummingbird"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Logging", package: "swift-log"),
      ]),
    .testTarget(
      name: "ZPREnforcerTests",
      dependencies: [
        "ZPREnforcer", "ZPRLab", "ZPREngine", "ZPRModel", "ZPRPolicy", "ZPRTesting",
      ],
      // Read through #filePath: the rendered rulesets the tests compare with, and the tenancies
      // of disagreements the lab found.
      exclude: ["Golden", "Regressions"]),
    .testTarget(name: "zprTests", dependencies: ["zpr", "ZPRPolicy", "ZPRLab", "ZPRClient"]),
  ]
)

for target in package.targets {
  target.swiftSettings = (target.swiftSettings ?? []) + strictSettings
}
