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
    String(decoding: serializedBytes(pretty: pretty), as: UTF8.self)
  }

  /// The text as UTF-8 bytes (what an answer's body is made of).
  public func serializedBytes(pretty: Bool = false) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(256)
    write(to: &out, indent: pretty ? 0 : nil)
    return out
  }

  private func write(to out: inout [UInt8], indent: Int?) {
    func newline(_ depth: Int) {
      out.append(UInt8(ascii: "\n"))
      out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * depth))
    }
    let inner = indent.map { $0 + 1 }
    switch self {
    case .object(let members):
      guard !members.isEmpty else {
        out.append(contentsOf: "{}".utf8)
        return
      }
      out.append(UInt8(ascii: "{"))
      for (index, (key, value)) in members.enumerated() {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        if let inner { newline(inner) }
        Self.writeString(key, to: &out)
        out.append(UInt8(ascii: ":"))
        if indent != nil { out.append(UInt8(ascii: " ")) }
        value.write(to: &out, indent: inner)
      }
      if let indent { newline(indent) }
      out.append(UInt8(ascii: "}"))
    case .array(let elements):
      guard !elements.isEmpty else {
        out.append(contentsOf: "[]".utf8)
        return
      }
      out.append(UInt8(ascii: "["))
      for (index, value) in elements.enumerated() {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        if let inner { newline(inner) }
        value.write(to: &out, indent: inner)
      }
      if let indent { newline(indent) }
      out.append(UInt8(ascii: "]"))
    case .string(let string): Self.writeString(string, to: &out)
    case .int(let value): out.append(contentsOf: String(value).utf8)
    case .number(let value): out.append(contentsOf: (value.isFinite ? String(value) : "null").utf8)
    case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
    case .null: out.append(contentsOf: "null".utf8)
    }
  }

  /// A string, quoted and escaped: runs of bytes that need no escape are copied whole.
  private static func writeString(_ string: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    var string = string
    string.withUTF8 { bytes in
      var start = 0
      for index in 0..<bytes.count {
        let byte = bytes[index]
        guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else {
          continue
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
        case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
        case UInt8(ascii: "\n"): out.append(contentsOf: #"\n"#.utf8)
        case UInt8(ascii: "\r"): out.append(contentsOf: #"\r"#.utf8)
        case UInt8(ascii: "\t"): out.append(contentsOf: #"\t"#.utf8)
        default:
          let hex = Array("0123456789abcdef".utf8)
          out.append(contentsOf: #"\u00"#.utf8)
          out.append(hex[Int(byte >> 4)])
          out.append(hex[Int(byte & 15)])
        }
        start = index + 1
      }
      out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<bytes.count]))
    }
    out.append(UInt8(ascii: "\""))
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
