import Synchronization
import ZPRStore

/// Tells watchers when the revision moves. While anyone waits, one task follows the store's
/// announcements (``Store/revisions()``: commits of every replica, told as they happen) and wakes
/// every watcher whose revision they passed, so a thousand watchers cost what one does and
/// nobody polls. One timer serves every watcher's time limit. A woken watcher's request goes on
/// at once: no actor or timer task stands between the announcement and its answer.
final class RevisionFeed: Sendable {
  private struct Waiter {
    var after: Int64
    var deadline: ContinuousClock.Instant
    var continuation: CheckedContinuation<Int64, Never>
  }

  private struct State {
    var waiters: [Int: Waiter] = [:]
    var nextID = 0
    /// Calls of ``wait(after:for:)`` under way (following stops when none is).
    var active = 0
    var following: Task<Void, Never>?
    var latest: Int64 = 0
    /// The timer: when it fires next, and its task.
    var timer: (deadline: ContinuousClock.Instant, task: Task<Void, Never>)?
  }

  private let store: any Store
  private let state = Mutex(State())

  init(store: any Store) {
    self.store = store
  }

  deinit {
    state.withLock { state in
      state.following?.cancel()
      state.timer?.task.cancel()
    }
  }

  /// The revision once it passes `after`, or the latest when the time runs out first.
  func wait(after: Int64, for timeout: Duration) async throws -> Int64 {
    // Follow first, then read: a commit between the two is then announced, not missed.
    state.withLock { state in
      state.active += 1
      if timeout > .zero, state.following == nil { state.following = follow() }
    }
    defer { leave() }
    let read = try await store.revision()
    let latest = state.withLock { state in
      state.latest = max(state.latest, read)
      return state.latest
    }
    if latest > after || timeout <= .zero { return latest }
    let deadline = ContinuousClock.now + timeout
    let id = state.withLock { state in
      defer { state.nextID += 1 }
      return state.nextID
    }
    return await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in
        let now: Int64? = state.withLock { state in
          // Announced meanwhile, or the watcher went away already: answer at once.
          if state.latest > after || Task.isCancelled { return state.latest }
          state.waiters[id] = Waiter(after: after, deadline: deadline, continuation: continuation)
          schedule(&state, deadline)
          return nil
        }
        if let now { continuation.resume(returning: now) }
      }
    } onCancel: {
      finish(id)
    }
  }

  /// A task that follows the store's revisions (watching from this call on).
  private func follow() -> Task<Void, Never> {
    let revisions = store.revisions()
    return Task { [weak self] in
      for await revision in revisions {
        guard let self else { return }
        self.announce(revision)
      }
    }
  }

  /// One call of ``wait(after:for:)`` is over; following stops when it was the last.
  private func leave() {
    state.withLock { state in
      state.active -= 1
      guard state.active == 0, let following = state.following else { return }
      following.cancel()
      state.following = nil
    }
  }

  /// Answers one watcher with the latest revision (it went away).
  private func finish(_ id: Int) {
    let answer = state.withLock { state in
      state.waiters.removeValue(forKey: id).map { ($0.continuation, state.latest) }
    }
    if let answer { answer.0.resume(returning: answer.1) }
  }

  /// Takes a revision the store announced and wakes those it passed.
  private func announce(_ revision: Int64) {
    let woken = state.withLock { state -> [CheckedContinuation<Int64, Never>] in
      guard revision > state.latest else { return [] }
      state.latest = revision
      var woken: [CheckedContinuation<Int64, Never>] = []
      for (id, waiter) in state.waiters where revision > waiter.after {
        state.waiters.removeValue(forKey: id)
        woken.append(waiter.continuation)
      }
      return woken
    }
    for continuation in woken { continuation.resume(returning: revision) }
  }

  /// Sets the timer to fire by `deadline` (it fires at the earliest deadline of all).
  private func schedule(_ state: inout State, _ deadline: ContinuousClock.Instant) {
    if let timer = state.timer, timer.deadline <= deadline { return }
    state.timer?.task.cancel()
    let task = Task { [weak self] in
      guard (try? await Task.sleep(until: deadline, clock: .continuous)) != nil else { return }
      self?.expire()
    }
    state.timer = (deadline, task)
  }

  /// Answers, with the latest revision, the watchers whose time ran out (or runs out within a
  /// few milliseconds: one firing serves those that came together), and sets the timer for
  /// the next.
  private func expire() {
    let (expired, latest) = state.withLock {
      state -> ([CheckedContinuation<Int64, Never>], Int64) in
      state.timer = nil
      let now = ContinuousClock.now + .milliseconds(5)
      var expired: [CheckedContinuation<Int64, Never>] = []
      var next: ContinuousClock.Instant?
      for (id, waiter) in state.waiters {
        if waiter.deadline <= now {
          state.waiters.removeValue(forKey: id)
          expired.append(waiter.continuation)
        } else {
          next = min(next ?? waiter.deadline, waiter.deadline)
        }
      }
      if let next { schedule(&state, next) }
      return (expired, state.latest)
    }
    for continuation in expired { continuation.resume(returning: latest) }
  }
}
