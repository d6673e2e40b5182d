import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import Worker
@testable import GatewayHTTP
@testable import Templates
#if canImport(Glibc)
import Glibc
#endif

/// Slow and idle clients are disconnected, and connections over the cap are refused, against a
/// live server on loopback. These only check that the server does close or refuse, eventually:
/// the limit under test is short, every limit that must not fire is 600 s, and nothing asserted
/// depends on how fast the machine is. When each deadline falls, to the nanosecond, is checked
/// in ConnectionLimitsTimerTests on a clock the test moves.
@Suite struct ConnectionLimitsTests {
    let templates = try! TemplateStore(
        directory: repositoryRoot.appendingPathComponent("templates").path,
        requirements: try! ContactRulesFile.templateRequirements(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path),
        defaultLocale: "es-CR")
    let auth = TestTokens()
    /// Longer than any wait below: a limit set to this never fires during a test.
    static let never: Duration = .seconds(600)
    /// How long a test waits for something that a short limit should cause.
    static let patience = 30.0

    func app(_ limits: ConnectionLimits) throws -> some ApplicationProtocol {
        buildApplication(configuration: HTTPConfiguration(limits: limits), templates: templates, store: try temporaryStore(), tokens: auth.tokens,
                         logger: Logger(label: "connection-limits-test"))
    }

