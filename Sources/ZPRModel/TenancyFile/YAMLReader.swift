import ZPRPolicy

/// A mapping's known keys and their values. Mappings in a tenancy file have a handful of keys,
/// so a list searched in order is faster than a hash table.
struct YAMLFields {
  private var pairs: [(key: String, value: YAMLNode)] = []

  mutating func append(_ key: String, _ value: YAMLNode) {
    pairs.append((key, value))
  }

  subscript(key: String) -> YAMLNode? {
    pairs.first { $0.key == key }?.value
  }
}

/// Reads typed values out of a YAML node tree, reporting what it cannot read as diagnostics at
/// the node's position, and remembering where every element of the model came from.
struct YAMLReader {
  /// Where an element of the model was written: its range and its path in the file.
  struct Location {
    var range: SourceRange
    var filePath: String
  }

  let source: SourceFile
  var diagnostics: [Diagnostic] = []
  /// Keyed by the element's path in the model (`resources[2].vnics[0].ips[0]`).
  var locations: [String: Location] = [:]

  init(source: SourceFile) {
    self.source = source
  }

  /// Remembers that the model element at `modelPath` was written at `node` (file path given).
  mutating func record(_ modelPath: String, _ node: YAMLNode, filePath: String) {
    locations[modelPath] = Location(range: node.range, filePath: filePath)
  }

  // MARK: Reporting

  mutating func error(
    _ code: DiagnosticCode, _ message: String, at node: YAMLNode, path: String,
    suggestion: String? = nil
  ) {
    diagnostics.append(
      Diagnostic(.error, code, message, at: node.range, suggestion: suggestion, path: path))
  }

  // MARK: Typed access

  /// The pairs of a mapping; unknown keys are reported with a did-you-mean, and required keys
  /// that are missing are reported at the mapping.
  mutating func mapping(
    _ node: YAMLNode, path: @autoclosure () -> String, keys allowed: [String],
    required: [String] = []
  ) -> YAMLFields? {
    guard case .mapping(let mapping, _) = node else {
      error(
        TenancyFileCode.wrongType, "\(path()) must be a mapping of keys to values", at: node,
        path: path())
      return nil
    }
    var pairs = YAMLFields()
    for pair in mapping {
      let (keyNode, value) = (pair.key, pair.value)
      guard let key = keyNode.string else {
        error(
          TenancyFileCode.wrongType, "keys in \(path()) must be strings", at: keyNode, path: path())
        continue
      }
      guard allowed.contains(key) else {
        let guess = Suggestions.closest(to: key, among: allowed)
        error(
          TenancyFileCode.unknownKey,
          "unknown key '\(key)' in \(path()): the keys here are \(allowed.joined(separator: ", "))",
          at: keyNode, path: "\(path()).\(key)", suggestion: guess.map { "did you mean '\($0)'?" })
        continue
      }
      pairs.append(key, value)
    }
    for key in required where pairs[key] == nil {
      error(TenancyFileCode.missingKey, "\(path()) needs '\(key)': add it", at: node, path: path())
    }
    return pairs
  }

  /// The elements of a sequence (a missing one reads as empty).
  mutating func sequence(_ node: YAMLNode?, path: @autoclosure () -> String) -> [YAMLNode] {
    guard let node else { return [] }
    guard case .sequence(let sequence, _) = node else {
      error(TenancyFileCode.wrongType, "\(path()) must be a list", at: node, path: path())
      return []
    }
    return sequence
  }

  /// A scalar as text; a YAML null (`null`, `~`, nothing) reads as absent.
  mutating func string(_ node: YAMLNode?, path: @autoclosure () -> String) -> String? {
    guard let node else { return nil }
    if node.isNull { return nil }
    guard case .scalar(let scalar) = node else {
      error(
        TenancyFileCode.wrongType, "\(path()) must be a single value, not a list or mapping",
        at: node, path: path())
      return nil
    }
    return scalar.text
  }

  /// A scalar that must be there: a null (`~`, nothing) is reported, not taken as absent.
  mutating func required(_ node: YAMLNode?, path: @autoclosure () -> String) -> String? {
    guard let node else { return nil }
    if node.isNull {
      error(
        TenancyFileCode.missingKey, "\(path()) is empty: give it a value", at: node, path: path())
      return nil
    }
    return string(node, path: path())
  }

  /// A whole number.
  mutating func number(_ node: YAMLNode?, path: @autoclosure () -> String) -> Int? {
    guard let text = string(node, path: path()), let node else { return nil }
    guard let value = Int(text) else {
      error(
        TenancyFileCode.invalidValue, "\(path()) must be a whole number, not '\(text)'", at: node,
        path: path())
      return nil
    }
    return value
  }

  /// A scalar `true` or `false`.
  mutating func bool(_ node: YAMLNode?, path: @autoclosure () -> String) -> Bool? {
    guard let text = string(node, path: path()), let node else { return nil }
    switch text.lowercased() {
    case "true", "yes": return true
    case "false", "no": return false
    default:
      error(
        TenancyFileCode.invalidValue, "\(path()) must be true or false, not '\(text)'", at: node,
        path: path())
      return nil
    }
  }

  /// An address block (`10.0.0.0/16`) or single address.
  mutating func prefix(_ node: YAMLNode?, path: @autoclosure () -> String) -> IPPrefix? {
    guard let text = string(node, path: path()), let node else { return nil }
    switch IPPrefix.parse(text) {
    case .success(let prefix):
      return prefix
    case .failure(.invalidAddress):
      error(
        TenancyFileCode.invalidValue,
        "\(path()): '\(text)' is not an IP address or CIDR block: write one such as 10.0.0.0/16",
        at: node, path: path())
    case .failure(.invalidLength(let maximum)):
      error(
        TenancyFileCode.invalidValue,
        "\(path()): the prefix length in '\(text)' must be 0 to \(maximum)",
        at: node, path: path())
    }
    return nil
  }

  /// A single address.
  mutating func address(_ node: YAMLNode, path: @autoclosure () -> String) -> IPAddress? {
    guard let text = string(node, path: path()) else { return nil }
    guard let address = IPAddress(text) else {
      error(
        TenancyFileCode.invalidValue,
        "\(path()): '\(text)' is not an IP address: write one such as 10.0.1.10",
        at: node, path: path())
      return nil
    }
    return address
  }

  /// A port or port range: `5432`, `"1521-1522"`.
  mutating func ports(_ node: YAMLNode?, path: @autoclosure () -> String) -> ClosedRange<Int>? {
    guard let text = string(node, path: path()), let node else { return nil }
    let parts = text.split(separator: "-", omittingEmptySubsequences: false)
      .map { Int($0.filter { $0 != " " }) }
    guard parts.count <= 2, let low = parts.first ?? nil, let high = parts.last ?? nil,
      low <= high
    else {
      error(
        TenancyFileCode.invalidValue,
        "\(path()): '\(text)' is not a port or range: write a number or low-high, such as 1521-1522",
        at: node, path: path())
      return nil
    }
    return low...high
  }
}
