// swift-tools-version: 6.2
import PackageDescription

// A package of its own, so that `swift test` in the root never builds the benchmark harness.
// Run with: swift package --package-path Benchmarks benchmark
let package = Package(
  name: "zpr-benchmarks",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(name: "zpr", path: "../"),
    .package(
      url: "https://github.com/ordo-one/benchmark.git", exact: "1.38.1",
      traits: ["MallocInterposer"]),
  ],
  targets: [
    .executableTarget(
      name: "PolicyBenchmarks",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "ZPRPolicy", package: "zpr"),
        .product(name: "ZPRTesting", package: "zpr"),
      ],
      path: "Benchmarks/PolicyBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    ),
    .executableTarget(
      name: "TenancyBenchmarks",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "ZPRModel", package: "zpr"),
        .product(name: "ZPRPolicy", package: "zpr"),
        .product(name: "ZPRTesting", package: "zpr"),
      ],
      path: "Benchmarks/TenancyBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    ),
  ]
)
