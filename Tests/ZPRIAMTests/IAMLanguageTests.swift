import Foundation
import PropertyBased
import Testing
import ZPRIAM
import ZPRPolicy
import ZPRTesting

@Suite("IAM language")
struct IAMLanguageTests {
  static func parse(_ text: String) -> IAMPolicyFile {
    IAMParser().parse(SourceFile(path: "t.iam", text: text))
  }

  /// The statements of the seed (004: security attributes), as published.
  static let seedStatements = [
    "Allow UserGroupA to read security attribute namespaces in tenancy where target.security-attribute-namespace.name='public'",
    "Allow UserGroupA to read security-attribute-namespaces in tenancy",
    "allow UserGroupA to use instance-family in tenancy",
    "Allow group NetworkUsers to use vcns in compartment CompartmentA",
    "Allow group NetworkUsers to manage vcns in compartment CompartmentA where request.permission='VCN_UDPATE'",
  ]

  @Test func everySeedExampleParsesOrIsCaughtWithTheFix() throws {
    // Slip 1: the group named without 'group'; the statement is read anyway, and the fix said.
    for text in Self.seedStatements.prefix(3) {
      let file = Self.parse(text)
      let slip = try #require(file.diagnostics.first { $0.code == IAMCode.missingGroupKeyword })
      #expect(slip.suggestion == "write 'group UserGroupA'")
      #expect(file.source.text(of: slip.range) == "UserGroupA")
    }
    // The first also writes the type with spaces: read as the hyphenated type, with a warning.
    let spaced = Self.parse(Self.seedStatements[0]).diagnostics
    #expect(
      spaced.first { $0.code == IAMCode.spacedResourceType }?.suggestion
        == "write 'security-attribute-namespaces'")
    // The correct ones parse cleanly.
    let clean = Self.parse(Self.seedStatements[3])
    #expect(clean.diagnostics.isEmpty)
    #expect(clean.statements.first?.resource == "vcns")
    #expect(clean.statements.first?.location == .compartment(["CompartmentA"]))
    // Slip 2: the misspelt permission, with the right one.
    let typo = Self.parse(Self.seedStatements[4])
    let error = try #require(typo.diagnostics.first)
    #expect(error.code == IAMCode.unknownPermission)
    #expect(error.suggestion == "did you mean 'VCN_UPDATE'?")
    #expect(typo.source.text(of: error.range) == "'VCN_UDPATE'")
    // Once fixed, it parses and means what the seed intends.
    let fixed = Self.parse(
      "Allow group NetworkUsers to manage vcns in compartment CompartmentA where request.permission='VCN_UPDATE'"
    )
    #expect(fixed.diagnostics.isEmpty)
    guard case .equals(let variable, let value, let range)? = fixed.statements.first?.condition
    else {
      Issue.record("no condition: \(fixed.statements)")
      return
    }
    #expect(variable == "request.permission" && value == "VCN_UPDATE")
    #expect(fixed.source.text(of: range) == "request.permission='VCN_UPDATE'")
  }

  @Test(
    arguments: [
      ("Allow group A to reed vcns in tenancy", "IAM020", "did you mean 'read'?"),
      ("Allow group A to read vnc in tenancy", "IAM021", "did you mean 'vcn'?"),
      (
        "Allow group A to read instance-famly in tenancy", "IAM021",
        "did you mean 'instance-family'?"
      ),
      (
        "Allow group A to read vcns in tenancy where request.permision='VCN_READ'", "IAM030",
        "did you mean 'request.permission'?"
      ),
      (
        "Allow group A to manage vcns in tenancy where request.operation='UpdateVnc'", "IAM032",
        "did you mean 'UpdateVcn'?"
      ),
      ("Allow group A to read vcns in tenacy", "IAM010", "did you mean 'tenancy'?"),
      ("Alow group A to read vcns in tenancy", "IAM010", "did you mean 'allow'?"),
      (
        "Allow group A to read vcns in tenancy where request.permission = \"VCN_READ\"", "IAM002",
        "write 'value'"
      ),
      ("Allow group A to read vcns in compartment a::b", "IAM040", nil),
      (
        "Allow group A to read vcns in tenancy where request.permission ~ 'VCN_READ'", "IAM001", nil
      ),
      ("Allow group A to read vcns in tenancy please", "IAM012", nil),
      (
        "Allow group A to use vcns in tenancy where request.permission='VCN_UPDATE'", "IAM033",
        "write 'manage vcns'"
      ),
    ] as [(String, String, String?)])
  func mistakesAreNamedWithTheirFix(text: String, code: String, suggestion: String?) {
    let file = Self.parse(text)
    let diagnostic = file.diagnostics.first
    #expect(diagnostic?.code.rawValue == code, "\(file.diagnostics)")
    #expect(diagnostic?.suggestion == suggestion)
    #expect(diagnostic?.message.isEmpty == false)
  }

  @Test func keywordsIgnoreCaseAndTheCanonicalFormParsesBack() throws {
    let text =
      "ALLOW Group 'Net Admins', ops TO Manage VIRTUAL-NETWORK-FAMILY IN Compartment Prod:Net "
      + "WHERE ALL {request.permission='vcn_update', target.compartment.name != 'Legacy'}"
    let file = Self.parse(text)
    #expect(file.diagnostics.isEmpty, "\(file.diagnostics)")
    let statement = try #require(file.statements.first)
    #expect(statement.subject == .groups(["Net Admins", "ops"]))
    #expect(statement.verb == .manage)
    #expect(statement.resource == "virtual-network-family")
    #expect(
      statement.canonical
        == "allow group 'Net Admins', ops to manage virtual-network-family in compartment Prod:Net "
        + "where all {request.permission='VCN_UPDATE', target.compartment.name!='Legacy'}")
    let again = Self.parse(statement.canonical)
    #expect(again.diagnostics.isEmpty)
    #expect(again.statements.first?.canonical == statement.canonical)
  }

  @Test func verbsGrantEverythingTheLesserOnesDo() {
    for type in PermissionCatalog.types {
      for (lower, higher) in zip(IAMVerb.allCases, IAMVerb.allCases.dropFirst()) {
        #expect(
          Set(type.permissions(for: lower)).isSubset(of: Set(type.permissions(for: higher))),
          "\(type.name): \(lower) is not within \(higher)")
      }
      #expect(type.permissions(for: .inspect).count >= 1)
    }
    // The seed's two rules: `use` on instances updates them; `use` on VCNs does not.
    #expect(
      PermissionCatalog.type(named: "instances")!.permissions(for: .use).contains("INSTANCE_UPDATE")
    )
    #expect(!PermissionCatalog.type(named: "vcns")!.permissions(for: .use).contains("VCN_UPDATE"))
    #expect(PermissionCatalog.type(named: "vcns")!.permissions(for: .manage).contains("VCN_UPDATE"))
  }

  // MARK: Fuzzing

  static let seeds = Gen.uint64(in: 0...UInt64.max)

  /// A random statement of the grammar, spelled as a person might (any case, spaces, quotes),
  /// with what it must parse to.
  static func generated(_ random: inout SplitMix64) -> (
    text: String, subject: IAMSubject, verb: IAMVerb, resource: String, location: IAMLocation,
    clauses: Int
  ) {
    func cased(_ word: String) -> String {
      String(
        word.map {
          Bool.random(using: &random) ? Character($0.uppercased()) : Character($0.lowercased())
        })
    }
    func space() -> String { String(repeating: " ", count: Int.random(in: 1...3, using: &random)) }
    let names = ["NetworkUsers", "Ops-1", "net.admins", "Security Admins", "a_b", "x@y"]
    var text = cased("allow") + space()
    let subject: IAMSubject
    if Int.random(in: 0..<5, using: &random) == 0 {
      subject = .anyUser
      text += cased("any-user")
    } else {
      let groups = (0..<Int.random(in: 1...3, using: &random)).map { _ in
        names.randomElement(using: &random)!
      }
      subject = .groups(groups)
      text +=
        cased("group") + space()
        + groups.map { name in
          name.contains(" ") || Bool.random(using: &random) ? "'\(name)'" : name
        }.joined(separator: "," + space())
    }
    let verb = IAMVerb.allCases.randomElement(using: &random)!
    let resource = PermissionCatalog.resourceNames.randomElement(using: &random)!
    text += space() + cased("to") + space() + cased(verb.rawValue) + space() + cased(resource)
    let location: IAMLocation
    if Bool.random(using: &random) {
      location = .tenancy
      text += space() + cased("in") + space() + cased("tenancy")
    } else {
      let path = (0..<Int.random(in: 1...3, using: &random)).map { _ in
        ["Prod", "Network", "A-team", "b_2"].randomElement(using: &random)!
      }
      location = .compartment(path)
      text +=
        space() + cased("in") + space() + cased("compartment") + space()
        + path.joined(separator: ":")
    }
    func clause() -> String {
      let variable = PermissionCatalog.variables.randomElement(using: &random)!
      let value =
        switch variable {
        case "request.permission":
          PermissionCatalog.permissions.sorted().randomElement(
            using: &random)!.lowercased()
        case "request.operation": PermissionCatalog.operations.randomElement(using: &random)!
        default: ["app", "O''Brien", "prod net", "x"].randomElement(using: &random)!
        }
      return variable + space() + (Bool.random(using: &random) ? "=" : "!=") + space()
        + "'\(value)'"
    }
    var clauses = 0
    switch Int.random(in: 0..<3, using: &random) {
    case 0: break
    case 1:
      clauses = 1
      text += space() + cased("where") + space() + clause()
    default:
      clauses = Int.random(in: 1...3, using: &random)
      text +=
        space() + cased("where") + space() + cased(Bool.random(using: &random) ? "all" : "any")
        + space() + "{" + (0..<clauses).map { _ in clause() }.joined(separator: "," + space())
        + "}"
    }
    return (text, subject, verb, resource.lowercased(), location, clauses)
  }

  @Test func generatedStatementsParseToWhatWasWrittenAndPrintCanonically() async {
    await propertyCheck(count: 400, input: Self.seeds) { seed in
      var random = SplitMix64(seed: seed)
      let written = Self.generated(&random)
      let (statement, diagnostics) = IAMParser().parseStatement(written.text)
      #expect(
        diagnostics.filter { $0.severity == .error }.isEmpty, "seed \(seed): \(written.text)")
      guard let statement else { return }
      #expect(statement.subject == written.subject, "seed \(seed): \(written.text)")
      #expect(statement.verb == written.verb)
      #expect(
        PermissionCatalog.types(named: statement.resource)?.map(\.name)
          == PermissionCatalog.types(named: written.resource)?.map(\.name),
        "seed \(seed): \(written.text)")
      #expect(statement.location == written.location)
      #expect(statement.range == SourceRange(0, written.text.utf8.count))
      // The canonical form parses back to itself, whatever the spelling was.
      let again = IAMParser().parseStatement(statement.canonical)
      // With the same warnings (a condition that can never hold, say).
      #expect(
        again.diagnostics.map(\.code) == diagnostics.map(\.code),
        "seed \(seed): \(statement.canonical)")
      #expect(again.statement?.canonical == statement.canonical)
    }
  }

  @Test func mutatedStatementsNeverCrashAndEveryDiagnosticIsPositioned() async {
    let corpus =
      Self.seedStatements + [
        "Allow group A, 'B c' to manage all-resources in compartment X:Y where any {request.operation='UpdateVcn', request.user.name='ann'}",
        "allow any-user to inspect zpr-family in tenancy",
        "Allow group id ocid1.group.oc1..aaaa, id x to use groups in tenancy where target.group.name != 'Administrators'",
        "allow dynamic-group D to manage buckets in compartment 'A:B' where target.bucket.name='x'",
        "allow any-group to inspect users in tenancy where request.groups.id!='ocid1.group.oc1..b'",
      ]
    await propertyCheck(count: 2000, input: Self.seeds) { seed in
      var random = SplitMix64(seed: seed)
      var bytes = Array(corpus.randomElement(using: &random)!.utf8)
      let pieces = Array(
        "'\"=!{},:#. -_abcin group to where all any tenancy compartment\u{2019}".utf8)
      for _ in 0..<Int.random(in: 1...5, using: &random) {
        guard !bytes.isEmpty else { break }
        let at = Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<4, using: &random) {
        case 0: bytes.remove(at: at)
        case 1: bytes.insert(pieces.randomElement(using: &random)!, at: at)
        case 2: bytes[at] = UInt8.random(in: 0...255, using: &random)
        default:
          let end = min(bytes.count, at + Int.random(in: 1...12, using: &random))
          bytes.removeSubrange(at..<end)
        }
      }
      let text = String(decoding: bytes, as: UTF8.self)
      let file = Self.parse(text + "\n" + text)
      let size = file.source.bytes.count
      for diagnostic in file.diagnostics {
        #expect(
          diagnostic.range.lowerBound >= 0
            && diagnostic.range.lowerBound <= diagnostic.range.upperBound
            && diagnostic.range.upperBound <= size, "seed \(seed): \(diagnostic)")
        #expect(!diagnostic.message.isEmpty)
      }
      // Every statement line gives a statement or an error.
      let errors = Set(
        file.diagnostics.filter { $0.severity == .error }.map {
          file.source.line(containing: $0.range.lowerBound)
        })
      #expect(file.statements.count + errors.count >= file.statementCount, "seed \(seed): \(text)")
      // What parses prints canonically and parses back to the same.
      for statement in file.statements {
        let again = IAMParser().parseStatement(statement.canonical)
        #expect(again.statement?.canonical == statement.canonical, "seed \(seed): \(text)")
      }
    }
  }
}

