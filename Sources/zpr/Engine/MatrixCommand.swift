import ArgumentParser
import ZPREngine
import ZPRModel
import ZPRPolicy

/// `zpr matrix`: who may reach whom under ZPR.
struct MatrixCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "matrix",
    abstract: "Show who may reach whom under ZPR, with the statement that grants each cell.",
    discussion: """
      Endpoints that statements cannot tell apart are grouped; each cell says what ZPR grants \
      from every endpoint of one group to every endpoint of another (protocols and ports, or \
      ICMP messages) and which statement grants it. Pairs with a protected end and no cell are \
      denied by ZPR; pairs of unprotected endpoints are left to routes, security lists and \
      NSGs. csv lists one row per endpoint pair and grant (it can be long). The tenancy is a \
      file (--tenancy) or, without one, the zpr server's (--server).
      """
  )

  /// The matrix's output formats.
  enum Format: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
    case csv
  }

  @OptionGroup var source: TenancySourceOptions

  @Option(help: "Output format: text, json or csv.")
  var format: Format = .text

  func run() async throws {
    let tenancy = try await source.load().tenancy
    let topology = Topology(tenancy)
    let matrix = ReachabilityMatrix(CompiledPolicy(topology), topology: topology)
    func by(_ grant: Grant) -> String {
      let policy = tenancy.policies[grant.statement.policy].name
      return "policy '\(policy)' statement \(grant.statement.statement)"
        + (grant.stateful ? "" : ", stateless")
    }
    switch format {
    case .text:
      var lines = [
        "ZPR reachability: \(counted(matrix.groups.count, "group")) of endpoints, "
          + "\(counted(matrix.cells.count, "cell"))",
        "(a pair with a protected end and no cell is denied by ZPR)", "", "groups:",
      ]
      for (index, group) in matrix.groups.enumerated() {
        lines.append(
          "  G\(index + 1) (\(group.protected ? "protected" : "unprotected")): "
            + group.names.joined(separator: ", "))
      }
      lines.append("")
      lines.append("cells:")
      for cell in matrix.cells {
        lines.append(
          "  G\(cell.from + 1) -> G\(cell.to + 1): "
            + cell.grants.map { "\($0) (\(by($0)))" }.joined(separator: ", "))
      }
      writeOut(lines.joined(separator: "\n") + "\n")
    case .json:
      let json = matrix.json(tenancy: tenancy)
      writeOut(json.serialized() + "\n")
    case .csv:
      var lines = ["from,to,protocol,ports,icmpType,icmpCode,policy,statement,stateful"]
      for cell in matrix.cells {
        for from in matrix.groups[cell.from].names {
          for to in matrix.groups[cell.to].names {
            for grant in cell.grants {
              let ports = grant.ports.map { "\($0.lowerBound)-\($0.upperBound)" } ?? ""
              lines.append(
                [
                  from, to, grant.transport, ports, grant.icmpType.map(String.init) ?? "",
                  grant.icmpCode.map(String.init) ?? "",
                  csvField(tenancy.policies[grant.statement.policy].name),
                  String(grant.statement.statement), String(grant.stateful),
                ].joined(separator: ","))
            }
          }
        }
      }
      writeOut(lines.joined(separator: "\n") + "\n")
    }
  }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
func csvField(_ text: String) -> String {
  guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
  return "\"" + text.replacing("\"", with: "\"\"") + "\""
}
