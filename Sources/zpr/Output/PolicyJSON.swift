import ZPRPolicy

/// The JSON shapes of `zpr policy check --format json` and `zpr policy parse` (a contract:
/// tools depend on these names). Lines and columns are 1-based; `endColumn` is the column just
/// past the range.
enum PolicyJSON {
  static func diagnostic(_ diagnostic: Diagnostic, in source: SourceFile) -> JSONValue {
    let start = source.location(of: diagnostic.range.lowerBound)
    let end = source.location(of: diagnostic.range.upperBound)
    return .object(
      [
        ("severity", .string(diagnostic.severity.rawValue)),
        ("code", .string(diagnostic.code.rawValue)),
        ("message", .string(diagnostic.message)),
        ("line", .int(start.line)),
        ("column", .int(start.column)),
        ("endLine", .int(end.line)),
        ("endColumn", .int(end.column)),
        ("suggestion", .string(diagnostic.suggestion)),
      ] + (diagnostic.path.map { [("path", JSONValue.string($0))] } ?? []))
  }

  /// The whole file: its statements as trees, and its diagnostics.
  static func syntaxTree(_ file: PolicyFile) -> JSONValue {
    .object([
      ("path", .string(file.source.path)),
      ("statements", .array(file.statements.map { statement($0, in: file.source) })),
      ("diagnostics", .array(file.diagnostics.map { diagnostic($0, in: file.source) })),
    ])
  }

  static func statement(_ statement: Statement, in source: SourceFile) -> JSONValue {
    var members: [(String, JSONValue)] = [
      ("line", .int(source.line(containing: statement.range.lowerBound))),
      ("text", .string(PolicyFormatter.format(statement))),
    ]
    switch statement.scope {
    case .vcn(let vcn):
      members += [("form", .string("vcn")), ("vcn", attribute(vcn, in: source))]
    case .crossVCN(let sourceVCN, let destinationVCN):
      members += [
        ("form", .string("cross-vcn")),
        ("sourceVcn", attribute(sourceVCN, in: source)),
        ("destinationVcn", attribute(destinationVCN, in: source)),
      ]
    }
    members += [
      ("source", endpoint(statement.source, in: source)),
      ("destination", endpoint(statement.destination, in: source)),
      ("filters", filters(statement.filters)),
      ("range", range(statement.range, in: source)),
    ]
    return .object(members)
  }

  static func attribute(_ attribute: AttributeRef, in source: SourceFile) -> JSONValue {
    .object([
      ("namespace", .string(attribute.namespace)),
      ("key", .string(attribute.key)),
      ("value", .string(attribute.value)),
      ("range", range(attribute.range, in: source)),
    ])
  }

  static func endpoint(_ endpoint: Endpoint, in source: SourceFile) -> JSONValue {
    var members: [(String, JSONValue)]
    switch endpoint.kind {
    case .attribute(let value):
      members = [("kind", .string("attribute")), ("attribute", attribute(value, in: source))]
    case .address(let prefix):
      members = [
        ("kind", .string("address")), ("address", .string(prefix.description)),
        ("family", .string(prefix.address.family.rawValue)),
      ]
    case .allEndpoints:
      members = [("kind", .string("all-endpoints"))]
    case .serviceNetwork:
      members = [("kind", .string("service-network"))]
    }
    return .object(members + [("range", range(endpoint.range, in: source))])
  }

  static func filters(_ filters: Filters) -> JSONValue {
    .object([
      ("protocol", .string(filters.transport?.transport.rawValue)),
      (
        "ports",
        .array(
          (filters.transport?.ports ?? []).map {
            .object([("from", .int($0.lower)), ("to", .int($0.upper))])
          })
      ),
      ("icmpType", .int(filters.icmpType?.value)),
      ("icmpCode", .int(filters.icmpCode?.value)),
      ("connectionState", .string(filters.state.rawValue)),
    ])
  }

  static func range(_ range: SourceRange, in source: SourceFile) -> JSONValue {
    let start = source.location(of: range.lowerBound)
    let end = source.location(of: range.upperBound)
    return .object([
      ("line", .int(start.line)), ("column", .int(start.column)),
      ("endLine", .int(end.line)), ("endColumn", .int(end.column)),
    ])
  }
}
