import Hummingbird
import ZPRPolicy

extension ZPRServer {
  /// An answer in JSON: a typed value, its members in the order its type encodes them.
  static func json(
    _ value: some Encodable, status: HTTPResponse.Status = .ok, etag: Int64? = nil,
    pretty: Bool = false
  ) throws -> Response {
    let text = try JSONValueEncoder().encode(value).serialized(pretty: pretty)
    var headers: HTTPFields = [.contentType: "application/json"]
    if let etag { headers[.eTag] = "\"\(etag)\"" }
    return Response(
      status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
  }
}

/// A page of a list: its items, and where the next page starts (absent on the last).
struct Page<Item: Encodable>: Encodable {
  var items: [Item]
  var nextPage: String?
}
