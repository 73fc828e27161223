/// A verb of an IAM statement: each grants what the one before it grants, and more.
public enum IAMVerb: String, Hashable, Sendable, CaseIterable, Comparable, Codable {
  case inspect
  case read
  case use
  case manage

  public static func < (lhs: IAMVerb, rhs: IAMVerb) -> Bool {
    allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
  }
}

/// One kind of resource that permissions are about, with the permissions each verb adds.
public struct IAMResourceType: Hashable, Sendable {
  /// The canonical name (`vcns`).
  public var name: String
  /// Other spellings accepted (`vcn`).
  public var aliases: [String]
  /// What each verb adds to the one before it.
  public var added: [IAMVerb: [String]]

  /// The permissions a verb grants on this type (its own and every lesser verb's).
  public func permissions(for verb: IAMVerb) -> [String] {
    IAMVerb.allCases.filter { $0 <= verb }.flatMap { added[$0] ?? [] }
  }

  /// Every permission of the type.
  public var allPermissions: [String] { permissions(for: .manage) }
}

/// The permission catalog: resource types, families, and the permissions each verb grants.
/// docs/iam.md shows it as one table.
public enum PermissionCatalog {
  static func type(
    _ name: String, aliases: [String] = [], prefix: String, use: [String] = ["UPDATE"],
    manage: [String] = ["CREATE", "DELETE"], extraRead: [String] = []
  ) -> IAMResourceType {
    IAMResourceType(
      name: name, aliases: aliases,
      added: [
        .inspect: ["\(prefix)_INSPECT"], .read: ["\(prefix)_READ"] + extraRead,
        .use: use.map { "\(prefix)_\($0)" }, .manage: manage.map { "\(prefix)_\($0)" },
      ])
  }

  /// Every individual resource type.
  public static let types: [IAMResourceType] = [
    type(
      "zpr-configuration", aliases: ["zpr-configurations"], prefix: "ZPR_CONFIGURATION", use: [],
      manage: ["CREATE", "UPDATE", "DELETE"]),
    type("zpr-policy", aliases: ["zpr-policies"], prefix: "ZPR_POLICY"),
    // Enforcement agents' reports: an agent's key reports (use) for its host
    // (`where target.resource.name = 'web-1'`).
    type("zpr-agents", aliases: ["zpr-agent"], prefix: "ZPR_AGENT"),
    type(
      "security-attribute-namespace", aliases: ["security-attribute-namespaces"],
      prefix: "SECURITY_ATTRIBUTE_NAMESPACE", use: ["USE"],
      manage: ["CREATE", "UPDATE", "DELETE"]),
    type("instances", aliases: ["instance"], prefix: "INSTANCE"),
    type("databases", aliases: ["database"], prefix: "DATABASE"),
    type("load-balancers", aliases: ["load-balancer"], prefix: "LOAD_BALANCER"),
    type("private-endpoints", aliases: ["private-endpoint"], prefix: "PRIVATE_ENDPOINT"),
    // A VCN's `use` attaches things to it; changing it (its attributes too) takes VCN_UPDATE,
    // which only `manage` grants.
    type(
      "vcns", aliases: ["vcn"], prefix: "VCN", use: ["ATTACH", "DETACH"],
      manage: ["UPDATE", "CREATE", "DELETE"]),
    type(
      "subnets", aliases: ["subnet"], prefix: "SUBNET", use: ["ATTACH", "DETACH"],
      manage: ["UPDATE", "CREATE", "DELETE"]),
    type("vnics", aliases: ["vnic"], prefix: "VNIC", use: ["UPDATE", "ATTACH", "DETACH"]),
    type(
      "network-security-groups", aliases: ["network-security-group"],
      prefix: "NETWORK_SECURITY_GROUP", use: ["UPDATE_MEMBERS"],
      manage: ["UPDATE", "CREATE", "DELETE"]),
    type(
      "route-tables", aliases: ["route-table"], prefix: "ROUTE_TABLE", use: ["ATTACH"],
      manage: ["UPDATE", "CREATE", "DELETE"]),
    type(
      "security-lists", aliases: ["security-list"], prefix: "SECURITY_LIST", use: ["ATTACH"],
      manage: ["UPDATE", "CREATE", "DELETE"]),
    type(
      "local-peering-gateways", aliases: ["local-peering-gateway"],
      prefix: "LOCAL_PEERING_GATEWAY", use: ["CONNECT"], manage: ["UPDATE", "CREATE", "DELETE"]),
    type(
      "drgs", aliases: ["drg"], prefix: "DRG", use: ["ATTACH"],
      manage: ["UPDATE", "CREATE", "DELETE"]),
    type("compartments", aliases: ["compartment"], prefix: "COMPARTMENT"),
    type(
      "policies", aliases: ["policy"], prefix: "POLICY", use: [],
      manage: ["CREATE", "UPDATE", "DELETE"]),
    type("groups", aliases: ["group"], prefix: "GROUP", use: ["UPDATE"]),
    type("users", aliases: ["user"], prefix: "USER", use: ["UPDATE"]),
  ]

