import Hummingbird
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// How long a client may take and how many may be connected at once. Without these an idle
/// connection, a header sent a byte a second or a body that declares 10 GB and sends one byte
/// were each held open for ever, and enough of them used up the process's file descriptors: the
/// API stopped answering and the template reloader could not open its files.
public struct ConnectionLimits: Sendable, Equatable {
    /// From the first byte of a request to the end of its header (`http_header_timeout_seconds`).
    public var headerTimeout: Duration
    /// From the end of a request's header to the end of its body (`http_body_timeout_seconds`).
    public var bodyTimeout: Duration
    /// A connection with no request in progress, new or kept alive, is closed after this
    /// (`http_idle_timeout_seconds`).
    public var idleTimeout: Duration
    /// Connections beyond this many are answered 503 and closed at once (`http_max_connections`).
    public var maxConnections: Int

    public init(headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(60), idleTimeout: Duration = .seconds(60),
                maxConnections: Int = 1000) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }
}

/// Open connections, counted across the server's event loops.
final class ConnectionCount: Sendable {
    private let open = Atomic<Int>(0)
    private let refusedSinceLog = Atomic<Int>(0)
    private let lastRefusalLog = Mutex<ContinuousClock.Instant?>(nil)

    /// Counts a new connection; the number now open, this one included.
    func opened() -> Int { open.wrappingAdd(1, ordering: .relaxed).newValue }
    func closed() { open.wrappingSubtract(1, ordering: .relaxed) }
    var current: Int { open.load(ordering: .relaxed) }

    /// Logs refusals at most once every ten seconds, with how many there were.
    func refused(logger: Logger, limit: Int) {
        let refused = refusedSinceLog.wrappingAdd(1, ordering: .relaxed).newValue
        let now = ContinuousClock.now
        let due = lastRefusalLog.withLock { last in
            guard last.map({ now - $0 >= .seconds(10) }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        refusedSinceLog.wrappingSubtract(refused, ordering: .relaxed)
        logger.warning("HTTP connections refused: too many open", metadata: [
            "refused": "\(refused)", "http_max_connections": "\(limit)",
            "fix": "find the clients holding connections; raise http_max_connections only within the file-descriptor limit",
        ])
    }
}

/// HTTP/1.1 with the limits: a connection over the cap gets a 503 and is closed; every other one
/// is timed by `ConnectionTimer` (raw bytes) and `RequestPartTimer` (decoded request parts).
struct LimitedHTTP1Channel: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        let channel: any Channel
        /// Nil for a refused connection: nothing to serve.
        let http: HTTP1Channel.Value?
    }

    let http1: HTTP1Channel
    let limits: ConnectionLimits
    let connections: ConnectionCount

    init(responder: @escaping HTTPChannelHandler.Responder, limits: ConnectionLimits, connections: ConnectionCount) {
        self.http1 = HTTP1Channel(responder: responder, configuration: .init(additionalChannelHandlers: [RequestPartTimer()]))
        self.limits = limits
        self.connections = connections
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let open = connections.opened()
        channel.closeFuture.whenComplete { [connections] _ in connections.closed() }
        guard open <= limits.maxConnections else {
            connections.refused(logger: logger, limit: limits.maxConnections)
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(RefusedConnection())
                return Value(channel: channel, http: nil)
            }
        }
        do {
            try channel.pipeline.syncOperations.addHandler(ConnectionTimer(limits: limits, logger: logger), position: .first)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return http1.setup(channel: channel, logger: logger).map { Value(channel: channel, http: $0) }
    }

    func handle(value: Value, logger: Logger) async {
        guard let http = value.http else { return }
        await http1.handle(value: http, logger: logger)
    }
}

