/// A kind of resource the API serves: where it lives (`/v1/vcns`), how it is stored, and where
/// it goes in the tenancy file. Bodies are the tenancy file's elements, so the API, `zpr apply`
/// and `zpr export` speak one shape.
struct ResourceKind: Sendable {
  /// The store's kind (`vcn`).
  let kind: String
  /// The collection's path under `/v1` (`vcns`).
  let path: String
  /// How messages name one (`VCN`).
  let label: String
  /// The tenancy file's section, at the top or inside the parent's element.
  let section: String
  /// The kind it belongs to and the body field that names it (`vcn` for a subnet).
  let parent: (kind: String, field: String)?
  /// The body's fields, besides `name` and the parent's field.
  let fields: [String]
  let required: [String]
  /// Namespaces and attributes: retired and reactivated, deleted only once retired.
  let hasLifecycle: Bool

  init(
    _ kind: String, path: String, label: String, section: String? = nil,
    parent: (kind: String, field: String)? = nil, fields: [String], required: [String] = [],
    hasLifecycle: Bool = false
  ) {
    self.kind = kind
    self.path = path
    self.label = label
    self.section = section ?? path
    self.parent = parent
    self.fields = fields
    self.required = required
    self.hasLifecycle = hasLifecycle
  }

  /// Every field a body may hold.
  var allowed: [String] { ["name"] + (parent.map { [$0.field] } ?? []) + fields }

  static let namespace = ResourceKind(
    "securityAttributeNamespace", path: "securityAttributeNamespaces",
    label: "security attribute namespace", section: "namespaces", fields: ["description"],
    required: ["description"], hasLifecycle: true)
  static let attribute = ResourceKind(
    "securityAttribute", path: "securityAttributes", label: "security attribute",
    section: "attributes", parent: (namespace.kind, "namespace"),
    fields: ["description", "values"], required: ["description"], hasLifecycle: true)
  static let policy = ResourceKind(
    "zprPolicy", path: "zprPolicies", label: "ZPR policy", section: "policies",
    fields: ["description", "statements"], required: ["description", "statements"])
  static let compartment = ResourceKind(
    "compartment", path: "compartments", label: "compartment", fields: ["parent"])
  static let vcn = ResourceKind(
    "vcn", path: "vcns", label: "VCN", fields: ["compartment", "cidrs", "securityAttributes"],
    required: ["cidrs"])
  static let routeTable = ResourceKind(
    "routeTable", path: "routeTables", label: "route table", parent: (vcn.kind, "vcn"),
    fields: ["rules"])
  static let peeringGateway = ResourceKind(
    "localPeeringGateway", path: "localPeeringGateways", label: "local peering gateway",
    parent: (vcn.kind, "vcn"), fields: ["peer"])
  static let securityList = ResourceKind(
    "securityList", path: "securityLists", label: "security list", parent: (vcn.kind, "vcn"),
    fields: ["ingress", "egress"])
  static let nsg = ResourceKind(
    "networkSecurityGroup", path: "networkSecurityGroups", label: "network security group",
    parent: (vcn.kind, "vcn"), fields: ["ingress", "egress"])
  static let subnet = ResourceKind(
    "subnet", path: "subnets", label: "subnet", parent: (vcn.kind, "vcn"),
    fields: ["cidr", "routeTable", "securityLists"], required: ["cidr"])
  static let drg = ResourceKind(
    "drg", path: "drgs", label: "dynamic routing gateway", fields: ["attachments"])
  static let test = ResourceKind(
    "policyTest", path: "policyTests", label: "policy test", section: "tests",
    fields: ["from", "to", "protocol", "port", "icmpType", "icmpCode", "expect"],
    required: ["from", "to", "protocol", "expect"])

  /// Instances, databases, load balancers, private endpoints: owners of VNICs.
  static func owner(_ kind: String, path: String, label: String) -> ResourceKind {
    ResourceKind(
      kind, path: path, label: label, fields: ["compartment", "securityAttributes", "vnics"],
      required: ["vnics"])
  }

  static let owners = [
    owner("instance", path: "instances", label: "instance"),
    owner("database", path: "databases", label: "database"),
    owner("loadBalancer", path: "loadBalancers", label: "load balancer"),
    owner("privateEndpoint", path: "privateEndpoints", label: "private endpoint"),
  ]

  /// The kinds inside a VCN's element, in the tenancy file's order.
  static let vcnParts = [routeTable, peeringGateway, securityList, nsg, subnet]

  /// Every kind, parents before their parts (the order `apply` creates them in).
  static let all: [ResourceKind] =
    [namespace, attribute, compartment, vcn] + vcnParts + [drg] + owners + [policy, test]

  static func named(_ kind: String) -> ResourceKind? { all.first { $0.kind == kind } }

  /// The ZPR configuration: one record, present once ZPR is enabled.
  static let configurationKind = "zprConfiguration"
}
