import HTTPTypes
import ZPRModel

/// Names as the API takes them: normalised (NFC) and checked by the model's rules, refused
/// with the character at fault and what to write instead.
enum Names {
  /// A resource's name.
  static func resource(_ name: String, field: String) throws -> String {
    switch NameRules.resourceName(name) {
    case .success(let normalised): return normalised
    case .failure(let problem):
      throw APIError(.badRequest, "ZPR-API-007", "'\(field)': \(problem.message)")
    }
  }

  /// A user's name (a principal: ASCII only, so that no look-alike can pose as another).
  static func principal(_ name: String, field: String) throws -> String {
    switch NameRules.principalName(name) {
    case .success(let normalised): return normalised
    case .failure(let problem):
      throw APIError(.badRequest, "ZPR-API-007", "'\(field)': \(problem.message)")
    }
  }
}
