// `Codable` for JSON values: typed values encode to a `JSONValue` with their members in the
// order they are encoded, and decode from one strictly (a number is never a boolean, a string
// never a number), so a request read by the strict reader becomes a typed value without
// passing through a looser parser.

extension JSONValue: Codable {
  /// Encodes the value as it is, object members in order.
  public func encode(to encoder: any Encoder) throws {
    if let encoder = encoder as? ValueEncoder {
      encoder.slot.value = self
      return
    }
    switch self {
    case .object(let members):
      var container = encoder.container(keyedBy: JSONKey.self)
      for (key, value) in members { try container.encode(value, forKey: JSONKey(key)) }
    case .array(let elements):
      var container = encoder.unkeyedContainer()
      for element in elements { try container.encode(element) }
    case .string(let text):
      var container = encoder.singleValueContainer()
      try container.encode(text)
    case .int(let number):
      var container = encoder.singleValueContainer()
      try container.encode(number)
    case .number(let number):
      var container = encoder.singleValueContainer()
      try container.encode(number)
    case .bool(let flag):
      var container = encoder.singleValueContainer()
      try container.encode(flag)
    case .null:
      var container = encoder.singleValueContainer()
      try container.encodeNil()
    }
  }

  /// Decodes any JSON value.
  public init(from decoder: any Decoder) throws {
    if let decoder = decoder as? ValueDecoder {
      self = decoder.value
      return
    }
    if let container = try? decoder.container(keyedBy: JSONKey.self) {
      self = .object(
        try container.allKeys.map {
          ($0.stringValue, try container.decode(JSONValue.self, forKey: $0))
        })
      return
    }
    if var container = try? decoder.unkeyedContainer() {
      var elements: [JSONValue] = []
      while !container.isAtEnd { elements.append(try container.decode(JSONValue.self)) }
      self = .array(elements)
      return
    }
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let flag = try? container.decode(Bool.self) {
      self = .bool(flag)
    } else if let number = try? container.decode(Int.self) {
      self = .int(number)
    } else if let number = try? container.decode(Double.self) {
      self = .number(number)
    } else {
      self = .string(try container.decode(String.self))
    }
  }
}

/// A member name of a JSON object, as a coding key.
public struct JSONKey: CodingKey, Hashable, Sendable {
  public var stringValue: String
  public var intValue: Int? { nil }

  /// The key `name`.
  public init(_ name: String) { stringValue = name }
  public init?(stringValue: String) { self.stringValue = stringValue }
  public init?(intValue: Int) { stringValue = String(intValue) }
}

/// Turns `Encodable` values into ``JSONValue``s: object members in the order the type encodes
/// them (a synthesized `encode(to:)` follows the declaration), `nil` optionals left out.
public struct JSONValueEncoder: Sendable {
  /// An encoder.
  public init() {}

  /// The value as JSON.
  public func encode(_ value: some Encodable) throws -> JSONValue {
    if let json = value as? JSONValue { return json }
    let slot = Slot()
    try ValueEncoder.encode(value, into: slot, path: [])
    return slot.resolved()
  }
}

/// Turns ``JSONValue``s into `Decodable` values, strictly: each Swift type takes only its own
/// kind of JSON value (an `Int` a whole number, a `Bool` only `true` or `false`, a `String`
/// only a string). A refusal is a `DecodingError` whose coding path names the field.
public struct JSONValueDecoder: Sendable {
  /// Whether `null` for an optional field reads as the field left out (as `JSONDecoder` reads
  /// it); when false it is refused as the field's type would refuse it, as request bodies are.
  public var nullIsAbsent: Bool

  /// A decoder.
  public init(nullIsAbsent: Bool = true) {
    self.nullIsAbsent = nullIsAbsent
  }

  /// The value of `type` that `json` holds.
  public func decode<T: Decodable>(_ type: T.Type, from json: JSONValue) throws -> T {
    if T.self == JSONValue.self { return json as! T }
    return try T(from: ValueDecoder(value: json, codingPath: [], nullIsAbsent: nullIsAbsent))
  }
}

