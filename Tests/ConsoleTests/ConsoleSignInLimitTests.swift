import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import Console
@testable import GatewayHTTP

/// Log lines a console writes, kept for a test to read.
final class CapturedLog: @unchecked Sendable {
    // @unchecked: `lines` is behind `lock`.
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let lock = NSLock()
    private var lines: [Line] = []

    var all: [Line] { lock.withLock { lines } }

    var logger: Logger {
        Logger(label: "console-test") { _ in Handler(log: self) }
    }

    struct Handler: LogHandler {
        let log: CapturedLog
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }.mapValues { "\($0)" }
            log.lock.withLock { log.lines.append(Line(level: event.level, message: "\(event.message)", metadata: merged)) }
        }
    }
}

@Suite struct ConsoleSignInLimitTests {
    /// A sign-in from `address` (as the proxy in front reports it).
    func signIn(_ client: any TestClientProtocol, token: String, from address: String?, language: String = "en") async throws -> TestResponse {
        var browser = Browser(cookies: [Console.languageCookie: language])
        var headers: HTTPFields = [:]
        if let address { headers[HTTPField.Name("X-Forwarded-For")!] = "198.51.100.1, \(address)" }
        let page = try await browser.get(client, "/console/sign-in", headers: headers)
        let csrf = Browser.csrf(in: String(buffer: page.body)) ?? ""
        return try await browser.post(client, "/console/sign-in", form: [("csrf", csrf), ("token", token)], headers: headers)
    }

    @Test func failedSignInsFromOneAddressAreRefusedWith429UntilTheWindowEnds() async throws {
        let log = CapturedLog()
        let harness = try ConsoleHarness(trustForwardedFor: true, signInLimit: SignInLimit(perAddress: 3, all: 100, windowSeconds: 120),
                                         logger: log.logger)
        let right = harness.tokens.plain["marketing-luis"]!
        try await harness.withApp { client in
            for attempt in 1...3 {
                let wrong = try await signIn(client, token: "gw-wrong-\(attempt)", from: "203.0.113.7")
                #expect(wrong.status == .unauthorized, "attempt \(attempt)")
            }
            // The fourth, even with the right token, is refused without looking at the token.
            let limited = try await signIn(client, token: right, from: "203.0.113.7")
            #expect(limited.status == .tooManyRequests)
            let retryAfter = try #require(limited.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...120).contains(retryAfter))
            #expect(limited.headers[.setCookie]?.contains(Console.sessionCookie) != true, "no session for a refused sign-in")
            let html = String(buffer: limited.body)
            #expect(html.contains("class=\"error-summary\""))
            #expect(html.contains("<a href=\"#token\">There have been too many failed sign-ins from your network. Wait 2 minutes"))
            // The same token from another address signs in; its own failures start at zero.
            let other = try await signIn(client, token: right, from: "203.0.113.8")
            #expect(other.status == .seeOther)
            // The first entries of X-Forwarded-For are the client's to write: only the last (the proxy's) counts.
            let spoofed = try await signIn(client, token: right, from: "203.0.113.7, 192.0.2.99")
            #expect(spoofed.status == .seeOther)
            // In Spanish too.
            let spanish = try await signIn(client, token: right, from: "203.0.113.7", language: "es")
            #expect(spanish.status == .tooManyRequests)
            #expect(String(buffer: spanish.body).contains("demasiados intentos fallidos de entrar desde su red"))
        }
        // The refusal is a security log line naming the address and which limit.
        let refusals = log.all.filter { $0.message == "console sign-in refused: too many failed sign-ins" }
        #expect(refusals.count == 2)
        #expect(refusals.allSatisfy { $0.level == .warning && $0.metadata["security"] == "sign_in_rate_limit" })
        #expect(refusals.first?.metadata["address"] == "203.0.113.7")
        #expect(refusals.first?.metadata["scope"] == "address")
        #expect(refusals.first?.metadata["failures"] == "3")
        let failures = log.all.filter { $0.message == "console sign-in refused: token not valid" }
        #expect(failures.map { $0.metadata["failures"] } == ["1", "2", "3"])
    }

