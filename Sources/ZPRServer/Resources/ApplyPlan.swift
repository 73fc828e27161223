import Foundation
import ZPRIAM
import ZPRModel
import ZPRPolicy
import ZPRStore

/// A record as a tenancy file wants it: matched to a stored one by kind, parent and name.
struct DesiredRecord: Hashable {
  var kind: String
  var name: String
  var parent: String?
  var lifecycleState: String
  var body: String

  var key: String { "\(kind)/\(parent ?? "")/\(ResourceRecord.nameKey(name))" }
}

extension ResourceRecord {
  /// What a stored record is matched by (names compare without regard to case).
  var planKey: String { "\(kind)/\(parent ?? "")/\(Self.nameKey(name))" }
}

extension TenancyDocument {
  /// The records a tenancy is stored as: each element of its tenancy file, its parts split off
  /// (a VCN's subnets, a namespace's attributes) and named by their parent.
  static func records(for tenancy: Tenancy) -> [DesiredRecord] {
    let object = TenancyFile.jsonObject(for: tenancy)
    var configuration: [String: Any] = ["defaultNamespace": tenancy.defaultNamespace]
    if let network = object["serviceNetwork"] { configuration["serviceNetwork"] = network }
    var records = [
      DesiredRecord(
        kind: ResourceSchema.configurationKind, name: "zpr", parent: nil, lifecycleState: "ACTIVE",
        body: json(configuration))
    ]
    func split(_ element: [String: Any], _ kind: ResourceSchema, parent: String?) {
      var body = element
      let name = body.removeValue(forKey: "name") as? String ?? ""
      var state = "ACTIVE"
      if kind.hasLifecycle, body.removeValue(forKey: "retired") as? Bool == true {
        state = "INACTIVE"
      }
      var parts: [(ResourceSchema, [String: Any])] = []
      for part in ResourceSchema.all where part.parent?.kind == kind.kind {
        for child in body.removeValue(forKey: part.section) as? [[String: Any]] ?? [] {
          parts.append((part, child))
        }
      }
      records.append(
        DesiredRecord(
          kind: kind.kind, name: name, parent: parent, lifecycleState: state, body: json(body)))
      for (part, child) in parts { split(child, part, parent: name) }
    }
    for kind in ResourceSchema.all where kind.parent == nil {
      for (index, element) in (object[kind.section] as? [[String: Any]] ?? []).enumerated() {
        var element = element
        // Tests need not be named in a file; stored, they are named by their place.
        if element["name"] == nil { element["name"] = "test-\(index + 1)" }
        split(element, kind, parent: nil)
      }
    }
    return records
  }
}

/// What `apply` does to go from the stored records to a tenancy file's: creates, updates and
/// deletes, as one commit.
struct ApplyPlan {
  var creates: [DesiredRecord] = []
  var updates: [(ResourceRecord, DesiredRecord)] = []
  var deletes: [ResourceRecord] = []

  /// The plan; kinds in `leaving` are neither created, changed nor deleted.
  init(current: [ResourceRecord], desired: [DesiredRecord], leaving: Set<String> = []) {
    let managed = Set(ResourceSchema.all.map(\.kind) + [ResourceSchema.configurationKind])
      .subtracting(leaving)
    let desired = desired.filter { !leaving.contains($0.kind) }
    let stored = Dictionary(
      current.filter { managed.contains($0.kind) }.map { ($0.planKey, $0) },
      uniquingKeysWith: { first, _ in first })
    let wanted = Set(desired.map(\.key))
    for record in desired {
      if let existing = stored[record.key] {
        if Self.differs(existing, record) { updates.append((existing, record)) }
      } else {
        creates.append(record)
      }
    }
    deletes = stored.values.filter { !wanted.contains($0.planKey) }.sorted {
      ($0.kind, $0.name) < ($1.kind, $1.name)
    }
  }

  private static func differs(_ stored: ResourceRecord, _ wanted: DesiredRecord) -> Bool {
    guard stored.lifecycleState == wanted.lifecycleState, stored.name == wanted.name else {
      return true
    }
    // The same text is the same element (both are written by one serializer with sorted
    // keys): the common case of an apply that changes little, decided without parsing.
    if stored.body == wanted.body { return false }
    // Compare the meaning, not the spelling, of the bodies.
    func body(_ text: String) -> [String: Any] {
      normalized(stored.kind, ZPRServer.parse(text) as? [String: Any] ?? [:])
    }
    return !NSDictionary(dictionary: body(stored.body)).isEqual(to: body(wanted.body))
  }

  /// Statements in canonical form: a file (or `zpr export`) writes them so, whatever spelling
  /// the API was given.
  private static func normalized(_ kind: String, _ body: [String: Any]) -> [String: Any] {
    guard let statements = body["statements"] as? [String] else { return body }
    var body = body
    switch kind {
    case ResourceSchema.policy.kind:
      body["statements"] = statements.map {
        PolicyParser().parseStatement($0).statement.map { PolicyFormatter.format($0) } ?? $0
      }
    case ResourceSchema.iamPolicy.kind:
      body["statements"] = statements.map {
        IAMParser().parseStatement($0).statement?.canonical ?? $0
      }
    default: break
    }
    return body
  }

  /// The mutations, deletes first so that a name can move between parents in one apply.
  var mutations: [Mutation] {
    deletes.map { .delete(kind: $0.kind, id: $0.id, expectedVersion: $0.version) }
      + updates.map { stored, wanted in
        .update(
          kind: stored.kind, id: stored.id, expectedVersion: stored.version, name: wanted.name,
          lifecycleState: wanted.lifecycleState, body: wanted.body)
      }
      + creates.map {
        .create(
          kind: $0.kind, name: $0.name, parent: $0.parent, lifecycleState: $0.lifecycleState,
          body: $0.body)
      }
  }

  /// The plan as JSON: what each step does, by kind and name.
  var summary: [String: Any] {
    func entry(_ kind: String, _ name: String, _ parent: String?) -> [String: Any] {
      var entry: [String: Any] = ["kind": kind, "name": name]
      if let parent { entry["parent"] = parent }
      return entry
    }
    return [
      "create": creates.map { entry($0.kind, $0.name, $0.parent) },
      "update": updates.map { entry($0.0.kind, $0.0.name, $0.0.parent) },
      "delete": deletes.map { entry($0.kind, $0.name, $0.parent) },
    ]
  }
}
