import ZPRStore

/// Tells watchers when the revision moves. One task asks the store for the revision (every
/// 50 ms, while anyone waits) and wakes every watcher whose revision it passed, so a thousand
/// watchers cost what one does.
actor RevisionFeed {
  private let store: any Store
  private var waiters: [Int: (after: Int64, continuation: CheckedContinuation<Int64, Never>)] = [:]
  private var nextID = 0
  private var polling: Task<Void, Never>?
  private var latest: Int64 = 0

  init(store: any Store) {
    self.store = store
  }

  /// The revision once it passes `after`, or the latest when the time runs out first.
  func wait(after: Int64, for timeout: Duration) async throws -> Int64 {
    latest = try await store.revision()
    if latest > after || timeout <= .zero { return latest }
    let id = nextID
    nextID += 1
    let timer = Task { [weak self] in
      try? await Task.sleep(for: timeout)
      await self?.finish(id)
    }
    defer { timer.cancel() }
    return await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in
        waiters[id] = (after, continuation)
        startPolling()
      }
    } onCancel: {
      Task { await self.finish(id) }
    }
  }

  /// Answers one watcher with the latest revision (its time ran out, or it went away).
  private func finish(_ id: Int) {
    waiters.removeValue(forKey: id)?.continuation.resume(returning: latest)
  }

  private func startPolling() {
    guard polling == nil else { return }
    polling = Task { [weak self] in
      while let self, await self.poll() {
        try? await Task.sleep(for: .milliseconds(50))
      }
    }
  }

  /// Reads the revision once and wakes those it passed; false when nobody waits any more.
  private func poll() async -> Bool {
    if let revision = try? await store.revision() { latest = revision }
    for (id, waiter) in waiters where latest > waiter.after {
      waiters.removeValue(forKey: id)
      waiter.continuation.resume(returning: latest)
    }
    if waiters.isEmpty {
      polling = nil
      return false
    }
    return true
  }
}
