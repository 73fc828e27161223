import Benchmark
import ZPRModel
import ZPRPolicy
import ZPRTesting

/// Load and check of a generated tenancy file with about 100,000 VNICs and 1,000 namespaces
/// (2,000 attributes), against a baseline that splits the same text into lines and words.
let benchmarks: @Sendable () -> Void = {
  var generator = TenancyGenerator(seed: 42)
  let tenancy = generator.tenancy(
    TenancyGenerator.Size(
      namespaces: 1_000, attributesPerNamespace: 2, vcns: 40, subnetsPerVCN: 20, resources: 90_000,
      policies: 10))
  let source = SourceFile(path: "<generated>", text: TenancyFile.yaml(for: tenancy))

  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .peakMemoryResident, .mallocCountTotal],
    maxDuration: .seconds(60), maxIterations: 5)

  Benchmark("Baseline: split the tenancy file into words") { benchmark in
    for _ in benchmark.scaledIterations {
      var words = 0
      for line in source.text.split(separator: "\n") { words += line.split(separator: " ").count }
      blackHole(words)
    }
  }

  Benchmark("Load+check a tenancy of 100k VNICs") { benchmark in
    for _ in benchmark.scaledIterations {
      blackHole(TenancyFile.load(source))
    }
  }
}
