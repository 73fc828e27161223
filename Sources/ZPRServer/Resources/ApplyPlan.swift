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
  var lifecycleState: LifecycleState
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
    var configuration = JSONValue.object([("defaultNamespace", .string(tenancy.defaultNamespace))])
    configuration.set("serviceNetwork", object["serviceNetwork"])
    var records = [
      DesiredRecord(
        kind: ResourceSchema.configurationKind, name: "zpr", parent: nil, lifecycleState: .active,
        body: body(configuration))
    ]
    func split(_ element: JSONValue, _ kind: ResourceSchema, parent: String?) {
      var body = element
      let name = body["name"]?.string ?? ""
      body.set("name", nil)
      var state = LifecycleState.active
      if kind.hasLifecycle, body["retired"]?.bool == true { state = .inactive }
      if kind.hasLifecycle { body.set("retired", nil) }
      var parts: [(ResourceSchema, JSONValue)] = []
      for part in ResourceSchema.all where part.parent?.kind == kind.kind {
        for child in body[part.section]?.array ?? [] { parts.append((part, child)) }
        body.set(part.section, nil)
      }
      records.append(
        DesiredRecord(
          kind: kind.kind, name: name, parent: parent, lifecycleState: state,
          body: Self.body(body)))
      for (part, child) in parts { split(child, part, parent: name) }
    }
    for kind in ResourceSchema.all where kind.parent == nil {
      for (index, element) in (object[kind.section]?.array ?? []).enumerated() {
        var element = element
        // Tests need not be named in a file; stored, they are named by their place.
        if element["name"] == nil { element.set("name", .string("test-\(index + 1)")) }
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
    func body(_ text: String) -> JSONValue {
      normalized(stored.kind, ((try? JSONValue.parse(text)) ?? .null).sortingKeys)
    }
    return body(stored.body) != body(wanted.body)
  }

  /// Statements in canonical form: a file (or `zpr export`) writes them so, whatever spelling
  /// the API was given.
  private static func normalized(_ kind: String, _ body: JSONValue) -> JSONValue {
    guard let list = body["statements"]?.array, case let statements = list.compactMap(\.string),
      statements.count == list.count
    else { return body }
    var body = body
    switch kind {
    case ResourceSchema.policy.kind:
      body.set(
        "statements",
        .array(
          statements.map {
            .string(
              PolicyParser().parseStatement($0).statement.map { PolicyFormatter.format($0) } ?? $0)
          }))
    case ResourceSchema.iamPolicy.kind:
      body.set(
        "statements",
        .array(
          statements.map { .string(IAMParser().parseStatement($0).statement?.canonical ?? $0) }))
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

  /// One step of a plan, by kind and name.
  struct Step: Encodable {
    var kind: String
    var name: String
    var parent: String?
  }

  /// What each step does, by kind and name.
  struct Summary: Encodable {
    var create: [Step]
    var delete: [Step]
    var update: [Step]
  }

  /// The plan as its answer shows it.
  var summary: Summary {
    Summary(
      create: creates.map { Step(kind: $0.kind, name: $0.name, parent: $0.parent) },
      delete: deletes.map { Step(kind: $0.kind, name: $0.name, parent: $0.parent) },
      update: updates.map { Step(kind: $0.0.kind, name: $0.0.name, parent: $0.0.parent) })
  }
}
