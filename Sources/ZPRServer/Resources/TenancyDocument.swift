import Foundation
import ZPRModel
import ZPRPolicy
import ZPRStore

/// The tenancy that the stored records make, written out as a tenancy file (JSON, one element
/// per line) and read by the loader of `zpr tenancy check`: the server checks a change exactly
/// as the command line checks a file, and a problem's line names the record it is about.
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
    // Name order: a tenancy's meaning does not depend on the order it was written in.
    for kind in byKind.keys {
      byKind[kind]!.sort { ($0.name.lowercased(), $0.id) < ($1.name.lowercased(), $1.id) }
    }
    var sections: [[(String, ResourceRecord?)]] = []
    if let configuration = byKind[ResourceKind.configurationKind]?.first {
      enabled = true
      let object = ZPRServer.parse(configuration.body) as? [String: Any] ?? [:]
      for key in object.keys.sorted() {
        sections.append([("\(Self.json(key)):\(Self.json(object[key]!))", configuration)])
      }
    }
    var placed = Set<String>()
    func element(_ record: ResourceRecord, _ kind: ResourceKind) -> [(String, ResourceRecord?)] {
      placed.insert(record.id)
      var object = ZPRServer.parse(record.body) as? [String: Any] ?? [:]
      object["name"] = record.name
      if kind.hasLifecycle, record.lifecycleState == "INACTIVE" { object["retired"] = true }
      let parts = ResourceKind.all.filter { $0.parent?.kind == kind.kind }
      guard !parts.isEmpty else { return [(Self.json(object), record)] }
      var lines = [(String(Self.json(object).dropLast()) + ",", Optional(record))]
      for (index, part) in parts.enumerated() {
        let children = (byKind[part.kind] ?? []).filter { $0.parent == record.name }
        lines[lines.count - 1].0 += "\(Self.json(part.section)):["
        lines += Self.joined(children.map { element($0, part) })
        lines[lines.count - 1].0 += "]" + (index == parts.count - 1 ? "}" : ",")
      }
      return lines
    }
    for kind in ResourceKind.all where kind.parent == nil {
      let elements = (byKind[kind.kind] ?? []).map { element($0, kind) }
      guard !elements.isEmpty else { continue }
      var lines = [("\(Self.json(kind.section)):[", ResourceRecord?.none)]
      lines += Self.joined(elements)
      lines[lines.count - 1].0 += "]"
      sections.append(lines)
    }
    orphans = records.filter {
      ResourceKind.named($0.kind)?.parent != nil && !placed.contains($0.id)
    }
    var all = [("{", ResourceRecord?.none)] + Self.joined(sections)
    all.append(("}", nil))
    for (number, (line, owner)) in all.enumerated() {
      if let owner { owners[number + 1] = owner }
      lines.append(line)
    }
    text = lines.joined(separator: "\n")
  }

  /// Elements joined by commas, each on its own lines.
  private static func joined(_ elements: [[(String, ResourceRecord?)]]) -> [(
    String, ResourceRecord?
  )] {
    var lines: [(String, ResourceRecord?)] = []
    for (index, element) in elements.enumerated() {
      var element = element
      if index < elements.count - 1 { element[element.count - 1].0 += "," }
      lines += element
    }
    return lines
  }

  static func json(_ value: Any) -> String {
    guard
      let data = try? JSONSerialization.data(
        withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
    else { return "null" }
    return String(decoding: data, as: UTF8.self)
  }

  /// The tenancy and every problem in it, each named by the record it is about.
  func load() -> (tenancy: Tenancy, problems: [Problem]) {
    let source = SourceFile(path: "tenancy", text: text)
    let loaded = TenancyFile.load(source)
    var problems = orphans.map { record -> Problem in
      let kind = ResourceKind.named(record.kind)!
      let parent = ResourceKind.named(kind.parent!.kind)!
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
          message: diagnostic.message, suggestion: diagnostic.suggestion, record: owner))
    }
    return (loaded.tenancy, problems)
  }

  /// A problem of the stored tenancy, about one record.
  struct Problem {
    var severity: Severity
    var code: String
    var message: String
    var suggestion: String? = nil
    var record: ResourceRecord?

    /// The problem as an error's detail.
    var detail: [String: String] {
      var detail = ["severity": severity.rawValue, "code": code, "message": message]
      if let suggestion { detail["suggestion"] = suggestion }
      if let record {
        detail["kind"] = record.kind
        detail["id"] = record.id
        detail["name"] = record.name
      }
      return detail
    }
  }
}
