import Foundation
import Testing
import ZPRIAM
import ZPRModel
import ZPRPolicy
import ZPRTesting

/// Hostile input for every parser the API reaches: the JSON reader, the ZPL statement and file
/// parsers, the tenancy file loader and the IAM statement parser. Random bytes and text, deep
/// nesting of every bracket, alias chains, long tokens, repeated keywords, and mutations of the
/// examples. Each parser must answer (a result, or diagnostics and errors with codes, within
/// their caps) and not crash. Seeds are fixed, so every run tries the same inputs; filter with
/// `HostileInputTests`.
@Suite("HostileInputTests")
struct HostileInputTests {
  // MARK: Inputs

  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  static func example(_ path: String) -> String {
    (try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)) ?? ""
  }

  static let policyFiles = [
    "examples/mistakes.zpl", "examples/published.zpl", "examples/three-tier.zpl",
    "examples/tenancies/three-tier-ops.zpl",
  ].map(example)
  static let tenancyFiles = [
    "examples/tenancies/three-tier.yaml", "examples/tenancies/two-vcns.yaml",
    "examples/tenancies/iam.yaml", "examples/tenancies/hub.yaml",
  ].map(example)
  static let iamFiles = ["examples/iam/network-team.iam", "examples/iam/seed-slips.iam"].map(
    example)

  /// The non-comment lines of some files: single statements to mutate.
  static func statements(of files: [String]) -> [String] {
    files.flatMap { $0.split(separator: "\n") }.map(String.init).filter {
      !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#")
        && !$0.trimmingCharacters(in: .whitespaces).isEmpty
    }
  }

  static let zplStatements = statements(of: policyFiles)
  static let iamStatements = statements(of: iamFiles)
  static let jsonExamples = [
    #"{"name": "web-1", "vnics": [{"subnet": "prod/web", "ip": "10.0.1.10"}], "n": -1.5e3}"#,
    #"[true, false, null, 0, "\u00e9\ud83d\ude00", {"a": {"b": []}}]"#,
    #"{"statements": ["in n:p VCN allow a:w endpoints to connect to a:d endpoints"]}"#,
  ]

  // MARK: Checks

  /// The JSON reader answers with a value or an error that has a code and an offset inside.
  static func checkJSON(_ bytes: [UInt8], _ context: @autoclosure () -> String) {
    do {
      let value = try JSONValue.parse(bytes)
      // What it read, it reads again the same way.
      #expect(try JSONValue.parse(value.serialized(pretty: false)) == value, "\(context())")
    } catch {
      #expect(JSONReadError.Code.allCases.contains(error.code), "\(context())")
      #expect((0...bytes.count).contains(error.offset), "\(context()): \(error)")
      #expect(!error.message.isEmpty)
    }
  }

  /// Diagnostics have codes, point inside the text, and stay within `limit`.
  static func checkDiagnostics(
    _ diagnostics: [Diagnostic], in text: String, limit: Int, _ context: @autoclosure () -> String
  ) {
    #expect(diagnostics.count <= limit, "\(context()): \(diagnostics.count) diagnostics")
    let length = text.utf8.count
    for diagnostic in diagnostics {
      #expect(!diagnostic.code.rawValue.isEmpty && !diagnostic.message.isEmpty, "\(context())")
      #expect(diagnostic.range.upperBound <= length, "\(context()): \(diagnostic)")
    }
  }

  static let limits = ZPRLimits.standard

  /// One ZPL statement: a statement without errors, or none and an error; capped.
  static func checkStatement(_ text: String, _ context: @autoclosure () -> String) {
    let (statement, diagnostics) = PolicyParser().parseStatement(text)
    let hasError = diagnostics.contains { $0.severity == .error }
    #expect((statement == nil) == hasError, "\(context()): \(diagnostics)")
    let oneLine = !text.utf8.contains(0x0A)
    // A line reports its cap and one summary; a statement given alone may add one more.
    let limit =
      oneLine ? limits.diagnosticsPerStatement + 2 : limits.diagnosticsPerFile + 2
    checkDiagnostics(diagnostics, in: text, limit: limit, context())
    for diagnostic in diagnostics {
      #expect(DiagnosticCode.all.contains(diagnostic.code), "\(context()): \(diagnostic)")
    }
  }

  /// A policy file, parsed and checked.
  static func checkPolicyFile(_ text: String, _ context: @autoclosure () -> String) {
    let file = PolicyChecker().check(SourceFile(path: "fuzz.zpl", text: text))
    checkDiagnostics(file.diagnostics, in: text, limit: limits.diagnosticsPerFile + 1, context())
    #expect(file.hasErrors || file.statements.count == file.statementLines.count, "\(context())")
  }

  /// A tenancy file, loaded.
  static func checkTenancy(_ text: String, _ context: @autoclosure () -> String) {
    let loaded = TenancyFile.load(SourceFile(path: "fuzz.yaml", text: text))
    checkDiagnostics(
      loaded.diagnostics, in: text, limit: limits.diagnosticsPerFile + 1, context())
  }

  /// One IAM statement (ZPRIAM holds it to its own limits).
  static func checkIAM(_ text: String, _ context: @autoclosure () -> String) {
    let (statement, diagnostics) = IAMParser().parseStatement(text)
    #expect(statement != nil || !diagnostics.isEmpty, "\(context())")
    checkDiagnostics(
      diagnostics, in: text, limit: IAMLimits.standard.diagnosticsPerFile + 2, context())
  }

  // MARK: Random inputs

  @Test func randomBytesAndText() {
    var random = Hostile(seed: 0x5EED_0001)
    for round in 0..<150 {
      let bytes = random.bytes(maximum: 300)
      let text = random.text(maximum: 200)
      let context = "round \(round): \(text.debugDescription)"
      Self.checkJSON(bytes, "round \(round): \(bytes)")
      Self.checkJSON(Array(text.utf8), context)
      Self.checkStatement(text, context)
      Self.checkIAM(text, context)
      if round % 3 == 0 {
        Self.checkPolicyFile(text, context)
        Self.checkTenancy(text, context)
        Self.checkTenancy(String(decoding: bytes, as: UTF8.self), "round \(round): \(bytes)")
      }
    }
  }

  /// Mutations of a corpus's examples, in turn, each handed to a check with the round and the
  /// text that failed it.
  static func mutations(
    of corpus: [String], rounds: Int, pieces: [String], _ random: inout Hostile,
    label: String = "round", _ check: (String, String) -> Void
  ) {
    for round in 0..<rounds {
      let mutated = random.mutate(corpus[round % corpus.count], pieces: pieces)
      check(mutated, "\(label) \(round): \(mutated.debugDescription)")
    }
  }

  @Test func mutatedJSON() {
    var random = Hostile(seed: 0x5EED_0002)
    Self.mutations(of: Self.jsonExamples, rounds: 300, pieces: Hostile.jsonPieces, &random) {
      Self.checkJSON(Array($0.utf8), $1)
    }
  }

  @Test func mutatedZPLStatementsAndFiles() {
    var random = Hostile(seed: 0x5EED_0003)
    Self.mutations(of: Self.zplStatements, rounds: 300, pieces: Hostile.zplPieces, &random) {
      Self.checkStatement($0, $1)
    }
    Self.mutations(
      of: Self.policyFiles, rounds: 24, pieces: Hostile.zplPieces, &random, label: "file round"
    ) { Self.checkPolicyFile($0, $1) }
  }

  @Test func mutatedIAMStatements() {
    var random = Hostile(seed: 0x5EED_0004)
    Self.mutations(of: Self.iamStatements, rounds: 300, pieces: Hostile.iamPieces, &random) {
      Self.checkIAM($0, $1)
    }
  }

  @Test func mutatedTenancyFiles() {
    var random = Hostile(seed: 0x5EED_0005)
    Self.mutations(of: Self.tenancyFiles, rounds: 48, pieces: Hostile.yamlPieces, &random) {
      Self.checkTenancy($0, $1)
    }
  }

  // MARK: Deep nesting, long tokens, repetition

  /// Every bracket, nested far past every limit, for every parser.
  @Test(arguments: [
    "[", "{", "(", "{\"a\":", "{a: ", "[{a: ", "- ", "'", "\"", "any {", "&a [", "? ",
  ])
  func deepNesting(open: String) {
    let text = String(repeating: open, count: 20_000)
    let context = "\(open.debugDescription) x 20000"
    Self.checkJSON(Array(text.utf8), context)
    Self.checkStatement(text, context)
    Self.checkPolicyFile(text, context)
    Self.checkIAM(text, context)
    Self.checkTenancy(text, context)
    Self.checkTenancy("compartments: " + text, context)
  }

  @Test func deepBlockNesting() {
    for step in ["  ", " "] {
      for marker in ["k:", "- ", "- k:", "? "] {
        let text = (0..<200).map { String(repeating: step, count: $0) + marker }.joined(
          separator: "\n")
        let loaded = TenancyFile.load(SourceFile(path: "t.yaml", text: text))
        #expect(
          loaded.diagnostics.contains { $0.code == TenancyFileCode.tooDeep }
            || loaded.diagnostics.contains { $0.code == TenancyFileCode.invalidYAML },
          "\(marker.debugDescription) \(loaded.diagnostics.prefix(3))")
        Self.checkTenancy(text, "block \(marker.debugDescription)")
      }
    }
  }

  @Test func aliasChainsAndBombs() {
    // A chain: each anchor holds an alias to the one before, one level deeper each line.
    let chain = (0..<3000).map { $0 == 0 ? "- &a0 [x]" : "- &a\($0) [*a\($0 - 1)]" }
    Self.checkTenancy(chain.joined(separator: "\n"), "chain")
    // Bombs of several shapes: flow, block, in mappings.
    for fan in [2, 10, 50] {
      var flow = ["a0: &a0 [" + Array(repeating: "x", count: fan).joined(separator: ", ") + "]"]
      var block = ["a0: &a0", "  - x"]
      for level in 1..<20 {
        let aliases = Array(repeating: "*a\(level - 1)", count: fan)
        flow.append("a\(level): &a\(level) [" + aliases.joined(separator: ", ") + "]")
        block.append("a\(level): &a\(level)")
        block.append(contentsOf: aliases.map { "  - \($0)" })
      }
      for (name, lines) in [("flow", flow), ("block", block)] {
        let loaded = TenancyFile.load(
          SourceFile(path: "t.yaml", text: lines.joined(separator: "\n")))
        #expect(
          loaded.diagnostics.map(\.code) == [TenancyFileCode.aliasExpansion]
            || loaded.diagnostics.map(\.code) == [TenancyFileCode.tooDeep],
          "\(name) bomb, fan \(fan): \(loaded.diagnostics)")
      }
    }
    // An alias used as a key, and one inside a key.
    Self.checkTenancy("a: &a [1, 2]\n? *a\n: x\n", "alias key")
    Self.checkTenancy("a: &a [1, 2]\n[*a, *a]: x\n", "alias in a key")
    Self.checkTenancy("a: &a x\n*a : y\n*b : z\n", "undefined alias")
  }

  @Test func longTokensAndRepeatedKeywords() {
    let long = String(repeating: "a", count: 100_000)
    for text in [
      long,
      "in \(long):x VCN allow a:w endpoints to connect to a:d endpoints",
      "in n:p VCN allow '\(long)' to connect to a:d endpoints",
      String(repeating: "in ", count: 2000),
      String(repeating: "allow ", count: 600),
      "in n:p VCN allow a:w endpoints to connect to a:d endpoints"
        + String(repeating: " with protocol='tcp/22'", count: 150),
      "in n:p VCN allow a:w endpoints to connect to a:d endpoints with protocol='tcp/"
        + Array(repeating: "ssh", count: 900).joined(separator: ",") + "'",
      "in n:p VCN allow a:w endpoints to connect to a:d endpoints with protocol='tcp/"
        + Array(repeating: "9-1", count: 900).joined(separator: ",") + "'",
    ] {
      let context = String(text.prefix(60))
      Self.checkStatement(text, context)
      Self.checkPolicyFile(text + "\n" + text, context)
      Self.checkIAM(text, context)
    }
    Self.checkIAM(String(repeating: "Allow group ", count: 1000), "allow x 1000")
    Self.checkIAM(
      "Allow group A to manage vcns in tenancy where any {"
        + Array(repeating: "request.permission='VCN_UPDATE'", count: 500).joined(separator: ", ")
        + "}", "long condition")
    Self.checkTenancy("\(long): x\n", "long key")
    Self.checkTenancy("compartments:\n  - name: \(long)\n", "long name")
    Self.checkTenancy(String(repeating: "vcns: ", count: 5000), "repeated keys")
    Self.checkTenancy(
      "policies:\n  - name: p\n    description: d\n    statements:\n"
        + String(
          repeating: "      - in n:p VCN allow a:w endpoints to connect to a:d\n", count: 500),
      "many statements")
    Self.checkJSON(
      Array(("\"" + String(repeating: "x", count: 1_100_000) + "\"").utf8), "long string")
    Self.checkJSON(Array(("[" + String(repeating: "1,", count: 100_000) + "1]").utf8), "long array")
    Self.checkJSON(Array(String(repeating: "9", count: 10_000).utf8), "long number")
  }
}

