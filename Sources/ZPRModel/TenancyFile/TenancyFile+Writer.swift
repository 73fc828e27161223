import Yams
import ZPRIAM
public import ZPRPolicy

extension TenancyFile {
  /// The tenancy as a tenancy file (YAML) that loads back to the same tenancy. Deleted
  /// namespaces and attributes are left out; retired ones are written `retired: true`;
  /// resources are written by kind (instances, databases, load balancers, private endpoints).
  public static func yaml(for tenancy: Tenancy) -> String {
    // Serializing a tree of scalars, mappings and sequences cannot fail.
    (try? Yams.serialize(node: node(for: tenancy).yaml, width: -1)) ?? ""
  }

  /// The same file as ``yaml(for:)``, handed over a piece at a time (each top-level section,
  /// the long ones in runs of `run` elements), so that a large tenancy is written out without
  /// its whole text in memory.
  public static func writeYAML(
    for tenancy: Tenancy, run: Int = 1_000, _ write: (String) async throws -> Void
  ) async rethrows {
    guard case .map(let sections) = node(for: tenancy) else { return }
    for (key, value) in sections {
      guard case .list(let elements) = value, elements.count > run else {
        try await write((try? Yams.serialize(node: Tree.map([(key, value)]).yaml, width: -1)) ?? "")
        continue
      }
      try await write("\(key):\n")
      var start = 0
      while start < elements.count {
        let part = Tree.list(Array(elements[start..<min(start + run, elements.count)]))
        try await write((try? Yams.serialize(node: part.yaml, width: -1)) ?? "")
        start += run
      }
    }
  }

  /// The tenancy as the JSON object of the same file: strings, except the whole numbers
  /// (`port`, `icmpType`, `icmpCode`) and booleans (`retired`, `stateless`) the file holds.
  public static func jsonObject(for tenancy: Tenancy) -> JSONValue {
    node(for: tenancy).json(key: nil)
  }

  /// The file's tree, built once for YAML (through Yams) or JSON (without it).
  fileprivate enum Tree {
    case text(String)
    case list([Tree])
    case map([(String, Tree)])

    /// The tree as Yams nodes. Text that YAML would read as null (`null`, `~`, nothing) is
    /// quoted, since the reader treats null as absent; everything else the emitter quotes as
    /// it needs to.
    var yaml: Node {
      switch self {
      case .text(let value):
        Node(value, Tag(.str), YAMLNode.nulls.contains(value) ? .singleQuoted : .any)
      case .list(let items): Node(items.map(\.yaml))
      case .map(let fields): Node(fields.map { (Node($0.0), $0.1.yaml) })
      }
    }

    func json(key: String?) -> JSONValue {
      switch self {
      case .map(let fields): .object(fields.map { ($0.0, $0.1.json(key: $0.0)) })
      case .list(let items): .array(items.map { $0.json(key: key) })
      case .text(let value):
        switch key {
        case "port", "icmpType", "icmpCode": Int(value).map { .int($0) } ?? .string(value)
        case "retired", "stateless": .bool(value == "true")
        default: .string(value)
        }
      }
    }
  }

