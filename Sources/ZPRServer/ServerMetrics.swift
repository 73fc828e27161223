import Foundation
import Hummingbird
import Metrics
public import Prometheus
import ZPREngine
import ZPRModel

/// The server's Prometheus metrics: request counts and latencies (recorded through
/// swift-metrics by Hummingbird's metrics middleware, once ``bootstrap()`` points swift-metrics
/// here), and the tenancy's revision, policies, statements, endpoints and compile time.
public struct ServerMetrics: Sendable {
  public let registry: PrometheusCollectorRegistry
  let revision: Prometheus.Gauge
  let policies: Prometheus.Gauge
  let statements: Prometheus.Gauge
  let endpoints: Prometheus.Gauge
  let compileSeconds: Prometheus.Gauge

  /// Metrics in a registry of their own.
  public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
    self.registry = registry
    func gauge(_ name: String, _ unit: String, _ help: String) -> Prometheus.Gauge {
      registry.makeGauge(
        descriptor: MetricNameDescriptor(
          namespace: "zpr", metricName: name, unitName: unit, helpText: help))
    }
    revision = gauge("revision", "", "The revision of the tenancy the server holds.")
    policies = gauge("policies", "", "ZPR policies stored.")
    statements = gauge("policy_statements", "", "Statements of the stored ZPR policies.")
    endpoints = gauge("endpoints", "", "Endpoints (VNICs) of the tenancy.")
    compileSeconds = gauge(
      "compile", "seconds", "How long compiling the policies of the current revision took.")
  }

  /// Sends swift-metrics (request counts and latencies) to this registry. Once per process.
  public func bootstrap() {
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
  }

  /// The text a Prometheus scrape reads, after bringing the tenancy's figures up to date.
  func scrape(_ snapshots: Snapshots) async throws -> Response {
    let (analyzer, tenancy, revision, compile) = try await snapshots.compiled()
    self.revision.set(Double(revision))
    policies.set(Double(tenancy.policies.count))
    statements.set(Double(tenancy.statementCount))
    endpoints.set(Double(analyzer.topology.endpoints.count))
    compileSeconds.set(compile.seconds)
    return Response(
      status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
      body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
  }
}

extension Duration {
  /// The duration in seconds.
  var seconds: Double {
    Double(components.seconds) + Double(components.attoseconds) / 1e18
  }
}
