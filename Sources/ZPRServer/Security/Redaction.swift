import Foundation
import ZPRStore

/// Keeps refusals from telling a caller about what they may not see: a problem about (or
/// naming) a resource the caller may not inspect is told without its name, id or contents.
enum Redaction {
  static func redact(_ error: APIError, for caller: Caller, snapshots: Snapshots) async throws
    -> APIError
  {
    let snapshot = try await snapshots.snapshot()
    let access = try await snapshots.access()
    let hidden = snapshot.records.filter { !Authorizer.inspects(caller, $0, in: access) }
    guard !hidden.isEmpty else { return error }
    let ids = Set(hidden.map { "\($0.kind)/\($0.id)" })
    let names = Set(hidden.map(\.name))
    func mentions(_ text: String?) -> Bool {
      guard let text else { return false }
      return names.contains { Self.mentions(text, $0) }
    }
    var redacted = error
    var count = 0
    redacted.details = error.details.map { detail in
      let about = detail["kind"].map { "\($0)/\(detail["id"] ?? "")" }
      guard
        about.map(ids.contains) == true || mentions(detail["message"])
          || mentions(detail["suggestion"])
      else { return detail }
      count += 1
      var shown = detail.filter { ["severity", "code"].contains($0.key) }
      shown["message"] =
        "this conflicts with a resource you may not see: choose other values (a name, an "
        + "address, a block), or ask someone who may see it"
      return shown
    }
    if mentions(error.message) || count > 0 && error.details.count == count {
      redacted.message =
        "the change was refused (\(error.code)): "
        + (count > 0
          ? "\(count) of its problems concern resources you may not see; see details"
          : "it conflicts with a resource you may not see")
        + "; nothing was changed"
    }
    return redacted
  }

  /// Whether a name stands in a text as a whole word (not inside a longer name).
  static func mentions(_ text: String, _ name: String) -> Bool {
    guard !name.isEmpty else { return false }
    func part(_ character: Character?) -> Bool {
      guard let character else { return false }
      return character.isLetter || character.isNumber || "-_".contains(character)
    }
    var searchStart = text.startIndex
    while let range = text.range(of: name, range: searchStart..<text.endIndex) {
      let before =
        range.lowerBound == text.startIndex ? nil : text[text.index(before: range.lowerBound)]
      let after = range.upperBound == text.endIndex ? nil : text[range.upperBound]
      if !part(before), !part(after) { return true }
      searchStart = text.index(after: range.lowerBound)
    }
    return false
  }
}
