// Caps on how many diagnostics are reported: a hostile or badly broken input must not produce
// an answer much larger than itself. What is left out is counted and reported as one more
// diagnostic.

/// How many diagnostics were left out, by severity.
public struct DiagnosticTally: Hashable, Sendable {
  /// Errors left out.
  public var errors = 0
  /// Warnings left out.
  public var warnings = 0

  /// An empty tally.
  public init() {}

  /// Counts one more diagnostic of this severity.
  public mutating func add(_ severity: Severity) {
    if severity == .error { errors += 1 } else { warnings += 1 }
  }

  /// Adds another tally's counts.
  public mutating func add(_ other: DiagnosticTally) {
    errors += other.errors
    warnings += other.warnings
  }

  /// All diagnostics counted.
  public var total: Int { errors + warnings }

  /// Whether nothing was counted.
  public var isEmpty: Bool { total == 0 }

  /// "3 more errors and 1 more warning".
  var phrase: String {
    func count(_ number: Int, _ noun: String) -> String {
      "\(number) more \(noun)\(number == 1 ? "" : "s")"
    }
    switch (errors, warnings) {
    case (0, let warnings): return count(warnings, "warning")
    case (let errors, 0): return count(errors, "error")
    default: return count(errors, "error") + " and " + count(warnings, "warning")
    }
  }
}

extension Diagnostic {
  /// The diagnostic that stands for those left out of `scope` ("this statement", "this file"):
  /// an error when any of them is one.
  public static func omitted(
    _ tally: DiagnosticTally, in scope: String, code: DiagnosticCode = .moreDiagnostics,
    at range: SourceRange
  ) -> Diagnostic {
    Diagnostic(
      tally.errors > 0 ? .error : .warning, code,
      "... and \(tally.phrase) in \(scope), not shown: fix the ones shown and check again",
      at: range)
  }
}

extension Array where Element == Diagnostic {
  /// The first `limit` diagnostics and, when there were more (or `alreadyOmitted` counts some),
  /// one more that says how many were left out, placed at `range`.
  public func capped(
    at limit: Int, in scope: String, code: DiagnosticCode = .moreDiagnostics,
    alreadyOmitted: DiagnosticTally = DiagnosticTally(), at range: SourceRange
  ) -> [Diagnostic] {
    guard count > limit || !alreadyOmitted.isEmpty else { return self }
    var tally = alreadyOmitted
    for diagnostic in dropFirst(limit) { tally.add(diagnostic.severity) }
    return Array(prefix(limit)) + [Diagnostic.omitted(tally, in: scope, code: code, at: range)]
  }
}