    /// Each attempt is counted before its token is checked: guesses sent all at once get no more
    /// tries than guesses sent one after another.
    @Test func guessesSentAtOnceGetNoMoreTriesThanTheLimit() async throws {
        let harness = try ConsoleHarness(trustForwardedFor: true, signInLimit: SignInLimit(perAddress: 3, all: 100, windowSeconds: 120))
        try await harness.withApp { client in
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for guess in 0..<12 {
                    group.addTask { try await signIn(client, token: "gw-guess-\(guess)", from: "203.0.113.40").status }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .unauthorized }.count == 3, "\(statuses)")
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 9, "\(statuses)")
        }
        let limiter = harness.console.signInLimiter
        #expect(try await harness.redis.command(["GET", limiter.addressKey("203.0.113.40")]).integer == 3, "refused attempts are taken back")
    }

    @Test func aSuccessfulSignInIsNotCounted() async throws {
        let harness = try ConsoleHarness(trustForwardedFor: true, signInLimit: SignInLimit(perAddress: 2, all: 2, windowSeconds: 3600))
        let right = harness.tokens.plain["compliance-ana"]!
        try await harness.withApp { client in
            for _ in 1...5 {
                let response = try await signIn(client, token: right, from: "203.0.113.20")
                #expect(response.status == .seeOther)
            }
            let wrong = try await signIn(client, token: "gw-wrong", from: "203.0.113.20")
            #expect(wrong.status == .unauthorized)
            let again = try await signIn(client, token: right, from: "203.0.113.20")
            #expect(again.status == .seeOther)
        }
        let limiter = harness.console.signInLimiter
        #expect(try await harness.redis.command(["GET", limiter.addressKey("203.0.113.20")]).integer == 1)
        #expect(try await harness.redis.command(["GET", limiter.allKey]).integer == 1)
        let ttl = try #require(try await harness.redis.command(["TTL", limiter.addressKey("203.0.113.20")]).integer)
        // The counter expires with its window (an hour here, so that a slow machine cannot outlast it mid-test).
        #expect((1...3600).contains(ttl))
    }

    /// Failures from many addresses together: wrong tokens are refused with 429 from then on, but a
    /// right token still signs in (else anyone could lock every user out with a few wrong tokens).
    @Test func failuresFromManyAddressesRefuseWrongTokensButNotARightOne() async throws {
        let log = CapturedLog()
        let harness = try ConsoleHarness(trustForwardedFor: true, signInLimit: SignInLimit(perAddress: 50, all: 3, windowSeconds: 300),
                                         logger: log.logger)
        try await harness.withApp { client in
            for index in 1...3 {
                let response = try await signIn(client, token: "gw-guess-\(index)", from: "198.51.100.\(index + 10)")
                #expect(response.status == .unauthorized)
            }
            let refused = try await signIn(client, token: "gw-guess-4", from: "192.0.2.50")
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter].flatMap { Int($0) }.map { (1...300).contains($0) } == true)
            #expect(String(buffer: refused.body).contains("only a valid token is accepted for the next 5 minutes"))
            let right = try await signIn(client, token: harness.tokens.plain["ops-admin"]!, from: "192.0.2.50")
            #expect(right.status == .seeOther)
            #expect(right.headers[values: .setCookie].contains { $0.hasPrefix("gw_console_session=") })
        }
        #expect(log.all.contains { $0.message == "console sign-in refused: too many failed sign-ins" && $0.metadata["scope"] == "all" })
        let limiter = harness.console.signInLimiter
        #expect(try await harness.redis.command(["GET", limiter.allKey]).integer == 3, "neither the refusal nor the sign-in is counted")
    }

    @Test func withoutTrustingTheProxyXForwardedForIsIgnored() async throws {
        let harness = try ConsoleHarness(signInLimit: SignInLimit(perAddress: 2, all: 100, windowSeconds: 3600))
        try await harness.withApp { client in
            let first = try await signIn(client, token: "gw-a", from: "203.0.113.30")
            #expect(first.status == .unauthorized)
            let second = try await signIn(client, token: "gw-b", from: "203.0.113.31")
            #expect(second.status == .unauthorized)
            // Another "address" in the header changes nothing: both failures counted against the same client.
            let third = try await signIn(client, token: harness.tokens.plain["compliance-ana"]!, from: "203.0.113.32")
            #expect(third.status == .tooManyRequests)
        }
    }

    /// Through the real HTTP server: failures are counted by the connection's peer address, and a
    /// Gateway-Peer-Address header sent by the client is replaced, not believed.
    @Test func theServerCountsByThePeerAddressNotByAHeaderTheClientSends() async throws {
        let harness = try ConsoleHarness(signInLimit: SignInLimit(perAddress: 2, all: 100, windowSeconds: 3600))
        let app = buildApplication(configuration: HTTPConfiguration(host: "127.0.0.1", port: 0), templates: harness.templateStore, store: harness.store,
                                   tokens: harness.tokens.current, console: harness.console.routes(), logger: Logger(label: "console-test"))
        try await app.test(.live) { client in
            for index in 1...2 {
                var browser = Browser(cookies: [Console.languageCookie: "en"])
                let forged: HTTPFields = [PeerAddress.header: "192.0.2.\(index)"]
                let page = try await browser.get(client, "/console/sign-in", headers: forged)
                let csrf = Browser.csrf(in: String(buffer: page.body)) ?? ""
                let response = try await browser.post(client, "/console/sign-in", form: [("csrf", csrf), ("token", "gw-wrong")], headers: forged)
                #expect(response.status == .unauthorized)
            }
        }
        let limiter = harness.console.signInLimiter
        #expect(try await harness.redis.command(["GET", limiter.addressKey("127.0.0.1")]).integer == 2)
        #expect(try await harness.redis.command(["EXISTS", limiter.addressKey("192.0.2.1")]).integer == 0)
    }
}
