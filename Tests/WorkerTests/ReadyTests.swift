import Foundation
import GatewayApp
import GatewayCore
import GatewayHTTP
import Logging
import Providers
import ServiceLifecycle
import Testing
import TestSupport
@testable import Worker
#if canImport(Glibc)
import Glibc
#endif

/// GET /ready as `gateway run` serves it: 200 when Redis, the contact log, the templates and the
/// worker all work; 503 naming what does not, without hanging when a dependency hangs.
@Suite struct ReadyTests {
    struct Answer {
        var status: Int
        var ready: Bool?
        var checks: [String: String]
        var text: String
    }

    static func ready(_ client: CurlHTTPClient, _ base: String) async throws -> Answer {
        // The safety net, not the bound under test: a check may take its whole ready_timeout_ms (10 s
        // in the hung-Redis test), and the client's default 10 s raced it on a busy machine.
        let response = try await client.send(HTTPRequest(url: base + "/ready", timeout: 120))
        let text = String(decoding: response.body, as: UTF8.self)
        let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        return Answer(status: response.status, ready: object?["ready"] as? Bool,
                      checks: object?["checks"] as? [String: String] ?? [:], text: text)
    }

    /// Builds the app on any free port and runs `services` of it (all by default) around `body`.
    static func serving<T: Sendable>(_ harness: Harness, services pick: (GatewayApp) -> [ServiceGroupConfiguration.ServiceConfiguration] = \.services,
                                     _ body: @Sendable (GatewayApp, String) async throws -> T) async throws -> T {
        var configuration = harness.configuration
        configuration.httpPort = 0
        return try await harness.servingApp(services: pick, build: { [configuration] in
            try await GatewayApp.build(configuration: configuration, logger: Harness.logger, environment: harness.secrets.all, anyFreePort: $0)
        }, body)
    }

    @Test func aHealthyGatewayIsReady() async throws {
        let harness = try Harness()
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let answer = try await Self.serving(harness) { _, base in try await Self.ready(client, base) }
        #expect(answer.status == 200, "\(answer.text)")
        #expect(answer.ready == true)
        #expect(answer.checks == ["redis": "ok", "store": "ok", "templates": "ok", "worker": "ok"], "\(answer.text)")
    }

    @Test func anUnreachableRedisMakesItUnreadyAndIsNamed() async throws {
        // A port nothing listens on: bound, then closed again.
        let closed = try SilentListener()
        let port = closed.port
        closed.close()
        let harness = try Harness { $0.redisURL = "redis://:hunter2-secret@127.0.0.1:\(port)/0" }
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let answer = try await Self.serving(harness) { _, base in try await Self.ready(client, base) }
        #expect(answer.status == 503, "\(answer.text)")
        #expect(answer.ready == false)
        let redis = try #require(answer.checks["redis"], "\(answer.text)")
        #expect(redis != "ok" && redis.contains("127.0.0.1:\(port)"), "says which Redis: \(redis)")
        #expect(answer.checks["store"] == "ok" && answer.checks["templates"] == "ok", "\(answer.text)")
        #expect(!answer.text.contains("hunter2"), "no password in the answer: \(answer.text)")
    }

    @Test func aRedisThatNeverAnswersMakesItUnreadyInsteadOfHanging() async throws {
        // Accepts connections (the kernel's backlog) and never says a word: a hung Redis.
        let silent = try SilentListener()
        defer { silent.close() }
        // A bound short enough for the test, long enough for the contact log to answer on a busy machine.
        let harness = try Harness {
            $0.redisURL = "redis://127.0.0.1:\(silent.port)/0"
            $0.readyTimeoutMilliseconds = 10_000
        }
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        // Only the HTTP server: the worker's own reads would hang on the same silent port until their timeouts.
        let answer = try await Self.serving(harness, services: { [$0.services.last!] }) { _, base in try await Self.ready(client, base) }
        #expect(answer.status == 503, "\(answer.text)")
        let redis = try #require(answer.checks["redis"], "\(answer.text)")
        #expect(redis != "ok", "\(answer.text)")
        #expect(answer.checks["store"] == "ok", "the other checks still answer: \(answer.text)")
    }

    @Test func aProblemTheWorkerReportsMakesItUnreadyAndIsNamed() async throws {
        let harness = try Harness()
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        // The HTTP server alone: a running worker clears its problems after each batch that goes through.
        let (before, after, cleared) = try await Self.serving(harness, services: { [$0.services.last!] }) { app, base in
            let before = try await Self.ready(client, base)
            app.gateway.worker.health.report(.store, "batch failed: database is locked (ana@example.cr)",
                                             at: Date(timeIntervalSince1970: 1_796_083_200))
            let after = try await Self.ready(client, base)
            app.gateway.worker.health.report(.store, nil)
            let cleared = try await Self.ready(client, base)
            return (before, after, cleared)
        }
        #expect(before.status == 200, "\(before.text)")
        #expect(after.status == 503, "\(after.text)")
        #expect(after.checks["worker"] == "store: batch failed: database is locked (a***@example.cr) (since 2026-12-01T00:00:00.000Z)", "\(after.text)")
        #expect(after.checks["redis"] == "ok" && after.checks["store"] == "ok", "only the worker fails: \(after.text)")
        #expect(cleared.status == 200, "ready again once the worker says so: \(cleared.text)")
    }
}

struct ListenError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A loopback TCP port that accepts connections into the kernel's backlog and never answers.
final class SilentListener: @unchecked Sendable {
    // @unchecked: `fd` is only closed once, through `close()`.
    private var fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ListenError("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            _ = Glibc.close(fd)
            throw ListenError("bind/listen: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
    }

    deinit { close() }
}