extension DecodingError {
  /// The field a refusal is about (`vnics[0].subnet`), and what it wanted or why.
  public var fieldAndReason: (field: String, reason: String) {
    func path(_ keys: [any CodingKey]) -> String {
      var text = ""
      for key in keys {
        if let index = key.intValue {
          text += "[\(index)]"
        } else {
          text += (text.isEmpty ? "" : ".") + key.stringValue
        }
      }
      return text
    }
    switch self {
    case .keyNotFound(let key, let context):
      return (path(context.codingPath + [key]), "is required")
    case .typeMismatch(_, let context), .valueNotFound(_, let context),
      .dataCorrupted(let context):
      return (path(context.codingPath), context.debugDescription)
    @unknown default:
      return ("", "\(self)")
    }
  }
}

// MARK: Encoding

/// Where an encoded value goes: a value, an object being filled, or an array being filled.
final class Slot {
  var value: JSONValue = .null
  var members: [(String, Slot)]?
  var elements: [Slot]?

  func resolved() -> JSONValue {
    if let members { return .object(members.map { ($0.0, $0.1.resolved()) }) }
    if let elements { return .array(elements.map { $0.resolved() }) }
    return value
  }

  /// The slot for a member, replacing one of the same name.
  func member(_ key: String) -> Slot {
    if members == nil { members = [] }
    let slot = Slot()
    if let at = members!.firstIndex(where: { $0.0 == key }) {
      members![at].1 = slot
    } else {
      members!.append((key, slot))
    }
    return slot
  }

  func element() -> Slot {
    if elements == nil { elements = [] }
    let slot = Slot()
    elements!.append(slot)
    return slot
  }
}

struct ValueEncoder: Encoder {
  let slot: Slot
  var codingPath: [any CodingKey]
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
    if slot.members == nil { slot.members = [] }
    return KeyedEncodingContainer(KeyedValueEncoder<Key>(slot: slot, codingPath: codingPath))
  }

  func unkeyedContainer() -> any UnkeyedEncodingContainer {
    if slot.elements == nil { slot.elements = [] }
    return UnkeyedValueEncoder(slot: slot, codingPath: codingPath)
  }

  func singleValueContainer() -> any SingleValueEncodingContainer {
    SingleValueEncoder(slot: slot, codingPath: codingPath)
  }

  /// A value into a slot: scalars directly, anything else through its `encode(to:)`.
  static func encode(_ value: some Encodable, into slot: Slot, path: [any CodingKey]) throws {
    switch value {
    case let json as JSONValue: slot.value = json
    case let dictionary as any SortedKeys: try dictionary.encodeSorted(into: slot, path: path)
    case let text as String: slot.value = .string(text)
    case let flag as Bool: slot.value = .bool(flag)
    case let number as Int: slot.value = .int(number)
    case let number as Int64:
      slot.value = Int(exactly: number).map { .int($0) } ?? .number(Double(number))
    case let number as Double: slot.value = .number(number)
    default: try value.encode(to: ValueEncoder(slot: slot, codingPath: path))
    }
  }
}

/// A dictionary with string keys: encoded with its keys in order, since it has none of its own.
protocol SortedKeys {
  func encodeSorted(into slot: Slot, path: [any CodingKey]) throws
}

extension Dictionary: SortedKeys where Key == String, Value: Encodable {
  func encodeSorted(into slot: Slot, path: [any CodingKey]) throws {
    slot.members = []
    for key in keys.sorted() {
      try ValueEncoder.encode(self[key]!, into: slot.member(key), path: path + [JSONKey(key)])
    }
  }
}

