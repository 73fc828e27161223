import Foundation

/// Why a name was refused: what is wrong with it and what to do, naming any offending
/// character as U+XXXX.
public struct NameProblem: Error, Hashable, Sendable, CustomStringConvertible {
  /// The ways a name can break the rules.
  public enum Kind: Hashable, Sendable {
    /// The name is empty, or only whitespace.
    case blank
    /// Whitespace at the start or the end.
    case surroundingWhitespace
    /// A character the rule does not allow.
    case forbiddenCharacter(Unicode.Scalar)
    /// A principal name that does not start with a letter or digit.
    case badStart
    /// Longer than ``NameRules/maxLength`` characters.
    case tooLong(Int)
  }

  /// How the name breaks the rules.
  public let kind: Kind
  /// What is wrong and how to fix it.
  public let message: String

  /// A problem from its kind and message.
  public init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }

  public var description: String { message }
}

/// The naming rules for everything a tenancy names, in one place: resource names (compartments,
/// VCNs, subnets, route tables, security lists, NSGs, gateways, DRGs, instances and other
/// resources, policies, tests, groups, IAM policies) and principal names (users, as API keys and
/// group members name them).
public enum NameRules {
  /// The longest name, in Unicode scalars (after normalization).
  public static let maxLength = 100

  /// Characters allowed in a principal name besides ASCII letters and digits.
  public static let principalPunctuation: Set<Unicode.Scalar> = [".", "_", "-", "@", "+"]

  /// A resource name in Unicode NFC, or its problem: it must not be blank, start or end with
  /// whitespace, hold control (Cc), format (Cf: bidi overrides, zero-width characters) or
  /// line and paragraph separator characters, nor be longer than ``maxLength`` characters.
  public static func resourceName(_ name: String) -> Result<String, NameProblem> {
    // Normalization can shorten a name by at most a few scalars per character: a name this long
    // is too long whatever it normalizes to, and is not normalized.
    let written = name.unicodeScalars.count
    if written > maxLength * 4 { return .failure(tooLong(name, count: written, what: "name")) }
    let normalized = name.precomposedStringWithCanonicalMapping
    let scalars = normalized.unicodeScalars
    guard scalars.contains(where: { !$0.properties.isWhitespace }) else {
      return .failure(
        NameProblem(
          .blank,
          name.isEmpty
            ? "the name is empty: give it a name"
            : "the name \(shown(name)) is only whitespace: give it a name"))
    }
    if let first = scalars.first, let last = scalars.last,
      first.properties.isWhitespace || last.properties.isWhitespace
    {
      return .failure(
        NameProblem(
          .surroundingWhitespace,
          "the name \(shown(name)) starts or ends with whitespace: remove it"))
    }
    if let bad = scalars.first(where: isForbidden) {
      return .failure(
        NameProblem(
          .forbiddenCharacter(bad),
          "the name \(shown(name)) contains \(code(bad)) (\(category(bad))), which names may not "
            + "hold: remove it"))
    }
    guard scalars.count <= maxLength else {
      return .failure(tooLong(name, count: scalars.count, what: "name"))
    }
    return .success(normalized)
  }

  /// A principal (user) name, or its problem: 1 to ``maxLength`` ASCII letters, digits and
  /// `. _ - @ +`, starting with a letter or digit, so that no two names look alike.
  public static func principalName(_ name: String) -> Result<String, NameProblem> {
    let scalars = name.unicodeScalars
    guard let first = scalars.first else {
      return .failure(NameProblem(.blank, "the user name is empty: give the user's name"))
    }
    if let bad = scalars.first(where: { !isPrincipalScalar($0) }) {
      return .failure(
        NameProblem(
          .forbiddenCharacter(bad),
          "the user name \(shown(name)) contains \(code(bad))"
            + (bad.isASCII && !bad.properties.isWhitespace && bad.value >= 0x20
              ? " ('\(Character(bad))')" : "")
            + ": user names use only ASCII letters, digits and . _ - @ +"))
    }
    guard isASCIILetter(first) || isASCIIDigit(first) else {
      return .failure(
        NameProblem(
          .badStart, "the user name \(shown(name)) must start with an ASCII letter or digit"))
    }
    guard scalars.count <= maxLength else {
      return .failure(tooLong(name, count: scalars.count, what: "user name"))
    }
    return .success(name)
  }

  // MARK: Characters

  /// Control, format and line or paragraph separator characters.
  static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .control, .format, .lineSeparator, .paragraphSeparator: true
    default: false
    }
  }

  private static func isPrincipalScalar(_ scalar: Unicode.Scalar) -> Bool {
    isASCIILetter(scalar) || isASCIIDigit(scalar) || principalPunctuation.contains(scalar)
  }

  private static func isASCIILetter(_ scalar: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
  }

  private static func isASCIIDigit(_ scalar: Unicode.Scalar) -> Bool {
    ("0"..."9").contains(scalar)
  }

  // MARK: Messages

  private static func tooLong(_ name: String, count: Int, what: String) -> NameProblem {
    NameProblem(
      .tooLong(count),
      "the \(what) \(shown(name)) is \(count) characters long: a \(what) has at most "
        + "\(maxLength)")
  }

  /// `U+202E`.
  static func code(_ scalar: Unicode.Scalar) -> String {
    let hex = String(scalar.value, radix: 16, uppercase: true)
    return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
  }

  private static func category(_ scalar: Unicode.Scalar) -> String {
    switch scalar.properties.generalCategory {
    case .control: "a control character"
    case .format: "an invisible formatting character, such as a bidi override or zero-width space"
    default: "a line or paragraph separator"
    }
  }

  /// A name for a message: quoted, invisible and unusual characters written as <U+XXXX>, and cut
  /// short when long.
  static func shown(_ name: String) -> String {
    var text = ""
    for (index, scalar) in name.unicodeScalars.enumerated() {
      if index == 40 {
        text += "..."
        break
      }
      if isForbidden(scalar) || (scalar.properties.isWhitespace && scalar != " ") {
        text += "<\(code(scalar))>"
      } else {
        text.unicodeScalars.append(scalar)
      }
    }
    return "'\(text)'"
  }
}
