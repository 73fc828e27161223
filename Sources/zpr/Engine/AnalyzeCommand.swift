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
      The tenancy is a file (--tenancy) or, without one, the zpr server's (--server). Ends are \
      resource names (their first VNIC), NAME/N for VNIC N of a resource, or IP addresses. The \
      status is REACHABLE, UNREACHABLE or INDETERMINATE; with --bidirectional the headline is \
      REACHABLE only when the replies get back too (the forward and return paths each have \
      their own status below it). Every layer's action uses the codes of the ZPR path analyzer \
      (ALLOWED, DENIED, ZPR_ALLOWED, ZPR_DENIED, ZPR_MISSING_POLICY, \
      ZPR_POLICY_NOT_EVALUATED_MISSING_ROUTE, ZPR_POLICY_NOT_EVALUATED_SL_NSG_DENIED). Exits 0 \
      whatever the status; 1 when the tenancy has errors; 2 for a bad query.
      """
  )

  @OptionGroup var source: TenancySourceOptions

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
    let analyzer = PathAnalyzer(try await source.load().tenancy)
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
