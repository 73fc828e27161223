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

  /// One change of access, as an answer lists it.
  struct AccessChange: Encodable {
    var from: [String]
    var to: [String]
    var gained: [String]
    var lost: [String]
    var summary: String
  }

  /// A warning: a stable code and what it means.
  struct Warning: Encodable {
    var code: String
    var message: String
  }

  /// Adds the answer's members after the resource's own: `dryRun` for a dry run,
  /// `accessChanges` (or why they are left out), and `warnings`.
  func encode(into container: inout KeyedEncodingContainer<JSONKey>) throws {
    if dryRun { try container.encode(true, forKey: JSONKey("dryRun")) }
    guard visible, let before, let after else {
      try container.encodeNil(forKey: JSONKey("accessChanges"))
      try container.encodeIfPresent(skipped, forKey: JSONKey("accessChangesSkipped"))
      return
    }
    let diff = PolicyDiff(old: before.tenancy, new: after.tenancy)
    let changes = diff.changes.prefix(Self.shownChanges).map { change in
      AccessChange(
        from: change.from, to: change.to, gained: change.gained.map(\.description),
        lost: change.lost.map(\.description), summary: Self.summary(change))
    }
    try container.encode(changes, forKey: JSONKey("accessChanges"))
    if diff.changes.count > Self.shownChanges {
      try container.encode(
        diff.changes.count - Self.shownChanges, forKey: JSONKey("accessChangesOmitted"))
    }
    var warnings: [Warning] = []
    for endpoint in diff.unprotected {
      warnings.append(
        Warning(
          code: "ZPR-API-042",
          message:
            "endpoint \(endpoint) was protected by ZPR and no longer is: every flow to and from "
            + "it is now left to the network's rules; give it back an attribute that statements "
            + "name if it must stay protected"))
    }
    let known = Set(before.warnings.map { "\($0.code)|\($0.record?.id ?? "")|\($0.message)" })
    for warning in after.warnings
    where !known.contains("\(warning.code)|\(warning.record?.id ?? "")|\(warning.message)") {
      let owner = warning.record.map { record in
        "\(ResourceSchema.named(record.kind)?.label ?? record.kind) '\(record.name)'"
          + (warning.detail["statement"].map { ", statement \($0)" } ?? "") + ": "
      }
      warnings.append(Warning(code: warning.code, message: (owner ?? "") + warning.message))
    }
    try container.encode(
      Array(warnings.prefix(APIError.detailLimit)), forKey: JSONKey("warnings"))
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
}
