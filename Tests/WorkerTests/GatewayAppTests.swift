import Foundation
import GatewayApp
import GatewayCore
import GatewayHTTP
import Providers
import ServiceLifecycle
import Testing
import TestSupport
@testable import Worker

/// The gateway as `gateway run` builds it: the worker and the HTTP API from one function, sharing
/// the stream, the contact log and the templates.
@Suite struct GatewayAppTests {
    @Test func aJobPostedToTheAPIIsSentByTheWorkerBuiltBesideIt() async throws {
        var harness = try Harness()
        let (token, hash) = APITokens.generate()
        harness.configuration.apiTokensPath = harness.directory.appendingPathComponent("api-tokens.yml").path
        try "tokens:\n  - {name: scoring-service, roles: [scoring], sha256: \(hash)}\n"
            .write(toFile: harness.configuration.apiTokensPath, atomically: true, encoding: .utf8)
        harness.configuration.httpPort = 0   // no HTTP unless asked: the test asks for any free port below
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        try await harness.servingApp(build: { try await GatewayApp.build(configuration: harness.configuration, logger: Harness.logger, anyFreePort: $0) }) { app, base in
            #expect(app.services.count == 3, "worker, template reloader and HTTP server")
            #expect(try await client.send(HTTPRequest(url: base + "/health", timeout: 120)).status == 200)
            // Accepted ids are remembered in Redis for days: a fresh id for every run.
            let id = "APP-\(UUID().uuidString.prefix(8))"
            let body = Array(job(id).utf8)
            let refused = try await client.send(HTTPRequest(method: "POST", url: base + "/jobs", headers: [("Content-Type", "application/json")], body: body, timeout: 120))
            #expect(refused.status == 401)
            let accepted = try await client.send(HTTPRequest(method: "POST", url: base + "/jobs",
                                                             headers: [("Content-Type", "application/json"), ("Authorization", "Bearer \(token)")], body: body, timeout: 120))
            #expect(accepted.status == 202, "\(String(decoding: accepted.body, as: UTF8.self))")
            #expect(try await harness.waitForOutcome(job: id).kind == .sent)
            #expect(harness.outbox().compactMap { $0["job_id"] as? String } == [id])
        }
    }

    @Test func withoutAPortThereIsNoHTTPServer() async throws {
        var harness = try Harness()
        harness.configuration.httpPort = 0
        let app = try await GatewayApp.build(configuration: harness.configuration, logger: Harness.logger)
        #expect(app.services.count == 2, "worker and template reloader only")
        await app.shutdown()
    }
}
