import Foundation
import Testing
import ZPRIAM
import ZPRModel
import ZPRPolicy

@Suite("IAM policies and groups in the tenancy file")
struct TenancyIAMTests {
  static let base = """
    compartments:
      - {name: Prod}
      - {name: Network, parent: Prod}

    """

  @Test func theExampleHoldsGroupsAndPolicies() throws {
    let path = TenancyFileTests.examples.appendingPathComponent("iam.yaml").path
    let loaded = TenancyFile.load(
      SourceFile(path: path, text: try String(contentsOfFile: path, encoding: .utf8)))
    #expect(loaded.diagnostics.isEmpty, "\(loaded.diagnostics)")
    #expect(loaded.tenancy.groups.map(\.name) == ["NetworkUsers", "AppTeam", "Auditors"])
    #expect(loaded.tenancy.groups[0].members == ["nina"])
    #expect(loaded.tenancy.iamPolicies.map(\.name) == ["network-team", "app-team", "auditors"])
    #expect(loaded.tenancy.iamPolicies.map(\.statements.count) == [3, 2, 1])
    #expect(loaded.sections.isSuperset(of: ["groups", "iamPolicies", "vcns"]))
    #expect(!loaded.sections.contains("tests"))
  }

  @Test func aSlipInAStatementIsPlacedInTheFileWithItsFix() {
    let text =
      Self.base + """
        iamPolicies:
          - name: slips
            description: The seed's two slips
            statements:
              - Allow UserGroupA to read vcns in tenancy
              - allow group A to manage vcns in tenancy where request.permission='VCN_UDPATE'
        """
    let loaded = TenancyFileTests.load(text)
    let errors = loaded.diagnostics.filter { $0.severity == .error }
    #expect(errors.map(\.code.rawValue) == ["IAM011", "IAM031"])
    let source = SourceFile(path: "t.yaml", text: text)
    // Each lands on the word it is about, inside the statement's line.
    #expect(source.text(of: errors[0].range).hasPrefix("UserGroupA"))
    #expect(errors[0].suggestion?.contains("group UserGroupA") == true, "\(errors[0])")
    #expect(source.text(of: errors[1].range).contains("VCN_UDPATE"))
    #expect(errors[1].suggestion?.contains("VCN_UPDATE") == true)
    #expect(errors[1].path == "iamPolicies[0].statements[1]")
    // The statement that cannot mean anything is left out; the one read as the fix says is kept.
    #expect(
      loaded.tenancy.iamPolicies[0].statements.map(\.canonical) == [
        "allow group UserGroupA to read vcns in tenancy"
      ])
  }

  @Test func namesAreUniqueAndCompartmentsShouldExist() {
    let text =
      Self.base + """
        groups:
          - {name: A, members: [nina]}
          - {name: A, members: [bob]}
        iamPolicies:
          - name: p
            statements:
              - allow group A to use vcns in compartment Prod:Netwrk
              - allow group A to use vcns in compartment Network
              - allow group A to use vcns in compartment prod:network
          - {name: p, statements: []}
        """
    let loaded = TenancyFileTests.load(text)
    let codes = loaded.diagnostics.map { "\($0.severity.rawValue) \($0.code.rawValue)" }
    #expect(
      codes == [
        "error ZPT001", "warning ZPT002", "warning ZPT002", "error ZPT001",
      ], "\(loaded.diagnostics)")
    let warnings = loaded.diagnostics.filter { $0.severity == .warning }
    #expect(warnings[0].message.contains("did you mean 'Network'?"))
    #expect(warnings[1].message.contains("'Prod:Network'"), "\(warnings[1].message)")
    // Each warning is on its own statement's line.
    let source = SourceFile(path: "t.yaml", text: text)
    #expect(source.text(of: warnings[0].range).contains("Netwrk"))
    #expect(source.text(of: warnings[1].range).hasSuffix("compartment Network"))
  }

  @Test func theWriterWritesThemBackAsTheyLoad() {
    let text =
      Self.base + """
        groups:
          - {name: 'Net Admins', description: Network, members: [nina, bob]}
        iamPolicies:
          - name: net
            description: Network
            statements:
              - ALLOW GROUP 'Net Admins' TO Manage VCNS IN Compartment Prod:Network where request.permission = 'VCN_UPDATE'
        """
    let first = TenancyFileTests.load(text)
    #expect(first.diagnostics.isEmpty, "\(first.diagnostics)")
    let written = TenancyFile.yaml(for: first.tenancy)
    #expect(
      written.contains(
        "allow group 'Net Admins' to manage vcns in compartment Prod:Network where "
          + "request.permission='VCN_UPDATE'"), "\(written)")
    let again = TenancyFileTests.load(written)
    #expect(again.diagnostics.isEmpty)
    #expect(again.tenancy.groups == first.tenancy.groups)
    #expect(
      again.tenancy.iamPolicies.map { $0.statements.map(\.canonical) }
        == first.tenancy.iamPolicies.map { $0.statements.map(\.canonical) })
    #expect(TenancyFile.yaml(for: again.tenancy) == written)
  }
}
