import Foundation
import Hummingbird
import ZPRModel
import ZPRStore

/// `GET /v1/audit`: the trail of changes as one caller may see it. A change to a resource the
/// caller may read shows it before and after; one they may only inspect shows who changed what
/// and when, without its contents; one they may not inspect is left out. An API key's record
/// shows whose key it is and its groups, never its hash.
struct AuditView {
  let store: any Store
  let snapshots: Snapshots

  func page(for caller: Caller, after: Int64, limit: Int) async throws -> Response {
    let records = try await ZPRServer.mapped { try await store.audit(after: after, limit: limit) }
    let access = try await snapshots.access()
    var items: [[String: Any]] = []
    for record in records {
      let before = record.before.flatMap(Self.decode)
      let after = record.after.flatMap(Self.decode)
      guard let subject = after ?? before else { continue }
      guard let level = Self.level(caller, subject, access) else { continue }
      func shown(_ resource: ResourceRecord?) -> Any {
        guard let resource else { return NSNull() }
        if resource.kind == APIKeys.kind {
          let owner = APIKeys.owner(of: resource)
          return ["id": resource.id, "user": owner.user, "groups": owner.groups]
        }
        var object: [String: Any] = [
          "id": resource.id, "kind": resource.kind, "name": resource.name,
          "lifecycleState": resource.lifecycleState, "version": resource.version,
        ]
        if let parent = resource.parent { object["parent"] = parent }
        if level == .read { object["body"] = ZPRServer.parse(resource.body) ?? resource.body }
        return object
      }
      let actor = Caller.parse(actor: record.actor)
      var item: [String: Any] = [
        "revision": record.revision, "time": ZPRServer.timestamp(record.time),
        "actor": actor.user, "action": record.action, "kind": record.kind, "id": record.id,
        "before": shown(before), "after": shown(after),
      ]
      if let key = actor.keyID { item["actorKey"] = key }
      items.append(item)
    }
    var page: [String: Any] = ["items": items]
    if records.count == limit, let last = records.last { page["nextAfter"] = last.revision }
    return try ZPRServer.json(page)
  }

  enum Level { case inspect, read }

  /// How much of a record the caller may see in the trail (nil: nothing).
  static func level(_ caller: Caller, _ record: ResourceRecord, _ access: Access) -> Level? {
    let target = access.target(of: record)
    let prefix: String =
      ResourceSchema.named(record.kind)?.permission("READ").replacingOccurrences(
        of: "_READ", with: "")
      ?? (record.kind == APIKeys.kind ? "USER" : "ZPR_CONFIGURATION")
    if Authorizer.allows(caller, prefix + "_READ", target, in: access) { return .read }
    if Authorizer.allows(caller, prefix + "_INSPECT", target, in: access) { return .inspect }
    return nil
  }

  static func decode(_ text: String) -> ResourceRecord? {
    try? JSONDecoder().decode(ResourceRecord.self, from: Data(text.utf8))
  }
}
