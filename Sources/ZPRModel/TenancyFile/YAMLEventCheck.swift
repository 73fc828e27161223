// The YAML parser's own events, read before the full parser builds a node tree.
//
// Yams builds its tree with aliases shared, not copied, so an alias bomb costs it little; but
// the tree is as deep as the aliases make it (a chain of anchors, each holding an alias to the
// one before, nests one level per line), and such a tree overflows the stack when it is torn
// down; a key holding an alias is hashed whole, expansions included, to find duplicate keys.
// So before Yams runs, the same parser (libyaml, which Yams builds on as its module CYaml) is
// run alone: it only produces events, without recursion, and these are checked against the
// limits, with every alias counted at the size and height of the node it names.
import CYaml
import ZPRPolicy

/// Checks the first document of a YAML text, as the full parser will read it, against
/// ``ZPRLimits/maxNestingDepth`` (aliases expanded) and ``ZPRLimits/maxAliasNodes``, and
/// refuses aliases inside keys. Syntax errors are left to the full parser, which reports them.
struct YAMLEventCheck {
  /// An open sequence or mapping.
  private struct Frame {
    var isMapping: Bool
    /// In a mapping: the next node is a key.
    var keyNext = true
    /// The collection is a key, or inside one.
    var inKey: Bool
    /// Nodes inside, aliases expanded (capped just past the alias budget).
    var size = 0
    /// Levels of collections inside.
    var height = 0
    var anchor: String?
  }

  private let source: SourceFile
  private let limits: ZPRLimits
  private var frames: [Frame] = []
  /// The size and height of every anchored node so far.
  private var anchors: [String: (size: Int, height: Int)] = [:]
  private var aliasNodes = 0

  private init(source: SourceFile, limits: ZPRLimits) {
    self.source = source
    self.limits = limits
  }

  /// The refusal of the document, or nil when it is within the limits (or has an error the full
  /// parser will report).
  static func check(_ source: SourceFile, limits: ZPRLimits) -> YAMLRefusal? {
    guard !source.bytes.isEmpty else { return nil }
    var check = YAMLEventCheck(source: source, limits: limits)
    return source.bytes.withUnsafeBufferPointer { buffer in
      var parser = yaml_parser_t()
      guard yaml_parser_initialize(&parser) == 1 else { return nil }
      defer { yaml_parser_delete(&parser) }
      yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
      yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
      var event = yaml_event_t()
      while true {
        guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
        defer { yaml_event_delete(&event) }
        do throws(YAMLRefusal) {
          guard try check.take(&event) else { return nil }
        } catch {
          return error
        }
      }
    }
  }

  /// Takes one event; false once the first document is over.
  private mutating func take(_ event: inout yaml_event_t) throws(YAMLRefusal) -> Bool {
    let mark = event.start_mark
    switch event.type {
    case YAML_SCALAR_EVENT:
      if let anchor = Self.name(event.data.scalar.anchor) { anchors[anchor] = (1, 0) }
      complete(size: 1, height: 0)
    case YAML_ALIAS_EVENT:
      let name = Self.name(event.data.alias.anchor) ?? ""
      let (size, height) = anchors[name] ?? (1, 0)
      if let top = frames.last, top.inKey || (top.isMapping && top.keyNext) {
        throw YAMLRefusal(
          code: TenancyFileCode.aliasExpansion,
          message: "line \(mark.line + 1) uses the alias *\(name) in a key: keys in a tenancy file "
            + "are plain names; write the key out", offset: offset(mark))
      }
      aliasNodes = min(aliasNodes + size, limits.maxAliasNodes + 1)
      if aliasNodes > limits.maxAliasNodes {
        throw .aliasBudget(line: mark.line + 1, offset: offset(mark), limit: limits.maxAliasNodes)
      }
      if frames.count + height > limits.maxNestingDepth {
        throw .tooDeep(
          line: mark.line + 1, offset: offset(mark), limit: limits.maxNestingDepth, alias: name)
      }
      complete(size: size, height: height)
    case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
      let isMapping = event.type == YAML_MAPPING_START_EVENT
      guard frames.count < limits.maxNestingDepth else {
        throw .tooDeep(line: mark.line + 1, offset: offset(mark), limit: limits.maxNestingDepth)
      }
      let inKey = frames.last.map { $0.inKey || ($0.isMapping && $0.keyNext) } ?? false
      let anchor = Self.name(
        isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor)
      frames.append(Frame(isMapping: isMapping, inKey: inKey, anchor: anchor))
    case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
      guard let frame = frames.popLast() else { return false }
      let size = min(frame.size + 1, limits.maxAliasNodes + 1)
      if let anchor = frame.anchor { anchors[anchor] = (size, frame.height + 1) }
      complete(size: size, height: frame.height + 1)
    case YAML_DOCUMENT_END_EVENT, YAML_STREAM_END_EVENT, YAML_NO_EVENT:
      return false
    default:
      break
    }
    return true
  }

  /// Adds a finished node to the collection around it.
  private mutating func complete(size: Int, height: Int) {
    guard !frames.isEmpty else { return }
    let top = frames.count - 1
    frames[top].size = min(frames[top].size + size, limits.maxAliasNodes + 1)
    frames[top].height = max(frames[top].height, height)
    if frames[top].isMapping { frames[top].keyNext.toggle() }
  }

  private func offset(_ mark: yaml_mark_t) -> Int {
    source.offset(of: SourceLocation(line: Int(mark.line) + 1, column: Int(mark.column) + 1))
  }

  private static func name(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
    pointer.map { String(cString: $0) }
  }
}
