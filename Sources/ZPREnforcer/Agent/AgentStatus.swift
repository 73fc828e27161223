public import Foundation

/// What an agent that enforces a tenancy file last enforced: the record it writes to its
/// status file (`zpr agent --tenancy FILE --status-file PATH`) after each successful
/// enforcement, for whoever waits for it (`zpr lab up`, `zpr lab status`).
public struct AgentStatus: Codable, Hashable, Sendable {
  /// The VNIC the agent enforces for (`web-1`, `web-1/1`).
  public var host: String
  /// The digest of the tenancy file's text the agent enforced (``digest(of:)``).
  public var digest: String
  /// When the agent enforced it.
  public var enforcedAt: Date
  /// The agent's process id.
  public var pid: Int32

  /// A status record.
  public init(host: String, digest: String, enforcedAt: Date, pid: Int32) {
    self.host = host
    self.digest = digest
    self.enforcedAt = enforcedAt
    self.pid = pid
  }

  /// The digest of a tenancy file's text: its 64-bit FNV-1a hash of the UTF-8 bytes, as
  /// `fnv1a64:` and 16 hex digits. It tells versions of a file apart; it is no seal.
  public static func digest(of text: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
      hash ^= UInt64(byte)
      hash &*= 0x0000_0100_0000_01b3
    }
    let hex = String(hash, radix: 16)
    return "fnv1a64:" + String(repeating: "0", count: 16 - hex.count) + hex
  }

  /// The record as JSON (keys sorted, the time in ISO 8601).
  public func encoded() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    return try encoder.encode(self)
  }

  /// The record of a JSON text, or nil when it is not one.
  public static func decoded(_ data: Data) -> AgentStatus? {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return try? decoder.decode(AgentStatus.self, from: data)
  }

  /// Writes the record to a file atomically: to a temporary file beside it, then renamed over
  /// it, so a reader sees the old record or the new one, never a part.
  public func write(to path: String) throws {
    let temporary = path + ".tmp-\(getpid())"
    try encoded().write(to: URL(fileURLWithPath: temporary))
    guard rename(temporary, path) == 0 else {
      let code = POSIXErrorCode(rawValue: errno) ?? .EIO
      try? FileManager.default.removeItem(atPath: temporary)
      throw POSIXError(code)
    }
  }

  /// The record in a file; nil when there is none (the agent has not enforced yet) or it is
  /// not one.
  public static func read(from path: String) -> AgentStatus? {
    FileManager.default.contents(atPath: path).flatMap(decoded)
  }
}
