import Benchmark
import ZPRPolicy
import ZPRTesting

/// Parse + check of generated 100,000-statement policy files. One iteration handles the whole
/// file: statements per second = 100,000 / the time of one iteration. The baseline splits the
/// same text into lines and words, so that ratios compare across machines.
///
/// Two corpora: "vocabulary 1000" draws attributes and addresses from 1,000 of each, as a real
/// tenancy does; "unbounded" makes nearly every attribute new, the worst case for the checker.
let benchmarks: @Sendable () -> Void = {
  let statements = 100_000
  let checker = PolicyChecker(options: PolicyOptions(limits: ZPRLimits(statementsPerPolicy: .max)))
  var corpora: [(name: String, source: SourceFile)] = []
  for (name, vocabulary) in [("vocabulary 1000", Optional(1000)), ("unbounded", nil)] {
    var generator = StatementGenerator(seed: 42)
    let text = generator.policyText(statements: statements, vocabulary: vocabulary)
    corpora.append((name, SourceFile(path: "<\(name)>", text: text)))
  }

  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .peakMemoryResident, .mallocCountTotal],
    maxDuration: .seconds(10), maxIterations: 20)

  Benchmark("Baseline: split 100k statements into words") { benchmark in
    let text = corpora[0].source.text
    for _ in benchmark.scaledIterations {
      var words = 0
      for line in text.split(separator: "\n") { words += line.split(separator: " ").count }
      blackHole(words)
    }
  }

  for corpus in corpora {
    Benchmark("Parse 100k statements, \(corpus.name)") { benchmark in
      let parser = PolicyParser()
      for _ in benchmark.scaledIterations {
        blackHole(parser.parse(corpus.source))
      }
    }

    Benchmark("Parse+check 100k statements, \(corpus.name)") { benchmark in
      for _ in benchmark.scaledIterations {
        blackHole(checker.check(corpus.source))
      }
    }
  }
}
