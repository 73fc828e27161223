import PropertyBased
import Testing
import ZPRPolicy
import ZPRTesting

/// Random inputs, driven by a seed that PropertyBased reports on failure (reproduce a failure
/// with `.fixedSeed(...)` on the test).
@Suite("Properties")
struct PropertyTests {
  static let seeds = Gen.uint64(in: 0...UInt64.max)

  @Test func randomStatementsRoundTripThroughTheFormatter() async {
    await propertyCheck(count: 400, input: Self.seeds) { seed in
      var generator = StatementGenerator(seed: seed)
      let original = generator.statement()
      let spelled = generator.spelling(of: original)
      let (parsed, diagnostics) = PolicyParser().parseStatement(spelled)
      #expect(diagnostics.isEmpty, "seed \(seed): \(spelled)\n\(diagnostics)")
      #expect(parsed == original, "seed \(seed): \(spelled)")
      let formatted = PolicyFormatter.format(original)
      let reparsed = PolicyParser().parseStatement(formatted).statement
      #expect(reparsed == original, "seed \(seed): \(formatted)")
      #expect(reparsed.map(PolicyFormatter.format) == formatted, "format is idempotent")
    }
  }

  @Test func randomFilesFormatIdempotently() async {
    await propertyCheck(count: 60, input: Self.seeds) { seed in
      var generator = StatementGenerator(seed: seed)
      var lines: [String] = []
      for _ in 0..<Int.random(in: 1...30, using: &generator.random) {
        switch Int.random(in: 0..<6, using: &generator.random) {
        case 0: lines.append("")
        case 1: lines.append("# note \(generator.name())")
        default:
          let statement = generator.statement()
          lines.append(
            generator.spelling(of: statement) + (generator.random.chance(0.2) ? " # why" : ""))
        }
      }
      let options = PolicyOptions(limits: ZPRLimits(statementsPerPolicy: 1000))
      let file = check(lines.joined(separator: "\n"), options: options)
      #expect(!file.hasErrors, "seed \(seed): \(file.diagnostics)")
      let once = PolicyFormatter.format(file)
      let again = check(once, options: options)
      #expect(PolicyFormatter.format(again) == once, "seed \(seed)")
      #expect(again.statements == file.statements, "seed \(seed)")
    }
  }

  @Test func mutatedInputsNeverCrashAndAlwaysPointInside() async {
    await propertyCheck(count: 1500, input: Self.seeds) { seed in
      var generator = StatementGenerator(seed: seed)
      var bytes = Array(generator.spelling(of: generator.statement()).utf8)
      let pieces = Array(
        "'\",=#:./- \tabc0123456789in VCN allow to connect with protocol;()[]{}\u{2019}".utf8)
      for _ in 0..<Int.random(in: 1...4, using: &generator.random) {
        guard !bytes.isEmpty else { break }
        let at = Int.random(in: 0..<bytes.count, using: &generator.random)
        switch Int.random(in: 0..<4, using: &generator.random) {
        case 0: bytes.remove(at: at)
        case 1: bytes.insert(pieces.randomElement(using: &generator.random)!, at: at)
        case 2: bytes[at] = UInt8.random(in: 0...255, using: &generator.random)
        default:
          let end = min(bytes.count, at + Int.random(in: 1...12, using: &generator.random))
          bytes.removeSubrange(at..<end)
        }
      }
      assertWellBehaved(String(decoding: bytes, as: UTF8.self), seed: seed)
    }
  }

  @Test func randomTextNeverCrashesAndAlwaysPointsInside() async {
    await propertyCheck(count: 1500, input: Self.seeds) { seed in
      var random = SplitMix64(seed: seed)
      let alphabet = Array(
        "in VCN allow to connect endpoints with protocol='tcp/22' a:b 10.0.0.1/8 ::, =#\"\n\tü;(){}[]\u{2018}\u{2019}\u{201C}"
          .unicodeScalars)
      var text = ""
      for _ in 0..<Int.random(in: 0...120, using: &random) {
        text.unicodeScalars.append(alphabet.randomElement(using: &random)!)
      }
      assertWellBehaved(text, seed: seed)
    }
  }

  /// No crash; every diagnostic lies inside the input; every line that is not blank or a comment
  /// gives a statement or an error on that line.
  private func assertWellBehaved(_ text: String, seed: UInt64) {
    let file = check(text)
    let size = file.source.bytes.count
    for diagnostic in file.diagnostics {
      #expect(
        diagnostic.range.lowerBound >= 0 && diagnostic.range.upperBound <= size,
        "seed \(seed): \(diagnostic) outside \(size) bytes")
      #expect(!diagnostic.message.isEmpty)
      _ = DiagnosticRenderer().render(diagnostic, in: file.source)
    }
    for (index, line) in file.lines.enumerated() {
      guard case .invalid(let range) = line else { continue }
      let lineNumber = index + 1
      let reported = file.diagnostics.contains {
        $0.severity == .error && file.source.line(containing: $0.range.lowerBound) == lineNumber
      }
      #expect(
        reported,
        "seed \(seed): line \(lineNumber) '\(file.source.text(of: range))' failed silently")
    }
    _ = PolicyFormatter.format(file)
  }
}
