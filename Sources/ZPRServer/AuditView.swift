import Foundation
import Hummingbird
import ZPRModel
import ZPRPolicy
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
    var items: [Item] = []
    for record in records {
      let before = record.before.flatMap(Self.decode)
      let after = record.after.flatMap(Self.decode)
      guard let subject = after ?? before else { continue }
      guard let level = Self.level(caller, subject, access) else { continue }
      func shown(_ resource: ResourceRecord?) -> JSONValue {
        guard let resource else { return .null }
        if resource.kind == APIKeys.kind {
          let owner = APIKeys.owner(of: resource)
          return .object([
            ("groups", .array(owner.groups.map { .string($0) })), ("id", .string(resource.id)),
            ("user", .string(owner.user)),
          ])
        }
        var object = JSONValue.object([])
        if level == .read {
          object.set("body", (try? JSONValue.parse(resource.body)) ?? .string(resource.body))
        }
        object.set("id", .string(resource.id))
        object.set("kind", .string(resource.kind))
        object.set("lifecycleState", .string(resource.lifecycleState.rawValue))
        object.set("name", .string(resource.name))
        object.set("parent", resource.parent.map { .string($0) })
        object.set("version", .int(Int(resource.version)))
        return object
      }
      let actor = Caller.parse(actor: record.actor)
      items.append(
        Item(
          action: record.action, actor: actor.user, actorKey: actor.keyID, after: shown(after),
          before: shown(before), id: record.id, kind: record.kind, revision: record.revision,
          time: ZPRServer.timestamp(record.time)))
    }
    return try ZPRServer.json(
      AuditPage(
        items: items,
        nextAfter: records.count == limit ? records.last?.revision : nil))
  }

  /// One change in the trail.
  struct Item: Encodable {
    var action: String
    var actor: String
    /// The key that made it, when a key did.
    var actorKey: String?
    var after: JSONValue
    var before: JSONValue
    var id: String
    var kind: String
    var revision: Int64
    var time: String
  }

  /// A page of the trail, and the revision the next one starts after.
  struct AuditPage: Encodable {
    var items: [Item]
    var nextAfter: Int64?
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
