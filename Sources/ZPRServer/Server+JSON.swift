import Hummingbird
import ZPRPolicy

extension ZPRServer {
  /// An answer in JSON: a typed value, its members in the order its type encodes them.
  static func json(
    _ value: some Encodable, status: HTTPResponse.Status = .ok, etag: Int64? = nil,
    pretty: Bool = false
  ) throws -> Response {
    let bytes = try JSONValueEncoder().encode(value).serializedBytes(pretty: pretty)
    var headers: HTTPFields = [.contentType: "application/json"]
    if let etag { headers[.eTag] = "\"\(etag)\"" }
    return Response(
      status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
  }
}

/// A page of a list: its items, and where the next page starts (absent on the last).
struct Page<Item: Encodable>: Encodable {
  var items: [Item]
  var nextPage: String?
}
