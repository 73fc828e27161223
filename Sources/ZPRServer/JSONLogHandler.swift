import Foundation
public import Logging
import ZPRPolicy

/// A swift-log handler that writes one JSON object per line (`time`, `level`, `label`,
/// `message` and the metadata), for log collectors; `zpr serve --log-format json`.
public struct JSONLogHandler: LogHandler {
  public var logLevel: Logger.Level = .info
  public var metadata: Logger.Metadata = [:]
  let label: String

  /// A handler for a logger's label.
  public init(label: String) {
    self.label = label
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  public func log(event: LogEvent) {
    var object = JSONValue.object([
      ("label", .string(label)), ("level", .string(event.level.rawValue)),
      ("message", .string(event.message.description)),
      ("time", .string(ZPRServer.timestamp(Date()))),
    ])
    for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
      object.set(key, Self.json(value))
    }
    let line = object.sortingKeys.serialized(pretty: false) + "\n"
    FileHandle.standardError.write(Data(line.utf8))
  }

  private static func json(_ value: Logger.MetadataValue) -> JSONValue {
    switch value {
    case .string(let text): .string(text)
    case .stringConvertible(let value): .string(value.description)
    case .array(let values): .array(values.map(json))
    case .dictionary(let values): .object(values.map { ($0.key, json($0.value)) })
    }
  }
}
