import ContactLog
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import RedisQueue
import Templates
import TestSupport
import Worker
@testable import Console
@testable import GatewayHTTP

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Tokens for the console tests: one per role, and a marketing user whose name needs escaping.
final class ConsoleTokens: @unchecked Sendable {
    // @unchecked: `tokens` is guarded by `lock` (a test revokes a token while the app runs).
    let plain: [String: String]
    private let lock = NSLock()
    private var tokens: APITokens
    static let trickyName = "Luis <script>alert(1)</script> & \"Ana\""

    init() {
        var plain: [String: String] = [:]
        var entries: [APITokens.Entry] = []
        let people: [(String, Set<Role>)] = [("marketing-luis", [.marketing]), ("compliance-ana", [.compliance]), ("scoring-service", [.scoring]),
                                             ("ops-admin", [.admin]), (Self.trickyName, [.marketing])]
        for (name, roles) in people {
            let (token, hash) = APITokens.generate()
            plain[name] = token
            entries.append(.init(name: name, roles: roles, sha256: APITokens.bytes(hex: hash)!))
        }
        self.plain = plain
        tokens = APITokens(entries: entries)
    }

    var current: APITokens { lock.withLock { tokens } }

    func revoke(_ name: String) { lock.withLock { tokens.entries.removeAll { $0.name == name } } }
}

/// A console over the real Redis (TEST_REDIS_URL), a SQLite log and a copy of the templates.
struct ConsoleHarness: Sendable {
    let tokens = ConsoleTokens()
    let redis: RedisClient
    let console: Console
    let templatesDirectory: String
    let templateStore: TemplateStore
    let store: SQLiteContactLog

    init(idleSeconds: Int = 28_800, trustForwardedProto: Bool = false, copyTemplates: Bool = false, trustForwardedFor: Bool = false,
         signInLimit: SignInLimit = SignInLimit(), templateApproval: Bool = false, logger: Logger = Logger(label: "console-test")) throws {
        redis = try TestRedis.client()
        var directory = repositoryRoot.appendingPathComponent("templates").path
        if copyTemplates {
            let copy = FileManager.default.temporaryDirectory.appendingPathComponent("console-templates-\(UUID().uuidString)").path
            try FileManager.default.copyItem(atPath: directory, toPath: copy)
            directory = copy
        }
        templatesDirectory = directory
        let requirements = try ContactRulesFile.templateRequirements(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path)
        templateStore = try TemplateStore(directory: directory, requirements: requirements, defaultLocale: "es-CR")
        store = try SQLiteContactLog(path: FileManager.default.temporaryDirectory.appendingPathComponent("console-\(UUID().uuidString)/log.sqlite").path)
        let tokens = self.tokens
        console = Console(configuration: ConsoleConfiguration(sessionIdleSeconds: idleSeconds, trustForwardedProto: trustForwardedProto,
                                                              defaultLocale: "es-CR", sessionKeyPrefix: TestRedis.unique("console") + ":",
                                                              trustForwardedFor: trustForwardedFor,
                                                              // Each harness counts its own failed sign-ins (the "all" counter too).
                                                              signInLimit: SignInLimit(perAddress: signInLimit.perAddress, all: signInLimit.all,
                                                                                       windowSeconds: signInLimit.windowSeconds,
                                                                                       keyPrefix: TestRedis.unique("console-sign-in") + ":"),
                                                              templateApproval: templateApproval),
                          tokens: { tokens.current }, redis: redis, templates: templateStore, store: store, logger: logger)
    }

    func withApp(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templateStore, store: store,
                                                  tokens: tokens.current, console: console.routes()))
        try await app.test(.router, body)
    }
}

/// What a browser would keep between requests: cookies, and the last page's CSRF field.
struct Browser {
    var cookies: [String: String] = [:]

    var cookieHeader: String { cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }

    mutating func take(_ response: TestResponse) {
        for field in response.headers where field.name == .setCookie {
            let pair = field.value.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pair[0]), value = pair.count > 1 ? String(pair[1]) : ""
            if field.value.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
        }
    }

    func headers(_ extra: HTTPFields = [:]) -> HTTPFields {
        var headers = extra
        if !cookies.isEmpty { headers[.cookie] = cookieHeader }
        return headers
    }

    /// GET, keeping the cookies it sets; returns status, body and headers.
    mutating func get(_ client: any TestClientProtocol, _ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        let response = try await client.execute(uri: uri, method: .get, headers: self.headers(headers), body: nil)
        take(response)
        return response
    }

    mutating func post(_ client: any TestClientProtocol, _ uri: String, form: [(String, String)], headers: HTTPFields = [:]) async throws -> TestResponse {
        var all = headers
        all[.contentType] = "application/x-www-form-urlencoded"
        let body = form.map { "\(HTML.component($0.0))=\(HTML.component($0.1))" }.joined(separator: "&")
        let response = try await client.execute(uri: uri, method: .post, headers: self.headers(all), body: ByteBuffer(string: body))
        take(response)
        return response
    }

    /// Signs in with `token` the way the form does; returns the final response of the POST.
    mutating func signIn(_ client: any TestClientProtocol, token: String) async throws -> TestResponse {
        let page = try await get(client, "/console/sign-in")
        let csrf = Self.csrf(in: String(buffer: page.body)) ?? ""
        return try await post(client, "/console/sign-in", form: [("csrf", csrf), ("token", token)])
    }

    /// The value of the first hidden csrf field in a page.
    static func csrf(in html: String) -> String? {
        guard let range = html.range(of: "name=\"csrf\" value=\"") else { return nil }
        let rest = html[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}
