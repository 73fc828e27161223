import Testing
import ZPRModel
import ZPRPolicy

/// A catalog with namespace `app` holding `tier` (ENUM web/app/db) and `owner` (DEFAULT).
func sampleCatalog(limits: ZPRLimits = .standard) throws -> SecurityAttributeCatalog {
  var catalog = SecurityAttributeCatalog(limits: limits)
  try catalog.createNamespace("app", description: "Application tiers")
  try catalog.createAttribute(
    "tier", in: "app", description: "Tier", validator: .oneOf(["web", "app", "db"]))
  try catalog.createAttribute("owner", in: "app", description: "Owning team")
  return catalog
}

/// The code of the model error a throwing call raises, or nil when it succeeds.
func errorCode(_ body: () throws -> Void) -> ModelError.Code? {
  do {
    try body()
    return nil
  } catch {
    return (error as? ModelError)?.code
  }
}

@Suite("Security attribute catalog")
struct CatalogTests {
  @Test func enableZPRCreatesTheDefaultNamespaceOnce() throws {
    var catalog = SecurityAttributeCatalog()
    try catalog.enableZPR()
    #expect(catalog.namespace(named: "oracle-zpr")?.state == .active)
    #expect(catalog.attribute("sensitivity", in: "oracle-zpr")?.validator == .anyValue)
    #expect(errorCode { try catalog.enableZPR() } == .alreadyEnabled)
    var custom = SecurityAttributeCatalog()
    try custom.enableZPR(defaultNamespace: "corp")
    #expect(custom.attribute("sensitivity", in: "CORP") != nil)
  }

