import Foundation
import Hummingbird
import NIOCore
import ZPRPolicy

/// Reads request bodies: at most a limit of bytes, strict JSON (one value, no duplicate keys,
/// bounded nesting, exact types: `true` is never a number), an object with only known fields.
enum RequestBody {
  /// The request's JSON object, with no fields but the allowed ones, read from at most `limit`
  /// bytes (`option` names the `zpr serve` option that raises it).
  static func object(
    _ request: Request, allowed: [String], limit: Int, option: String = "--max-body-bytes",
    emptyIsObject: Bool = false
  ) async throws -> [String: Any] {
    let buffer: ByteBuffer
    do {
      buffer = try await request.body.collect(upTo: limit)
    } catch is NIOTooManyBytesError {
      throw APIError(
        .contentTooLarge, "ZPR-API-030",
        "the body is larger than the \(limit) bytes this call takes: send a smaller one, or "
          + "start the server with a larger \(option)")
    }
    if emptyIsObject, buffer.readableBytes == 0 { return [:] }
    let value: JSONValue
    do {
      // A string may be as long as the body (a tenancy file in `apply`).
      value = try JSONValue.parse(
        buffer.readableBytesView, limits: JSONLimits(maxStringLength: max(limit, 1 << 20)))
    } catch {
      throw APIError(
        .badRequest, "ZPR-API-002",
        "the body is not valid JSON: \(error.message) (send one JSON object)")
    }
    guard case .object(let members) = value else {
      throw APIError.malformed("it is not an object")
    }
    if let unknown = members.map(\.0).sorted().first(where: { !allowed.contains($0) }) {
      throw APIError.unknownField(unknown, allowed: allowed)
    }
    return plain(members)
  }

  /// A JSON object as Swift values: `String`, `Int`, `Double`, `Bool`, `NSNull`, arrays and
  /// dictionaries of them. A `Bool` never reads as a number, nor a number as a `Bool`.
  static func plain(_ members: [(String, JSONValue)]) -> [String: Any] {
    var object: [String: Any] = [:]
    for (key, value) in members { object[key] = plain(value) }
    return object
  }

  static func plain(_ value: JSONValue) -> Any {
    switch value {
    case .object(let members): plain(members)
    case .array(let elements): elements.map(plain)
    case .string(let text): text
    case .int(let number): number
    case .number(let number): number
    case .bool(let flag): flag
    case .null: NSNull()
    }
  }

  /// A whole number of a JSON value (never a `Bool` or a fraction).
  static func integer(_ value: Any?) -> Int? {
    guard let value, !(value is Bool) else { return nil }
    return value as? Int
  }
}

/// A request's query parameters, read strictly: a value that is not what the parameter takes
/// is refused with the range it takes, never clamped or guessed.
struct Query {
  let request: Request

  init(_ request: Request) {
    self.request = request
  }

  /// The text of a parameter, if given.
  func string(_ name: String) -> String? {
    request.uri.queryParameters[Substring(name)].map(String.init)
  }

  /// A whole number within a range, if given.
  func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
    guard let text = string(name) else { return nil }
    guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(text),
      range.contains(value)
    else {
      let bound =
        range.upperBound == Int.max
        ? "\(range.lowerBound) or more" : "\(range.lowerBound) to \(range.upperBound)"
      throw APIError(
        .badRequest, "ZPR-API-033",
        "?\(name)= must be a whole number from \(bound), not '\(text.prefix(40))'")
    }
    return value
  }

  /// Seconds (a whole or decimal number) within a range, if given.
  func seconds(_ name: String, in range: ClosedRange<Double>) throws -> Duration? {
    guard let text = string(name) else { return nil }
    guard text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: ".") }),
      let value = Double(text), range.contains(value)
    else {
      throw APIError(
        .badRequest, "ZPR-API-033",
        "?\(name)= must be seconds from \(Int(range.lowerBound)) to \(Int(range.upperBound)), "
          + "not '\(text.prefix(40))'")
    }
    return .milliseconds(Int(value * 1000))
  }

  /// `true` or `false`, if given.
  func flag(_ name: String) throws -> Bool? {
    guard let text = string(name) else { return nil }
    guard text == "true" || text == "false" else {
      throw APIError(
        .badRequest, "ZPR-API-033", "?\(name)= must be true or false, not '\(text.prefix(40))'")
    }
    return text == "true"
  }
}