/// First in the pipeline, next to the socket: sees a request's first bytes (before the HTTP
/// decoder has a whole header), sees which writes reach the socket, and holds the one deadline
/// the connection has at any moment.
final class ConnectionTimer: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    enum Phase: String {
        /// No request in progress: the idle timeout runs.
        case idle
        /// A request's first bytes came, its header is not complete: the header timeout runs.
        case header
        /// The header came, the body has not ended: the body timeout runs.
        case body
        /// The whole request came; the handler is answering. No limit while it works (that is the
        /// server's own time), but while its answer waits on a client that does not read (the
        /// channel is not writable), the body timeout runs from the last write that reached the
        /// socket: such a client would otherwise hold its connection, and a place under
        /// `http_max_connections`, for ever.
        case handling
    }

    let limits: ConnectionLimits
    let logger: Logger
    private(set) var phase = Phase.idle
    private var started = false
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    /// Requests whose header was read and whose response has not been written to its end.
    private var unanswered = 0
    private var responseStarted = false
    /// Bytes of a next (pipelined) request came while the current one was being answered.
    private var bytesWhileHandling = false

    init(limits: ConnectionLimits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancel()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        start()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if phase == .handling { watchWrites() }
        context.fireChannelWritabilityChanged()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The promise completes once the bytes are handed to the socket: the client is reading.
        let written = promise ?? context.eventLoop.makePromise()
        written.futureResult.assumeIsolated().whenSuccess { [self] in
            if phase == .handling { watchWrites() }
        }
        context.write(data, promise: written)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch phase {
        case .idle: enter(.header)
        case .handling: bytesWhileHandling = true
        case .header, .body: break
        }
        context.fireChannelRead(data)
    }

    private func start() {
        guard !started else { return }
        started = true
        enter(.idle)
    }

    // Told by RequestPartTimer, on the same event loop.
    func headerRead() {
        unanswered += 1
        responseStarted = false
        enter(.body)
    }

    func requestEnded() {
        guard phase == .body else { return }
        // Answered before its body ended (a 413, say): the rest was only being drained.
        if unanswered == 0 { enter(nextWaiting()) } else { enter(.handling) }
    }

    func responseHeadWritten() { responseStarted = true }

    func responseEnded() {
        unanswered = max(0, unanswered - 1)
        if phase == .handling, unanswered == 0 { enter(nextWaiting()) }
    }

    private func nextWaiting() -> Phase {
        defer { bytesWhileHandling = false }
        return bytesWhileHandling ? .header : .idle
    }

    private func enter(_ next: Phase) {
        cancel()
        phase = next
        switch next {
        case .idle: schedule(limits.idleTimeout)
        case .header: schedule(limits.headerTimeout)
        case .body: schedule(limits.bodyTimeout)
        case .handling: watchWrites()
        }
    }

    /// While answering: a deadline only when the answer cannot be written (the client is not
    /// reading), restarted each time a write reaches the socket, gone once it can be written again.
    private func watchWrites() {
        cancel()
        guard let context, !context.channel.isWritable else { return }
        schedule(limits.bodyTimeout)
    }

    private func schedule(_ limit: Duration) {
        guard let context else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(limit)) { [self] in expire(limit) }
    }

    private func cancel() {
        timer?.cancel()
        timer = nil
    }

    private func expire(_ limit: Duration) {
        timer = nil
        guard let context, context.channel.isActive else { return }
        logger.debug(phase == .handling ? "HTTP connection closed: the client does not read its response" : "HTTP connection closed: too slow", metadata: ["phase": "\(phase.rawValue)", "limit": "\(limit)",
                                                                    "peer": "\(context.remoteAddress?.description ?? "-")"])
        // A client still sending its request is told why; an idle one is simply closed.
        if phase == .header || (phase == .body && !responseStarted) {
            let body = #"{"error":{"code":"request_timeout","message":"the request was not received in time; send it whole without pausing"}}"#
            let response = "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json; charset=utf-8\r\nconnection: close\r\n"
                + "content-length: \(body.utf8.count)\r\n\r\n" + body
            // Closed once written: closing first could drop the answer.
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(ByteBuffer(string: response)))).assumeIsolated()
                .whenComplete { _ in context.close(promise: nil) }
        } else {
            context.close(promise: nil)
        }
    }
}

/// After the HTTP decoder: tells the ConnectionTimer where each request and response is.
final class RequestPartTimer: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPConnectionStateHandler.InboundIn
    typealias InboundOut = HTTPConnectionStateHandler.InboundIn
    typealias OutboundIn = HTTPConnectionStateHandler.OutboundIn
    typealias OutboundOut = HTTPConnectionStateHandler.OutboundIn

    private var timer: ConnectionTimer?

    func handlerAdded(context: ChannelHandlerContext) {
        timer = try? context.pipeline.syncOperations.handler(type: ConnectionTimer.self)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(var head):
            timer?.headerRead()
            // The peer's address for the handlers (the console counts failed sign-ins by it);
            // whatever a client sent under that name is replaced.
            head.headerFields[PeerAddress.header] = context.remoteAddress?.ipAddress
            context.fireChannelRead(wrapInboundOut(.head(head)))
            return
        case .body: break
        case .end: timer?.requestEnded()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head: timer?.responseHeadWritten()
        case .body: break
        case .end: timer?.responseEnded()
        }
        context.write(data, promise: promise)
    }
}

/// The address of the connection's peer, set by the server on every request it reads (a value a
/// client sends under the same name is replaced, never passed on). Absent when a request does not
/// come through the server (router tests).
public enum PeerAddress {
    public static let header = HTTPField.Name("Gateway-Peer-Address")!
}

/// A connection over `http_max_connections`: answered 503 at once, without reading a request, and
/// closed as soon as that is written. Not waiting for the client to close its side matters: under
/// a flood, refused connections that linger use up the very descriptors the cap is there to keep.
final class RefusedConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var refused = false

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}   // whatever it sends is not read

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func refuse(_ context: ChannelHandlerContext) {
        guard !refused else { return }
        refused = true
        let body = #"{"error":{"code":"too_many_connections","message":"the server has as many connections open as it allows; try again shortly"}}"#
        let response = "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json; charset=utf-8\r\nretry-after: 1\r\nconnection: close\r\n"
            + "content-length: \(body.utf8.count)\r\n\r\n" + body
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}

/// A request that declares a body larger than any route takes (Content-Length) is answered 413 at
/// once, before a byte of it is read; each route still enforces its own, smaller limit as it reads.
/// What the client goes on sending is read and dropped until the body timeout closes the connection.
struct DeclaredBodyLimit<Context: RequestContext>: RouterMiddleware {
    let maxBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let declared = request.headers[.contentLength], let length = Int(declared), length > maxBytes {
            return JSONResponse.error(.contentTooLarge, "too_large",
                                      "the body declares \(length) bytes; no request here takes more than \(maxBytes) (Content-Length)")
        }
        return try await next(request, context)
    }
}