@Suite("IAM decisions")
struct IAMEvaluatorTests {
  static func policy(_ lines: String...) -> IAMPolicy {
    IAMPolicy(
      name: "p",
      statements: IAMParser().parse(SourceFile(path: "p", text: lines.joined(separator: "\n")))
        .statements)
  }

  @Test func theSeedsVCNRuleNeedsManageForVCNUpdate() {
    let evaluator = IAMEvaluator(policies: [
      Self.policy(
        "Allow group NetworkUsers to use vcns in compartment CompartmentA",
        "Allow group NetworkUsers to manage vcns in compartment CompartmentA where request.permission='VCN_UPDATE'"
      )
    ])
    let update = IAMRequest(
      user: "nina", groups: ["NetworkUsers"], permission: "VCN_UPDATE",
      compartment: ["CompartmentA"])
    #expect(evaluator.decide(update) == .allowed(policy: "p", statement: 1))
    // Not VCN_DELETE, which the second statement would give without its condition.
    var delete = update
    delete.permission = "VCN_DELETE"
    guard case .denied(let closest) = evaluator.decide(delete) else {
      Issue.record("VCN_DELETE was allowed")
      return
    }
    #expect(closest?.lacks.count == 1)
    // Nor in another compartment, nor for another group.
    var elsewhere = update
    elsewhere.compartment = ["CompartmentB"]
    #expect(!evaluator.decide(elsewhere).isAllowed)
    var stranger = update
    stranger.groups = ["Guests"]
    #expect(!evaluator.decide(stranger).isAllowed)
    // A sub-compartment is inside.
    var nested = update
    nested.compartment = ["CompartmentA", "Team"]
    #expect(evaluator.decide(nested).isAllowed)
  }

