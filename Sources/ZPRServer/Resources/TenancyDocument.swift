import Foundation
import ZPRModel
import ZPRPolicy
import ZPRStore

/// The tenancy that the stored records make, written out as a tenancy file (YAML in the block
/// style, each element of a section on one line as the JSON it is stored as) and read by the
/// loader of `zpr tenancy check`: the server checks a change exactly as the command line checks
/// a file, and a problem's line names the record it is about.
struct TenancyDocument {
  /// The file's text.
  private(set) var text = ""
  /// The record whose element starts on each line (1-based).
  private(set) var owners: [Int: ResourceRecord] = [:]
  /// Records whose parent (a subnet's VCN, an attribute's namespace) does not exist.
  private(set) var orphans: [ResourceRecord] = []
  /// Whether ZPR is enabled (the configuration record exists).
  private(set) var enabled = false
  private var lines: [String] = []

  init(records: [ResourceRecord]) {
    var byKind: [String: [ResourceRecord]] = [:]
    for record in records { byKind[record.kind, default: []].append(record) }
    // Creation order (the store gives each change of a commit its own microsecond, so a
    // rename keeps the place): a tenancy's meaning does not depend on the order, but its
    // messages do (which of two clashing elements is named, which of two equally close names
    // is suggested), and the live tenancy single writes are checked against adds each new
    // element last.
    for kind in byKind.keys {
      byKind[kind]!.sort {
        ($0.timeCreated, $0.name.lowercased(), $0.id) < (
          $1.timeCreated, $1.name.lowercased(), $1.id
        )
      }
    }
    if let configuration = byKind[ResourceSchema.configurationKind]?.first {
      enabled = true
      for (key, value) in configuration.element.objectMembers ?? [] {
        emit("\(key): \(value.serialized(pretty: false))", configuration)
      }
    }
    var placed = Set<String>()
    for kind in ResourceSchema.all where kind.parent == nil {
      let elements = byKind[kind.kind] ?? []
      guard !elements.isEmpty else { continue }
      emit("\(kind.section):")
      for record in elements {
        placed.insert(record.id)
        let parts = ResourceSchema.all.filter { $0.parent?.kind == kind.kind }
        guard !parts.isEmpty else {
          emit("  - " + Self.line(record, kind), record)
          continue
        }
        // An element with parts in the block style: its own fields, then each part's section.
        emit("  - name: \(JSONValue.string(record.name).serialized())", record)
        for (key, value) in record.element.objectMembers ?? [] {
          emit("    \(key): \(value.serialized(pretty: false))")
        }
        if kind.hasLifecycle, record.lifecycleState == .inactive { emit("    retired: true") }
        for part in parts {
          let children = (byKind[part.kind] ?? []).filter { $0.parent == record.name }
          emit("    \(part.section):" + (children.isEmpty ? " []" : ""))
          for child in children {
            placed.insert(child.id)
            emit("      - " + Self.line(child, part), child)
          }
        }
      }
    }
    orphans = records.filter {
      ResourceSchema.named($0.kind)?.parent != nil && !placed.contains($0.id)
    }
    text = lines.joined(separator: "\n") + "\n"
  }

  private mutating func emit(_ line: String, _ owner: ResourceRecord? = nil) {
    lines.append(line)
    if let owner { owners[lines.count] = owner }
  }

  /// A record as one line: its stored JSON with its name (and `retired`) put in front.
  private static func line(_ record: ResourceRecord, _ kind: ResourceSchema) -> String {
    var members: [(String, JSONValue)] = [("name", .string(record.name))]
    if kind.hasLifecycle, record.lifecycleState == .inactive {
      members.append(("retired", .bool(true)))
    }
    // The stored body is a canonical JSON object already: its members follow these as they
    // are, without reading and writing it again (100,000 of them make a tenancy).
    let head = JSONValue.object(members).serialized(pretty: false)
    guard record.body.hasPrefix("{"), record.body != "{}" else { return head }
    return head.dropLast() + "," + record.body.dropFirst()
  }

  /// A stored body: the element's JSON, compact, with every object's keys in order, so that
  /// the same element is the same text.
  static func body(_ element: JSONValue) -> String {
    element.sortingKeys.serialized(pretty: false)
  }

  /// A stored body of a typed element.
  static func body(_ element: some Encodable) -> String {
    // A value encodes to JSON unless its own `encode(to:)` throws, which these types never do.
    body((try? JSONValueEncoder().encode(element)) ?? .object([]))
  }

  /// The tenancy and every problem in it, each named by the record it is about.
  func load() -> (tenancy: Tenancy, problems: [Problem]) {
    let source = SourceFile(path: "tenancy", text: text)
    let loaded = TenancyFile.load(source)
    var problems = orphans.map { record -> Problem in
      let kind = ResourceSchema.named(record.kind)!
      let parent = ResourceSchema.named(kind.parent!.kind)!
      return Problem(
        severity: .error, code: "ZPT002",
        message:
          "\(kind.label) '\(record.name)' belongs to \(parent.label) '\(record.parent ?? "")', "
          + "which does not exist: create it first, or set '\(kind.parent!.field)' to one that "
          + "exists", record: record)
    }
    for diagnostic in loaded.diagnostics {
      let line = source.line(containing: diagnostic.range.lowerBound)
      // The element a line belongs to is the nearest one starting on it or before it.
      let owner = (0...line).reversed().lazy.compactMap { owners[$0] }.first
      problems.append(
        Problem(
          severity: diagnostic.severity, code: diagnostic.code.rawValue,
          message: diagnostic.message, suggestion: diagnostic.suggestion, record: owner,
          path: diagnostic.path))
    }
    return (loaded.tenancy, problems)
  }

  /// A problem of the stored tenancy, about one record.
  struct Problem: Sendable {
    /// A ZPR policy while ZPR is not enabled.
    static func notEnabled(_ policy: ResourceRecord) -> Problem {
      Problem(
        severity: .error, code: "ZPR-API-014",
        message:
          "ZPR is not enabled, so there can be no ZPR policies: enable it first "
          + "(POST /v1/zprConfiguration/actions/enable, or `zpr apply`)", record: policy)
    }

    var severity: Severity
    var code: String
    var message: String
    var suggestion: String? = nil
    var record: ResourceRecord?
    /// Where in the tenancy (`policies[2].statements[3]`), when known.
    var path: String? = nil

    /// The problem as an error's detail: with the statement's place in its policy when a
    /// statement is the cause.
    var detail: [String: String] {
      var detail = ["severity": severity.rawValue, "code": code, "message": message]
      if let suggestion { detail["suggestion"] = suggestion }
      if let path, let open = path.range(of: ".statements[", options: .backwards),
        let close = path[open.upperBound...].firstIndex(of: "]")
      {
        detail["statement"] = String(path[open.upperBound..<close])
      }
      if let record {
        detail["kind"] = record.kind
        detail["id"] = record.id
        detail["name"] = record.name
      }
      return detail
    }
  }
}