/// A seeded source of hostile input.
struct Hostile {
  var random: SplitMix64

  init(seed: UInt64) {
    random = SplitMix64(seed: seed)
  }

  static let zplPieces = [
    "in", "VCN", "allow", "to", "connect", "endpoints", "with", "all-endpoints",
    "'osn-services-ip-addresses'", "protocol='tcp/22'", "protocol.icmp.type='8'", "'", "\"",
    "=", ",", "#", ":", ".", "/", "-", "{", "(", "[", "\u{2019}", "\u{202E}", "\t", "\n", "é",
    "10.0.0.0/8", "fd00::/8", "'10.0.0.300'",
  ]
  static let iamPieces = [
    "Allow", "group", "id", "any-user", "to", "manage", "use", "read", "inspect", "in",
    "tenancy", "compartment", "where", "any", "all", "{", "}", "=", "!=", "'", ",", ":", "#",
    "request.permission", "target.group.name", "\u{202E}", "\n",
  ]
  static let yamlPieces = [
    "[", "]", "{", "}", ",", ": ", "- ", "? ", "&a ", "*a", "!!str ", "|", ">", "'", "\"", "#",
    "\n", "\n  ", "\n    - ", "---\n", "...\n", "%YAML 1.2\n", "\t", "\u{FEFF}", "\u{2028}",
    "\u{85}", "\r", "\\", "<<: *a", "~", "null",
  ]
  static let jsonPieces = [
    "[", "]", "{", "}", ",", ":", "\"", "\\", "\\u", "\\ud800", "0", "-", ".", "e", "+", "NaN",
    "true", "nul", " ", "\u{0}", "\u{1F}", "é", "\u{FEFF}",
  ]

