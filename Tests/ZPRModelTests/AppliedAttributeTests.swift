import Testing
import ZPRModel
import ZPRPolicy

@Suite("Applying attributes")
struct AppliedAttributeTests {
  static func tier(_ value: String, mode: AttributeMode = .enforce) -> AppliedAttribute {
    AppliedAttribute(namespace: "app", key: "tier", value: value, mode: mode)
  }

  @Test func validValuesApplyInEitherMode() throws {
    let catalog = try sampleCatalog()
    try catalog.validate([Self.tier("web")], on: .instance, name: "web-1")
    try catalog.validate(
      [
        Self.tier("db", mode: .audit),
        AppliedAttribute(namespace: "APP", key: "Owner", value: "anyone"),
      ],
      on: .vnic, name: "web-1/0")
  }

  @Test func valuesMustPassTheValidator() throws {
    let catalog = try sampleCatalog()
    do {
      try catalog.validate([Self.tier("wbe")], on: .instance, name: "web-1")
      Issue.record("'wbe' is not a tier")
    } catch {
      #expect(error.code == .valueRejected)
      #expect(error.message.contains("did you mean 'web'?"))
    }
    #expect(
      errorCode { try catalog.validate([Self.tier("WEB")], on: .instance, name: "i") }
        == .valueRejected)
    #expect(
      errorCode {
        try catalog.validate(
          [AppliedAttribute(namespace: "app", key: "owner", value: "")], on: .instance, name: "i")
      } == .valueRejected)
  }

  @Test(arguments: [
    (ResourceKind.vcn, 1, "attributesPerVCN"), (.vnic, 5, "attributesPerVNIC"),
    (.instance, 3, "attributesPerResource"), (.database, 3, "attributesPerResource"),
    (.loadBalancer, 3, "attributesPerResource"), (.privateEndpoint, 3, "attributesPerResource"),
  ])
  func eachResourceKindHasItsLimit(kind: ResourceKind, limit: Int, name: String) throws {
    var catalog = SecurityAttributeCatalog()
    try catalog.createNamespace("n", description: "Limits")
    for index in 0...limit { try catalog.createAttribute("a\(index)", in: "n", description: "x") }
    let attributes = (0...limit).map { AppliedAttribute(namespace: "n", key: "a\($0)", value: "v") }
    try catalog.validate(Array(attributes.prefix(limit)), on: kind, name: "r")
    do {
      try catalog.validate(attributes, on: kind, name: "r")
      Issue.record("\(limit + 1) attributes must exceed the \(name) limit")
    } catch {
      #expect(error.code == .limitExceeded)
      #expect(error.message.contains(name))
    }
  }

  @Test func anAttributeAppliesOncePerResource() throws {
    let catalog = try sampleCatalog()
    #expect(
      errorCode {
        try catalog.validate(
          [Self.tier("web"), AppliedAttribute(namespace: "APP", key: "TIER", value: "db")],
          on: .instance, name: "i")
      } == .duplicateAttribute)
  }

  @Test func retiredOrUnknownAttributesDoNotApply() throws {
    var catalog = try sampleCatalog()
    #expect(
      errorCode {
        try catalog.validate(
          [AppliedAttribute(namespace: "app", key: "teir", value: "web")], on: .instance, name: "i")
      } == .notFound)
    #expect(
      errorCode {
        try catalog.validate(
          [AppliedAttribute(namespace: "ap", key: "tier", value: "web")], on: .instance, name: "i")
      } == .notFound)
    try catalog.retireAttribute("tier", in: "app")
    #expect(
      errorCode { try catalog.validate([Self.tier("web")], on: .instance, name: "i") }
        == .invalidState)
    try catalog.retireNamespace("app")
    #expect(
      errorCode { try catalog.validate([Self.tier("web")], on: .instance, name: "i") }
        == .invalidState)
  }

  @Test func valuesThatNoLongerPassAreReportedNotDropped() throws {
    var catalog = try sampleCatalog()
    let applied = [
      AppliedAttribute(namespace: "app", key: "owner", value: "team-c"), Self.tier("web"),
    ]
    #expect(catalog.findings(for: applied).isEmpty)
    // A validator added after the value was applied.
    try catalog.updateAttribute("owner", in: "app", validator: .oneOf(["team-a", "team-b"]))
    let findings = catalog.findings(for: applied)
    #expect(findings.map(\.attribute) == [applied[0]])
    #expect(findings[0].message.contains("'team-c' is not a value of app.owner"))
    // A retired attribute.
    try catalog.retireAttribute("tier", in: "app")
    #expect(catalog.findings(for: applied).count == 2)
  }
}
