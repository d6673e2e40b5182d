import ContactLog
import Foundation
import GatewayApp
import GatewayCore
import Logging
@testable import RedisQueue
import ServiceLifecycle
import Testing
import TestSupport
@testable import Worker

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
/// The shipped contact rules (allowed hours, caps), for tests that use them instead of the open ones.
let shippedRulesPath = repositoryRoot.appendingPathComponent("config/contact-rules.yml").path

/// A gateway wired exactly as `gateway run` wires it, on the test Redis, with its own stream,
/// contact log, outbox and providers folder.
struct Harness {
    let directory: URL
    var configuration: GatewayConfiguration
    let redis: RedisClient
    /// Credentials the provider files refer to as ${NAME}; handed to the gateway as its environment.
    let secrets = Secrets()

    final class Secrets: @unchecked Sendable {
        // @unchecked: `values` is behind `lock`.
        private let lock = NSLock()
        private var values: [String: String] = [:]
        var all: [String: String] { lock.withLock { values } }
        func set(_ name: String, _ value: String) { lock.withLock { values[name] = value } }
    }

    /// Registers a credential and returns the reference a provider file holds: `${NAME}`.
    func secret(_ name: String, _ value: String) -> String {
        secrets.set(name, value)
        return "${\(name)}"
    }

    init(_ adjust: (inout GatewayConfiguration) -> Void = { _ in }) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("providers"), withIntermediateDirectories: true)
        var configuration = GatewayConfiguration()
        configuration.redisURL = TestRedis.url
        configuration.stream = TestRedis.unique("jobs")
        configuration.deadLetterStream = configuration.stream + ":dead"
        configuration.scheduledKey = configuration.stream + ":scheduled"
        configuration.consumer = "worker-\(UUID().uuidString.prefix(6))"
        configuration.blockMilliseconds = 100
        configuration.retryBaseSeconds = 0.05
        configuration.contactLogPath = directory.appendingPathComponent("var/contact-log.sqlite").path
        configuration.outboxPath = directory.appendingPathComponent("var/outbox.jsonl").path
        configuration.templatesDirectory = repositoryRoot.appendingPathComponent("templates").path
        // Contact at any hour with no caps, so tests can run at any time of day; the rules tests use the real file.
        let rulesPath = directory.appendingPathComponent("contact-rules.yml").path
        try Self.openRules.write(toFile: rulesPath, atomically: true, encoding: .utf8)
        configuration.contactRulesPath = rulesPath
        configuration.capsPrefix = "test:caps:\(UUID().uuidString.prefix(8)):"
        configuration.ratePrefix = "test:rate:\(UUID().uuidString.prefix(8)):"
        configuration.breakerPrefix = "test:breaker:\(UUID().uuidString.prefix(8)):"
        configuration.templatesReloadSeconds = 0.1
        configuration.providersDirectory = directory.appendingPathComponent("providers").path
        // /ready's checks answer well within this on a busy machine; the tests of its bound set their own.
        configuration.readyTimeoutMilliseconds = 30_000
        adjust(&configuration)
        self.configuration = configuration
        redis = try TestRedis.client()
    }

    /// Uses a private copy of the shipped templates (for tests that edit them).
    mutating func useTemplateCopy() throws -> String {
        let copy = directory.appendingPathComponent("templates").path
        try FileManager.default.copyItem(atPath: configuration.templatesDirectory, toPath: copy)
        configuration.templatesDirectory = copy
        return copy
    }

    func writeProvider(_ name: String, _ yaml: String) throws {
        try yaml.write(to: directory.appendingPathComponent("providers/\(name).yml"), atomically: true, encoding: .utf8)
    }

    /// providers/twilio.yml pointing at a fake Twilio.
    func writeTwilio(_ fake: FakeTwilio, _ baseURL: String) throws {
        try writeProvider("twilio", "type: twilio\naccount_sid: \(fake.accountSID)\nauth_token: \(secret("TWILIO_AUTH_TOKEN", fake.authToken))\nfrom: \"+15005550006\"\nbase_url: \(baseURL)\ntimeout_seconds: 30\n")
    }

    static let openRules = """
        default_country: CR
        default_timezone: America/Costa_Rica
        allowed_hours:
          default: {mon-sun: "00:00-24:00"}
        templates:
          opt_out_keywords: {sms: [STOP], email: [BAJA, UNSUBSCRIBE]}
          collection_disclosure_partials: [disclosure, disclosure-short]
        """

    static var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    /// Runs the worker for the duration of `body`, then shuts it down gracefully as SIGTERM would.
    /// `tune` may change the worker's maintenance timings.
    func running<T: Sendable>(environment: [String: String] = [:], clock: @escaping @Sendable () -> Date = Date.init,
                              tune: (inout QueueWorker) -> Void = { _ in },
                              _ body: @Sendable (Gateway) async throws -> T) async throws -> T {
        let gateway = try await Gateway(configuration: configuration, logger: Self.logger,
                                        environment: secrets.all.merging(environment) { $1 }, clock: clock)
        var worker = gateway.worker
        tune(&worker)
        let group = ServiceGroup(configuration: .init(services: [.init(service: worker), .init(service: gateway.reloader)], logger: Self.logger))
        let task = Task { try await group.run() }
        do {
            let result = try await body(gateway)
            await group.triggerGracefulShutdown()
            try await task.value
            await gateway.shutdown()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            await gateway.shutdown()
            throw error
        }
    }

    /// Builds an app with `build` (handing it the hook that learns the free port its HTTP server
    /// took), runs its services (or those `pick` chooses) around `body`, which gets the app and its
    /// base URL, then stops them as SIGTERM would and releases the app, also when `body` throws.
    func servingApp<T: Sendable>(logger: Logger = Harness.logger,
                                 services pick: (GatewayApp) -> [ServiceGroupConfiguration.ServiceConfiguration] = \.services,
                                 build: (_ anyFreePort: @escaping @Sendable (Int) async -> Void) async throws -> GatewayApp,
                                 _ body: (GatewayApp, String) async throws -> T) async throws -> T {
        let (ports, found) = AsyncStream.makeStream(of: Int.self)
        let app = try await build { port in found.yield(port) }
        let group = ServiceGroup(configuration: .init(services: pick(app), logger: logger))
        let running = Task { try await group.run() }
        do {
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let result = try await body(app, "http://127.0.0.1:\(port)")
            await group.triggerGracefulShutdown()
            try await running.value
            await app.shutdown()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            await app.shutdown()
            throw error
        }
    }

    @discardableResult
    func enqueue(_ job: String) async throws -> String {
        try await redis.command(["XADD", configuration.stream, "*", "job", job]).string ?? ""
    }

    func outbox() -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: configuration.outboxPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// The contact log the gateway writes (SQLite or PostgreSQL, as configured).
    func log() async throws -> any ContactLogStore {
        try await ContactLogs.open(configuration.contactLogPath)
    }

    func events(job: String) async throws -> [ContactEvent] {
        try await log().events(EventFilter(jobID: job)).map(\.event)
    }

    func outcome(job: String) async throws -> ContactEvent? {
        try await events(job: job).first { $0.kind.isTerminal }
    }

    func waitForOutcome(job: String) async throws -> ContactEvent {
        _ = try await eventually { try await outcome(job: job) != nil }
        return try #require(try await outcome(job: job), "job \(job) has no outcome")
    }

    func pendingCount() async throws -> Int {
        let reply = try await redis.command(["XPENDING", configuration.stream, configuration.group])
        return reply.array?.first?.integer ?? -1
    }

    func deadLetters() async throws -> [[String: String]] {
        let reply = try await redis.command(["XRANGE", configuration.deadLetterStream, "-", "+"])
        return try StreamConsumer.entries(reply.array ?? []).map { $0.fields.mapValues { String(decoding: $0, as: UTF8.self) } }
    }
}

/// A valid job for the shipped payment-reminder template, with overrides.
func job(_ id: String, phone: String = "+50688887777", locale: String = "es-CR", extra: String = "", data: String? = nil) -> String {
    let data = data ?? #"{"amount_due": "125.50", "currency": "USD", "due_date": "2026-12-01", "pay_link": "https://pay.example/x"}"#
    return """
    {"id": "\(id)", "template": "payment-reminder", "channels": ["sms"], \(extra)
     "contact": {"id": "C-\(id)", "name": "Ana Mora", "phone": "\(phone)", "locale": "\(locale)"},
     "debt_id": "LN-77", "segment": "early", "sentiment": {"label": "upset", "score": -0.7}, "data": \(data)}
    """
}
