import PropertyBased
import Testing
import ZPRIAM
import ZPRPolicy
import ZPRTesting

/// The escalation check: what a statement can grant that its author does not hold.
@Suite("IAM escalation")
struct IAMEscalationTests {
  static func statement(_ text: String) -> IAMStatement {
    let (statement, diagnostics) = IAMParser().parseStatement(text)
    #expect(diagnostics.filter { $0.severity == .error }.isEmpty, "\(text): \(diagnostics)")
    return statement!
  }

  static func evaluator(_ lines: String...) -> IAMEvaluator {
    IAMEvaluator(policies: [IAMPolicy(name: "mine", statements: lines.map(statement))])
  }

  @Test func anAdministratorHoldsEverything() {
    let evaluator = Self.evaluator(
      "allow group Administrators to manage all-resources in tenancy")
    #expect(evaluator.holdsEverything(user: "root", groups: ["administrators"]))
    for resource in PermissionCatalog.resourceNames + ["buckets"] {
      for verb in IAMVerb.allCases {
        for place in ["tenancy", "compartment Prod:Net"] {
          for condition in [
            "", " where request.user.name='mallory'", " where target.group.name!='x'",
          ] {
            let granted = Self.statement(
              "allow group New to \(verb.rawValue) \(resource) in \(place)\(condition)")
            #expect(
              evaluator.uncovered(granted, user: "root", groups: ["Administrators"]).isEmpty,
              "\(granted.canonical)")
          }
        }
      }
    }
    // Someone else holds nothing of it.
    #expect(!evaluator.holdsEverything(user: "nina", groups: ["NetworkUsers"]))
    #expect(
      evaluator.uncovered(
        Self.statement("allow group New to inspect vcns in tenancy"), user: "nina",
        groups: ["NetworkUsers"]) == ["VCN_INSPECT in tenancy"])
  }

  @Test func usingGroupsIsNotManagingEverything() {
    let evaluator = Self.evaluator("allow group HelpDesk to use groups in tenancy")
    let caller = (user: "hana", groups: ["HelpDesk"])
    #expect(!evaluator.holdsEverything(user: caller.user, groups: caller.groups))
    let missing = evaluator.uncovered(
      Self.statement("allow group Administrators to manage all-resources in tenancy"),
      user: caller.user, groups: caller.groups)
    #expect(missing.contains("GROUP_CREATE in tenancy"))
    #expect(missing.contains("VCN_UPDATE in tenancy"))
    #expect(!missing.contains("GROUP_UPDATE in tenancy"))
    #expect(!missing.contains("GROUP_INSPECT in tenancy"))
    #expect(missing.count == PermissionCatalog.permissions.count - 3)
    #expect(
      evaluator.uncovered(
        Self.statement("allow group Ops to use groups in compartment A"), user: caller.user,
        groups: caller.groups
      ).isEmpty)
  }

  @Test func aCompartmentHoldsTheCompartmentsInsideIt() {
    let evaluator = Self.evaluator("allow group Net to manage vcns in compartment A")
    func missing(_ text: String) -> [String] {
      evaluator.uncovered(Self.statement(text), user: "nina", groups: ["Net"])
    }
    #expect(missing("allow group New to use vcns in compartment A:B").isEmpty)
    #expect(missing("allow group New to manage vcns in compartment a").isEmpty)
    #expect(
      missing("allow group New to use vcns in tenancy") == [
        "VCN_INSPECT in tenancy", "VCN_READ in tenancy", "VCN_ATTACH in tenancy",
        "VCN_DETACH in tenancy",
      ])
    #expect(
      missing("allow group New to read vcns in compartment B") == [
        "VCN_INSPECT in compartment B", "VCN_READ in compartment B",
      ])
    #expect(!missing("allow group New to read vcns in compartment AB").isEmpty)
    #expect(
      missing("allow group New to read subnets in compartment A") == [
        "SUBNET_INSPECT in compartment A", "SUBNET_READ in compartment A",
      ])
  }

  @Test func conditionsOnThePermissionNarrowWhatIsGrantedAndWhatIsHeld() {
    let evaluator = Self.evaluator(
      "allow group Net to use vcns in tenancy",
      "allow group Net to manage vcns in tenancy where request.permission='VCN_UPDATE'")
    func missing(_ text: String) -> [String] {
      evaluator.uncovered(Self.statement(text), user: "nina", groups: ["Net"])
    }
    #expect(
      missing(
        "allow group New to manage vcns in compartment A where request.permission='VCN_UPDATE'"
      )
      .isEmpty)
    #expect(
      missing(
        "allow group New to manage vcns in tenancy where any {request.permission='VCN_UPDATE', request.permission='VCN_READ'}"
      ).isEmpty)
    #expect(
      missing("allow group New to manage vcns in tenancy") == [
        "VCN_CREATE in tenancy", "VCN_DELETE in tenancy",
      ])
    #expect(
      missing("allow group New to manage vcns in tenancy where request.permission!='VCN_DELETE'")
        == ["VCN_CREATE in tenancy where request.permission!='VCN_DELETE'"])
    // What a condition rules out on the permission alone; anything else it tests is unknown.
    #expect(
      IAMEvaluator.grantable(
        Self.statement(
          "allow group New to manage vcns in tenancy where all {request.permission='VCN_READ', target.resource.name='web'}"
        )) == ["VCN_READ"])
    #expect(
      IAMEvaluator.grantable(
        Self.statement(
          "allow group New to use vcns in tenancy where any {request.permission='VCN_READ', target.resource.name='web'}"
        )
      ).count == 4)
  }

  @Test func otherConditionsAreHeldOnlyWhenTheSameOrAlwaysTrueForTheCaller() {
    let helpDesk = Self.evaluator(
      "allow group HelpDesk to use groups in tenancy where target.group.name != 'Administrators'")
    func missing(_ text: String) -> [String] {
      helpDesk.uncovered(Self.statement(text), user: "hana", groups: ["HelpDesk"])
    }
    #expect(
      missing(
        "allow group Juniors to use groups in compartment A where target.group.name!='Administrators'"
      )
      .isEmpty)
    #expect(missing("allow group Juniors to use groups in tenancy").count == 3)
    #expect(
      missing("allow group Juniors to inspect groups in tenancy where target.group.name!='Ops'")
        == ["GROUP_INSPECT in tenancy where target.group.name!='Ops'"])
    // A condition on who asks holds for the caller when it names the caller...
    let carol = Self.evaluator(
      "allow any-user to manage all-resources in tenancy where request.user.name='carol'",
      "allow group Ops to manage users in tenancy where request.groups.name='ops'",
      "allow group Ops to manage vcns in tenancy where request.user.name='bob'")
    #expect(carol.holdsEverything(user: "Carol", groups: []))
    #expect(!carol.holdsEverything(user: "dave", groups: ["Ops"]))
    #expect(
      carol.uncovered(
        Self.statement("allow group New to manage users in tenancy"), user: "dave", groups: ["Ops"]
      ).isEmpty)
    // ...and the same condition does not count when it is about who asks: bob would gain what
    // dave does not hold.
    #expect(
      !carol.uncovered(
        Self.statement("allow group New to manage vcns in tenancy where request.user.name='bob'"),
        user: "dave", groups: ["Ops"]
      ).isEmpty)
  }

  @Test func subjectsAndTypesWithoutCounterpartsHereCountForNothing() {
    let evaluator = Self.evaluator(
      "allow dynamic-group Admins to manage all-resources in tenancy",
      "allow service Admins to manage all-resources in tenancy",
      "allow group id ocid1.group.oc1..admins to manage all-resources in tenancy")
    #expect(!evaluator.holdsEverything(user: "x", groups: ["Admins"]))
    #expect(
      evaluator.holdsEverything(user: "x", groups: [], groupIDs: ["ocid1.group.oc1..admins"]))
    // A statement about a type zpr does not manage grants nothing: anyone may write it.
    #expect(
      evaluator.uncovered(
        Self.statement("allow group New to manage object-family in tenancy"), user: "x",
        groups: []
      ).isEmpty)
  }

  @Test func aChangeOfGroupsGivesTheStatementsOfTheNewGroupsAndThoseTestingGroups() {
    let evaluator = Self.evaluator(
      "allow group Ops to manage vcns in tenancy",
      "allow any-group to inspect users in tenancy",
      "allow any-user to manage all-resources in tenancy where request.groups.name != 'Interns'",
      "allow group Dev to read vcns in tenancy",
      "allow any-user to read zpr-family in tenancy",
      "allow group HelpDesk to use groups in tenancy where target.group.name != 'Administrators'")
    func gained(_ before: [String], _ after: [String]) -> [String] {
      evaluator.gained(user: "bob", groupsBefore: before, groupsAfter: after).map(\.canonical)
    }
    #expect(
      gained(["Interns"], ["Interns", "Ops"]) == [
        "allow group Ops to manage vcns in tenancy",
        "allow any-user to manage all-resources in tenancy where request.groups.name!='Interns'",
      ])
    #expect(
      gained([], ["Dev"]) == [
        "allow any-group to inspect users in tenancy",
        "allow any-user to manage all-resources in tenancy where request.groups.name!='Interns'",
        "allow group Dev to read vcns in tenancy",
      ])
    #expect(gained(["Interns", "Ops"], ["ops", "interns"]).isEmpty)
    // Leaving a group can give too: here, everything.
    let leaving = evaluator.gained(user: "bob", groupsBefore: ["Interns"], groupsAfter: [])
    #expect(
      leaving.map(\.canonical) == [
        "allow any-user to manage all-resources in tenancy where request.groups.name!='Interns'"
      ])
    let missing = leaving.flatMap {
      evaluator.uncovered($0, user: "hana", groups: ["HelpDesk", "Interns"])
    }
    #expect(missing.contains("VCN_DELETE in tenancy where request.groups.name!='Interns'"))
    // What hana holds whatever her groups are (any-group, any-user) is not missing.
    #expect(!missing.contains { $0.hasPrefix("USER_INSPECT ") || $0.hasPrefix("ZPR_POLICY_READ ") })
    // A key for a user is all the user's statements.
    #expect(evaluator.statements(for: "bob", groups: ["Dev"]).count == 4)
  }

  // MARK: Soundness

  static let caller = (user: "carol", groups: ["Ops", "Net"], groupIDs: ["ocid1.group.oc1..ops"])
  static let subjects = [
    "group Ops", "group net", "group id ocid1.group.oc1..ops", "any-user", "any-group",
    "group Other", "dynamic-group Ops", "group id ocid1.group.oc1..other",
  ]
  static let resources = [
    "vcns", "subnets", "virtual-network-family", "groups", "users", "identity-family",
    "all-resources", "instances", "instance-family", "vnics", "buckets",
  ]
  static let places = [
    "tenancy", "compartment A", "compartment a:B", "compartment A:B:C", "compartment B",
  ]
  static let conditions = [
    "request.permission='VCN_UPDATE'", "request.permission!='VCN_DELETE'",
    "any {request.permission='GROUP_UPDATE', request.permission='USER_UPDATE'}",
    "target.resource.name='web'", "target.group.name!='Administrators'",
    "all {target.group.name!='Administrators', request.permission!='USER_DELETE'}",
    "request.user.name='carol'", "request.user.name='dave'", "request.groups.name='Ops'",
    "request.groups.id='ocid1.group.oc1..ops'", "request.groups.name!='New'",
    "request.groups.name!='Interns'", "request.groups.name='Other'",
    "any {request.permission='VCN_READ', target.resource.name='web'}",
    "target.compartment.name='B'", "request.operation='UpdateVcn'",
    "any {target.user.name='dave', target.group.id='ocid1.group.oc1..x'}",
  ]

  /// A random statement's parts.
  static func parts(_ random: inout SplitMix64) -> (
    subject: String, verb: IAMVerb, resource: String, place: String, condition: String?
  ) {
    (
      subjects.randomElement(using: &random)!, IAMVerb.allCases.randomElement(using: &random)!,
      resources.randomElement(using: &random)!, places.randomElement(using: &random)!,
      Int.random(in: 0..<3, using: &random) == 0 ? nil : conditions.randomElement(using: &random)!
    )
  }

  static func text(
    _ parts: (subject: String, verb: IAMVerb, resource: String, place: String, condition: String?)
  ) -> String {
    "allow \(parts.subject) to \(parts.verb.rawValue) \(parts.resource) in \(parts.place)"
      + (parts.condition.map { " where " + $0 } ?? "")
  }

  /// A random request for the new statement's grantee: mostly a permission it can grant.
  static func request(for statement: IAMStatement, _ random: inout SplitMix64) -> IAMRequest {
    let grantable = IAMEvaluator.grantable(statement)
    let permission =
      !grantable.isEmpty && Int.random(in: 0..<4, using: &random) > 0
      ? grantable.randomElement(using: &random)!
      : PermissionCatalog.permissions.sorted().randomElement(using: &random)!
    let compartments: [[String]] = [[], ["A"], ["A", "B"], ["a", "b", "C"], ["B"], ["A", "X"]]
    return IAMRequest(
      user: "dave", groups: ["New"], permission: permission,
      compartment: compartments.randomElement(using: &random)!,
      operation: [nil, "UpdateVcn", "DeleteVcn"].randomElement(using: &random)!,
      resourceName: [nil, "web", "db"].randomElement(using: &random)!,
      groupIDs: ["ocid1.group.oc1..new"], userID: "ocid1.user.oc1..dave",
      targetGroups: [nil, [], ["Administrators"], ["Ops", "Dev"]].randomElement(using: &random)!,
      targetGroupIDs: [nil, [], ["ocid1.group.oc1..x"]].randomElement(using: &random)!,
      targetUser: [nil, "dave", "erin"].randomElement(using: &random)!)
  }

  @Test func whatTheCallerHoldsIsAllowedToTheCallerWheneverTheStatementAllowsIt() async {
    var exercised = 0
    var interesting = 0
    await propertyCheck(count: 600, input: IAMLanguageTests.seeds) { seed in
      var random = SplitMix64(seed: seed)
      var mine = (0..<Int.random(in: 1...4, using: &random)).map { _ in Self.parts(&random) }
      if Int.random(in: 0..<6, using: &random) == 0 {
        mine.append(("group Ops", .manage, "all-resources", "tenancy", nil))
      }
      // The new statement: often one of the caller's, a little weaker or deeper, else random.
      var new = Self.parts(&random)
      if Bool.random(using: &random) {
        let base = mine.randomElement(using: &random)!
        new.resource = base.resource
        new.verb = min(base.verb, new.verb)
        new.place =
          base.place == "tenancy" && Bool.random(using: &random)
          ? Self.places.randomElement(using: &random)!
          : base.place + (base.place != "tenancy" && Bool.random(using: &random) ? ":Deep" : "")
        new.condition = Bool.random(using: &random) ? base.condition : new.condition
      }
      new.subject = "group New"
      let evaluator = IAMEvaluator(policies: [
        IAMPolicy(name: "mine", statements: mine.map { Self.statement(Self.text($0)) })
      ])
      let statement = Self.statement(Self.text(new))
      let missing = evaluator.uncovered(
        statement, user: Self.caller.user, groups: Self.caller.groups,
        groupIDs: Self.caller.groupIDs)
      guard missing.isEmpty else { return }
      let theirs = IAMEvaluator(policies: [IAMPolicy(name: "new", statements: [statement])])
      var allowedAny = false
      for _ in 0..<40 {
        let request = Self.request(for: statement, &random)
        guard theirs.decide(request).isAllowed else { continue }
        allowedAny = true
        var asCaller = request
        asCaller.user = Self.caller.user
        asCaller.groups = Self.caller.groups
        asCaller.groupIDs = Self.caller.groupIDs
        asCaller.userID = "ocid1.user.oc1..carol"
        let held = evaluator.policies[0].statements.map(\.canonical)
        #expect(
          evaluator.decide(asCaller).isAllowed,
          "seed \(seed): \(statement.canonical) allows \(request), which the caller may not do with \(held)"
        )
      }
      if allowedAny {
        exercised += 1
        if !evaluator.holdsEverything(
          user: Self.caller.user, groups: Self.caller.groups, groupIDs: Self.caller.groupIDs)
        {
          interesting += 1
        }
      }
    }
    // Not vacuous: many statements were held, and allowed requests, by callers short of
    // administrators too.
    #expect(exercised >= 60, "\(exercised)")
    #expect(interesting >= 30, "\(interesting)")
  }

  @Test func whatAChangeOfGroupsGivesIsHeldByTheCallerWhenGainedIsCovered() async {
    var exercised = 0
    await propertyCheck(count: 600, input: IAMLanguageTests.seeds) { seed in
      var random = SplitMix64(seed: seed)
      let evaluator = IAMEvaluator(policies: [
        IAMPolicy(
          name: "p",
          statements: (0..<Int.random(in: 2...6, using: &random)).map { _ in
            Self.statement(Self.text(Self.parts(&random)))
          })
      ])
      func groups() -> [String] {
        ["Net", "Other", "Interns", "Ops"].filter { _ in Int.random(in: 0..<3, using: &random) == 0
        }
      }
      let before = groups()
      let after = groups()
      let gained = evaluator.gained(user: "bob", groupsBefore: before, groupsAfter: after)
      let covered = gained.allSatisfy {
        evaluator.uncovered(
          $0, user: Self.caller.user, groups: Self.caller.groups, groupIDs: Self.caller.groupIDs
        ).isEmpty
      }
      guard covered else { return }
      let statements = evaluator.policies[0].statements
      for _ in 0..<40 {
        var request = Self.request(for: statements.randomElement(using: &random)!, &random)
        request.user = "bob"
        request.groupIDs = []
        request.userID = nil
        request.groups = after
        guard evaluator.decide(request).isAllowed else { continue }
        var earlier = request
        earlier.groups = before
        guard !evaluator.decide(earlier).isAllowed else { continue }
        exercised += 1
        var asCaller = request
        asCaller.user = Self.caller.user
        asCaller.groups = Self.caller.groups
        asCaller.groupIDs = Self.caller.groupIDs
        #expect(
          evaluator.decide(asCaller).isAllowed,
          "seed \(seed): bob from \(before) to \(after) gains \(request) through \(statements.map(\.canonical))"
        )
      }
    }
    // Not vacuous: bob gained something the caller held, many times.
    #expect(exercised >= 50, "\(exercised)")
  }
}