struct KeyedValueEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
  let slot: Slot
  var codingPath: [any CodingKey]

  mutating func encodeNil(forKey key: Key) throws { slot.member(key.stringValue).value = .null }

  mutating func encode(_ value: some Encodable, forKey key: Key) throws {
    try ValueEncoder.encode(value, into: slot.member(key.stringValue), path: codingPath + [key])
  }

  mutating func nestedContainer<NestedKey: CodingKey>(
    keyedBy keyType: NestedKey.Type, forKey key: Key
  ) -> KeyedEncodingContainer<NestedKey> {
    ValueEncoder(slot: slot.member(key.stringValue), codingPath: codingPath + [key])
      .container(keyedBy: keyType)
  }

  mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
    ValueEncoder(slot: slot.member(key.stringValue), codingPath: codingPath + [key])
      .unkeyedContainer()
  }

  mutating func superEncoder() -> any Encoder {
    ValueEncoder(slot: slot.member("super"), codingPath: codingPath)
  }

  mutating func superEncoder(forKey key: Key) -> any Encoder {
    ValueEncoder(slot: slot.member(key.stringValue), codingPath: codingPath + [key])
  }
}

struct UnkeyedValueEncoder: UnkeyedEncodingContainer {
  let slot: Slot
  var codingPath: [any CodingKey]
  var count: Int { slot.elements?.count ?? 0 }

  mutating func encodeNil() throws { slot.element().value = .null }

  mutating func encode(_ value: some Encodable) throws {
    let index = JSONKey(String(count))
    try ValueEncoder.encode(value, into: slot.element(), path: codingPath + [index])
  }

  mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
    -> KeyedEncodingContainer<NestedKey>
  {
    ValueEncoder(slot: slot.element(), codingPath: codingPath).container(keyedBy: keyType)
  }

  mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
    ValueEncoder(slot: slot.element(), codingPath: codingPath).unkeyedContainer()
  }

  mutating func superEncoder() -> any Encoder {
    ValueEncoder(slot: slot.element(), codingPath: codingPath)
  }
}

struct SingleValueEncoder: SingleValueEncodingContainer {
  let slot: Slot
  var codingPath: [any CodingKey]

  mutating func encodeNil() throws { slot.value = .null }
  mutating func encode(_ value: Bool) throws { slot.value = .bool(value) }
  mutating func encode(_ value: String) throws { slot.value = .string(value) }
  mutating func encode(_ value: Double) throws { slot.value = .number(value) }
  mutating func encode(_ value: Float) throws { slot.value = .number(Double(value)) }
  mutating func encode(_ value: Int) throws { slot.value = .int(value) }
  mutating func encode(_ value: Int8) throws { slot.value = .int(Int(value)) }
  mutating func encode(_ value: Int16) throws { slot.value = .int(Int(value)) }
  mutating func encode(_ value: Int32) throws { slot.value = .int(Int(value)) }
  mutating func encode(_ value: Int64) throws { slot.value = .int(Int(value)) }
  mutating func encode(_ value: UInt) throws { slot.value = Self.unsigned(UInt64(value)) }
  mutating func encode(_ value: UInt8) throws { slot.value = .int(Int(value)) }
  mutating func encode(_ value: UInt16) throws { slot.value = .int(Int(value)) }
  mutating func encode(_ value: UInt32) throws { slot.value = .int(Int(value)) }
  mutating func encode(_ value: UInt64) throws { slot.value = Self.unsigned(value) }

  mutating func encode(_ value: some Encodable) throws {
    try ValueEncoder.encode(value, into: slot, path: codingPath)
  }

  static func unsigned(_ value: UInt64) -> JSONValue {
    Int(exactly: value).map { .int($0) } ?? .number(Double(value))
  }
}

// MARK: Decoding

