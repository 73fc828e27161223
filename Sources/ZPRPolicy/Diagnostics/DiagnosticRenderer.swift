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
    // A very long line (a minified file) is shown around the problem only.
    var shown = bounds
    if source.scalarCount(bounds.lowerBound, bounds.upperBound) > Self.longLine {
      shown = window(around: diagnostic.range.lowerBound, in: bounds, source: source)
    }
    let prefix = shown.lowerBound > bounds.lowerBound ? "…" : ""
    let suffix = shown.upperBound < bounds.upperBound ? "…" : ""
    text += prefix + String(decoding: source.bytes[shown], as: UTF8.self) + suffix + "\n"
    // Keep tabs in the indentation so that the caret lines up under the source.
    var indent = prefix.isEmpty ? "" : " "
    for byte in source.bytes[shown.lowerBound..<max(shown.lowerBound, diagnostic.range.lowerBound)]
    where byte & 0xC0 != 0x80 {
      indent += byte == 9 ? "\t" : " "
    }
    let end = min(diagnostic.range.upperBound, shown.upperBound)
    let width = max(
      1, source.scalarCount(diagnostic.range.lowerBound, max(end, diagnostic.range.lowerBound)))
    text += indent + "^" + String(repeating: "~", count: width - 1) + "\n"
    if let suggestion = diagnostic.suggestion {
      text += "  suggestion: \(suggestion)\n"
    }
    if let path = diagnostic.path { text += "  at: \(path)\n" }
    return text
  }

  /// Lines longer than this (in characters) are shown in a window around the problem.
  static let longLine = 200

  /// About 60 characters before `offset` and 100 after, cut at character boundaries.
  private func window(around offset: Int, in bounds: Range<Int>, source: SourceFile) -> Range<Int> {
    func step(_ from: Int, by count: Int, forward: Bool) -> Int {
      var position = from
      for _ in 0..<count {
        guard forward ? position < bounds.upperBound : position > bounds.lowerBound else { break }
        position += forward ? 1 : -1
        while position > bounds.lowerBound, position < bounds.upperBound,
          source.bytes[position] & 0xC0 == 0x80
        {
          position += forward ? 1 : -1
        }
      }
      return position
    }
    let anchor = min(max(offset, bounds.lowerBound), bounds.upperBound)
    return step(anchor, by: 60, forward: false)..<step(anchor, by: 100, forward: true)
  }

  /// Every diagnostic of a file, in order.
  public func render(_ file: PolicyFile) -> String {
    file.diagnostics.map { render($0, in: file.source) }.joined()
  }
}
