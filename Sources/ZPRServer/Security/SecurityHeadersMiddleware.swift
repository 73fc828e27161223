import HTTPTypes
import Hummingbird
import NIOCore

/// Adds the headers every answer of the API carries: nothing is cached (answers hold keys and
/// configuration), nothing is sniffed into another type, and a 401 says how to authenticate.
/// Errors are turned into their answers here, so refusals carry the headers too.
struct SecurityHeadersMiddleware: RouterMiddleware {
  typealias Context = ZPRRequestContext

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    var response: Response
    do {
      response = try await next(request, context)
    } catch let error as APIError {
      response = try error.response(from: request, context: context)
    } catch is NIOTooManyBytesError {
      response = try APIError(
        .contentTooLarge, "ZPR-API-030",
        "the body is larger than this call takes: send a smaller one (the limits and the "
          + "options of zpr serve that raise them are in docs/security.md)"
      ).response(from: request, context: context)
    }
    response.headers[.cacheControl] = "no-store"
    response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
    if response.status == .unauthorized {
      response.headers[.wwwAuthenticate] = #"Bearer realm="zpr""#
    }
    return response
  }
}
