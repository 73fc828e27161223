import ArgumentParser
import Foundation
import ZPRPolicy
import ZPRTesting

/// `zpr bench`: measure zpr's hot paths on this machine, against a baseline run in the same
/// process so that the figures compare across machines.
struct BenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Measure zpr's hot paths (build with -c release for real figures).",
    subcommands: [PolicyBench.self, TenancyBench.self, EngineBench.self, EnforcerBench.self]
  )
}

/// `zpr bench policy`: parse + check of a large generated policy file.
struct PolicyBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "policy",
    abstract: "Parse and check a generated policy file; report statements per second on one core.",
    discussion: """
      The baseline splits the same text into lines and words with the standard library: the
      least any reader of the text must do. The ratio is parse+check time over baseline time.
      """
  )

  @Option(help: "Statements in the generated file.")
  var statements = 100_000

  @Option(help: "Timed runs; the best is reported.")
  var iterations = 5

  @Option(
    help: """
      Draw attributes and addresses from this many of each, as a tenancy does (0: nearly every \
      attribute is new).
      """)
  var vocabulary = 0

  @Flag(help: "Measure parsing alone (no file-level checks).")
  var parseOnly = false

  @Option(help: "The seed of the generated file.")
  var seed: UInt64 = 42

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  @Option(help: "Also write the generated policy to this file, to reproduce a run.")
  var write: String?

  func validate() throws {
    guard statements >= 1, iterations >= 1, vocabulary >= 0 else {
      throw ValidationError(
        "--statements and --iterations must be at least 1, --vocabulary at least 0")
    }
  }

  func run() async throws {
    var generator = StatementGenerator(seed: seed)
    let text = generator.policyText(
      statements: statements, vocabulary: vocabulary > 0 ? vocabulary : nil)
    let source = SourceFile(path: "<generated>", text: text)
    if let write {
      do {
        try text.write(toFile: write, atomically: true, encoding: .utf8)
      } catch {
        throw CLIError.cannotWrite(write, error.localizedDescription)
      }
    }
    // The file is one policy for this measurement, so the statement limit is lifted.
    let checker = PolicyChecker(
      options: PolicyOptions(limits: ZPRLimits(statementsPerPolicy: .max)))

    var baselineBest = Duration.seconds(1_000)
    var checkBest = Duration.seconds(1_000)
    var parsed = 0
    var diagnostics = 0
    var peakGrowth = 0
    var parseShare = 0.0
    let clock = ContinuousClock()
    for _ in 0..<iterations {
      baselineBest = min(baselineBest, splitBaseline(text))
      var file: PolicyFile?
      Memory.resetPeak()
      let residentBefore = Memory.procStatus("VmRSS")
      var parseTime = Duration.zero
      let elapsed = clock.measure {
        let parser = PolicyParser()
        var parsedFile: PolicyFile?
        parseTime = clock.measure { parsedFile = parser.parse(source) }
        if var parsedFile {
          if !parseOnly { parsedFile.diagnostics += checker.check(parsedFile) }
          file = parsedFile
        }
      }
      if elapsed < checkBest { parseShare = parseTime / elapsed }
      checkBest = min(checkBest, elapsed)
      peakGrowth = max(peakGrowth, Memory.procStatus("VmHWM") - residentBefore)
      parsed = file?.statements.count ?? 0
      diagnostics = file?.diagnostics.count ?? 0
    }
    let checkSeconds = seconds(checkBest)
    let baselineSeconds = seconds(baselineBest)
    let rate = Double(statements) / checkSeconds
    let ratio = checkSeconds / baselineSeconds
    let peak = Memory.procStatus("VmHWM")
    switch format {
    case .json:
      writeOut(
        JSONValue.object([
          ("benchmark", .string("policy.parse+check")),
          ("statements", .int(statements)), ("bytes", .int(text.utf8.count)),
          ("vocabulary", .int(vocabulary)),
          ("parsedStatements", .int(parsed)), ("diagnostics", .int(diagnostics)),
          ("bestNanoseconds", .int(Int(checkSeconds * 1e9))),
          ("statementsPerSecond", .int(Int(rate))),
          ("baselineNanoseconds", .int(Int(baselineSeconds * 1e9))),
          ("ratioToBaseline", .string(String(format: "%.2f", ratio))),
          ("parseShare", .string(String(format: "%.2f", parseShare))),
          ("peakGrowthBytes", .int(peakGrowth)), ("residentBytes", .int(peak)),
        ]).serialized() + "\n")
    case .text:
      writeOut(
        """
        policy parse+check: \(statements) statements, \(text.utf8.count / 1024) KiB, \
        vocabulary \(vocabulary > 0 ? String(vocabulary) : "unbounded"), best of \(iterations)
          parse+check   \(String(format: "%8.1f", checkSeconds * 1000)) ms   \(String(format: "%.0f", rate)) statements/s (one core)
          baseline      \(String(format: "%8.1f", baselineSeconds * 1000)) ms   (split into lines and words)
          ratio         \(String(format: "%.2f", ratio))x baseline
          parsing took \(String(format: "%.0f", parseShare * 100))%, file-level checks the rest
          peak memory of parse+check    \(peakGrowth / 1024 / 1024) MiB (resident growth)
          resident at the end           \(peak / 1024 / 1024) MiB (whole process)
          parsed \(parsed) statements, \(diagnostics) diagnostics

        """)
    }
  }
}
