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
  /// The IAM permissions' prefix (`VCN`: `VCN_INSPECT`, `VCN_READ`, `VCN_UPDATE`, ...).
  let permissions: String

  init(
    _ kind: String, path: String, label: String, section: String? = nil,
    parent: (kind: String, field: String)? = nil, fields: [String], required: [String] = [],
    hasLifecycle: Bool = false, permissions: String
  ) {
    self.kind = kind
    self.path = path
    self.label = label
    self.section = section ?? path
    self.parent = parent
    self.fields = fields
    self.required = required
    self.hasLifecycle = hasLifecycle
    self.permissions = permissions
  }

  /// The permission an action on this kind takes (`INSPECT`, `READ`, `CREATE`, `UPDATE`,
  /// `DELETE`). Attributes are changed through their namespace's permissions.
  func permission(_ action: String) -> String {
    if kind == "securityAttribute" {
      return action == "INSPECT" || action == "READ"
        ? "SECURITY_ATTRIBUTE_NAMESPACE_\(action)" : "SECURITY_ATTRIBUTE_NAMESPACE_UPDATE"
    }
    return "\(permissions)_\(action)"
  }

  /// The name API operations use (`Vcn`: `ListVcn`, `UpdateVcn`, ...).
  var operation: String {
    switch kind {
    case "zprPolicy": "ZprPolicy"
    case "iamPolicy": "Policy"
    case "userGroup": "Group"
    case "vcn": "Vcn"
    case "drg": "Drg"
    default: kind.prefix(1).uppercased() + kind.dropFirst()
    }
  }

  /// Every field a body may hold.
  var allowed: [String] { ["name"] + (parent.map { [$0.field] } ?? []) + fields }

  static let namespace = ResourceKind(
    "securityAttributeNamespace", path: "securityAttributeNamespaces",
    label: "security attribute namespace", section: "namespaces", fields: ["description"],
    required: ["description"], hasLifecycle: true, permissions: "SECURITY_ATTRIBUTE_NAMESPACE")
  static let attribute = ResourceKind(
    "securityAttribute", path: "securityAttributes", label: "security attribute",
    section: "attributes", parent: (namespace.kind, "namespace"),
    fields: ["description", "values"], required: ["description"], hasLifecycle: true,
    permissions: "SECURITY_ATTRIBUTE_NAMESPACE")
  static let policy = ResourceKind(
    "zprPolicy", path: "zprPolicies", label: "ZPR policy", section: "policies",
    fields: ["description", "statements"], required: ["description", "statements"],
    permissions: "ZPR_POLICY")
  static let compartment = ResourceKind(
    "compartment", path: "compartments", label: "compartment", fields: ["parent"],
    permissions: "COMPARTMENT")
  static let vcn = ResourceKind(
    "vcn", path: "vcns", label: "VCN", fields: ["compartment", "cidrs", "securityAttributes"],
    required: ["cidrs"], permissions: "VCN")
  static let routeTable = ResourceKind(
    "routeTable", path: "routeTables", label: "route table", parent: (vcn.kind, "vcn"),
    fields: ["rules"], permissions: "ROUTE_TABLE")
  static let peeringGateway = ResourceKind(
    "localPeeringGateway", path: "localPeeringGateways", label: "local peering gateway",
    parent: (vcn.kind, "vcn"), fields: ["peer"], permissions: "LOCAL_PEERING_GATEWAY")
  static let securityList = ResourceKind(
    "securityList", path: "securityLists", label: "security list", parent: (vcn.kind, "vcn"),
    fields: ["ingress", "egress"], permissions: "SECURITY_LIST")
  static let nsg = ResourceKind(
    "networkSecurityGroup", path: "networkSecurityGroups", label: "network security group",
    parent: (vcn.kind, "vcn"), fields: ["ingress", "egress"],
    permissions: "NETWORK_SECURITY_GROUP")
  static let subnet = ResourceKind(
    "subnet", path: "subnets", label: "subnet", parent: (vcn.kind, "vcn"),
    fields: ["cidr", "routeTable", "securityLists"], required: ["cidr"], permissions: "SUBNET")
  static let drg = ResourceKind(
    "drg", path: "drgs", label: "dynamic routing gateway", fields: ["attachments"],
    permissions: "DRG")
  static let test = ResourceKind(
    "policyTest", path: "policyTests", label: "policy test", section: "tests",
    fields: ["from", "to", "protocol", "port", "icmpType", "icmpCode", "expect"],
    required: ["from", "to", "protocol", "expect"], permissions: "ZPR_POLICY")

  /// Instances, databases, load balancers, private endpoints: owners of VNICs.
  static func owner(_ kind: String, path: String, label: String, permissions: String)
    -> ResourceKind
  {
    ResourceKind(
      kind, path: path, label: label, fields: ["compartment", "securityAttributes", "vnics"],
      required: ["vnics"], permissions: permissions)
  }

  static let owners = [
    owner("instance", path: "instances", label: "instance", permissions: "INSTANCE"),
    owner("database", path: "databases", label: "database", permissions: "DATABASE"),
    owner(
      "loadBalancer", path: "loadBalancers", label: "load balancer", permissions: "LOAD_BALANCER"),
    owner(
      "privateEndpoint", path: "privateEndpoints", label: "private endpoint",
      permissions: "PRIVATE_ENDPOINT"),
  ]

  /// Groups of users (`members`), named by IAM statements; a user is also in the groups their
  /// API keys name.
  static let group = ResourceKind(
    "userGroup", path: "groups", label: "group", fields: ["description", "members"],
    permissions: "GROUP")

  /// IAM policies: who may change what (`zpr iam check` checks their statements).
  static let iamPolicy = ResourceKind(
    "iamPolicy", path: "iamPolicies", label: "IAM policy", fields: ["description", "statements"],
    required: ["description", "statements"], permissions: "POLICY")

  /// The kinds inside a VCN's element, in the tenancy file's order.
  static let vcnParts = [routeTable, peeringGateway, securityList, nsg, subnet]

  /// Every kind, parents before their parts (the order `apply` creates them in).
  static let all: [ResourceKind] =
    [namespace, attribute, compartment, vcn] + vcnParts + [drg] + owners + [
      policy, test, group, iamPolicy,
    ]

  /// The kinds a tenancy file holds, in its order: every kind.
  static let tenancy = all

  /// The kinds whose section a tenancy file may leave out, to leave them as they are: who may
  /// change what is often kept apart from the network.
  static let optionalSections = [group.section: group.kind, iamPolicy.section: iamPolicy.kind]

  static func named(_ kind: String) -> ResourceKind? { all.first { $0.kind == kind } }

  /// The ZPR configuration: one record, present once ZPR is enabled.
  static let configurationKind = "zprConfiguration"
}
