import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GatewayCore
import Testing
import TestSupport
@testable import Providers

/// A request reaches a provider at most once per call: when a kept-alive connection dies after the
/// request went out, libcurl would send it again on another connection by itself (it did, up to
/// six times in all); the client refuses to let it go out again, and says the request may have
/// been received.
@Suite struct CurlResendTests {
    static func post(_ base: String, _ body: String) -> HTTPRequest {
        HTTPRequest(method: "POST", url: base + "/2010-04-01/Accounts/AC1/Messages.json",
                    headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array(body.utf8), timeout: 120)
    }

    /// Out of time while the body was still going out (the server takes the connection and reads
    /// nothing): the request cannot have been taken whole, so it stays a retryable timeout.
    @Test func outOfTimeBeforeTheBodyWentOutIsATimeout() async throws {
        let silent = try SilentListener()
        defer { silent.stop() }
        let client = CurlHTTPClient(maxConnectionsPerHost: 1)
        defer { client.shutdown() }
        // Far more than the loopback socket buffers hold, so most of it cannot leave the client.
        let body = [UInt8](repeating: UInt8(ascii: "a"), count: 64 << 20)
        var request = HTTPRequest(method: "POST", url: "http://127.0.0.1:\(silent.port)/2010-04-01/Accounts/AC1/Messages.json",
                                  headers: [("Content-Type", "application/x-www-form-urlencoded")], body: body)
        request.timeout = 1
        let result = await client.sendAll([request])[0]
        guard case .failure(let error) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.kind == .timeout, "\(error)")
        #expect(error.curlCode == 28, "\(error)")  // CURLE_OPERATION_TIMEDOUT
    }

    @Test func aRequestWhosePooledConnectionDiesAfterTheBodyIsNotSentAgain() async throws {
        let server = try DroppingProvider()
        defer { server.stop() }
        let client = CurlHTTPClient(maxConnectionsPerHost: 4)
        defer { client.shutdown() }
        // Warm the pool: several connections kept alive, answered.
        for round in 0..<3 {
            let warm = await client.sendAll((0..<4).map { Self.post(server.baseURL, "warm=\(round)-\($0)") })
            #expect(warm.allSatisfy { (try? $0.get().status) == 201 }, "\(warm)")
        }
        let pooled = server.connections
        #expect(pooled >= 1)

        server.dropAfterReading()
        let result = await client.sendAll([Self.post(server.baseURL, "job=DROP-1")])[0]
        let sent = server.requests.filter { $0.body == "job=DROP-1" }
        #expect(sent.count == 1, "the provider got the request \(sent.count) times, on connections \(sent.map(\.connection))")
        guard case .failure(let error) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.kind == .possiblyDelivered, "\(error)")
        // It went out on a reused connection, and libcurl wanted to send it again on another one.
        #expect(sent.first.map { $0.connection <= pooled } == true)
        #expect(error.curlCode == 42, "\(error)")  // CURLE_ABORTED_BY_CALLBACK: the second sending was refused

        // The dead connection is gone, the others still serve.
        server.dropAfterReading(false)
        let after = await client.sendAll([Self.post(server.baseURL, "job=AFTER-1")])[0]
        #expect((try? after.get().status) == 201, "\(after)")
    }

    @Test func aFreshConnectionClosedAfterTheBodyIsPossiblyDeliveredThroughTwilio() async throws {
        let server = try DroppingProvider()
        defer { server.stop() }
        server.dropAfterReading()
        let client = CurlHTTPClient(maxConnectionsPerHost: 4)
        defer { client.shutdown() }
        let twilio = TwilioProvider(name: "twilio", configuration: .init(
            accountSID: "AC" + String(repeating: "a1", count: 16), authToken: "token", from: "+15005550006",
            messagingServiceSID: nil, baseURL: server.baseURL + "/", statusCallback: nil, timeout: 120), client: client)
        let results = await twilio.send([message(1)])
        guard case .possiblyDelivered(code: Reason(stored: "possibly_delivered"), let detail) = results[0] else {
            Issue.record("expected possibly_delivered, got \(results[0])")
            return
        }
        #expect(detail.contains("may have taken the message"))
        #expect(server.requests.count == 1)
        #expect(server.requests.first?.body.contains("Body=") == true)
    }

    /// An answer libcurl cannot read, after the whole request went out (a broken proxy, an outage
    /// page without a status line): the provider may have taken the message, so it is never
    /// retried as if it had not been sent; and the error says what libcurl saw.
    @Test(arguments: ["no status line", "an unknown HTTP version", "a header too large"])
    func anUnreadableAnswerAfterTheWholeRequestIsPossiblyDelivered(_ kind: String) async throws {
        let (answer, said): (String, String) = switch kind {
        case "no status line": ("queued SM123\r\n", "HTTP/0.9")
        case "an unknown HTTP version": ("HTTP/7.1 201 Created\r\nContent-Length: 0\r\n\r\n", "HTTP version")
        // Past libcurl's own limit for a header (100 KB in 7.88, 300 KB of headers in 8.x), under the client's 2 MiB.
        default: ("HTTP/1.1 201 Created\r\nX-Pad: " + String(repeating: "a", count: 1_000_000) + "\r\n\r\n", "(curl")
        }
        let server = try DroppingProvider()
        defer { server.stop() }
        server.answerWith(answer)
        let client = CurlHTTPClient(maxConnectionsPerHost: 4)
        defer { client.shutdown() }
        let result = await client.sendAll([Self.post(server.baseURL, "job=GARBLED-1")])[0]
        guard case .failure(let error) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.kind == .possiblyDelivered, "\(error)")
        #expect(error.description.contains(said), "\(error)")
        #expect(server.requests.map(\.body) == ["job=GARBLED-1"])

        let twilio = TwilioProvider(name: "twilio", configuration: .init(
            accountSID: "AC" + String(repeating: "a1", count: 16), authToken: "token", from: "+15005550006",
            messagingServiceSID: nil, baseURL: server.baseURL + "/", statusCallback: nil, timeout: 120), client: client)
        let results = await twilio.send([message(1)])
        guard case .possiblyDelivered(code: Reason(stored: "possibly_delivered"), _) = results[0] else {
            Issue.record("expected possibly_delivered, got \(results[0])")
            return
        }
        #expect(server.requests.count == 2)
    }

    /// An answer longer than the client's limit is cut off rather than held in memory whole (an
    /// endpoint streaming without end would grow the worker until the time limit); the request had
    /// gone out, so the message may have been taken.
    @Test func anAnswerOverTheSizeLimitIsCutOffAndPossiblyDelivered() async throws {
        let server = try DroppingProvider()
        defer { server.stop() }
        let client = CurlHTTPClient(maxConnectionsPerHost: 4, maxResponseBytes: 4096)
        defer { client.shutdown() }
        #expect(CurlHTTPClient.defaultMaxResponseBytes >= 1 << 20)
        let small = await client.sendAll([Self.post(server.baseURL, "job=SMALL-1")])[0]
        #expect((try? small.get().status) == 201, "an answer under the limit is read: \(small)")

        server.answerWith("HTTP/1.1 201 Created\r\nContent-Length: 100000\r\n\r\n" + String(repeating: "a", count: 100_000))
        let result = await client.sendAll([Self.post(server.baseURL, "job=LARGE-1")])[0]
        guard case .failure(let error) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.kind == .possiblyDelivered, "\(error)")
        #expect(error.message.contains("larger than 4096 bytes"), "\(error)")
        #expect(server.requests.map(\.body) == ["job=SMALL-1", "job=LARGE-1"])
    }

    /// A connection idle longer than `maxIdleSeconds` is not used again: the next request opens a
    /// new one, before the provider's own idle timeout can close the old one under a request.
    @Test func aConnectionIdleLongerThanTheLimitIsNotReused() async throws {
        let server = try DroppingProvider()
        defer { server.stop() }
        let strict = CurlHTTPClient(maxConnectionsPerHost: 1, maxIdleSeconds: 1)
        defer { strict.shutdown() }
        let lenient = CurlHTTPClient(maxConnectionsPerHost: 1)
        defer { lenient.shutdown() }
        #expect(lenient.maxIdleSeconds == CurlHTTPClient.defaultMaxIdleSeconds)
        #expect(CurlHTTPClient.defaultMaxIdleSeconds < 60)  // under the common 60 s load balancer idle timeout
        // Whether the strict client reuses at once depends on the machine's speed (under a second
        // between two requests), so only the lenient one is asked to; each opens one connection.
        for client in [strict, lenient] {
            let first = try await client.send(Self.post(server.baseURL, "job=AGE-1"))
            #expect(first.status == 201 && first.newConnections == 1)
        }
        let again = try await lenient.send(Self.post(server.baseURL, "job=AGE-2"))
        #expect(again.status == 201 && again.newConnections == 0, "a connection just used is reused")
        // libcurl counts idle time in whole seconds and drops a connection idle more than the
        // limit: 1 s becomes "too old" once 2 s have passed. A slower machine only waits longer.
        try await Task.sleep(for: .milliseconds(2200))
        let old = try await strict.send(Self.post(server.baseURL, "job=AGE-3"))
        #expect(old.status == 201 && old.newConnections == 1, "the 1 s limit opens a new connection")
        let kept = try await lenient.send(Self.post(server.baseURL, "job=AGE-4"))
        #expect(kept.status == 201 && kept.newConnections == 0, "the 25 s limit keeps the connection")
    }

    @Test func aRequestNeverSentStaysAConnectErrorForTheNextProvider() async throws {
        // Nobody listens: the body never went out, so the next provider may have it at once.
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let result = await client.sendAll([Self.post("http://127.0.0.1:1", "job=NEVER-1")])[0]
        guard case .failure(let error) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.kind == .connect)
        guard case .retryableFailure(code: Reason(stored: "connect_error"), _, _) = error.dispatchResult else {
            Issue.record("expected connect_error, got \(error.dispatchResult)")
            return
        }
    }
}

/// A loopback port whose connections are completed by the kernel and never read.
private final class SilentListener: Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CocoaError(.fileNoSuchFile) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 4) == 0 else {
            close(fd)
            throw CocoaError(.fileWriteUnknown)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    func stop() { close(fd) }
}
