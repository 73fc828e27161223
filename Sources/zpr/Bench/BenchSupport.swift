import Foundation
import Glibc

/// The process's memory, from /proc (Linux); zeros elsewhere.
enum Memory {
  /// A field of /proc/self/status in bytes (`VmRSS`, `VmHWM`), or 0 where there is none.
  static func procStatus(_ field: String) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
      return 0
    }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
      let kibibytes = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
      return kibibytes * 1024
    }
    return 0
  }

  /// Hands memory the allocator holds but no longer uses back to the system, then resets the
  /// kernel's peak-RSS mark (VmHWM) to the current RSS, so that the next reading is the peak of
  /// what follows (not hidden by memory freed earlier and reused).
  static func resetPeak() {
    // glibc's malloc_trim, which Swift's Glibc module does not export.
    if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") {
      let trim = unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
      _ = trim(0)
    }
    try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
  }
}

/// The baseline every bench runs in the same process: splitting the text into lines and words
/// with the standard library, the least any reader of the text must do.
func splitBaseline(_ text: String) -> Duration {
  var words = 0
  let elapsed = ContinuousClock().measure {
    for line in text.split(separator: "\n") { words += line.split(separator: " ").count }
  }
  precondition(words > 0, "the baseline read nothing")
  return elapsed
}

/// A duration in seconds.
func seconds(_ duration: Duration) -> Double {
  Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