  private static func node(for tenancy: Tenancy) -> Tree {
    var top: [(String, Tree)] = [
      (key("defaultNamespace"), text(tenancy.defaultNamespace))
    ]
    if !tenancy.serviceNetwork.isEmpty {
      top.append((key("serviceNetwork"), list(tenancy.serviceNetwork.map { text($0.description) })))
    }
    top.append(
      (key("namespaces"), list(tenancy.catalog.namespaces.filter(\.state.isLive).map(namespace))))
    if !tenancy.compartments.isEmpty {
      top.append(
        (
          key("compartments"),
          list(
            tenancy.compartments.map {
              map([("name", text($0.name))] + ($0.parent.map { [("parent", text($0))] } ?? []))
            })
        ))
    }
    top.append((key("vcns"), list(tenancy.vcns.map(vcn))))
    if !tenancy.drgs.isEmpty {
      top.append(
        (
          key("drgs"),
          list(
            tenancy.drgs.map {
              map([("name", text($0.name)), ("attachments", list($0.attachments.map(text)))])
            })
        ))
    }
    for (name, kind) in resourceSections {
      let resources = tenancy.resources.filter { $0.kind == kind }
      if !resources.isEmpty { top.append((key(name), list(resources.map(resource)))) }
    }
    top.append(
      (
        key("policies"),
        list(
          tenancy.policies.map {
            map([
              ("name", text($0.name)), ("description", text($0.description)),
              ("statements", list($0.statements.map { text(PolicyFormatter.format($0)) })),
            ])
          })
      ))
    if !tenancy.tests.isEmpty { top.append((key("tests"), list(tenancy.tests.map(test)))) }
    if !tenancy.groups.isEmpty {
      top.append(
        (
          key("groups"),
          list(
            tenancy.groups.map {
              map([
                ("name", text($0.name)), ("description", text($0.description)),
                ("members", list($0.members.map(text))),
              ])
            })
        ))
    }
    if !tenancy.iamPolicies.isEmpty {
      top.append(
        (
          key("iamPolicies"),
          list(
            tenancy.iamPolicies.map {
              map([
                ("name", text($0.name)), ("description", text($0.description)),
                ("statements", list($0.statements.map { text($0.canonical) })),
              ])
            })
        ))
    }
    return .map(top)
  }

  private static func test(_ test: PolicyTest) -> Tree {
    var fields: [(String, Tree)] = []
    if let name = test.name { fields.append(("name", text(name))) }
    fields += [
      ("from", text(test.from)), ("to", text(test.to)), ("protocol", text(test.transport.rawValue)),
    ]
    if let port = test.port { fields.append(("port", text(String(port)))) }
    if let type = test.icmpType { fields.append(("icmpType", text(String(type)))) }
    if let code = test.icmpCode { fields.append(("icmpCode", text(String(code)))) }
    fields.append(("expect", text(test.expect.rawValue)))
    return map(fields)
  }

  private static func namespace(_ namespace: SecurityAttributeNamespace) -> Tree {
    var fields: [(String, Tree)] = [
      ("name", text(namespace.name)), ("description", text(namespace.description)),
    ]
    if namespace.state == .inactive { fields.append(("retired", text("true"))) }
    fields.append(
      (
        "attributes",
        list(
          namespace.attributes.filter(\.state.isLive).map { attribute in
            var fields: [(String, Tree)] = [
              ("name", text(attribute.name)), ("description", text(attribute.description)),
            ]
            if case .oneOf(let values) = attribute.validator {
              fields.append(("values", list(values.map(text))))
            }
            if attribute.state == .inactive { fields.append(("retired", text("true"))) }
            return map(fields)
          })
      ))
    return map(fields)
  }

  private static func vcn(_ vcn: VCN) -> Tree {
    var fields: [(String, Tree)] = [("name", text(vcn.name))]
    if let compartment = vcn.compartment { fields.append(("compartment", text(compartment))) }
    fields.append(("cidrs", list(vcn.cidrs.map { text($0.description) })))
    fields.append(("securityAttributes", attributes(vcn.securityAttributes)))
    fields.append(
      (
        "routeTables",
        list(
          vcn.routeTables.map { table in
            map([
              ("name", text(table.name)),
              (
                "rules",
                list(
                  table.rules.map {
                    map([
                      ("destination", text($0.destination.description)),
                      ("target", text(target($0.target))),
                    ])
                  })
              ),
            ])
          })
      ))
    fields.append(
      (
        "localPeeringGateways",
        list(
          vcn.localPeeringGateways.map { gateway in
            map(
              [("name", text(gateway.name))]
                + (gateway.peer.map { [("peer", text("\($0.vcn)/\($0.gateway)"))] } ?? []))
          })
      ))
    fields.append(
      ("securityLists", list(vcn.securityLists.map { ruleSet($0.name, $0.ingress, $0.egress) })))
    fields.append(
      (
        "networkSecurityGroups",
        list(vcn.networkSecurityGroups.map { ruleSet($0.name, $0.ingress, $0.egress) })
      ))
    fields.append(
      (
        "subnets",
        list(
          vcn.subnets.map { subnet in
            map(
              [("name", text(subnet.name)), ("cidr", text(subnet.cidr.description))]
                + (subnet.routeTable.map { [("routeTable", text($0))] } ?? [])
                + [("securityLists", list(subnet.securityLists.map(text)))])
          })
      ))
    return map(fields)
  }

