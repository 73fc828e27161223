import ZPRPolicy

/// Parses and checks a text as a file named `test.zpl`.
func check(_ text: String, options: PolicyOptions = PolicyOptions()) -> PolicyFile {
  PolicyChecker(options: options).check(SourceFile(path: "test.zpl", text: text))
}

/// The one statement of a text that must parse cleanly.
func statement(_ text: String) throws -> Statement {
  let (statement, diagnostics) = PolicyParser().parseStatement(text)
  guard let statement else { throw ParseFailure(diagnostics: diagnostics) }
  return statement
}

struct ParseFailure: Error, CustomStringConvertible {
  var diagnostics: [Diagnostic]
  var description: String { diagnostics.map { "\($0.code) \($0.message)" }.joined(separator: "\n") }
}

extension PolicyFile {
  /// The codes of the diagnostics, in order.
  var codes: [DiagnosticCode] { diagnostics.map(\.code) }
}

extension AttributeRef {
  /// A reference for comparisons (ranges are not compared).
  static func ref(_ namespace: String?, _ key: String, _ value: String?) -> AttributeRef {
    AttributeRef(namespace: namespace, key: key, value: value, range: SourceRange(0, 0))
  }
}
