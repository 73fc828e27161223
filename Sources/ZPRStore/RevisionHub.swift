import Foundation
import Synchronization

/// Hands the revisions a store learns of (from its own commits, from the database's
/// notifications, from a slow safety poll) to everyone watching it. Each watcher's stream keeps
/// only the newest revision it has not read yet, so a slow watcher costs one value, not a queue.
final class RevisionHub: Sendable {
  private struct State {
    /// The highest revision announced so far (0: none yet).
    var latest: Int64 = 0
    var watchers: [Int: AsyncStream<Int64>.Continuation] = [:]
    var nextID = 0
  }

  private let state = Mutex(State())

  /// Tells every watcher of a revision, unless a later one was already told.
  func announce(_ revision: Int64) {
    // Yields happen under the lock, so that every watcher sees revisions in increasing order:
    // its stream keeps only the newest, and an older one arriving late must not replace it.
    state.withLock { state in
      guard revision > state.latest else { return }
      state.latest = revision
      for watcher in state.watchers.values { watcher.yield(revision) }
    }
  }

  /// A stream of the revisions announced from now on, starting with the latest already known.
  func watch() -> AsyncStream<Int64> {
    let (stream, continuation) = AsyncStream.makeStream(
      of: Int64.self, bufferingPolicy: .bufferingNewest(1))
    let id = state.withLock { state in
      let id = state.nextID
      state.nextID += 1
      state.watchers[id] = continuation
      if state.latest > 0 { continuation.yield(state.latest) }
      return id
    }
    continuation.onTermination = { [weak self] _ in
      _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
    }
    return stream
  }
}

/// One background task, started the first time it is asked for and cancelled when its owner
/// (a store) goes away.
final class BackgroundTask: Sendable {
  private let task = Mutex<Task<Void, Never>?>(nil)

  /// Starts the task unless it runs already.
  func start(_ operation: @escaping @Sendable () async -> Void) {
    task.withLock { task in
      if task == nil { task = Task(operation: operation) }
    }
  }

  deinit { task.withLock { $0?.cancel() } }
}

/// The hubs of the SQLite files this process has open, by canonical path: two store objects on
/// one file (two "replicas" in one process) share one, so a commit through either wakes the
/// watchers of both.
enum SQLiteHubs {
  private struct Entry: Sendable {
    weak var hub: RevisionHub?
  }

  private static let hubs = Mutex<[String: Entry]>([:])

  /// The hub of the file at `path`, made on first use.
  static func hub(for path: String) -> RevisionHub {
    let key = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    return hubs.withLock { hubs in
      if let hub = hubs[key]?.hub { return hub }
      hubs = hubs.filter { $0.value.hub != nil }
      let hub = RevisionHub()
      hubs[key] = Entry(hub: hub)
      return hub
    }
  }
}