  private static func ruleSet(_ name: String, _ ingress: [SecurityRule], _ egress: [SecurityRule])
    -> Tree
  {
    map([
      ("name", text(name)),
      ("ingress", list(ingress.map { rule($0, peerKey: "source") })),
      ("egress", list(egress.map { rule($0, peerKey: "destination") })),
    ])
  }

  private static func rule(_ rule: SecurityRule, peerKey: String) -> Tree {
    let peer =
      switch rule.peer {
      case .cidr(let block): block.description
      case .networkSecurityGroup(let name): "nsg/\(name)"
      }
    var fields: [(String, Tree)] = [
      ("protocol", text(rule.transport.rawValue)), (peerKey, text(peer)),
    ]
    func ports(_ range: ClosedRange<Int>) -> Tree {
      text(
        range.lowerBound == range.upperBound
          ? "\(range.lowerBound)" : "\(range.lowerBound)-\(range.upperBound)")
    }
    if let range = rule.destinationPorts { fields.append(("ports", ports(range))) }
    if let range = rule.sourcePorts { fields.append(("sourcePorts", ports(range))) }
    if let type = rule.icmpType { fields.append(("icmpType", text("\(type)"))) }
    if let code = rule.icmpCode { fields.append(("icmpCode", text("\(code)"))) }
    if rule.stateless { fields.append(("stateless", text("true"))) }
    return map(fields)
  }

  private static func resource(_ resource: Resource) -> Tree {
    var fields: [(String, Tree)] = [("name", text(resource.name))]
    if let compartment = resource.compartment { fields.append(("compartment", text(compartment))) }
    fields.append(("securityAttributes", attributes(resource.securityAttributes)))
    fields.append(
      (
        "vnics",
        list(
          resource.vnics.map { vnic in
            map([
              ("subnet", text("\(vnic.vcn)/\(vnic.subnet)")),
              ("ips", list(vnic.ips.map { text($0.description) })),
              ("nsgs", list(vnic.networkSecurityGroups.map(text))),
              ("securityAttributes", attributes(vnic.securityAttributes)),
            ])
          })
      ))
    return map(fields)
  }

  private static func attributes(_ attributes: [AppliedAttribute]) -> Tree {
    .map(
      attributes.map { attribute in
        let value =
          attribute.mode == .enforce
          ? text(attribute.value)
          : map([("value", text(attribute.value)), ("mode", text(attribute.mode.rawValue))])
        return (attribute.qualifiedName, value)
      })
  }

  private static func target(_ target: RouteTarget) -> String {
    switch target {
    case .local: "local"
    case .internetGateway: "internet"
    case .natGateway: "nat"
    case .serviceGateway: "service"
    case .localPeeringGateway(let name): "lpg/\(name)"
    case .drg(let name): "drg/\(name)"
    }
  }

  private static func text(_ value: String) -> Tree { .text(value) }

  private static func key(_ name: String) -> String { name }

  private static func list(_ nodes: [Tree]) -> Tree { .list(nodes) }

  private static func map(_ fields: [(String, Tree)]) -> Tree { .map(fields) }
}
