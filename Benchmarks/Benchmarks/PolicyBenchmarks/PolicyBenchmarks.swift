import Benchmark
import ZPRPolicy
import ZPRTesting

/// Parse + check of a generated 100,000-statement policy file. Throughput is in files per
/// second: multiply by 100,000 for statements per second. The baseline benchmark splits the
/// same text into lines and words, so that ratios compare across machines.
let benchmarks: @Sendable () -> Void = {
  let statements = 100_000
  var generator = StatementGenerator(seed: 42)
  let text = generator.policyText(statements: statements)
  let source = SourceFile(path: "<generated>", text: text)
  let checker = PolicyChecker(options: PolicyOptions(limits: ZPRLimits(statementsPerPolicy: .max)))

  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .throughput, .peakMemoryResident, .mallocCountTotal],
    maxDuration: .seconds(10), maxIterations: 20)

  Benchmark("Baseline: split 100k statements into words") { benchmark in
    for _ in benchmark.scaledIterations {
      var words = 0
      for line in text.split(separator: "\n") { words += line.split(separator: " ").count }
      blackHole(words)
    }
  }

  Benchmark("Parse+check 100k statements") { benchmark in
    for _ in benchmark.scaledIterations {
      blackHole(checker.check(source))
    }
  }

  Benchmark("Parse 100k statements") { benchmark in
    let parser = PolicyParser(options: checker.options)
    for _ in benchmark.scaledIterations {
      blackHole(parser.parse(source))
    }
  }
}
