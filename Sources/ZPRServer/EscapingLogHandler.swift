public import Logging

/// Wraps a text log handler so that what callers sent (names, paths) cannot forge a line of
/// the log: control characters in the message and the metadata are written escaped (`\n`,
/// `\u{1B}`).
public struct EscapingLogHandler<Base: LogHandler>: LogHandler {
  var base: Base

  /// A handler that escapes what it hands to `base`.
  public init(_ base: Base) {
    self.base = base
  }

  public var logLevel: Logger.Level {
    get { base.logLevel }
    set { base.logLevel = newValue }
  }

  public var metadata: Logger.Metadata {
    get { base.metadata }
    set { base.metadata = newValue }
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { base[metadataKey: key] }
    set { base[metadataKey: key] = newValue }
  }

  public func log(event: LogEvent) {
    var event = event
    event.message = "\(Self.escaped(event.message.description))"
    event.metadata = event.metadata?.mapValues(Self.escaped)
    base.log(event: event)
  }

  static func escaped(_ value: Logger.MetadataValue) -> Logger.MetadataValue {
    switch value {
    case .string(let text): .string(escaped(text))
    case .stringConvertible(let value): .string(escaped(value.description))
    case .array(let values): .array(values.map(escaped))
    case .dictionary(let values): .dictionary(values.mapValues(escaped))
    }
  }

  /// A text with its control and format characters written as escapes.
  public static func escaped(_ text: String) -> String {
    TerminalText.escaped(text)
  }
}

/// Text from outside made safe to print on a terminal or in a log line.
public enum TerminalText {
  /// Control characters (C0, C1, DEL), bidi overrides and other format characters written as
  /// `\u{XX}` (`\n` and `\t` as themselves escaped), so nothing printed can move the cursor,
  /// colour the screen, reverse text or start a new line.
  public static func escaped(_ text: String) -> String {
    guard
      text.unicodeScalars.contains(where: needsEscape)
    else { return text }
    var out = ""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      case "\r": out += "\\r"
      case _ where needsEscape(scalar):
        out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
      || scalar.properties.generalCategory == .format
      || scalar.properties.generalCategory == .lineSeparator
      || scalar.properties.generalCategory == .paragraphSeparator
  }
}
