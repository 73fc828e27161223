import Testing
import ZPRPolicy

/// Typed values to and from JSON values: the order a type encodes in, strict decoding, and a
/// refusal that names the field.
@Suite("Typed values as JSON")
struct JSONValueCodableTests {
  struct Port: Codable, Equatable {
    var `protocol`: String
    var port: Int?
    var stateless: Bool
  }

  struct Rule: Codable, Equatable {
    var name: String
    var ports: [Port]
    var labels: [String: String]
    var extra: JSONValue?
  }

  static let rule = Rule(
    name: "web", ports: [Port(protocol: "tcp", port: 443, stateless: false)],
    labels: ["z": "last", "a": "first"], extra: .object([("b", .int(1)), ("a", .null)]))

  @Test("members come in declaration order, dictionaries in key order, nil optionals are left out")
  func encodesInOrder() throws {
    let json = try JSONValueEncoder().encode(
      Rule(
        name: "web", ports: [Port(protocol: "udp", port: nil, stateless: true)], labels: [:],
        extra: nil))
    #expect(
      json.serialized(pretty: false)
        == #"{"name":"web","ports":[{"protocol":"udp","stateless":true}],"labels":{}}"#)
    #expect(
      try JSONValueEncoder().encode(Self.rule).serialized(pretty: false)
        == #"{"name":"web","ports":[{"protocol":"tcp","port":443,"stateless":false}],"#
        + #""labels":{"a":"first","z":"last"},"extra":{"b":1,"a":null}}"#)
  }

  @Test("a value decodes back to itself, and the same text reads back the same")
  func roundTrips() throws {
    let json = try JSONValueEncoder().encode(Self.rule)
    #expect(try JSONValueDecoder().decode(Rule.self, from: json) == Self.rule)
    let text = json.serialized(pretty: false)
    #expect(try JSONValueDecoder().decode(Rule.self, from: try JSONValue.parse(text)) == Self.rule)
    // JSONValue itself passes through unchanged, members in order.
    #expect(try JSONValueDecoder().decode(JSONValue.self, from: json) == json)
  }

  @Test("each type takes only its own kind of value, and the refusal names the field")
  func decodesStrictly() throws {
    func refusal(_ text: String) throws -> (field: String, reason: String)? {
      do {
        _ = try JSONValueDecoder().decode(Rule.self, from: try JSONValue.parse(text))
        return nil
      } catch let error as DecodingError {
        return error.fieldAndReason
      }
    }
    let ports = #""ports":[{"protocol":"tcp","port":true,"stateless":false}]"#
    let wrong = try refusal(#"{"name":"web",\#(ports),"labels":{}}"#)
    #expect(wrong?.field == "ports[0].port")
    #expect(wrong?.reason.contains("a whole number") == true)
    #expect(try refusal(#"{"name":7,"ports":[],"labels":{}}"#)?.field == "name")
    #expect(
      try refusal(
        #"{"name":"web","ports":[{"protocol":"tcp","port":1.5,"stateless":false}],"labels":{}}"#)?
        .field == "ports[0].port")
    #expect(
      try refusal(#"{"name":"web","ports":[{"protocol":"tcp","stateless":1}],"labels":{}}"#)?.field
        == "ports[0].stateless")
    let missing = try refusal(#"{"name":"web","labels":{}}"#)
    #expect(missing?.field == "ports")
    #expect(missing?.reason == "is required")
    // An optional may be null or absent.
    let decoded = try JSONValueDecoder().decode(
      Rule.self,
      from: try JSONValue.parse(#"{"name":"web","ports":[],"labels":{"k":"v"},"extra":null}"#))
    #expect(decoded.extra == nil)
    #expect(decoded.labels == ["k": "v"])
  }

  @Test("integers of other widths are held to their range")
  func widths() throws {
    #expect(try JSONValueDecoder().decode(UInt8.self, from: .int(255)) == 255)
    #expect(throws: DecodingError.self) {
      try JSONValueDecoder().decode(UInt8.self, from: .int(256))
    }
    #expect(try JSONValueDecoder().decode(Double.self, from: .int(3)) == 3)
    #expect(try JSONValueEncoder().encode(Int64(-5)) == .int(-5))
  }
}

/// A null for an optional field: left out for answers, refused for requests.
@Suite("Null in typed values")
struct JSONValueNullTests {
  struct Asked: Decodable {
    var port: Int?
  }

  @Test func nullIsAbsentOnlyWhenAsked() throws {
    let json = try JSONValue.parse(#"{"port": null}"#)
    #expect(try JSONValueDecoder().decode(Asked.self, from: json).port == nil)
    #expect(throws: DecodingError.self) {
      try JSONValueDecoder(nullIsAbsent: false).decode(Asked.self, from: json)
    }
    #expect(
      try JSONValueDecoder(nullIsAbsent: false).decode(Asked.self, from: .object([])).port == nil)
  }
}