  /// Families: names that stand for several types.
  public static let families: [String: [String]] = [
    "zpr-family": ["zpr-configuration", "zpr-policy", "zpr-agents"],
    "security-attribute-family": ["security-attribute-namespace"],
    "instance-family": ["instances", "vnics"],
    "virtual-network-family": [
      "vcns", "subnets", "vnics", "network-security-groups", "route-tables", "security-lists",
      "local-peering-gateways", "drgs",
    ],
    "database-family": ["databases"],
    "load-balancer-family": ["load-balancers"],
    "identity-family": ["compartments", "policies", "groups", "users"],
    "all-resources": types.map(\.name),
  ]

  /// The type of that name or alias (any case).
  public static func type(named name: String) -> IAMResourceType? {
    let lowered = name.lowercased()
    return types.first { $0.name == lowered || $0.aliases.contains(lowered) }
  }

  /// The types a type or family name stands for, or nil when it is neither.
  public static func types(named name: String) -> [IAMResourceType]? {
    if let family = families[name.lowercased()] { return family.compactMap(type(named:)) }
    return type(named: name).map { [$0] }
  }

  /// Every name a statement may use for resources.
  public static var resourceNames: [String] {
    families.keys.sorted() + types.flatMap { [$0.name] + $0.aliases }
  }

  /// Every permission.
  public static let permissions: Set<String> = Set(types.flatMap(\.allPermissions))

  /// The type a permission belongs to.
  public static func type(of permission: String) -> IAMResourceType? {
    owners[permission]
  }

  /// Each permission's type.
  private static let owners: [String: IAMResourceType] = Dictionary(
    types.flatMap { type in type.allPermissions.map { ($0, type) } },
    uniquingKeysWith: { first, _ in first })

  /// The least verb that grants a permission on its type.
  public static func verb(granting permission: String) -> IAMVerb? {
    guard let type = type(of: permission) else { return nil }
    return IAMVerb.allCases.first { type.permissions(for: $0).contains(permission) }
  }

  /// The variables a `where` clause may test.
  public static let variables: [String] = [
    "request.permission", "request.operation", "request.user.name", "request.user.id",
    "request.groups.name", "request.groups.id", "target.compartment.name", "target.resource.name",
    "target.security-attribute-namespace.name", "target.group.name", "target.group.id",
    "target.user.name", "target.user.id",
  ]

  /// Variables about the caller rather than the target (their values differ from one caller to
  /// another for the same request).
  public static let callerVariables: Set<String> = [
    "request.user.name", "request.user.id", "request.groups.name", "request.groups.id",
  ]

