import Testing
import ZPRIAM
import ZPRPolicy

/// Policies written for the cloud service: its variables, subjects and resource types load
/// unchanged, and what zpr has no counterpart for grants nothing.
@Suite("IAM policies of the cloud service")
struct IAMCloudPolicyTests {
  static func parse(_ text: String) -> IAMPolicyFile {
    IAMParser().parse(SourceFile(path: "t.iam", text: text))
  }

  static func evaluator(_ lines: String...) -> IAMEvaluator {
    let file = parse(lines.joined(separator: "\n"))
    #expect(file.diagnostics.filter { $0.severity == .error }.isEmpty, "\(file.diagnostics)")
    return IAMEvaluator(policies: [IAMPolicy(name: "p", statements: file.statements)])
  }

  /// The canonical form of every statement of a file parses back to itself.
  static func expectCanonicalRoundTrip(_ file: IAMPolicyFile) {
    for statement in file.statements {
      let again = IAMParser().parseStatement(statement.canonical)
      #expect(again.statement?.canonical == statement.canonical, "\(statement.canonical)")
      #expect(again.statement?.subject == statement.subject)
    }
  }

  @Test func theHelpDeskPoliciesLoadAndKeepAdministratorsOutOfReach() {
    let evaluator = Self.evaluator(
      "allow group HelpDesk to manage users in tenancy where target.group.name != 'Administrators'",
      "allow group HelpDesk to use groups in tenancy where target.group.name != 'Administrators'")
    func request(_ permission: String, targetGroups: [String]?) -> IAMRequest {
      IAMRequest(
        user: "hana", groups: ["HelpDesk"], permission: permission, targetGroups: targetGroups)
    }
    // A user in ordinary groups, or in none: allowed.
    #expect(evaluator.decide(request("USER_UPDATE", targetGroups: ["Ops", "Dev"])).isAllowed)
    #expect(evaluator.decide(request("USER_DELETE", targetGroups: [])).isAllowed)
    // A user in Administrators (among others, in any case): denied.
    #expect(
      !evaluator.decide(request("USER_UPDATE", targetGroups: ["Ops", "administrators"])).isAllowed)
    // Nothing known of the target's groups: the condition holds for nothing.
    #expect(!evaluator.decide(request("USER_UPDATE", targetGroups: nil)).isAllowed)
    // Groups: Ops may be changed, Administrators not.
    #expect(evaluator.decide(request("GROUP_UPDATE", targetGroups: ["Ops"])).isAllowed)
    #expect(!evaluator.decide(request("GROUP_UPDATE", targetGroups: ["Administrators"])).isAllowed)
    // `use groups` does not create or delete them.
    #expect(!evaluator.decide(request("GROUP_DELETE", targetGroups: ["Ops"])).isAllowed)
  }

  @Test(
    arguments: [
      ("target.group.name", "ops"),
      ("target.group.id", "ocid1.group.oc1..ops"),
      ("target.user.name", "bob"),
      ("target.user.id", "ocid1.user.oc1..bob"),
      ("request.user.id", "ocid1.user.oc1..hana"),
      ("request.groups.id", "ocid1.group.oc1..helpdesk"),
    ])
  func everyNewVariableIsSetByItsRequestField(variable: String, value: String) {
    let equal = Self.evaluator(
      "allow any-user to inspect users in tenancy where \(variable)='\(value)'")
    let different = Self.evaluator(
      "allow any-user to inspect users in tenancy where \(variable)!='\(value)'")
    let unset = IAMRequest(user: "hana", groups: ["HelpDesk"], permission: "USER_INSPECT")
    var set = unset
    var other = unset
    switch variable {
    case "target.group.name":
      set.targetGroups = ["Dev", "OPS"]
      other.targetGroups = ["Dev"]
    case "target.group.id":
      set.targetGroupIDs = [value]
      other.targetGroupIDs = []
    case "target.user.name":
      set.targetUser = "Bob"
      other.targetUser = "ann"
    case "target.user.id":
      set.targetUserID = value
      other.targetUserID = "ocid1.user.oc1..ann"
    case "request.user.id":
      set.userID = value
      other.userID = "ocid1.user.oc1..ann"
    default:
      set.groupIDs = ["ocid1.group.oc1..dev", value]
      other.groupIDs = ["ocid1.group.oc1..dev"]
    }
    #expect(equal.decide(set).isAllowed)
    #expect(!different.decide(set).isAllowed)
    #expect(!equal.decide(other).isAllowed)
    #expect(different.decide(other).isAllowed)
    // No value: neither = nor != holds (request.groups.id is a list, known and empty).
    if variable != "request.groups.id" {
      #expect(!equal.decide(unset).isAllowed)
      #expect(!different.decide(unset).isAllowed)
    } else {
      #expect(different.decide(unset).isAllowed)
    }
  }

  @Test func groupsByIDMatchTheCallersGroupIDs() throws {
    let texts = [
      "Allow group id ocid1.group.oc1..aaaa to manage vcns in tenancy",
      "Allow group id ocid1.group.oc1..aaaa, id ocid1.group.oc1..bbbb to manage vcns in tenancy",
      "Allow group id ocid1.group.oc1..aaaa, group id ocid1.group.oc1..bbbb to manage vcns in tenancy",
    ]
    for text in texts {
      let file = Self.parse(text)
      #expect(file.diagnostics.isEmpty, "\(file.diagnostics)")
      let statement = try #require(file.statements.first)
      guard case .groupIDs(let ids) = statement.subject else {
        Issue.record("\(statement.subject)")
        continue
      }
      #expect(ids.first == "ocid1.group.oc1..aaaa")
      Self.expectCanonicalRoundTrip(file)
    }
    #expect(
      Self.parse(texts[2]).statements.first?.canonical
        == "allow group id ocid1.group.oc1..aaaa, id ocid1.group.oc1..bbbb to manage vcns in tenancy"
    )
    let evaluator = Self.evaluator(texts[1])
    let byID = IAMRequest(
      user: "nina", groups: ["Net"], permission: "VCN_DELETE", groupIDs: ["ocid1.group.oc1..bbbb"])
    #expect(evaluator.decide(byID).isAllowed)
    // A group *named* like the id is not the group with that id.
    let byName = IAMRequest(
      user: "nina", groups: ["ocid1.group.oc1..aaaa"], permission: "VCN_DELETE")
    #expect(!evaluator.decide(byName).isAllowed)
    // A group named `id` is still a name.
    #expect(
      Self.parse("allow group id to read vcns in tenancy").statements.first?.subject
        == .groups(["id"]))
    #expect(
      Self.parse("allow group id, B to read vcns in tenancy").statements.first?.subject
        == .groups(["id", "B"]))
    Self.expectCanonicalRoundTrip(Self.parse("allow group 'to', id to read vcns in tenancy"))
    Self.expectCanonicalRoundTrip(
      Self.parse("allow group id 'to' to read vcns in compartment 'A:B'"))
    // Names and ids are not mixed.
    for mixed in [
      "allow group A, id ocid1.group.oc1..aaaa to read vcns in tenancy",
      "allow group id ocid1.group.oc1..aaaa, B to read vcns in tenancy",
    ] {
      let file = Self.parse(mixed)
      #expect(file.statements.isEmpty)
      #expect(file.diagnostics.map(\.code) == [IAMCode.expectedWord], "\(file.diagnostics)")
    }
  }

  @Test func anyGroupIsEveryoneInAGroup() {
    let evaluator = Self.evaluator("Allow any-group to inspect users in tenancy")
    #expect(
      evaluator.decide(IAMRequest(user: "a", groups: ["X"], permission: "USER_INSPECT")).isAllowed)
    #expect(
      evaluator.decide(
        IAMRequest(user: "a", groups: [], permission: "USER_INSPECT", groupIDs: ["ocid1.group..x"])
      ).isAllowed)
    #expect(
      !evaluator.decide(IAMRequest(user: "a", groups: [], permission: "USER_INSPECT")).isAllowed)
  }

  @Test(
    arguments: [
      "Allow dynamic-group FrontEnd to use load-balancers in compartment ProjectA",
      "Allow dynamic-group id ocid1.dynamicgroup.oc1..aaaa to manage instance-family in tenancy",
      "Allow service FaaS to use virtual-network-family in compartment ProjectA",
    ])
  func subjectsZprHasNoCallersForAreKeptAndGrantNothing(text: String) throws {
    let file = Self.parse(text)
    #expect(file.diagnostics.map(\.code) == [IAMCode.subjectWithoutMembers], "\(file.diagnostics)")
    #expect(file.diagnostics.allSatisfy { $0.severity == .warning })
    let statement = try #require(file.statements.first)
    #expect(!statement.subject.hasMembersHere)
    Self.expectCanonicalRoundTrip(file)
    // Not even to members of a group with the same name.
    let evaluator = IAMEvaluator(policies: [IAMPolicy(name: "p", statements: file.statements)])
    for permission in IAMEvaluator.grantable(statement) {
      let request = IAMRequest(
        user: "x", groups: ["FrontEnd", "FaaS"], permission: permission,
        compartment: ["ProjectA"], groupIDs: ["ocid1.dynamicgroup.oc1..aaaa"])
      #expect(!evaluator.decide(request).isAllowed)
    }
  }

  @Test(
    arguments: [
      "Allow group StorageAdmins to manage volume-family in compartment ProjectA",
      "Allow group Auditors to read audit-events in tenancy",
      "Allow group ObjectWriters to manage objects in compartment ABC where any {request.permission='OBJECT_CREATE', request.permission='OBJECT_INSPECT'}",
      "Allow group Readers to read buckets in tenancy where target.bucket.name='logs'",
      "Allow group DBAdmins to manage autonomous-database-family in tenancy",
      "Allow group Files to manage file-family in compartment A:B",
      "Allow group DNSAdmins to manage dns in tenancy",
      "Allow group SecurityAdmins to manage keys in tenancy",
      "Allow group SecurityAdmins to manage vaults in tenancy",
      "Allow group SecretReaders to read secret-family in tenancy",
      "Allow group K8s to manage cluster-family in tenancy",
      "Allow group Fn to use functions-family in tenancy",
      "Allow group TagAdmins to manage tag-namespaces in tenancy",
      "Allow group IdentityAdmins to manage dynamic-groups in tenancy",
      "Allow group Auditors to inspect tenancies in tenancy",
      "Allow dynamic-group FrontEnd to use volume-family in compartment ProjectA",
    ])
  func resourceTypesZprDoesNotManageAreKeptAndGrantNothing(text: String) throws {
    let file = Self.parse(text)
    #expect(file.diagnostics.allSatisfy { $0.severity == .warning }, "\(file.diagnostics)")
    #expect(file.diagnostics.contains { $0.code == IAMCode.unmanagedResourceType })
    let statement = try #require(file.statements.first)
    #expect(PermissionCatalog.types(named: statement.resource) == nil)
    #expect(IAMEvaluator.grantable(statement).isEmpty)
    Self.expectCanonicalRoundTrip(file)
    let evaluator = IAMEvaluator(policies: [IAMPolicy(name: "p", statements: file.statements)])
    for permission in PermissionCatalog.permissions {
      let request = IAMRequest(
        user: "x",
        groups: [
          "StorageAdmins", "Auditors", "ObjectWriters", "Readers", "DBAdmins",
          "Files", "DNSAdmins", "SecurityAdmins", "SecretReaders", "K8s", "Fn", "TagAdmins",
          "IdentityAdmins",
        ], permission: permission, compartment: ["ProjectA"])
      #expect(!evaluator.decide(request).isAllowed, "\(permission)")
    }
  }

  @Test func slipsOfResourceTypesStayErrors() {
    let cases: [(String, String?)] = [
      ("vnc", "did you mean 'vcn'?"),
      ("bukets", "did you mean 'buckets'?"),
      ("volume-famly", "did you mean 'volume-family'?"),
      ("frobnicators", nil),
    ]
    for (word, suggestion) in cases {
      let file = Self.parse("Allow group A to read \(word) in tenancy")
      #expect(file.statements.isEmpty)
      #expect(file.diagnostics.map(\.code) == [IAMCode.unknownResourceType])
      #expect(file.diagnostics.first?.suggestion == suggestion)
    }
    // Written with spaces, a type zpr does not manage is read as the hyphenated one.
    let spaced = Self.parse("Allow group A to manage object family in tenancy")
    #expect(
      spaced.diagnostics.map(\.code) == [IAMCode.spacedResourceType, IAMCode.unmanagedResourceType])
    #expect(spaced.statements.first?.resource == "object-family")
    // The lists do not overlap.
    for name in PermissionCatalog.resourceNames {
      #expect(!PermissionCatalog.unmanagedResourceNames.contains(name), "\(name)")
    }
    #expect(PermissionCatalog.unmanagedResourceNames.allSatisfy { $0 == $0.lowercased() })
  }

  @Test func aTypeZprManagesStillChecksItsCondition() {
    // The cloud service's other variables are read only for types zpr does not manage.
    let file = Self.parse("Allow group A to manage users in tenancy where request.region='phx'")
    #expect(file.diagnostics.map(\.code) == [IAMCode.unknownVariable])
    #expect(file.statements.isEmpty)
  }
}