struct ValueDecoder: Decoder {
  let value: JSONValue
  var codingPath: [any CodingKey]
  var nullIsAbsent: Bool
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
    guard let members = value.objectMembers else {
      throw Self.mismatch([String: JSONValue].self, "an object", codingPath)
    }
    return KeyedDecodingContainer(
      KeyedValueDecoder<Key>(members: members, codingPath: codingPath, nullIsAbsent: nullIsAbsent))
  }

  func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
    guard let elements = value.array else {
      throw Self.mismatch([JSONValue].self, "a list", codingPath)
    }
    return UnkeyedValueDecoder(
      elements: elements, codingPath: codingPath, nullIsAbsent: nullIsAbsent)
  }

  func singleValueContainer() throws -> any SingleValueDecodingContainer {
    SingleValueDecoder(value: value, codingPath: codingPath, nullIsAbsent: nullIsAbsent)
  }

  static func mismatch(_ type: Any.Type, _ wanted: String, _ path: [any CodingKey])
    -> DecodingError
  {
    .typeMismatch(
      type, DecodingError.Context(codingPath: path, debugDescription: "must be \(wanted)"))
  }

  /// A value of a type from a JSON value: scalars directly, anything else through its
  /// `init(from:)`.
  static func decode<T: Decodable>(
    _ type: T.Type, from value: JSONValue, path: [any CodingKey], nullIsAbsent: Bool
  ) throws -> T {
    if T.self == JSONValue.self { return value as! T }
    if T.self == String.self {
      guard let text = value.string else { throw mismatch(T.self, "a string", path) }
      return text as! T
    }
    if T.self == Int.self {
      guard let number = value.int else { throw mismatch(T.self, "a whole number", path) }
      return number as! T
    }
    if T.self == Bool.self {
      guard let flag = value.bool else { throw mismatch(T.self, "true or false", path) }
      return flag as! T
    }
    return try T(from: ValueDecoder(value: value, codingPath: path, nullIsAbsent: nullIsAbsent))
  }
}

struct KeyedValueDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
  let members: [(String, JSONValue)]
  var codingPath: [any CodingKey]
  var nullIsAbsent: Bool

  var allKeys: [Key] { members.compactMap { Key(stringValue: $0.0) } }

  func value(_ key: Key) -> JSONValue? { members.first { $0.0 == key.stringValue }?.1 }

  func contains(_ key: Key) -> Bool { value(key) != nil }

  /// Whether the field reads as absent: missing, or null where null stands for that (else a
  /// null is decoded as the field's type, which refuses it).
  func decodeNil(forKey key: Key) throws -> Bool {
    guard let value = value(key) else { return true }
    return value.isNull && nullIsAbsent
  }

  func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
    guard let value = value(key) else {
      throw DecodingError.keyNotFound(
        key, DecodingError.Context(codingPath: codingPath, debugDescription: "is required"))
    }
    return try ValueDecoder.decode(
      type, from: value, path: codingPath + [key], nullIsAbsent: nullIsAbsent)
  }

  func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
    // A null is refused as the type refuses it, unless it stands for the field left out.
    guard let value = value(key), !(value.isNull && nullIsAbsent) else { return nil }
    return try ValueDecoder.decode(
      type, from: value, path: codingPath + [key], nullIsAbsent: nullIsAbsent)
  }

  func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key)
    throws -> KeyedDecodingContainer<NestedKey>
  {
    try ValueDecoder(
      value: value(key) ?? .null, codingPath: codingPath + [key], nullIsAbsent: nullIsAbsent
    )
    .container(keyedBy: type)
  }

  func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
    try ValueDecoder(
      value: value(key) ?? .null, codingPath: codingPath + [key], nullIsAbsent: nullIsAbsent
    )
    .unkeyedContainer()
  }

  func superDecoder() throws -> any Decoder {
    ValueDecoder(value: .object(members), codingPath: codingPath, nullIsAbsent: nullIsAbsent)
  }

  func superDecoder(forKey key: Key) throws -> any Decoder {
    ValueDecoder(
      value: value(key) ?? .null, codingPath: codingPath + [key], nullIsAbsent: nullIsAbsent)
  }
}

struct UnkeyedValueDecoder: UnkeyedDecodingContainer {
  let elements: [JSONValue]
  var codingPath: [any CodingKey]
  var nullIsAbsent: Bool
  var currentIndex = 0
  var count: Int? { elements.count }
  var isAtEnd: Bool { currentIndex >= elements.count }

