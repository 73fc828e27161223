import Yams
import ZPRPolicy

/// A YAML node as the tenancy loader reads it: scalars stay text (no tags are resolved) and
/// every node knows where it starts in the source.
enum YAMLNode: Sendable, Equatable {
  case scalar(YAMLScalar)
  case mapping([YAMLPair], start: Int)
  case sequence([YAMLNode], start: Int)

  /// A stand-in for a node the file does not have, at the start of the file.
  static let missing = YAMLNode.scalar(
    YAMLScalar(text: "", style: .plain, range: SourceRange(0, 0)))

  /// Where the node is in the source: a scalar's text (quotes included), or a collection's start.
  var range: SourceRange {
    switch self {
    case .scalar(let scalar): scalar.range
    case .mapping(_, let start), .sequence(_, let start): SourceRange(start, start)
    }
  }

  /// A scalar's text; nil for a collection.
  var string: String? {
    guard case .scalar(let scalar) = self else { return nil }
    return scalar.text
  }

  /// Whether the node is a single- or double-quoted scalar.
  var isQuoted: Bool {
    guard case .scalar(let scalar) = self else { return false }
    return scalar.style == .singleQuoted || scalar.style == .doubleQuoted
  }

  /// The plain scalars YAML 1.2's core schema reads as null (tags are not resolved, so this is
  /// the one place null is recognised).
  static let nulls: Set<String> = ["", "~", "null", "Null", "NULL"]

  /// Whether the node is a YAML null: `null`, `~`, or nothing at all.
  var isNull: Bool {
    guard case .scalar(let scalar) = self, scalar.style == .plain else { return false }
    return Self.nulls.contains(scalar.text)
  }
}

/// One key and its value in a mapping.
struct YAMLPair: Sendable, Equatable {
  var key: YAMLNode
  var value: YAMLNode
}

/// A scalar: its text after unquoting, how it was written, and where.
struct YAMLScalar: Sendable, Equatable {
  enum Style: Sendable, Equatable {
    case plain, singleQuoted, doubleQuoted, block
  }

  var text: String
  var style: Style
  var range: SourceRange
}

/// Reads a YAML document into ``YAMLNode``s: the subset reader first, and the full YAML parser
/// (Yams) for whatever the subset reader declines, errors included.
enum YAMLDocument {
  /// The document's root node, nil when it is empty; throws the YAML parser's error.
  static func read(_ source: SourceFile) throws -> YAMLNode? {
    if let result = YAMLSubsetReader.read(source.bytes) { return result.root }
    return try readWithYams(source)
  }

  /// The document as the full YAML parser reads it (the basic resolver leaves scalars strings).
  static func readWithYams(_ source: SourceFile) throws -> YAMLNode? {
    guard let node = try Yams.compose(yaml: source.text, .basic) else { return nil }
    var converter = YamsConverter(source: source)
    return converter.convert(node)
  }
}

/// Turns Yams nodes into ``YAMLNode``s, with their line and column marks as byte offsets.
private struct YamsConverter {
  let source: SourceFile
  /// The last position turned into an offset: nodes come in order, so the next one is found by
  /// walking on from it rather than from the start of its line (a long line stays linear).
  private var lastMark: (line: Int, column: Int, offset: Int) = (1, 1, 0)

  init(source: SourceFile) {
    self.source = source
  }

  mutating func convert(_ node: Node) -> YAMLNode {
    let start = node.mark.map { offset(line: $0.line, column: $0.column) } ?? 0
    switch node {
    case .scalar(let scalar):
      let style: YAMLScalar.Style =
        switch scalar.style {
        case .singleQuoted: .singleQuoted
        case .doubleQuoted: .doubleQuoted
        case .literal, .folded: .block
        default: .plain
        }
      let quotes = style == .singleQuoted || style == .doubleQuoted ? 2 : 0
      let end = start + scalar.string.utf8.count + quotes
      let lineEnd = node.mark.map { source.lineBounds($0.line).upperBound } ?? start
      return .scalar(
        YAMLScalar(
          text: scalar.string, style: style,
          range: SourceRange(start, max(start, min(end, lineEnd)))))
    case .mapping(let mapping):
      return .mapping(
        mapping.map { key, value in
          let key = convert(key)
          return YAMLPair(key: key, value: convert(value))
        }, start: start)
    case .sequence(let sequence):
      return .sequence(sequence.map { convert($0) }, start: start)
    case .alias:
      // Not produced by `compose`, which resolves aliases; kept total.
      return .scalar(YAMLScalar(text: "", style: .plain, range: SourceRange(start, start)))
    }
  }

  private mutating func offset(line: Int, column: Int) -> Int {
    guard line == lastMark.line, column >= lastMark.column else {
      let offset = source.offset(of: SourceLocation(line: line, column: column))
      lastMark = (line, column, offset)
      return offset
    }
    let bounds = source.lineBounds(line)
    var offset = lastMark.offset
    var current = lastMark.column
    while offset < bounds.upperBound, current < column {
      offset += 1
      while offset < bounds.upperBound, source.bytes[offset] & 0xC0 == 0x80 { offset += 1 }
      current += 1
    }
    lastMark = (line, column, offset)
    return offset
  }
}