  /// Resource types and families of the cloud service that zpr does not manage: a statement about
  /// one is read (with a warning) and grants nothing here, so that policies written for the
  /// cloud service load unchanged.
  public static let unmanagedResourceNames: Set<String> = [
    // Identity and governance.
    "tenancies", "dynamic-groups", "authentication-policies", "identity-providers",
    "network-sources", "tag-namespaces", "tag-defaults", "domains", "audit-events",
    "work-requests", "usage-budgets", "usage-report", "cloud-guard-family", "announcements",
    "quota", "quotas", "organizations-family",
    // Compute.
    "instance-images", "app-catalog-listing", "console-histories", "instance-console-connection",
    "instance-configurations", "instance-pools", "cluster-networks",
    "compute-management-family", "dedicated-vm-hosts", "dedicated-vm-host-family",
    "compute-capacity-reservations", "instance-agent-command-family",
    "instance-agent-plugins", "auto-scaling-configurations", "compute-container-family",
    // Block and file storage, object storage.
    "volume-family", "volumes", "volume-attachments", "volume-backups", "boot-volumes",
    "boot-volume-backups", "backup-policies", "volume-groups", "volume-group-backups",
    "file-family", "file-systems", "mount-targets", "export-sets", "object-family", "buckets",
    "objects", "objectstorage-namespaces",
    // Networking zpr does not model.
    "internet-gateways", "nat-gateways", "service-gateways", "dhcp-options", "private-ips",
    "public-ips", "ipv6s", "cpes", "ipsec-connections", "cross-connects",
    "cross-connect-groups", "virtual-circuits", "remote-peering-connections",
    "drg-attachments", "drg-route-tables", "drg-route-distributions", "vlans",
    "byoip-ranges", "public-ip-pools", "network-load-balancers", "network-firewall-family",
    "vtaps", "capture-filters", "dns", "dns-zones", "dns-records", "dns-steering-policies",
    "dns-resolvers", "dns-views", "waas-family", "web-app-firewall",
    // Databases.
    "autonomous-database-family", "autonomous-databases", "autonomous-backups",
    "autonomous-container-databases", "autonomous-exadata-infrastructures", "db-systems",
    "db-nodes", "db-homes", "db-backups", "exadata-infrastructures", "vmclusters",
    "mysql-family", "nosql-family", "database-tools-family",
    // Containers and functions.
    "cluster-family", "clusters", "cluster-node-pools", "cluster-work-requests", "repos",
    "functions-family", "fn-app", "fn-function", "fn-invocation",
    // Keys, secrets and certificates.
    "vaults", "keys", "key-delegate", "secret-family", "secrets", "secret-bundles",
    "certificate-authority-family", "leaf-certificate-family",
    // Observability, messaging and the rest.
    "metrics", "alarms", "ons-family", "ons-topics", "ons-subscriptions", "cloudevents-rules",
    "log-groups", "log-content", "logging-family", "stream-family", "streams", "stream-pools",
    "stream-push", "stream-pull", "email-family", "approved-senders", "suppressions",
    "api-gateway-family", "bastion-family", "bastion", "bastion-session", "vss-family",
    "data-science-family", "data-catalog-family", "dataflow-family", "devops-family",
    "orm-family", "orm-stacks", "orm-jobs", "queues", "apm-domains",
  ]

  /// The API operations (`request.operation`): one per call of the REST API.
  public static let operations: [String] = {
    let kinds = [
      "ZprConfiguration", "ZprPolicy", "SecurityAttributeNamespace", "SecurityAttribute",
      "Compartment", "Vcn", "RouteTable", "LocalPeeringGateway", "SecurityList",
      "NetworkSecurityGroup", "Subnet", "Drg", "Instance", "Database", "LoadBalancer",
      "PrivateEndpoint", "PolicyTest", "Policy", "Group", "User",
    ]
    return kinds.flatMap { kind in
      ["List", "Get", "Create", "Update", "Delete"].map { "\($0)\(kind)" }
    }
      + [
        "RetireSecurityAttributeNamespace", "ReactivateSecurityAttributeNamespace",
        "RetireSecurityAttribute", "ReactivateSecurityAttribute", "EnableZpr", "AnalyzePath",
        "GetReachabilityMatrix", "WhatIf", "Apply", "Export", "ListAudit", "GetRevision",
        "ExplainIam", "ReportAgent", "ListAgents", "DeleteAgent",
      ]
  }()
}