  @Test func conditionsOnNamespacesAndFamilies() {
    let evaluator = IAMEvaluator(policies: [
      Self.policy(
        "Allow group A to use security-attribute-namespaces in tenancy where target.security-attribute-namespace.name='public'",
        "Allow group B to use instance-family in tenancy")
    ])
    let usePublic = IAMRequest(
      user: "a", groups: ["a"], permission: "SECURITY_ATTRIBUTE_NAMESPACE_USE", namespace: "Public")
    #expect(evaluator.decide(usePublic).isAllowed)
    var useOther = usePublic
    useOther.namespace = "finance"
    #expect(!evaluator.decide(useOther).isAllowed)
    #expect(
      evaluator.decide(IAMRequest(user: "b", groups: ["B"], permission: "INSTANCE_UPDATE"))
        .isAllowed)
    #expect(
      evaluator.decide(IAMRequest(user: "b", groups: ["B"], permission: "VNIC_UPDATE")).isAllowed)
    #expect(
      !evaluator.decide(IAMRequest(user: "b", groups: ["B"], permission: "INSTANCE_CREATE"))
        .isAllowed)
  }
}

@Suite("IAM documentation")
struct IAMDocumentationTests {
  static let doc = try! String(
    contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
        "docs/iam.md"), encoding: .utf8)

  @Test func theCatalogTableListsEveryPermissionAndEveryCode() {
    for permission in PermissionCatalog.permissions {
      #expect(Self.doc.contains("`\(permission)`"), "docs/iam.md misses \(permission)")
    }
    for type in PermissionCatalog.types {
      // The row shows what each verb adds.
      let row = Self.doc.split(separator: "\n").first { $0.hasPrefix("| `\(type.name)` (") }
      #expect(row != nil, "docs/iam.md has no row for \(type.name)")
      for verb in IAMVerb.allCases {
        for permission in type.added[verb] ?? [] {
          #expect(row?.contains("`\(permission)`") == true)
        }
      }
    }
    for family in PermissionCatalog.families.keys {
      #expect(Self.doc.contains("| `\(family)` |"), "docs/iam.md misses \(family)")
    }
    for code in IAMCode.all {
      #expect(Self.doc.contains("| \(code.rawValue) |"), "docs/iam.md misses \(code.rawValue)")
    }
  }
}
