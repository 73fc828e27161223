/// Renders diagnostics as compilers do:
///
///     policies/web.zpl:3:96: error: ports are numeric: 'ssh' is not a port number; ... [ZPL043]
///     in networks:prod VCN allow app:web endpoints to connect to app:db endpoints with protocol='tcp/ssh'
///                                                                                                 ^~~
///       suggestion: did you mean 'tcp/22'?
public struct DiagnosticRenderer: Sendable {
  /// A renderer.
  public init() {}

  /// One diagnostic: the location line, the source line, a caret line, and the suggestion.
  public func render(_ diagnostic: Diagnostic, in source: SourceFile) -> String {
    let location = source.location(of: diagnostic.range.lowerBound)
    var text =
      "\(source.path):\(location.line):\(location.column): \(diagnostic.severity.rawValue): "
      + "\(diagnostic.message) [\(diagnostic.code)]\n"
    let bounds = source.lineBounds(location.line)
    text += source.lineText(location.line) + "\n"
    // Keep tabs in the indentation so that the caret lines up under the source.
    var indent = ""
    for byte in source.bytes[bounds.lowerBound..<diagnostic.range.lowerBound]
    where byte & 0xC0 != 0x80 {
      indent += byte == 9 ? "\t" : " "
    }
    let end = min(diagnostic.range.upperBound, bounds.upperBound)
    let width = max(
      1, source.scalarCount(diagnostic.range.lowerBound, max(end, diagnostic.range.lowerBound)))
    text += indent + "^" + String(repeating: "~", count: width - 1) + "\n"
    if let suggestion = diagnostic.suggestion {
      text += "  suggestion: \(suggestion)\n"
    }
    if let path = diagnostic.path { text += "  at: \(path)\n" }
    return text
  }

  /// Every diagnostic of a file, in order.
  public func render(_ file: PolicyFile) -> String {
    file.diagnostics.map { render($0, in: file.source) }.joined()
  }
}