  /// Characters from the ranges that trip parsers.
  static let scalars: [ClosedRange<UInt32>] = [
    0x20...0x7E, 0x20...0x7E, 0x20...0x7E, 0x00...0x1F, 0x7F...0x9F, 0xA0...0x2FF,
    0x300...0x36F, 0x200B...0x200F, 0x2028...0x202E, 0x2066...0x2069, 0x4E00...0x4E20,
    0xFEFF...0xFEFF, 0xFFF9...0xFFFD, 0x1F600...0x1F64F,
  ]

  mutating func bytes(maximum: Int) -> [UInt8] {
    (0..<Int.random(in: 0...maximum, using: &random)).map { _ in
      UInt8.random(in: 0...255, using: &random)
    }
  }

  mutating func text(maximum: Int) -> String {
    var text = ""
    for _ in 0..<Int.random(in: 0...maximum, using: &random) {
      let range = Self.scalars.randomElement(using: &random)!
      text.unicodeScalars.append(
        Unicode.Scalar(UInt32.random(in: range, using: &random)) ?? "?")
    }
    return text
  }

  /// A few insertions, deletions and duplications of slices, and pieces of the language.
  mutating func mutate(_ text: String, pieces: [String]) -> String {
    var scalars = Array(text.unicodeScalars)
    for _ in 0..<Int.random(in: 1...6, using: &random) {
      let at = Int.random(in: 0...scalars.count, using: &random)
      switch Int.random(in: 0..<5, using: &random) {
      case 0:
        let piece = pieces.randomElement(using: &random)!
        let copies = random.chance(0.1) ? Int.random(in: 2...400, using: &random) : 1
        scalars.insert(
          contentsOf: String(repeating: piece, count: copies).unicodeScalars, at: at)
      case 1 where !scalars.isEmpty:
        let end = min(scalars.count, at + Int.random(in: 1...20, using: &random))
        scalars.removeSubrange(min(at, scalars.count - 1)..<end)
      case 2 where !scalars.isEmpty:
        let start = min(at, scalars.count - 1)
        let end = min(scalars.count, start + Int.random(in: 1...80, using: &random))
        let copies = Int.random(in: 1...(random.chance(0.1) ? 50 : 3), using: &random)
        let slice = Array(scalars[start..<end])
        scalars.insert(contentsOf: Array(repeating: slice, count: copies).joined(), at: end)
      case 3:
        scalars.insert(
          contentsOf: self.text(maximum: 8).unicodeScalars, at: min(at, scalars.count))
      default:
        if !scalars.isEmpty {
          let index = min(at, scalars.count - 1)
          scalars[index] = pieces.randomElement(using: &random)!.unicodeScalars.first ?? "x"
        }
      }
    }
    var result = ""
    result.unicodeScalars.append(contentsOf: scalars)
    return result
  }
}
