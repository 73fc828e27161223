public import ZPRPolicy

/// Who a statement is about.
public enum IAMSubject: Hashable, Sendable {
  /// `group A, B`: members of any of these groups.
  case groups([String])
  /// `group id OCID, id OCID`: members of any of the groups with these ids.
  case groupIDs([String])
  /// `any-user`: everyone with a key.
  case anyUser
  /// `any-group`: everyone in at least one group.
  case anyGroup
  /// `dynamic-group A, B`: the cloud service's dynamic groups, which zpr has none of.
  case dynamicGroups([String])
  /// `dynamic-group id OCID, id OCID`: dynamic groups by id, which zpr has none of.
  case dynamicGroupIDs([String])
  /// `service A, B`: the cloud service's own services, which are not callers of zpr.
  case services([String])

  /// Whether zpr has callers this subject can be about (false: the statement grants nothing).
  public var hasMembersHere: Bool {
    switch self {
    case .groups, .groupIDs, .anyUser, .anyGroup: true
    case .dynamicGroups, .dynamicGroupIDs, .services: false
    }
  }
}

/// Where a statement applies.
public enum IAMLocation: Hashable, Sendable, CustomStringConvertible {
  /// `in tenancy`: everywhere.
  case tenancy
  /// `in compartment A:B`: compartment B inside A, and every compartment inside it.
  case compartment([String])

  public var description: String {
    switch self {
    case .tenancy: "tenancy"
    case .compartment(let path): "compartment " + path.joined(separator: ":")
    }
  }
}

/// A `where` clause.
public indirect enum IAMCondition: Hashable, Sendable {
  case equals(variable: String, value: String, range: SourceRange)
  case notEquals(variable: String, value: String, range: SourceRange)
  /// `all {...}`: every clause holds.
  case all([IAMCondition])
  /// `any {...}`: one clause holds.
  case any([IAMCondition])
}

/// One IAM statement: `Allow group G to VERB TYPE in LOCATION [where CONDITION]`.
public struct IAMStatement: Hashable, Sendable {
  public var subject: IAMSubject
  public var verb: IAMVerb
  /// The resource type or family as the catalog names it (`vcns`, `instance-family`), or a type
  /// of the cloud service that zpr does not manage (`buckets`), which grants nothing here.
  public var resource: String
  public var location: IAMLocation
  public var condition: IAMCondition?
  /// The statement's whole text in its file.
  public var range: SourceRange

  /// The statement in canonical form.
  public var canonical: String {
    var text = "allow "
    switch subject {
    case .anyUser: text += "any-user"
    case .anyGroup: text += "any-group"
    case .groups(let groups): text += "group " + groups.map(Self.name).joined(separator: ", ")
    case .groupIDs(let ids):
      text += "group " + ids.map { "id " + Self.name($0) }.joined(separator: ", ")
    case .dynamicGroups(let groups):
      text += "dynamic-group " + groups.map(Self.name).joined(separator: ", ")
    case .dynamicGroupIDs(let ids):
      text += "dynamic-group " + ids.map { "id " + Self.name($0) }.joined(separator: ", ")
    case .services(let services):
      text += "service " + services.map(Self.name).joined(separator: ", ")
    }
    text += " to \(verb.rawValue) \(resource) in "
    switch location {
    case .tenancy: text += "tenancy"
    case .compartment(let path):
      // A name from quotes is one compartment, whatever it holds: it is quoted again.
      text +=
        "compartment "
        + (path.count > 1
          ? path.joined(separator: ":")
          : path[0].lowercased() == "where" ? Self.quoted(path[0]) : Self.name(path[0]))
    }
    if let condition { text += " where " + Self.text(of: condition) }
    return text
  }

  private static func name(_ name: String) -> String {
    // `to` and `id` are quoted, so as to be read as names, not keywords.
    name.allSatisfy { $0.isLetter || $0.isNumber || "-_.@".contains($0) }
      && !["to", "id"].contains(name.lowercased()) && !name.isEmpty
      ? name : quoted(name)
  }

  private static func quoted(_ text: String) -> String {
    "'" + text.replacing("'", with: "''") + "'"
  }

  /// A condition in canonical form (what follows `where`).
  public static func text(of condition: IAMCondition) -> String {
    switch condition {
    case .equals(let variable, let value, _): "\(variable)='\(value.replacing("'", with: "''"))'"
    case .notEquals(let variable, let value, _):
      "\(variable)!='\(value.replacing("'", with: "''"))'"
    case .all(let clauses): "all {" + clauses.map(text).joined(separator: ", ") + "}"
    case .any(let clauses): "any {" + clauses.map(text).joined(separator: ", ") + "}"
    }
  }
}

/// A file of IAM statements (one per line, `#` comments), parsed.
public struct IAMPolicyFile: Sendable {
  public var source: SourceFile
  public var statements: [IAMStatement]
  public var diagnostics: [Diagnostic]
  /// How many lines held a statement (parsed or not).
  public var statementCount: Int
}

/// The IAM diagnostic codes.
public enum IAMCode {
  public static let unexpectedCharacter = DiagnosticCode("IAM001", "unexpected character")
  public static let badQuote = DiagnosticCode("IAM002", "unterminated or double-quoted string")
  public static let expectedWord = DiagnosticCode("IAM010", "expected a keyword")
  public static let missingGroupKeyword = DiagnosticCode(
    "IAM011", "a group name without the keyword 'group'")
  public static let extraText = DiagnosticCode("IAM012", "text after the end of the statement")
  public static let unknownVerb = DiagnosticCode("IAM020", "unknown verb")
  public static let unknownResourceType = DiagnosticCode("IAM021", "unknown resource type")
  public static let spacedResourceType = DiagnosticCode(
    "IAM022", "resource type written with spaces")
  public static let unknownVariable = DiagnosticCode("IAM030", "unknown variable")
  public static let unknownPermission = DiagnosticCode("IAM031", "unknown permission")
  public static let unknownOperation = DiagnosticCode("IAM032", "unknown operation")
  public static let permissionNotGranted = DiagnosticCode(
    "IAM033", "permission the statement cannot grant")
  public static let badOperator = DiagnosticCode("IAM034", "expected = or !=")
  public static let badCompartment = DiagnosticCode("IAM040", "malformed compartment path")
  public static let subjectWithoutMembers = DiagnosticCode(
    "IAM013", "a subject zpr has no callers for: the statement grants nothing here")
  public static let unmanagedResourceType = DiagnosticCode(
    "IAM023", "resource type zpr does not manage: the statement grants nothing here")
  public static let statementTooLong = DiagnosticCode("IAM050", "statement longer than the limit")
  public static let tooManyStatements = DiagnosticCode(
    "IAM051", "more statements in one policy than the limit")
  public static let moreDiagnostics = DiagnosticCode(
    "IAM052", "more diagnostics than are shown")

  /// Every code, in order (docs/iam.md lists the same).
  public static let all: [DiagnosticCode] = [
    unexpectedCharacter, badQuote, expectedWord, missingGroupKeyword, extraText,
    subjectWithoutMembers, unknownVerb, unknownResourceType, spacedResourceType,
    unmanagedResourceType, unknownVariable, unknownPermission, unknownOperation,
    permissionNotGranted, badOperator, badCompartment, statementTooLong, tooManyStatements,
    moreDiagnostics,
  ]
}
