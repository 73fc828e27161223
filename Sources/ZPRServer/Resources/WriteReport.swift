import ZPREngine
import ZPRModel
import ZPRPolicy
import ZPRStore

/// What a write changes in access, and the warnings it adds: every accepted write and every dry
/// run answers with it. It names endpoints and statements, so only a caller who may inspect the
/// whole tenancy is told; others get `"accessChanges": null`.
struct WriteReport: Sendable {
  /// Whether the caller may see the report.
  var visible: Bool
  var dryRun: Bool
  /// The tenancy before the change, and after it with its warnings (kept by the check, compared
  /// after the store's transaction so the comparison does not hold the write lock).
  var before: Snapshots.Snapshot?
  var after: (tenancy: Tenancy, warnings: [TenancyDocument.Problem])?
  /// Every record as the change leaves them.
  var records: [ResourceRecord] = []

  /// Why the access changes were not computed (a tenancy too large to compare whole).
  var skipped: String?

  /// The most resources a tenancy may hold for a single write's answer to compare it whole:
  /// the comparison compiles both tenancies, which took 330 ms a write at 2,000 resources of
  /// `zpr bench tenancy`'s kind (many namespaces and statements), against 1.3 ms for the write.
  static let limit = 500

  static let tooLarge =
    "the tenancy holds more than \(limit) resources, too many to compare whole on every write: "
    + "ask POST /v1/whatIf (`zpr diff --server`) for what a change does to access"

  /// Keeps the comparison only where it is this change's alone and cheap: the state before
  /// must be the revision just before `revision` (another change committed in between would
  /// be counted as this one's), and hold at most ``limit`` resources.
  mutating func limit(to revision: Int64) {
    guard let before, after != nil else { return }
    if before.tenancy.resources.count > Self.limit {
      skipped = Self.tooLarge
    } else if before.revision + 1 != revision {
      skipped =
        "another change was committed at the same time, so this one's effect on access cannot "
        + "be told apart: ask POST /v1/whatIf (`zpr diff --server`)"
    } else {
      return
    }
    after = nil
  }

  /// At most this many access changes are listed (the rest are counted).
  static let shownChanges = 100

  /// The answer's members after the resource's own: `accessChanges`, `warnings`, and `dryRun`
  /// for a dry run (each a JSON text).
  func members() -> [(String, String)] {
    var members: [(String, String)] = []
    if dryRun { members.append(("dryRun", "true")) }
    guard visible, let before, let after else {
      members.append(("accessChanges", "null"))
      if let skipped { members.append(("accessChangesSkipped", JSONText.string(skipped))) }
      return members
    }
    let diff = PolicyDiff(old: before.tenancy, new: after.tenancy)
    let changes = diff.changes.prefix(Self.shownChanges).map { change in
      "{\"from\":\(Self.list(change.from)),\"to\":\(Self.list(change.to)),"
        + "\"gained\":\(Self.list(change.gained.map(\.description))),"
        + "\"lost\":\(Self.list(change.lost.map(\.description))),"
        + "\"summary\":\(JSONText.string(Self.summary(change)))}"
    }
    members.append(("accessChanges", "[" + changes.joined(separator: ",") + "]"))
    if diff.changes.count > Self.shownChanges {
      members.append(("accessChangesOmitted", String(diff.changes.count - Self.shownChanges)))
    }
    var warnings: [(code: String, message: String)] = []
    for endpoint in diff.unprotected {
      warnings.append(
        (
          "ZPR-API-042",
          "endpoint \(endpoint) was protected by ZPR and no longer is: every flow to and from it "
            + "is now left to the network's rules; give it back an attribute that statements name "
            + "if it must stay protected"
        ))
    }
    let known = Set(before.warnings.map { "\($0.code)|\($0.record?.id ?? "")|\($0.message)" })
    for warning in after.warnings
    where !known.contains("\(warning.code)|\(warning.record?.id ?? "")|\(warning.message)") {
      let owner = warning.record.map { record in
        "\(ResourceSchema.named(record.kind)?.label ?? record.kind) '\(record.name)'"
          + (warning.detail["statement"].map { ", statement \($0)" } ?? "") + ": "
      }
      warnings.append((warning.code, (owner ?? "") + warning.message))
    }
    let shown = warnings.prefix(APIError.detailLimit).map {
      "{\"code\":\(JSONText.string($0.code)),\"message\":\(JSONText.string($0.message))}"
    }
    members.append(("warnings", "[" + shown.joined(separator: ",") + "]"))
    return members
  }

  /// The resource's JSON text with the report's members added.
  func appended(to object: String) -> String {
    let members = members()
    guard object.hasSuffix("}"), !members.isEmpty else { return object }
    let body = members.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",")
    return String(object.dropLast()) + (object == "{}" ? "" : ",") + body + "}"
  }

  /// A change in one line: `web-1/0, web-2/0 -> db-1/0: gains tcp/5432; loses udp/53`.
  static func summary(_ change: PolicyDiff.Change) -> String {
    func names(_ list: [String]) -> String {
      list.count <= 4
        ? list.joined(separator: ", ")
        : list.prefix(3).joined(separator: ", ") + " and \(list.count - 3) more"
    }
    var parts: [String] = []
    if !change.gained.isEmpty {
      parts.append("gains " + change.gained.map(\.description).joined(separator: ", "))
    }
    if !change.lost.isEmpty {
      parts.append("loses " + change.lost.map(\.description).joined(separator: ", "))
    }
    return "\(names(change.from)) -> \(names(change.to)): " + parts.joined(separator: "; ")
  }

  private static func list(_ items: [String]) -> String {
    "[" + items.map(JSONText.string).joined(separator: ",") + "]"
  }
}
