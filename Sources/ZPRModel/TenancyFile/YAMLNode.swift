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
/// (Yams) for whatever the subset reader declines, errors included. Every reader holds the
/// document to ``ZPRLimits/maxNestingDepth`` and ``ZPRLimits/maxAliasNodes``, refusing it with a
/// ``YAMLRefusal`` (run ``YAMLPreScan`` first for an early refusal of ordinary deep documents).
enum YAMLDocument {
  /// The document's root node, nil when it is empty; throws a ``YAMLRefusal`` or the YAML
  /// parser's error.
  static func read(_ source: SourceFile, limits: ZPRLimits = .standard) throws -> YAMLNode? {
    if let result = YAMLSubsetReader.read(source.bytes, maxDepth: limits.maxNestingDepth) {
      return result.root
    }
    return try readWithYams(source, limits: limits)
  }

  /// The document as the full YAML parser reads it (the basic resolver leaves scalars strings),
  /// after its events are checked against the limits (``YAMLEventCheck``).
  static func readWithYams(_ source: SourceFile, limits: ZPRLimits = .standard) throws
    -> YAMLNode?
  {
    if let refusal = YAMLEventCheck.check(source, limits: limits) { throw refusal }
    guard let node = try Yams.compose(yaml: source.text, .basic) else { return nil }
    var converter = YamsConverter(source: source, limits: limits)
    return try converter.convert(node, depth: 0)
  }
}

/// Turns Yams nodes into ``YAMLNode``s, with their line and column marks as byte offsets.
///
/// Yams shares the node an alias names rather than copying it, so the conversion is what
/// expands aliases. A node met again at the same place in the file is an alias's copy: those are
/// counted against ``ZPRLimits/maxAliasNodes``, and nesting against
/// ``ZPRLimits/maxNestingDepth``, whatever was checked before.
private struct YamsConverter {
  /// A node's kind and where it starts: the same node met twice comes from an alias.
  private struct Place: Hashable {
    var kind: UInt8
    var line: Int
    var column: Int
  }

  let source: SourceFile
  let limits: ZPRLimits
  /// The last position turned into an offset: nodes come in order, so the next one is found by
  /// walking on from it rather than from the start of its line (a long line stays linear).
  private var lastMark: (line: Int, column: Int, offset: Int) = (1, 1, 0)
  /// The offset of every place converted so far (an alias's copies are found here).
  private var offsets: [Place: Int] = [:]
  /// Nodes converted again, as copies made by aliases.
  private var aliasNodes = 0

  init(source: SourceFile, limits: ZPRLimits) {
    self.source = source
    self.limits = limits
  }

  mutating func convert(_ node: Node, depth: Int) throws(YAMLRefusal) -> YAMLNode {
    let start = try start(of: node)
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
      try enter(node, depth: depth)
      var pairs: [YAMLPair] = []
      pairs.reserveCapacity(mapping.count)
      for (key, value) in mapping {
        let key = try convert(key, depth: depth + 1)
        pairs.append(YAMLPair(key: key, value: try convert(value, depth: depth + 1)))
      }
      return .mapping(pairs, start: start)
    case .sequence(let sequence):
      try enter(node, depth: depth)
      var items: [YAMLNode] = []
      items.reserveCapacity(sequence.count)
      for item in sequence { items.append(try convert(item, depth: depth + 1)) }
      return .sequence(items, start: start)
    case .alias:
      // Not produced by `compose`, which resolves aliases; kept total.
      return .scalar(YAMLScalar(text: "", style: .plain, range: SourceRange(start, start)))
    }
  }

  /// Refuses a collection nested past the limit.
  private func enter(_ node: Node, depth: Int) throws(YAMLRefusal) {
    guard depth < limits.maxNestingDepth else {
      let line = node.mark?.line ?? 1
      throw .tooDeep(
        line: line, offset: source.lineBounds(min(line, source.lineCount)).lowerBound,
        limit: limits.maxNestingDepth)
    }
  }

  /// Where a node starts; a node seen before is an alias's copy and is counted. (Empty scalars
  /// are not counted: the parser may place two of them, or one and the next key, at one mark.)
  private mutating func start(of node: Node) throws(YAMLRefusal) -> Int {
    guard let mark = node.mark else { return 0 }
    let kind: UInt8
    switch node {
    case .scalar(let scalar): kind = scalar.string.isEmpty ? 4 : 0
    case .mapping: kind = 1
    case .sequence: kind = 2
    case .alias: kind = 3
    }
    let place = Place(kind: kind, line: mark.line, column: mark.column)
    if let known = offsets[place] {
      if kind != 4 {
        aliasNodes += 1
        if aliasNodes > limits.maxAliasNodes {
          throw .aliasBudget(line: mark.line, offset: known, limit: limits.maxAliasNodes)
        }
      }
      return known
    }
    let offset = offset(line: mark.line, column: mark.column)
    offsets[place] = offset
    return offset
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
