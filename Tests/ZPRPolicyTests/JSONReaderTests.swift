import Testing
import ZPRPolicy

@Suite("The strict JSON reader")
struct JSONReaderTests {
  static func read(_ text: String, limits: JSONLimits = .standard) throws(JSONReadError)
    -> JSONValue
  {
    try JSONValue.parse(text, limits: limits)
  }

  /// The error a text is refused with.
  static func refusal(_ text: String, limits: JSONLimits = .standard) -> JSONReadError? {
    do {
      let value = try read(text, limits: limits)
      Issue.record("accepted \(text.debugDescription) as \(value.serialized(pretty: false))")
      return nil
    } catch {
      return error
    }
  }

  @Test(arguments: [
    ("{}", JSONValue.object([])),
    ("[]", .array([])),
    (" \t\r\n[1, -2, 0, -0]\n", .array([.int(1), .int(-2), .int(0), .int(0)])),
    ("\"\"", .string("")),
    ("true", .bool(true)),
    ("false", .bool(false)),
    ("null", .null),
    ("1.5", .number(1.5)),
    ("-0.0", .number(-0.0)),
    ("1e2", .number(100)),
    ("1E+2", .number(100)),
    ("2.5e-3", .number(0.0025)),
    ("9223372036854775807", .int(Int.max)),
    ("-9223372036854775808", .int(Int.min)),
    ("9223372036854775808", .number(9_223_372_036_854_775_808)),
    ("{\"a\": {\"b\": [null]}}", .object([("a", .object([("b", .array([.null]))]))])),
    ("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", .string("\" \\ / \u{8} \u{C} \n \r \t")),
    ("\"\\u00e9\\u20AC\"", .string("é€")),
    ("\"\\ud83d\\ude00\"", .string("😀")),
    ("\"\\u0000\"", .string("\u{0}")),
    ("\"é😀\"", .string("é😀")),
  ])
  func readsWhatRFC8259Allows(text: String, expected: JSONValue) throws {
    #expect(try Self.read(text) == expected)
  }

  @Test(arguments: [
    ("", JSONReadError.Code.unexpectedEnd),
    ("   ", .unexpectedEnd),
    ("[1, 2", .unexpectedEnd),
    ("{\"a\": 1", .unexpectedEnd),
    ("{\"a\"", .unexpectedEnd),
    ("\"abc", .unexpectedEnd),
    ("[1] [2]", .trailingText),
    ("{} x", .trailingText),
    ("1 2", .trailingText),
    ("[1,]", .unexpectedCharacter),
    ("{\"a\": 1,}", .unexpectedCharacter),
    ("[1 2]", .unexpectedCharacter),
    ("{\"a\" 1}", .unexpectedCharacter),
    ("{a: 1}", .unexpectedCharacter),
    ("['a']", .unexpectedCharacter),
    ("+1", .unexpectedCharacter),
    (".5", .unexpectedCharacter),
    ("NaN", .unexpectedCharacter),
    ("Infinity", .unexpectedCharacter),
    ("True", .unexpectedCharacter),
    ("nul", .unexpectedCharacter),
    ("[1] // note", .trailingText),
    ("// note\n[1]", .unexpectedCharacter),
    ("\u{FEFF}[1]", .unexpectedCharacter),
    ("01", .invalidNumber),
    ("-01", .invalidNumber),
    ("1.", .invalidNumber),
    ("1.e5", .invalidNumber),
    ("-", .invalidNumber),
    ("-a", .invalidNumber),
    ("1e", .invalidNumber),
    ("1e+", .invalidNumber),
    ("1e400", .invalidNumber),
    ("\"a\u{1}b\"", .invalidString),
    ("\"tab\there\"", .invalidString),
    ("\"line\nbreak\"", .invalidString),
    ("\"\\x41\"", .invalidString),
    ("\"\\u12\"", .invalidString),
    ("\"\\ud800\"", .invalidString),
    ("\"\\ud800x\"", .invalidString),
    ("\"\\ud800\\u0041\"", .invalidString),
    ("\"\\udc00\"", .invalidString),
    ("{\"a\": 1, \"a\": 2}", .duplicateKey),
  ])
  func refusesWhatItDoesNotAllow(text: String, code: JSONReadError.Code) {
    #expect(Self.refusal(text)?.code == code, "\(text.debugDescription)")
  }

  @Test func duplicateKeysAreNamedAndPlaced() {
    let text = "{\"name\": 1, \"other\": 2, \"name\": 3}"
    let error = Self.refusal(text)
    #expect(error?.code == .duplicateKey)
    #expect(error?.message.contains("\"name\"") == true)
    #expect(error?.offset == 24)
  }

