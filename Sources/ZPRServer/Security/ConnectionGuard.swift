import NIOCore
import NIOHTTPTypes
import Synchronization

/// How many connections are open, shared by every connection's guard.
final class ConnectionCount: Sendable {
  let open = Atomic<Int>(0)
}

/// Holds each connection to the server's limits: a connection over the cap is closed as it
/// arrives; one that does not send a complete request head in time (after connecting or after
/// its last response), or the rest of a request once its head came, is closed. Slow or idle
/// clients cannot hold the server's connections.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPRequestPart
  typealias InboundOut = HTTPRequestPart
  typealias OutboundIn = HTTPResponsePart
  typealias OutboundOut = HTTPResponsePart

  private let limits: ServerLimits
  private let count: ConnectionCount
  private var counted = false
  private var deadline: Scheduled<Void>?

  init(limits: ServerLimits, count: ConnectionCount) {
    self.limits = limits
    self.count = count
  }

  func handlerAdded(context: ChannelHandlerContext) {
    if context.channel.isActive { start(context) }
  }

  func channelActive(context: ChannelHandlerContext) {
    start(context)
    context.fireChannelActive()
  }

  private func start(_ context: ChannelHandlerContext) {
    guard !counted else { return }
    counted = true
    let open = count.open.wrappingAdd(1, ordering: .relaxed).newValue
    if open > limits.connections {
      context.close(promise: nil)
      return
    }
    arm(context, seconds: limits.headerSeconds)
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    release()
  }

  func channelInactive(context: ChannelHandlerContext) {
    release()
    context.fireChannelInactive()
  }

  private func release() {
    deadline?.cancel()
    deadline = nil
    if counted {
      counted = false
      count.open.wrappingSubtract(1, ordering: .relaxed)
    }
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head: arm(context, seconds: limits.bodySeconds)
    case .body: break
    case .end:
      deadline?.cancel()
      deadline = nil
    }
    context.fireChannelRead(data)
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    if case .end = unwrapOutboundIn(data) { arm(context, seconds: limits.headerSeconds) }
    context.write(data, promise: promise)
  }

  /// Closes the connection unless the next step comes within the time.
  private func arm(_ context: ChannelHandlerContext, seconds: Int) {
    deadline?.cancel()
    let loop = context.eventLoop.assumeIsolatedUnsafeUnchecked()
    deadline = loop.scheduleTask(in: .seconds(Int64(seconds))) { [context] in
      context.close(promise: nil)
    }
  }
}