  init(elements: [JSONValue], codingPath: [any CodingKey], nullIsAbsent: Bool) {
    self.elements = elements
    self.codingPath = codingPath
    self.nullIsAbsent = nullIsAbsent
  }

  private func next() throws -> JSONValue {
    guard !isAtEnd else {
      throw DecodingError.valueNotFound(
        JSONValue.self,
        DecodingError.Context(codingPath: codingPath, debugDescription: "the list is shorter"))
    }
    return elements[currentIndex]
  }

  private var path: [any CodingKey] { codingPath + [IndexKey(index: currentIndex)] }

  mutating func decodeNil() throws -> Bool {
    guard try next().isNull else { return false }
    currentIndex += 1
    return true
  }

  mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
    let value = try ValueDecoder.decode(
      type, from: try next(), path: path, nullIsAbsent: nullIsAbsent)
    currentIndex += 1
    return value
  }

  mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
    -> KeyedDecodingContainer<NestedKey>
  {
    let container = try ValueDecoder(
      value: try next(), codingPath: path, nullIsAbsent: nullIsAbsent
    ).container(keyedBy: type)
    currentIndex += 1
    return container
  }

  mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
    let container = try ValueDecoder(
      value: try next(), codingPath: path, nullIsAbsent: nullIsAbsent
    ).unkeyedContainer()
    currentIndex += 1
    return container
  }

  mutating func superDecoder() throws -> any Decoder {
    let decoder = ValueDecoder(value: try next(), codingPath: path, nullIsAbsent: nullIsAbsent)
    currentIndex += 1
    return decoder
  }
}

/// An index in a list, as a coding key.
struct IndexKey: CodingKey {
  let index: Int
  var stringValue: String { String(index) }
  var intValue: Int? { index }
  init(index: Int) { self.index = index }
  init?(stringValue: String) { nil }
  init?(intValue: Int) { index = intValue }
}

struct SingleValueDecoder: SingleValueDecodingContainer {
  let value: JSONValue
  var codingPath: [any CodingKey]
  var nullIsAbsent: Bool

  func decodeNil() -> Bool { value.isNull }

  func decode(_ type: Bool.Type) throws -> Bool {
    guard let flag = value.bool else {
      throw ValueDecoder.mismatch(type, "true or false", codingPath)
    }
    return flag
  }

  func decode(_ type: String.Type) throws -> String {
    guard let text = value.string else { throw ValueDecoder.mismatch(type, "a string", codingPath) }
    return text
  }

  func decode(_ type: Double.Type) throws -> Double {
    guard let number = value.double else {
      throw ValueDecoder.mismatch(type, "a number", codingPath)
    }
    return number
  }

  func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

  func decode(_ type: Int.Type) throws -> Int { try whole(type) }
  func decode(_ type: Int8.Type) throws -> Int8 { try whole(type) }
  func decode(_ type: Int16.Type) throws -> Int16 { try whole(type) }
  func decode(_ type: Int32.Type) throws -> Int32 { try whole(type) }
  func decode(_ type: Int64.Type) throws -> Int64 { try whole(type) }
  func decode(_ type: UInt.Type) throws -> UInt { try whole(type) }
  func decode(_ type: UInt8.Type) throws -> UInt8 { try whole(type) }
  func decode(_ type: UInt16.Type) throws -> UInt16 { try whole(type) }
  func decode(_ type: UInt32.Type) throws -> UInt32 { try whole(type) }
  func decode(_ type: UInt64.Type) throws -> UInt64 { try whole(type) }

  private func whole<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
    guard let number = value.int, let exact = T(exactly: number) else {
      throw ValueDecoder.mismatch(type, "a whole number from \(T.min) to \(T.max)", codingPath)
    }
    return exact
  }

  func decode<T: Decodable>(_ type: T.Type) throws -> T {
    try ValueDecoder.decode(type, from: value, path: codingPath, nullIsAbsent: nullIsAbsent)
  }
}