  @Test func namesFollowTheRuleAndAreUniqueIgnoringCase() throws {
    var catalog = try sampleCatalog()
    #expect(errorCode { try catalog.createNamespace("APP", description: "x") } == .duplicateName)
    #expect(errorCode { try catalog.createNamespace("1app", description: "x") } == .invalidName)
    #expect(errorCode { try catalog.createNamespace("my.app", description: "x") } == .invalidName)
    #expect(errorCode { try catalog.createNamespace("my app", description: "x") } == .invalidName)
    #expect(errorCode { try catalog.createNamespace("", description: "x") } == .invalidName)
    #expect(
      errorCode { try catalog.createAttribute("Tier", in: "app", description: "x") }
        == .duplicateName)
    #expect(
      errorCode { try catalog.createAttribute("ok", in: "nope", description: "x") } == .notFound)
    #expect(
      errorCode { try catalog.createNamespace("web-app_2", description: " ") }
        == .missingDescription)
    try catalog.createNamespace("web-app_2", description: "fine")
  }

  @Test func enumValidatorsAreChecked() throws {
    var catalog = try sampleCatalog(limits: ZPRLimits(valuesPerEnum: 3))
    #expect(
      errorCode {
        try catalog.createAttribute("a", in: "app", description: "x", validator: .oneOf([]))
      } == .invalidValidator)
    #expect(
      errorCode {
        try catalog.createAttribute("a", in: "app", description: "x", validator: .oneOf(["x", ""]))
      } == .invalidValidator)
    #expect(
      errorCode {
        try catalog.createAttribute(
          "a", in: "app", description: "x", validator: .oneOf(["x", "x"]))
      } == .invalidValidator)
    do {
      try catalog.createAttribute(
        "a", in: "app", description: "x", validator: .oneOf(["1", "2", "3", "4"]))
      Issue.record("a fourth value must exceed the limit")
    } catch {
      #expect(error.code == .limitExceeded)
      #expect(error.message.contains("valuesPerEnum"))
    }
  }

  @Test func retiringANamespaceRetiresItsAttributesButReactivatingDoesNotReactivateThem() throws {
    var catalog = try sampleCatalog()
    try catalog.retireNamespace("app")
    #expect(catalog.namespace(named: "app")?.state == .inactive)
    #expect(catalog.attribute("tier", in: "app")?.state == .inactive)
    #expect(errorCode { try catalog.reactivateAttribute("tier", in: "app") } == .invalidState)
    try catalog.reactivateNamespace("app")
    #expect(catalog.namespace(named: "app")?.state == .active)
    #expect(catalog.attribute("tier", in: "app")?.state == .inactive)
    try catalog.reactivateAttribute("tier", in: "app")
    #expect(catalog.attribute("tier", in: "app")?.state == .active)
    #expect(catalog.attribute("owner", in: "app")?.state == .inactive)
  }

  @Test func onlyRetiredObjectsCanBeDeleted() throws {
    var catalog = try sampleCatalog()
    #expect(errorCode { try catalog.deleteAttribute("tier", in: "app") } == .invalidState)
    #expect(errorCode { try catalog.deleteNamespace("app") } == .invalidState)
    try catalog.retireAttribute("tier", in: "app")
    #expect(errorCode { try catalog.retireAttribute("tier", in: "app") } == .invalidState)
    try catalog.deleteAttribute("tier", in: "app")
    #expect(catalog.attribute("tier", in: "app") == nil)
    #expect(catalog.namespace(named: "app")?.attributes.first?.state == .deleted)
    // A deleted name may be used again.
    try catalog.createAttribute("tier", in: "app", description: "Tier, again")
    #expect(catalog.attribute("tier", in: "app")?.state == .active)
  }

  @Test func deletingANamespaceNeedsCascadeWhileItHoldsAttributes() throws {
    var catalog = try sampleCatalog()
    try catalog.retireNamespace("app")
    #expect(errorCode { try catalog.deleteNamespace("app") } == .notEmpty)
    #expect(catalog.namespace(named: "app")?.state == .inactive, "a refused delete changes nothing")
    try catalog.beginNamespaceDeletion("app", cascade: true)
    let deleting = try #require(catalog.namespaces.last)
    #expect(deleting.state == .deleting)
    #expect(deleting.attributes.allSatisfy { $0.state == .deleting })
    #expect(catalog.namespace(named: "app") == nil)
    #expect(errorCode { try catalog.reactivateNamespace("app") } == .notFound)
    try catalog.completeNamespaceDeletion("app")
    #expect(catalog.namespaces.last?.state == .deleted)
    #expect(catalog.namespaces.last?.attributes.allSatisfy { $0.state == .deleted } == true)
    #expect(errorCode { try catalog.completeNamespaceDeletion("app") } == .invalidState)
    try catalog.createNamespace("app", description: "A new app namespace")
  }

  @Test func anEmptyRetiredNamespaceDeletesWithoutCascade() throws {
    var catalog = SecurityAttributeCatalog()
    try catalog.createNamespace("empty", description: "Nothing in it")
    try catalog.retireNamespace("empty")
    try catalog.deleteNamespace("empty")
    #expect(catalog.namespace(named: "empty") == nil)
  }

  @Test func aFailedMultiStepChangeChangesNothing() throws {
    var catalog = try sampleCatalog()
    let before = catalog
    #expect(
      errorCode {
        try catalog.change { copy throws(ModelError) in
          try copy.createNamespace("ops", description: "Operations")
          try copy.createAttribute("team", in: "ops", description: "Team")
          try copy.createAttribute("team", in: "ops", description: "Twice")
        }
      } == .duplicateName)
    #expect(catalog == before)
  }

  @Test func updatesChangeDescriptionsAndValidators() throws {
    var catalog = try sampleCatalog()
    try catalog.updateNamespace("APP", description: "Applications")
    #expect(catalog.namespace(named: "app")?.description == "Applications")
    try catalog.updateAttribute("owner", in: "app", validator: .oneOf(["team-a", "team-b"]))
    #expect(catalog.attribute("owner", in: "app")?.validator == .oneOf(["team-a", "team-b"]))
    #expect(
      errorCode { try catalog.updateAttribute("owner", in: "app", description: "") }
        == .missingDescription)
    #expect(
      errorCode { try catalog.updateAttribute("nope", in: "app", description: "x") } == .notFound)
  }

  @Test func errorsNameTheFix() throws {
    var catalog = try sampleCatalog()
    do {
      try catalog.createAttribute("x", in: "ap", description: "x")
      Issue.record("namespace 'ap' does not exist")
    } catch {
      #expect(
        error.message == "there is no namespace named 'ap' (did you mean 'app'?): create it first")
      #expect(error.description.hasSuffix("[ZPR-MODEL-003]"))
    }
    do {
      try catalog.deleteAttribute("tier", in: "app")
      Issue.record("an active attribute cannot be deleted")
    } catch {
      #expect(error.message.contains("retire it first"))
    }
  }
}
