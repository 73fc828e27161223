import Foundation
import Testing
import ZPRPolicy
import ZPRTesting

@testable import ZPRModel

/// The subset YAML reader is a fast path: whatever it accepts, it must read exactly as the full
/// YAML parser does, and it must decline everything else.
@Suite("YAML subset reader")
struct YAMLSubsetReaderTests {
  /// The parts of a node both readers must agree on: structure, text, style and start offsets.
  /// (Ends differ on purpose: the subset reader knows where a quoted scalar with `''` ends.)
  static func shape(_ node: YAMLNode?) -> String {
    guard let node else { return "nil" }
    switch node {
    case .scalar(let scalar):
      return "\(scalar.style)@\(scalar.range.lowerBound)(\(scalar.text.debugDescription))"
    case .mapping(let pairs, let start):
      return "{@\(start) "
        + pairs.map { "\(shape($0.key)): \(shape($0.value))" }.joined(
          separator: ", ") + "}"
    case .sequence(let items, let start):
      return "[@\(start) " + items.map { shape($0) }.joined(separator: ", ") + "]"
    }
  }

  /// Checks one text: when the subset reader accepts it, the full parser reads the same; returns
  /// whether the subset reader accepted it.
  @discardableResult
  static func agree(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation)
    -> Bool
  {
    let source = SourceFile(path: "t.yaml", text: text)
    guard let fast = YAMLSubsetReader.read(source.bytes) else { return false }
    do {
      let (mine, theirs) = (shape(fast.root), shape(try YAMLDocument.readWithYams(source)))
      if mine != theirs {
        // Show where the two readings part, not both whole trees.
        let common = zip(mine, theirs).prefix { $0 == $1 }.count
        let subset = String(mine.dropFirst(max(0, common - 60)).prefix(120))
        let full = String(theirs.dropFirst(max(0, common - 60)).prefix(120))
        let input = String(text.prefix(300)).debugDescription
        Issue.record(
          "the readers differ: subset …\(subset)… full …\(full)… in \(input)",
          sourceLocation: sourceLocation)
      }
    } catch {
      Issue.record(
        "the subset reader accepted what the full parser rejects (\(error)): \(text.debugDescription)",
        sourceLocation: sourceLocation)
    }
    return true
  }

  static let accepted: [String] = [
    "",
    "# only a comment\n",
    "a: b\n",
    "a: b",
    "a:\n  b: c\n  d: [e, 'f', \"g\"]\nh: {i: j, k: [l, m]}\n",
    "- a\n- b: c\n  d: e\n- - f\n  - g\n",
    "a:\n- b\n- c\nd: e\n",
    "a:\nb: c\n",
    "a:\n",
    "a: ~\nb: null\nc: ''\nd: \"\"\n",
    "a: 'it''s'\nb: '# not a comment'\nc: x#y\nd: x # a comment\n",
    "  a: b\n  c: d\n",
    "a: 10.0.0.0/16\nb: 2001:db8::/32\nc: [2001:db8::1, fe80::/10]\n",
    "statements:\n  - in app:x VCN allow 'ns.a:- y' endpoints to connect to app:db endpoints with protocol='tcp/5432'\n",
    "a: -5\nb: x-y\nc: [-1, '-2']\n",
    "a: [ ]\nb: { }\nc: []\nd: {}\n",
    "a: {b: {c: d}}\n",
    "\"quoted key\": 1\n'other': 2\n",
    "a: é ü 日本\n",
    "- a # c\n  # c2\n- b\n",
    "a: b   \n\n\n   \nc: d\n",
    "a:\n  - b\n  - c\n",
    "a: true\nb: 1.5\nc: 0x1F\n",
    // JSON one-liners, as the server writes stored elements: a quoted key's colon may touch.
    "- {\"name\":\"web\",\"cidr\":\"10.0.1.0/24\",\"securityLists\":[\"internal\"],\"n\":1}\n",
    "a: {\"b\":{\"c\":[1,true,null]},'d':e}\n",
  ]

  @Test func readsTheSubsetAsTheFullParserDoes() {
    for text in Self.accepted {
      #expect(Self.agree(text), "declined: \(text.debugDescription)")
    }
  }

  static let declined: [String] = [
    "a: &x b\nc: *x\n",
    "a: !tag b\n",
    "a: |\n  block\n",
    "a: >\n  folded\n",
    "a: b\n  continued\n",
    "a: \"esc\\n\"\n",
    "a:\tb\n",
    "a: b\r\nc: d\r\n",
    "---\na: b\n",
    "a: b\n---\nc: d\n",
    "%YAML 1.2\n---\na: b\n",
    "a: b\na: c\n",
    "{a: b, a: c}\n",
    "a: [b,\n  c]\n",
    "a: 'b\n  c'\n",
    "? a\n: b\n",
    "a: b: c\n",
    "a: - b\n",
    "a:\n  b: c\n d: e\n",
    "- a\n -b\n",
    "-\n- a\n",
    "a: [b, ]\n",
    "a: {b}\n",
    "a: {b:c}\n",
    "a: 'b'c\n",
    "[a]: b\n",
    "a: @b\n",
    "\u{FEFF}a: b\n",
  ]

  @Test func declinesWhatIsOutsideTheSubset() {
    for text in Self.declined {
      let source = SourceFile(path: "t.yaml", text: text)
      #expect(YAMLSubsetReader.read(source.bytes) == nil, "\(text.debugDescription)")
    }
  }

  @Test func readsGeneratedAndExampleTenanciesWithoutTheFullParser() throws {
    var texts: [String] = []
    for seed in UInt64(1)...20 {
      var generator = TenancyGenerator(seed: seed)
      texts.append(
        TenancyFile.yaml(
          for: generator.tenancy(
            .init(
              namespaces: 3, attributesPerNamespace: 2, vcns: 2, subnetsPerVCN: 2, resources: 6,
              policies: 2))))
    }
    let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
        "examples/tenancies")
    for name in ["three-tier.yaml", "two-vcns.yaml"] {
      texts.append(try String(contentsOf: examples.appendingPathComponent(name), encoding: .utf8))
    }
    for text in texts {
      #expect(Self.agree(text), "declined: \(text)")
    }
  }

  /// Random edits of real files with YAML's significant characters: whatever the subset reader
  /// still accepts, the full parser must read the same way.
  @Test func mutatedFilesAgreeOrAreDeclined() throws {
    var random = SplitMix64(seed: 7)
    var generator = TenancyGenerator(seed: 3)
    let base = Array(
      TenancyFile.yaml(
        for: generator.tenancy(
          .init(
            namespaces: 2, attributesPerNamespace: 2, vcns: 1, subnetsPerVCN: 2, resources: 3,
            policies: 1))
      ).utf8)
    let significant = Array(" :-#'\"[]{},\n&*!|>?~x.".utf8)
    var accepted = 0
    for _ in 0..<1500 {
      var bytes = base
      for _ in 0..<Int.random(in: 1...3, using: &random) {
        let index = Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<3, using: &random) {
        case 0: bytes.remove(at: index)
        case 1: bytes.insert(significant.randomElement(using: &random)!, at: index)
        default: bytes[index] = significant.randomElement(using: &random)!
        }
      }
      if Self.agree(String(decoding: bytes, as: UTF8.self)) { accepted += 1 }
    }
    // Most edits keep the file in the subset, so the comparison above is not vacuous.
    #expect(accepted > 500, "only \(accepted) of 1500 mutated files were read by the subset reader")
  }
}
