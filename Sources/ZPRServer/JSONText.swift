import Foundation
import Hummingbird

/// JSON written as text where the parts are JSON already (stored bodies): no parsing and
/// re-serializing on the paths every request takes.
enum JSONText {
  /// A string as JSON.
  static func string(_ text: String) -> String {
    let plain = text.utf8.allSatisfy {
      $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\")
    }
    if plain { return "\"\(text)\"" }
    let data = try? JSONSerialization.data(
      withJSONObject: text, options: [.fragmentsAllowed, .withoutEscapingSlashes])
    return data.map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
  }

  /// An object of some members (already JSON) followed by those of a stored JSON object.
  static func object(_ members: [(String, String)], then body: String) -> String {
    var text = "{" + members.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",")
    let body = body.trimmingCharacters(in: .whitespaces)
    if body.hasPrefix("{"), body != "{}" {
      text += (members.isEmpty ? "" : ",") + body.dropFirst()
    } else {
      text += "}"
    }
    return text
  }

  /// A response with a JSON text.
  static func response(_ text: String, status: HTTPResponse.Status = .ok, etag: Int64? = nil)
    -> Response
  {
    var headers: HTTPFields = [.contentType: "application/json"]
    if let etag { headers[.eTag] = "\"\(etag)\"" }
    return Response(
      status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
  }
}
