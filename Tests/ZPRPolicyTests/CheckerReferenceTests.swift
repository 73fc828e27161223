import PropertyBased
import Testing
import ZPRPolicy
import ZPRTesting

/// The checker's indexed duplicate and coverage warnings, held against a plain pairwise
/// reference written from the rules in docs/language.md.
@Suite("Checker against the reference")
struct CheckerReferenceTests {
  @Test func indexedWarningsEqualThePairwiseReference() async {
    await propertyCheck(count: 300, input: Gen.uint64(in: 0...UInt64.max)) { seed in
      var generator = StatementGenerator(seed: seed)
      let vocabulary = Int.random(in: 2...5, using: &generator.random)
      let count = Int.random(in: 2...14, using: &generator.random)
      var lines = generator.policyText(statements: count, vocabulary: vocabulary)
        .split(separator: "\n").map(String.init)
      if generator.random.chance(0.5),
        let repeated = lines.filter({ !$0.hasPrefix("#") }).randomElement(using: &generator.random)
      {
        lines.append(repeated)  // a duplicate, wherever it lands
        lines.shuffle(using: &generator.random)
      }
      let text = lines.joined(separator: "\n")
      let file = check(text)
      #expect(!file.hasErrors, "seed \(seed)")
      let statements = file.statements
      var expected: [Int: DiagnosticCode] = [:]
      for b in statements.indices {
        if statements.indices.contains(where: {
          $0 < b && equivalent(statements[$0], statements[b])
        }) {
          expected[b] = .duplicateStatement
        } else if statements.indices.contains(where: {
          $0 != b && covers(statements[$0], statements[b])
            && !equivalent(statements[$0], statements[b])
        }) {
          expected[b] = .coveredStatement
        }
      }
      var actual: [Int: DiagnosticCode] = [:]
      for diagnostic in file.diagnostics {
        let index = statements.firstIndex { $0.range == diagnostic.range }!
        actual[index] = diagnostic.code
      }
      #expect(actual == expected, "seed \(seed)\n\(text)")
    }
  }

  // MARK: The reference

  private func equivalent(_ a: Statement, _ b: Statement) -> Bool {
    covers(a, b) && covers(b, a)
  }

  private func covers(_ wide: Statement, _ narrow: Statement) -> Bool {
    scopeContains(wide.scope, narrow.scope) && endpointContains(wide.source, narrow.source)
      && endpointContains(wide.destination, narrow.destination)
      && filtersCover(wide.filters, narrow.filters)
  }

  private func attributeContains(_ wide: AttributeRef, _ narrow: AttributeRef) -> Bool {
    (wide.namespace ?? "oracle-zpr").lowercased() == (narrow.namespace ?? "oracle-zpr").lowercased()
      && wide.key.lowercased() == narrow.key.lowercased()
      && (wide.value == nil || wide.value == narrow.value)
  }

  private func scopeContains(_ wide: Statement.Scope, _ narrow: Statement.Scope) -> Bool {
    switch (wide, narrow) {
    case (.vcn(let w), .vcn(let n)):
      attributeContains(w, n)
    case (.crossVCN(let ws, let wd), .crossVCN(let ns, let nd)):
      attributeContains(ws, ns) && attributeContains(wd, nd)
    default:
      false
    }
  }

  private func endpointContains(_ wide: Endpoint, _ narrow: Endpoint) -> Bool {
    switch (wide.kind, narrow.kind) {
    case (.allEndpoints, .allEndpoints), (.allEndpoints, .attribute): true
    case (.attribute(let w), .attribute(let n)): attributeContains(w, n)
    case (.address(let w), .address(let n)): w.contains(n)
    case (.serviceNetwork, .serviceNetwork): true
    default: false
    }
  }

  private func filtersCover(_ wide: Filters, _ narrow: Filters) -> Bool {
    if wide.state == .stateless && narrow.state == .stateful { return false }
    guard let wideProtocol = wide.transport else { return true }
    guard let narrowProtocol = narrow.transport, narrowProtocol.transport == wideProtocol.transport
    else { return false }
    if let type = wide.icmpType, narrow.icmpType?.value != type.value { return false }
    if let code = wide.icmpCode, narrow.icmpCode?.value != code.value { return false }
    if wideProtocol.ports.isEmpty { return true }
    if narrowProtocol.ports.isEmpty { return false }
    // Walk each narrow range through the wide ranges, port by covering range.
    for range in narrowProtocol.ports {
      var port = range.lower
      while port <= range.upper {
        guard let holder = wideProtocol.ports.first(where: { $0.lower <= port && port <= $0.upper })
        else { return false }
        port = holder.upper + 1
      }
    }
    return true
  }
}
