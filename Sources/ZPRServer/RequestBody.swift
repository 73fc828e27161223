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
  ) async throws -> JSONValue {
    let buffer: ByteBuffer
    do {
      buffer = try await request.body.collect(upTo: limit)
    } catch is NIOTooManyBytesError {
      throw APIError(
        .contentTooLarge, "ZPR-API-030",
        "the body is larger than the \(limit) bytes this call takes: send a smaller one, or "
          + "start the server with a larger \(option)")
    }
    if emptyIsObject, buffer.readableBytes == 0 { return .object([]) }
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
    return value
  }

  /// The request's body as a typed value: read as ``object(_:allowed:limit:option:emptyIsObject:)``
  /// reads it (only the type's fields), then decoded strictly; a field of the wrong type or a
  /// missing one is refused by name (`ZPR-API-004`, `ZPR-API-005`).
  static func decode<T: Decodable & FieldsNamed>(
    _ type: T.Type, from request: Request, limit: Int, option: String = "--max-body-bytes",
    emptyIsObject: Bool = false
  ) async throws -> T {
    try decode(
      type,
      from: try await object(
        request, allowed: T.fields, limit: limit, option: option, emptyIsObject: emptyIsObject))
  }

  /// A JSON value as a typed one, refusals named by field.
  static func decode<T: Decodable & FieldsNamed>(_ type: T.Type, from value: JSONValue) throws -> T
  {
    do {
      // A null is refused as the field's type refuses it, as the reader has always done.
      return try JSONValueDecoder(nullIsAbsent: false).decode(type, from: value)
    } catch let error as DecodingError {
      let (field, reason) = error.fieldAndReason
      if case .keyNotFound = error { throw APIError.missingField(field) }
      let wanted = reason.hasPrefix("must be ") ? String(reason.dropFirst(8)) : reason
      throw APIError.wrongType(field, T.expected[field] ?? wanted)
    }
  }
}

/// A request body's type: the fields it takes, and how to say what each must be.
protocol FieldsNamed {
  /// Every field a body may have.
  static var fields: [String] { get }
  /// What a field must be ("a whole number from 0 to 65535"), for its refusal; others say
  /// what the decoder wanted.
  static var expected: [String: String] { get }
}

extension FieldsNamed {
  static var expected: [String: String] { [:] }
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
