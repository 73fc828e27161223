/// A JSON document with keys kept in the order they were given, for stable tool output.
public enum JSONValue: Sendable, Equatable {
  case object([(String, JSONValue)])
  case array([JSONValue])
  case string(String)
  case int(Int)
  case number(Double)
  case bool(Bool)
  case null

  /// An optional string, or `null`.
  public static func string(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
  /// An optional number, or `null`.
  public static func int(_ value: Int?) -> JSONValue { value.map { .int($0) } ?? .null }

  /// The text, indented by two spaces per level when `pretty`.
  public func serialized(pretty: Bool = true) -> String {
    var out = ""
    write(to: &out, indent: pretty ? 0 : nil)
    return out
  }

  private func write(to out: inout String, indent: Int?) {
    let newline = indent.map { "\n" + String(repeating: "  ", count: $0 + 1) } ?? ""
    let closing = indent.map { "\n" + String(repeating: "  ", count: $0) } ?? ""
    let inner = indent.map { $0 + 1 }
    switch self {
    case .object(let members):
      guard !members.isEmpty else {
        out += "{}"
        return
      }
      out += "{"
      for (index, (key, value)) in members.enumerated() {
        out += (index > 0 ? "," : "") + newline
        Self.writeString(key, to: &out)
        out += indent == nil ? ":" : ": "
        value.write(to: &out, indent: inner)
      }
      out += closing + "}"
    case .array(let elements):
      guard !elements.isEmpty else {
        out += "[]"
        return
      }
      out += "["
      for (index, value) in elements.enumerated() {
        out += (index > 0 ? "," : "") + newline
        value.write(to: &out, indent: inner)
      }
      out += closing + "]"
    case .string(let string): Self.writeString(string, to: &out)
    case .int(let value): out += String(value)
    case .number(let value): out += value.isFinite ? String(value) : "null"
    case .bool(let value): out += value ? "true" : "false"
    case .null: out += "null"
    }
  }

  private static func writeString(_ string: String, to out: inout String) {
    out += "\""
    for scalar in string.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    out += "\""
  }
}

// Reading values: the accessors a request handler needs, each nil when the value is of
// another kind.
extension JSONValue {
  /// An object's value for `key`, or nil (also when this is not an object).
  public subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.first { $0.0 == key }?.1
  }

  /// The text of a string.
  public var string: String? {
    guard case .string(let value) = self else { return nil }
    return value
  }

  /// An integer: nil for booleans, for numbers with a fraction or exponent, and for others.
  public var int: Int? {
    guard case .int(let value) = self else { return nil }
    return value
  }

  /// Any number (an integer or not) as a `Double`; nil for booleans and others.
  public var double: Double? {
    switch self {
    case .int(let value): Double(value)
    case .number(let value): value
    default: nil
    }
  }

  /// A boolean: only `true` and `false`, never a number.
  public var bool: Bool? {
    guard case .bool(let value) = self else { return nil }
    return value
  }

  /// The elements of an array.
  public var array: [JSONValue]? {
    guard case .array(let elements) = self else { return nil }
    return elements
  }

  /// The members of an object, in the order given.
  public var objectMembers: [(String, JSONValue)]? {
    guard case .object(let members) = self else { return nil }
    return members
  }

  /// An object with `key` set to `value` (added last, or replaced where it is), or removed
  /// when `value` is nil; other values are left as they are.
  public mutating func set(_ key: String, _ value: JSONValue?) {
    guard case .object(var members) = self else { return }
    if let at = members.firstIndex(where: { $0.0 == key }) {
      if let value { members[at].1 = value } else { members.remove(at: at) }
    } else if let value {
      members.append((key, value))
    }
    self = .object(members)
  }

  /// The same value with every object's members in key order, as stored bodies are kept: the
  /// same element is then the same text.
  public var sortingKeys: JSONValue {
    switch self {
    case .object(let members):
      .object(members.sorted { $0.0 < $1.0 }.map { ($0.0, $0.1.sortingKeys) })
    case .array(let elements): .array(elements.map(\.sortingKeys))
    default: self
    }
  }

  /// Whether this is `null`.
  public var isNull: Bool {
    if case .null = self { return true }
    return false
  }

  /// Equal when of the same kind with equal contents; objects compare their members in order.
  public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.object(let left), .object(let right)):
      left.count == right.count && zip(left, right).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    case (.array(let left), .array(let right)): left == right
    case (.string(let left), .string(let right)): left == right
    case (.int(let left), .int(let right)): left == right
    case (.number(let left), .number(let right)): left == right
    case (.bool(let left), .bool(let right)): left == right
    case (.null, .null): true
    default: false
    }
  }
}