  @Test func duplicateKeysAreFoundInLargeObjects() {
    let members = (0..<5000).map { "\"k\($0)\": \($0)" } + ["\"k4321\": 0"]
    #expect(Self.refusal("{" + members.joined(separator: ",") + "}")?.code == .duplicateKey)
  }

  @Test func invalidUTF8IsRefused() {
    for bytes: [UInt8] in [
      [0x22, 0xFF, 0x22],  // never valid
      [0x22, 0xC0, 0xAF, 0x22],  // overlong '/'
      [0x22, 0xE0, 0x80, 0xAF, 0x22],  // overlong
      [0x22, 0xED, 0xA0, 0x80, 0x22],  // an encoded surrogate
      [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
      [0x22, 0xE2, 0x82, 0x22],  // cut short
      [0x22, 0x80, 0x22],  // a continuation byte alone
    ] {
      do {
        _ = try JSONValue.parse(bytes)
        Issue.record("accepted \(bytes)")
      } catch {
        #expect(error.code == .invalidUTF8, "\(bytes)")
        #expect(error.offset == 1)
      }
    }
  }

  @Test func deepNestingIsRefusedWithoutRecursion() throws {
    let deep = String(repeating: "[", count: 100_000)
    let error = Self.refusal(deep)
    #expect(error?.code == .tooDeep)
    #expect(error?.offset == 64)
    #expect(error?.message.contains("64") == true)
    let objects = String(repeating: "{\"a\":", count: 100_000)
    #expect(Self.refusal(objects)?.code == .tooDeep)
    // At the limit it reads, and a higher limit is honoured without recursion.
    let sixtyFour = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
    _ = try Self.read(sixtyFour)
    let tenThousand = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
    _ = try Self.read(tenThousand, limits: JSONLimits(maxDepth: 10_000))
    #expect(Self.refusal(tenThousand, limits: JSONLimits(maxDepth: 9_999))?.code == .tooDeep)
  }

  @Test func sizeLimitsAreEnforced() {
    let limits = JSONLimits(maxStringLength: 8, maxNumberLength: 5, maxValues: 4)
    #expect(Self.refusal("\"123456789\"", limits: limits)?.code == .tooLarge)
    #expect(Self.refusal("123456", limits: limits)?.code == .tooLarge)
    #expect(Self.refusal("[1, 2, 3, 4]", limits: limits)?.code == .tooLarge)
    #expect((try? Self.read("[1, 2, 3]", limits: limits)) != nil)
    #expect((try? Self.read("\"12345678\"", limits: limits)) != nil)
  }

  @Test func errorsSayWhereAndWhatToSend() {
    let error = Self.refusal("{\"a\": [1, 2,, 3]}")
    #expect(error?.code == .unexpectedCharacter)
    #expect(error?.offset == 12)
    #expect(error?.description.hasSuffix("[ZPR-JSON-001]") == true)
    #expect(Self.refusal("[1, 'x']")?.message.contains("double quotes") == true)
    #expect(Self.refusal("01")?.message.contains("leading zero") == true)
  }

  @Test func accessorsKeepKindsApart() throws {
    let value = try Self.read(
      "{\"n\": 3, \"f\": 3.0, \"b\": true, \"s\": \"x\", \"a\": [1], \"o\": {}, \"z\": null}")
    #expect(value["n"]?.int == 3)
    #expect(value["f"]?.int == nil && value["f"]?.double == 3.0)
    #expect(value["b"]?.int == nil && value["b"]?.bool == true && value["b"]?.double == nil)
    #expect(value["n"]?.bool == nil)
    #expect(value["s"]?.string == "x" && value["s"]?.int == nil)
    #expect(value["a"]?.array == [.int(1)])
    #expect(value["o"]?.objectMembers?.isEmpty == true)
    #expect(value["z"]?.isNull == true)
    #expect(value["missing"] == nil)
    #expect(value["a"]?["x"] == nil)
    #expect(value.objectMembers?.map(\.0) == ["n", "f", "b", "s", "a", "o", "z"])
  }

  @Test func whatItWritesItReads() throws {
    let value = JSONValue.object([
      ("text", .string("quote \" backslash \\ control \u{1} é 😀")),
      ("list", .array([.int(-7), .number(0.25), .bool(false), .null])),
      ("nested", .object([("empty", .object([])), ("none", .array([]))])),
    ])
    for pretty in [true, false] {
      #expect(try Self.read(value.serialized(pretty: pretty)) == value)
    }
  }
}
