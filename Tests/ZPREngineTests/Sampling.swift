import ZPREngine
import ZPRModel
import ZPRPolicy
import ZPRTesting

/// Random tenancies small enough that statements often match, and flows aimed at what the
/// tenancy holds: its endpoints' addresses, addresses statements name, outside addresses, and
/// ports at the edges of the ranges statements give.
struct Sampling {
  var random: SplitMix64

  init(seed: UInt64) {
    random = SplitMix64(seed: seed)
  }

  mutating func tenancy() -> Tenancy {
    var generator = TenancyGenerator(seed: random.next())
    return generator.tenancy(
      TenancyGenerator.Size(
        namespaces: Int.random(in: 0...2, using: &random), attributesPerNamespace: 2,
        vcns: Int.random(in: 1...4, using: &random), subnetsPerVCN: 2,
        resources: Int.random(in: 2...14, using: &random),
        policies: Int.random(in: 0...4, using: &random)))
  }

  mutating func flows(in tenancy: Tenancy, count: Int) -> [Flow] {
    var addresses = tenancy.resources.flatMap { $0.vnics.flatMap(\.ips) }
    addresses += ["192.168.4.4", "8.8.8.8", "10.0.0.1", "10.1.9.9", "203.0.113.7"].map {
      IPAddress($0)!
    }
    var ports = [22, 80, 443, 5432, 65535, 0, 1]
    for statement in tenancy.policies.flatMap(\.statements) {
      for range in statement.filters.transport?.ports ?? [] {
        ports += [range.lower, range.upper, range.lower - 1, range.upper + 1].filter {
          (0...65535).contains($0)
        }
      }
    }
    for vcn in tenancy.vcns {
      for list in vcn.securityLists {
        for rule in list.ingress + list.egress {
          if let range = rule.destinationPorts { ports += [range.lowerBound, range.upperBound] }
        }
      }
    }
    return (0..<count).map { _ in
      let source = addresses.randomElement(using: &random)!
      let destination = addresses.randomElement(using: &random)!
      switch Int.random(in: 0..<5, using: &random) {
      case 0, 1:
        return Flow(.tcp, from: source, to: destination, port: ports.randomElement(using: &random)!)
      case 2:
        return Flow(.udp, from: source, to: destination, port: ports.randomElement(using: &random)!)
      case 3:
        return Flow(
          icmpFrom: source, to: destination, type: [0, 3, 8, 11].randomElement(using: &random)!,
          code: Int.random(in: 0...1, using: &random))
      default:
        return Flow(
          .tcp, from: source, sourcePort: Int.random(in: 1024...65535, using: &random),
          to: destination,
          port: ports.randomElement(using: &random)!)
      }
    }
  }
}
