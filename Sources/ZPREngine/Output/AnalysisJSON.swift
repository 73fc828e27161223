public import ZPRPolicy

/// The JSON of a path analysis (documented in docs/analysis.md).
public enum AnalysisJSON {
  public static func json(_ analysis: PathAnalysis) -> JSONValue {
    var members: [(String, JSONValue)] = [
      ("status", .string(analysis.status.rawValue)),
      ("stoppedAt", .string(analysis.stoppedAt?.rawValue)),
      ("flow", flow(analysis.flow)),
      ("source", end(analysis.source)),
      ("destination", end(analysis.destination)),
      ("forward", .array(analysis.forward.map(hop))),
    ]
    if let path = analysis.returnPath {
      members.append(("returnStatus", .string(analysis.returnStatus?.rawValue)))
      members.append(("return", .array(path.map(hop))))
    }
    members.append(
      (
        "nearMisses",
        .array(
          analysis.nearMisses.map {
            .object([
              ("policy", .string($0.policy)), ("statement", .int($0.statement)),
              ("statementText", .string($0.statementText)),
              ("difference", .string($0.difference.rawValue)),
              ("explanation", .string($0.explanation)),
            ])
          })
      ))
    members.append(("suggestion", .string(analysis.suggestion)))
    members.append(
      (
        "audit",
        analysis.audit.map {
          .object([
            ("action", .string($0.action.rawValue)), ("policy", .string($0.policy)),
            ("statement", .int($0.statement)), ("explanation", .string($0.explanation)),
          ])
        } ?? .null
      ))
    members.append(("notes", .array(analysis.notes.map { .string($0) })))
    return .object(members)
  }

  public static func flow(_ flow: Flow) -> JSONValue {
    var members: [(String, JSONValue)] = [
      ("protocol", .string(flow.transport.rawValue)),
      ("source", .string(flow.source.description)),
      ("destination", .string(flow.destination.description)),
    ]
    if flow.transport.hasPorts {
      members.append(("sourcePort", .int(flow.sourcePort)))
      members.append(("destinationPort", .int(flow.destinationPort)))
    } else {
      members.append(("icmpType", .int(flow.icmpType)))
      members.append(("icmpCode", .int(flow.icmpCode)))
    }
    return .object(members)
  }

  private static func end(_ end: End) -> JSONValue {
    .object([
      ("query", .string(end.query)), ("address", .string(end.address.description)),
      ("endpoint", .string(end.endpoint)), ("place", .string(end.place)),
      ("protected", .bool(end.protected)),
    ])
  }

  private static func hop(_ hop: Hop) -> JSONValue {
    .object([
      ("kind", .string(hop.kind.rawValue)), ("name", .string(hop.name)),
      (
        "layers",
        .array(
          hop.layers.map { layer in
            .object([
              ("layer", .string(layer.layer.rawValue)),
              ("direction", .string(layer.direction?.rawValue)),
              ("action", .string(layer.action.rawValue)),
              ("allowedBy", .string(layer.allowedBy?.rawValue)),
              ("reason", .string(layer.reason)),
              ("policy", .string(layer.policy)),
              ("statement", .int(layer.statement)),
              ("statementText", .string(layer.statementText)),
            ])
          })
      ),
    ])
  }
}

/// The text of a path analysis: a path a person can follow.
public enum AnalysisText {
  /// The analysis as text: the headline (the status of the whole exchange), then the paths.
  public static func render(_ analysis: PathAnalysis) -> String {
    var lines: [String] = []
    let flow = analysis.flow
    // The headline is the whole exchange's status: a flow whose replies cannot come back does
    // not work, whatever the forward path says.
    var headline =
      "\(analysis.roundTripStatus.rawValue): \(describe(analysis.source)) -> "
      + "\(describe(analysis.destination)), \(flow)"
    if analysis.roundTripStatus != analysis.status {
      headline +=
        "; the flow gets there (forward path \(analysis.status.rawValue)) but its replies do "
        + "not get back (return path \(analysis.roundTripStatus.rawValue))"
    }
    lines.append(headline)
    lines.append("")
    lines.append("forward path:")
    lines += hops(analysis.forward)
    if let path = analysis.returnPath {
      lines.append("")
      lines.append("return path (\(analysis.returnStatus?.rawValue ?? "")):")
      lines += hops(path)
    }
    if !analysis.nearMisses.isEmpty {
      lines.append("")
      lines.append("statements that nearly allow it:")
      for miss in analysis.nearMisses {
        lines.append("  policy '\(miss.policy)' statement \(miss.statement): \(miss.statementText)")
        lines.append("    \(miss.explanation)")
      }
    }
    if let suggestion = analysis.suggestion {
      lines.append("")
      lines.append("a statement that would allow it:")
      lines.append("  \(suggestion)")
    }
    if let audit = analysis.audit {
      lines.append("")
      lines.append("audit: \(audit.action.rawValue): \(audit.explanation)")
    }
    for note in analysis.notes {
      lines.append("")
      lines.append("note: \(note)")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  private static func describe(_ end: End) -> String {
    end.endpoint.map { "\(end.query) (\($0), \(end.address))" } ?? "\(end.address) (\(end.place))"
  }

  private static func hops(_ hops: [Hop]) -> [String] {
    var lines: [String] = []
    for (index, hop) in hops.enumerated() {
      lines.append("  \(index + 1). \(hop.name)")
      for layer in hop.layers {
        var text = "       \(layer.layer.rawValue)"
        if let direction = layer.direction { text += " \(direction.rawValue)" }
        text += ": \(layer.action.rawValue)"
        if let by = layer.allowedBy { text += " by \(by.rawValue)" }
        text += " (\(layer.reason))"
        lines.append(text)
        if let statement = layer.statementText { lines.append("         \(statement)") }
      }
    }
    return lines
  }
}
