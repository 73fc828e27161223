/// Writes ZPL in its one canonical spelling: lower-case keywords with `VCN` in capitals, the word
/// `endpoints` after every attribute, addresses and the service network quoted as the public
/// docs write them, attributes quoted only where needed, filters in a fixed order joined by `, `.
///
/// `format(parse(x))` is idempotent, and parsing the result gives back the same statements.
public enum PolicyFormatter {
  /// The canonical text of one statement.
  public static func format(_ statement: Statement) -> String {
    var text: String
    switch statement.scope {
    case .vcn(let vcn):
      text = "in \(format(vcn)) VCN allow \(format(statement.source)) to connect to "
      text += format(statement.destination)
      text += format(statement.filters)
    case .crossVCN(let sourceVCN, let destinationVCN):
      text = "allow \(format(statement.source)) in \(format(sourceVCN)) VCN to connect to "
      text += format(statement.destination) + format(statement.filters)
      text += " in \(format(destinationVCN)) VCN"
    }
    return text
  }

  /// The canonical text of a whole file: comments kept, runs of blank lines folded into one,
  /// no blank lines at either end, one final newline. Lines that did not parse are kept as
  /// written (a file with errors should not be formatted; `zpr policy fmt` refuses).
  public static func format(_ file: PolicyFile) -> String {
    var lines: [String] = []
    for line in file.lines {
      switch line {
      case .statement(let index, let comment):
        lines.append(format(file.statements[index]) + (comment.map { " #" + $0.text } ?? ""))
      case .comment(let comment):
        lines.append("#" + comment.text)
      case .blank:
        if let last = lines.last, !last.isEmpty { lines.append("") }
      case .invalid(let range):
        lines.append(file.source.text(of: range))
      }
    }
    while lines.last == "" { lines.removeLast() }
    return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
  }

  /// An endpoint as a statement writes it.
  public static func format(_ endpoint: Endpoint) -> String {
    switch endpoint.kind {
    case .attribute(let attribute): format(attribute) + " endpoints"
    case .address(let prefix): "'\(prefix)'"
    case .allEndpoints: "all-endpoints"
    case .serviceNetwork: "'osn-services-ip-addresses'"
    }
  }

  /// An attribute reference, quoted only when its value needs it (or when it would otherwise
  /// read as a keyword).
  public static func format(_ attribute: AttributeRef) -> String {
    var text = attribute.namespace.map { $0 + "." } ?? ""
    text += attribute.key
    if let value = attribute.value { text += ":" + value }
    let needsQuotes =
      attribute.value.map { value in
        value.isEmpty || value.utf8.contains { !SecurityAttributeName.isNameByte($0) }
      } ?? false
      || (attribute.namespace == nil && attribute.value == nil
        && Keyword(rawValue: attribute.key.lowercased()) != nil)
    return needsQuotes ? "'" + text.replacing("'", with: "''") + "'" : text
  }

  /// The `with` clause (with its leading space), or nothing when there are no filters.
  public static func format(_ filters: Filters) -> String {
    var parts: [String] = []
    if let transport = filters.transport {
      let ports = transport.ports.map(\.description).joined(separator: ",")
      parts.append("protocol='\(transport.transport.rawValue)\(ports.isEmpty ? "" : "/" + ports)'")
    }
    if let type = filters.icmpType { parts.append("protocol.icmp.type='\(type.value)'") }
    if let code = filters.icmpCode { parts.append("protocol.icmp.code='\(code.value)'") }
    if let state = filters.connectionState {
      parts.append("connection-state='\(state.state.rawValue)'")
    }
    return parts.isEmpty ? "" : " with " + parts.joined(separator: ", ")
  }
}
