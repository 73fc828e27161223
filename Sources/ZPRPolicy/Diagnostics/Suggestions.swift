/// Did-you-mean helpers shared by every diagnostic that suggests a spelling.
public enum Suggestions {
  /// The candidate closest to `word` (ignoring case), when it is close enough to be a slip.
  public static func closest(to word: String, among candidates: [String]) -> String? {
    let lowered = word.lowercased()
    var best: (candidate: String, distance: Int)?
    for candidate in candidates {
      let distance = editDistance(lowered, candidate.lowercased())
      let allowed = max(1, min(3, candidate.count / 3))
      if distance <= allowed, distance < (best?.distance ?? .max) {
        best = (candidate, distance)
      }
    }
    return best?.candidate
  }

  /// Levenshtein distance with transpositions counted as one edit.
  static func editDistance(_ lhs: String, _ rhs: String) -> Int {
    let a = Array(lhs.unicodeScalars)
    let b = Array(rhs.unicodeScalars)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previousPrevious = [Int](repeating: 0, count: b.count + 1)
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
      current[0] = i
      for j in 1...b.count {
        let cost = a[i - 1] == b[j - 1] ? 0 : 1
        current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
          current[j] = min(current[j], previousPrevious[j - 2] + 1)
        }
      }
      (previousPrevious, previous, current) = (previous, current, previousPrevious)
    }
    return previous[b.count]
  }

  /// Well-known service names and their ports, for "ports are numeric" hints.
  static let servicePorts: [String: Int] = [
    "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "dns": 53, "domain": 53, "http": 80,
    "kerberos": 88, "pop3": 110, "ntp": 123, "imap": 143, "snmp": 161, "ldap": 389,
    "https": 443, "smb": 445, "syslog": 514, "ldaps": 636, "sqlnet": 1521, "oracle": 1521,
    "mysql": 3306, "rdp": 3389, "postgres": 5432, "postgresql": 5432, "redis": 6379,
    "http-alt": 8080, "kafka": 9092, "mongodb": 27017,
  ]

  /// IANA protocol numbers people write instead of names.
  static let protocolNumbers: [String: TransportProtocol] = [
    "6": .tcp, "17": .udp, "1": .icmp, "58": .icmp6,
  ]
}