    @Test func aHeaderSentAByteAtATimeIsCutOffAtTheHeaderTimeout() async throws {
        let limits = ConnectionLimits(headerTimeout: .milliseconds(500), bodyTimeout: Self.never, idleTimeout: Self.never, maxConnections: 100)
        try await app(limits).test(.live) { client in
            let connection = try RawConnection(port: client.port!)
            // Bytes keep coming, so it is never idle; the header just never ends.
            let slow = Array("GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 100_000)
            let result = await connection.trickle(slow, every: .milliseconds(50), within: Self.patience)
            #expect(result.closed, "still open after \(Self.patience) s with a 0.5 s header timeout")
            // Told why, unless a byte sent as it closed made the close a reset that lost the answer.
            #expect(result.received.isEmpty || result.received.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(result.received)")
            // The server still answers others.
            let other = try RawConnection(port: client.port!)
            #expect(await other.request("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n", within: Self.patience)?.hasPrefix("HTTP/1.1 200 OK") == true)
        }
    }

    @Test func idleConnectionsAreClosedNewOrKeptAlive() async throws {
        let limits = ConnectionLimits(headerTimeout: Self.never, bodyTimeout: Self.never, idleTimeout: .milliseconds(500), maxConnections: 100)
        try await app(limits).test(.live) { client in
            let silent = try RawConnection(port: client.port!)
            let kept = try RawConnection(port: client.port!)
            // Answered, or (a machine that stalls past the idle timeout before sending) closed
            // first: either way the connection must end closed, which is what is checked here.
            _ = await kept.request("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n", within: Self.patience)
            let silentEnd = await silent.readUntilClosed(within: Self.patience)
            #expect(silentEnd.closed)
            #expect(silentEnd.received.isEmpty)   // an idle connection is closed without a word
            let keptEnd = await kept.readUntilClosed(within: Self.patience)
            #expect(keptEnd.closed)
            #expect(keptEnd.received.isEmpty)
        }
    }

    @Test func aBodyThatNeverArrivesIsCutOffAtTheBodyTimeout() async throws {
        let limits = ConnectionLimits(headerTimeout: Self.never, bodyTimeout: .milliseconds(500), idleTimeout: Self.never, maxConnections: 100)
        try await app(limits).test(.live) { client in
            let token = auth.plain["compliance-ana"]!
            // 1,000 bytes declared, one sent: the handler waits for the body, so only the limit can answer.
            let upload = try RawConnection(port: client.port!)
            #expect(upload.send("POST /contacts/C-1/opt-outs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token)\r\n"
                                + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"))
            let cut = await upload.readUntilClosed(within: Self.patience)
            #expect(cut.closed)
            #expect(cut.received.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(cut.received)")
        }
    }

    /// No limit fires here: the answers must come before any body (that the drain after them is
    /// limited is in ConnectionLimitsTimerTests).
    @Test func aBodyDeclaredTooLargeIsRefusedBeforeItIsRead() async throws {
        let limits = ConnectionLimits(headerTimeout: Self.never, bodyTimeout: Self.never, idleTimeout: Self.never, maxConnections: 100)
        try await app(limits).test(.live) { client in
            let token = auth.plain["compliance-ana"]!
            // 10 GB declared, one byte sent: refused (413) without waiting for the body.
            let huge = try RawConnection(port: client.port!)
            let refused = await huge.request("POST /contacts/C-1/opt-outs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token)\r\n"
                                             + "Content-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n{", within: Self.patience)
            #expect(refused?.hasPrefix("HTTP/1.1 413 ") == true, "\(refused ?? "closed")")
            #expect(refused?.contains("the body declares 10737418240 bytes; no request here takes more than 4194304 (Content-Length)") == true)
            // A route with no use for a body answers at once, though the body never comes.
            let drained = try RawConnection(port: client.port!)
            let answer = await drained.request("GET /health HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\nx", within: Self.patience)
            #expect(answer?.hasPrefix("HTTP/1.1 200 OK\r\n") == true, "\(answer ?? "closed")")
        }
    }

    @Test func connectionsOverTheCapAreRefusedAndHealthStillAnswers() async throws {
        let limits = ConnectionLimits(headerTimeout: Self.never, bodyTimeout: Self.never, idleTimeout: Self.never, maxConnections: 4)
        try await app(limits).test(.live) { client in
            let health = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"
            // The test framework's own client holds the first of the four.
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            // Two connections held open (each answered once, so the server has counted it).
            let first = try RawConnection(port: client.port!)
            let second = try RawConnection(port: client.port!)
            #expect(await first.request(health, within: Self.patience)?.hasPrefix("HTTP/1.1 200 OK") == true)
            #expect(await second.request(health, within: Self.patience)?.hasPrefix("HTTP/1.1 200 OK") == true)
            // The fourth fits, and /health answers on it.
            let third = try RawConnection(port: client.port!)
            #expect(await third.request(health, within: Self.patience)?.hasPrefix("HTTP/1.1 200 OK") == true)
            // The fifth is over the cap: 503 at once and closed, without its request being read.
            let fourth = try RawConnection(port: client.port!)
            let refused = await fourth.readUntilClosed(within: Self.patience)
            #expect(refused.closed)
            #expect(refused.received.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), "\(refused.received)")
            #expect(refused.received.contains(#""code":"too_many_connections""#))
            // Those already in keep being served.
            #expect(await first.request(health, within: Self.patience)?.hasPrefix("HTTP/1.1 200 OK") == true)
            // Once one leaves, a newcomer is served again.
            first.close()
            #expect(try await Self.healthAnswers(port: client.port!))
        }
    }

    /// Whether a new connection gets /health answered 200 within `patience` (refused ones are
    /// retried: the server counts a connection until it has seen it close).
    static func healthAnswers(port: Int) async throws -> Bool {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(patience) {
            let next = try RawConnection(port: port)
            if await next.request("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n", within: patience)?.hasPrefix("HTTP/1.1 200 OK") == true {
                return true
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test func slowClientsFillingTheCapAreDroppedAndHealthAnswersAgain() async throws {
        let limits = ConnectionLimits(headerTimeout: .milliseconds(500), bodyTimeout: Self.never, idleTimeout: Self.never, maxConnections: 8)
        try await app(limits).test(.live) { client in
            // Twice the cap of clients that start a header and never finish it.
            var slow: [RawConnection] = []
            for _ in 0..<16 {
                let connection = try RawConnection(port: client.port!)
                _ = connection.send("GET /health HTTP/1.1\r\nHost: loc")
                slow.append(connection)
            }
            // Each is either refused (503) or dropped at the header timeout: none is held.
            for connection in slow {
                let end = await connection.readUntilClosed(within: Self.patience)
                #expect(end.closed)
                #expect(end.received.isEmpty || end.received.hasPrefix("HTTP/1.1 503") || end.received.hasPrefix("HTTP/1.1 408"), "\(end.received)")
                connection.close()
            }
            #expect(try await Self.healthAnswers(port: client.port!))
        }
    }

    /// A client that asks for a response and never reads it (an export, say) is disconnected once
    /// its response has waited `bodyTimeout` on it, so it does not hold a place under the cap.
    @Test func aClientThatNeverReadsItsResponseIsDisconnectedAndFreesItsPlace() async throws {
        let limits = ConnectionLimits(headerTimeout: Self.never, bodyTimeout: .milliseconds(500), idleTimeout: Self.never, maxConnections: 2)
        let router = Router()
        router.get("/health") { _, _ in "ok" }
        // An answer far larger than any socket buffer (1 GiB): only a client that reads it could
        // take it all. Bounded, and stopping when cancelled, so that a handler whose connection
        // was closed under it cannot spin for the rest of the test run.
        router.get("/endless") { _, _ in
            Response(status: .ok, body: ResponseBody { writer in
                let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 65536)
                for _ in 0..<16_384 {
                    try Task.checkCancellation()
                    try await writer.write(chunk)
                }
            })
        }
        let app = Application(router: router, server: limitedHTTP1(limits), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              logger: Logger(label: "connection-limits-test"))
        try await app.test(.live) { client in
            // As many as the cap allows.
            let other = try RawConnection(port: client.port!)
            #expect(other.send("GET /endless HTTP/1.1\r\nHost: localhost\r\n\r\n"))
            let stalled = try RawConnection(port: client.port!)
            #expect(stalled.send("GET /endless HTTP/1.1\r\nHost: localhost\r\n\r\n"))
            // Both never read. With both places held, a new client is refused (503) until the
            // server gives up on one of them: /health answering on a new connection shows it did.
            #expect(try await Self.healthAnswers(port: client.port!))
            stalled.close()
            other.close()
        }
    }
}

/// A client on a plain socket, for what an HTTP client library will not do: send half a header,
/// send it slowly, or just sit there. Blocking calls run on their own thread, off Swift's pool.
final class RawConnection: @unchecked Sendable {
    // @unchecked: one test uses a connection at a time; `fd` is closed once, in close().
    private var fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            Glibc.close(fd)
            throw Failure("connect to 127.0.0.1:\(port): errno \(code)")
        }
    }

    deinit { close() }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// False when the server has already closed the connection.
    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// Waits up to `milliseconds` for something to read; nil: nothing yet; empty: the server closed.
    private func receive(waiting milliseconds: Int32) -> [UInt8]? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, milliseconds) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count > 0 ? Array(buffer[0..<count]) : []   // 0: closed; < 0: reset, also closed
    }

    private static func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: work()) }
        }
    }

    /// Everything the server sends until it closes the connection, or `seconds` pass.
    func readUntilClosed(within seconds: Double) async -> (received: String, closed: Bool) {
        await Self.offPool { [self] in
            var received: [UInt8] = []
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                guard let chunk = receive(waiting: 100) else { continue }
                if chunk.isEmpty { return (String(decoding: received, as: UTF8.self), true) }
                received += chunk
            }
            return (String(decoding: received, as: UTF8.self), false)
        }
    }

    /// Sends `request` and reads one response (its header and Content-Length body); nil if the
    /// connection closed first or `seconds` passed.
    func request(_ request: String, within seconds: Double) async -> String? {
        guard send(request) else { return nil }
        return await Self.offPool { [self] in
            var received: [UInt8] = []
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                guard let chunk = receive(waiting: 100) else { continue }
                if chunk.isEmpty { return nil }
                received += chunk
                let text = String(decoding: received, as: UTF8.self)
                guard let end = text.range(of: "\r\n\r\n") else { continue }
                let header = text[..<end.lowerBound].lowercased()
                let length = header.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if text[end.upperBound...].utf8.count >= length { return text }
            }
            return nil
        }
    }

    /// Sends `bytes` one at a time, `every` apart, until the server closes the connection or
    /// `seconds` pass: what came back, whether it closed, and how many bytes were sent.
    func trickle(_ bytes: [UInt8], every interval: Duration, within seconds: Double) async -> (received: String, closed: Bool, sent: Int) {
        let pause = Int32(interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000)
        return await Self.offPool { [self] in
            var received: [UInt8] = []
            var sent = 0
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if sent < bytes.count, send([bytes[sent]]) { sent += 1 }
                guard let chunk = receive(waiting: pause) else { continue }
                if chunk.isEmpty { return (String(decoding: received, as: UTF8.self), true, sent) }
                received += chunk
            }
            return (String(decoding: received, as: UTF8.self), false, sent)
        }
    }
}
