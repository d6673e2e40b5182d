import HTTPTypes
import Logging
import NIOCore
import NIOEmbedded
import Testing
@testable import GatewayHTTP

/// What the connection limits decide, on the server's real HTTP/1.1 pipeline (LimitedHTTP1Channel's
/// own setup) in an EmbeddedChannel whose clock only moves when the test moves it: every deadline
/// is checked one nanosecond before and at the moment it is due, whatever the machine's load.
@Suite struct ConnectionLimitsTimerTests {
    static let limits = ConnectionLimits(headerTimeout: .seconds(10), bodyTimeout: .seconds(60), idleTimeout: .seconds(30), maxConnections: 100)

    /// A connection as the server sees it: bytes in from the client, response parts out from the
    /// handler (as Hummingbird's responder writes them), and the bytes that reach the socket.
    final class Connection {
        let channel = EmbeddedChannel()
        /// Stands for the socket: holds each write's promise until the client has read it.
        let socket = SlowReader()
        var loop: EmbeddedEventLoop { channel.embeddedEventLoop }

        /// What the server's handler would read from and write to (kept until the end, as it would be).
        private var served: LimitedHTTP1Channel.Value?

        init() throws {
            // Set up as the server sets up an accepted connection: already active.
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
            let server = LimitedHTTP1Channel(responder: { _, _, _ in }, limits: ConnectionLimitsTimerTests.limits, connections: ConnectionCount())
            served = try server.setup(channel: channel, logger: Logger(label: "connection-limits-timer-test")).wait()
            try channel.pipeline.syncOperations.addHandler(socket, position: .first)
        }

        func send(_ text: String) throws { try channel.writeInbound(ByteBuffer(string: text)) }
        /// Written without waiting for the socket (which holds it until the client reads).
        func respond(_ part: RequestPartTimer.OutboundIn) throws { channel.writeAndFlush(part, promise: nil) }
        func respondOK(body: String) throws {
            try respond(.head(HTTPResponse(status: .ok, headerFields: [.contentLength: "\(body.utf8.count)"])))
            try respond(.body(ByteBuffer(string: body)))
            try respond(.end(nil))
        }
        func advance(_ time: Duration) { loop.advanceTime(by: TimeAmount(time)) }
        /// Bytes written to the socket since last asked.
        func written() throws -> String {
            var text = ""
            while let data = try channel.readOutbound(as: IOData.self) {
                guard case .byteBuffer(let buffer) = data else { Issue.record("a file region written"); continue }
                text += String(buffer: buffer)
            }
            return text
        }
        var open: Bool { channel.isActive }
        /// The client stops or starts reading: the socket's buffer fills or drains.
        func clientReads(_ reading: Bool) {
            if !reading { socket.holding = true }
            channel.isWritable = reading
            channel.pipeline.fireChannelWritabilityChanged()
        }
        deinit {
            served?.http?.outbound.finish()
            _ = try? channel.finish(acceptAlreadyClosed: true)
        }
    }

    /// The socket: passes the bytes on; once the client has stopped reading (`clientReads(false)`),
    /// reports them written only when `read()` says so.
    final class SlowReader: ChannelOutboundHandler, RemovableChannelHandler {
        typealias OutboundIn = IOData
        typealias OutboundOut = IOData
        private var unread: [EventLoopPromise<Void>] = []
        var holding = false

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            guard holding else { return context.write(data, promise: promise) }
            if let promise { unread.append(promise) }
            context.write(data, promise: nil)
        }

