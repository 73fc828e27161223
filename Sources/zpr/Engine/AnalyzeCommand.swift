import ArgumentParser
import ZPREngine
import ZPRModel
import ZPRPolicy

/// A flow's protocol as an option.
enum ProtocolArgument: String, ExpressibleByArgument, CaseIterable {
  case tcp
  case udp
  case icmp

  var flowProtocol: FlowProtocol {
    switch self {
    case .tcp: .tcp
    case .udp: .udp
    case .icmp: .icmp
    }
  }
}

/// `zpr analyze`: can X reach Y, and why (not)?
struct AnalyzeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "analyze",
    abstract: "Explain whether a flow gets through a tenancy, hop by hop and layer by layer.",
    discussion: """
      The tenancy is a file (--tenancy) or, without one, the zpr server's. Ends are resource names (their first VNIC), NAME/N for VNIC N of a resource, or IP \
      addresses. The status is REACHABLE, UNREACHABLE or INDETERMINATE; every layer's action \
      uses the codes of the ZPR path analyzer (ALLOWED, DENIED, ZPR_ALLOWED, ZPR_DENIED, \
      ZPR_MISSING_POLICY, ZPR_POLICY_NOT_EVALUATED_MISSING_ROUTE, \
      ZPR_POLICY_NOT_EVALUATED_SL_NSG_DENIED). Exits 0 whatever the status; 1 when the \
      tenancy file has errors; 2 for a bad query.
      """
  )

  @Option(help: "The tenancy file (YAML or JSON); without it, the tenancy of the zpr server.")
  var tenancy: String?

  @Option(
    help: "The zpr server, when there is no --tenancy (default: $ZPR_SERVER or the config file).")
  var server: String?

  @Option(help: "The source: a resource, NAME/N, or an IP address.")
  var from: String

  @Option(help: "The destination: a resource, NAME/N, or an IP address.")
  var to: String

  @Option(name: .customLong("protocol"), help: "tcp, udp or icmp.")
  var transport: ProtocolArgument

  @Option(help: "The destination port (tcp and udp).")
  var port: Int?

  @Option(help: "The source port (default \(Flow.defaultSourcePort)).")
  var sourcePort: Int?

  @Option(help: "The ICMP type (default 8, echo request).")
  var icmpType: Int?

  @Option(help: "The ICMP code (default 0).")
  var icmpCode: Int?

  @Flag(help: "Also analyze the replies' path back.")
  var bidirectional = false

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  func run() async throws {
    let analyzer: PathAnalyzer
    if let tenancy {
      analyzer = PathAnalyzer(try loadTenancy(tenancy))
    } else {
      // The server's tenancy as it exports it, analyzed here by the same analyzer.
      let (_, data, _) = try await APIClient.resolve(server: server).send("GET", "/v1/export")
      let loaded = TenancyFile.load(
        SourceFile(path: "the server's tenancy", text: String(decoding: data, as: UTF8.self)))
      analyzer = PathAnalyzer(loaded.tenancy)
    }
    let query = PathQuery(
      from: from, to: to, transport: transport.flowProtocol, port: port, sourcePort: sourcePort,
      icmpType: icmpType, icmpCode: icmpCode, bidirectional: bidirectional)
    let analysis: PathAnalysis
    do {
      analysis = try analyzer.analyze(query)
    } catch {
      throw CLIError.invalidQuery(error.message, code: error.code.rawValue)
    }
    switch format {
    case .json: writeOut(AnalysisJSON.json(analysis).serialized() + "\n")
    case .text: writeOut(AnalysisText.render(analysis))
    }
  }
}