        /// The client reads what was sent so far.
        func read() {
            let done = unread
            unread = []
            for promise in done { promise.succeed() }
        }
    }

    static let almost = Duration.nanoseconds(1)
    static let get = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"

    @Test func aHeaderNotWholeAtTheHeaderTimeoutIsAnswered408AndClosedTricklingBytesDoNotExtendIt() throws {
        let connection = try Connection()
        try connection.send("GET /health HTTP/1.1\r\nHost: loc")
        // A byte every second: bytes keep coming, the header never ends.
        for _ in 0..<9 {
            connection.advance(.seconds(1))
            try connection.send("a")
        }
        connection.advance(.seconds(1) - Self.almost)
        #expect(connection.open)
        #expect(try connection.written() == "")
        connection.advance(Self.almost)   // 10 s after the first byte
        #expect(!connection.open)
        let answer = try connection.written()
        #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(answer)")
        #expect(answer.contains(#""code":"request_timeout""#))
    }

    @Test func theHeaderTimeoutStartsAtTheFirstByteNotAtTheConnection() throws {
        let connection = try Connection()
        connection.advance(.seconds(29))   // idle, within the idle timeout
        try connection.send("GET /he")
        connection.advance(.seconds(10) - Self.almost)
        #expect(connection.open)
        connection.advance(Self.almost)
        #expect(!connection.open)
        #expect(try connection.written().hasPrefix("HTTP/1.1 408 "))
    }

    @Test func aBodyNotWholeAtTheBodyTimeoutIsAnswered408AndClosed() throws {
        let connection = try Connection()
        try connection.send("POST /contacts/C-1/opt-outs HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n{")
        // The header timeout no longer applies; body bytes do not extend the body's deadline.
        connection.advance(.seconds(30))
        try connection.send("\"")
        connection.advance(.seconds(30) - Self.almost)
        #expect(connection.open)
        #expect(try connection.written() == "")
        connection.advance(Self.almost)
        #expect(!connection.open)
        #expect(try connection.written().hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
    }

    @Test func aBodyAnsweredBeforeItEndsIsStillDrainedOnlyUntilTheBodyTimeout() throws {
        let connection = try Connection()
        try connection.send("POST /contacts/C-1/opt-outs HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10737418240\r\n\r\n{")
        try connection.respond(.head(HTTPResponse(status: .contentTooLarge, headerFields: [.contentLength: "0"])))
        try connection.respond(.end(nil))
        #expect(try connection.written().hasPrefix("HTTP/1.1 413 "))
        connection.advance(.seconds(59))
        try connection.send("xxxx")
        connection.advance(.seconds(1) - Self.almost)
        #expect(connection.open)
        connection.advance(Self.almost)
        #expect(!connection.open)
        #expect(try connection.written() == "")   // answered already: closed without a second answer
    }

    @Test func aNewConnectionThatSaysNothingIsClosedAtTheIdleTimeoutWithoutAWord() throws {
        let connection = try Connection()
        connection.advance(.seconds(30) - Self.almost)
        #expect(connection.open)
        connection.advance(Self.almost)
        #expect(!connection.open)
        #expect(try connection.written() == "")
    }

    @Test func aKeptAliveConnectionIsClosedAtTheIdleTimeoutAfterItsLastAnswer() throws {
        let connection = try Connection()
        connection.advance(.seconds(20))
        try connection.send(Self.get)
        connection.advance(.seconds(20))   // the handler takes its time
        try connection.respondOK(body: "ok")
        #expect(try connection.written().hasPrefix("HTTP/1.1 200 OK\r\n"))
        // Kept alive: the idle timeout runs again from the end of the answer.
        connection.advance(.seconds(30) - Self.almost)
        #expect(connection.open)
        try connection.send(Self.get)
        try connection.respondOK(body: "ok")
        #expect(try connection.written().hasPrefix("HTTP/1.1 200 OK\r\n"))
        connection.advance(.seconds(30) - Self.almost)
        #expect(connection.open)
        connection.advance(Self.almost)
        #expect(!connection.open)
        #expect(try connection.written() == "")
    }

    @Test func noLimitFiresWhileAHandlerWorksOnARequest() throws {
        let connection = try Connection()
        try connection.send(Self.get)
        // Far past every limit; the channel is writable (the handler has written nothing yet).
        connection.advance(.seconds(3600))
        #expect(connection.open)
        // An answer in progress that the client keeps reading is not cut either.
        try connection.respond(.head(HTTPResponse(status: .ok)))
        connection.advance(.seconds(3600))
        try connection.respond(.body(ByteBuffer(string: "a,b\n")))
        connection.advance(.seconds(3600))
        #expect(connection.open)
        try connection.respond(.end(nil))
        #expect(try connection.written().contains("a,b\n"))
        connection.advance(.seconds(30))
        #expect(!connection.open)   // then idle
    }

    @Test func aClientThatStopsReadingItsResponseIsClosedAtTheBodyTimeout() throws {
        let connection = try Connection()
        try connection.send("GET /log/export?format=csv HTTP/1.1\r\nHost: localhost\r\n\r\n")
        try connection.respond(.head(HTTPResponse(status: .ok)))
        try connection.respond(.body(ByteBuffer(string: "id,at\n")))
        // The client stops reading: what the handler writes piles up until the channel is not writable.
        connection.socket.holding = true
        try connection.respond(.body(ByteBuffer(repeating: UInt8(ascii: "x"), count: 65536)))
        connection.clientReads(false)
        connection.advance(.seconds(60) - Self.almost)
        #expect(connection.open)
        // It reads a little: the deadline starts again from there.
        connection.socket.read()
        try connection.respond(.body(ByteBuffer(repeating: UInt8(ascii: "x"), count: 65536)))
        connection.advance(.seconds(60) - Self.almost)
        #expect(connection.open)
        connection.advance(Self.almost)
        #expect(!connection.open)
    }

    @Test func aClientThatReadsAgainBeforeTheBodyTimeoutIsKept() throws {
        let connection = try Connection()
        try connection.send("GET /log/export?format=csv HTTP/1.1\r\nHost: localhost\r\n\r\n")
        try connection.respond(.head(HTTPResponse(status: .ok)))
        connection.clientReads(false)
        connection.advance(.seconds(59))
        connection.socket.read()
        connection.clientReads(true)
        // Writable again: the handler's own time, however long, is not limited.
        connection.advance(.seconds(3600))
        #expect(connection.open)
        try connection.respond(.end(nil))
        connection.advance(.seconds(30) - Self.almost)
        #expect(connection.open)
        connection.advance(Self.almost)
        #expect(!connection.open)
    }

    @Test func aPipelinedRequestStartedWhileAnsweringGetsTheHeaderTimeoutAfterTheAnswer() throws {
        let connection = try Connection()
        try connection.send(Self.get)
        try connection.send("GET /hea")
        connection.advance(.seconds(100))
        #expect(connection.open)
        try connection.respondOK(body: "ok")
        connection.advance(.seconds(10) - Self.almost)
        #expect(connection.open)
        connection.advance(Self.almost)
        #expect(!connection.open)
        #expect(try connection.written().contains("HTTP/1.1 408 "))
    }
}
