import Foundation
import GatewayApp
import GatewayCore
import GatewayHTTP
import Providers
import TestSupport
import Testing

/// The console's status page on a gateway built as `gateway run` builds it: the figures come from
/// the same sources as /ready and /metrics (the real Redis queue, this process's providers).
@Suite struct ConsoleStatusTests {
    @Test func theStatusPageShowsTheRunningGatewaysQueueProvidersAndChecks() async throws {
        var harness = try Harness()
        let (metricsToken, metricsHash) = APITokens.generate()
        let (complianceToken, complianceHash) = APITokens.generate()
        harness.configuration.apiTokensPath = harness.directory.appendingPathComponent("api-tokens.yml").path
        try "tokens:\n  - {name: prometheus, roles: [metrics], sha256: \(metricsHash)}\n  - {name: compliance-ana, roles: [compliance], sha256: \(complianceHash)}\n"
            .write(toFile: harness.configuration.apiTokensPath, atomically: true, encoding: .utf8)
        try harness.writeProvider("sandbox-status", "type: sandbox\n")
        harness.configuration.httpPort = 0
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        try await harness.servingApp(build: { try await GatewayApp.build(configuration: harness.configuration, logger: Harness.logger, anyFreePort: $0) }) { _, base in
            // Three jobs waiting for their time (far away: the worker leaves them be) and a dead letter.
            try await harness.redis.command(["ZADD", harness.configuration.scheduledKey, "4102444800000", "status-a", "4102444800000", "status-b",
                                             "4102444800000", "status-c"])
            try await harness.enqueue("not json at all")
            let settled = harness
            #expect(try await eventually {
                let dead = try await settled.deadLetters().count
                let pending = try await settled.pendingCount()
                return dead == 1 && pending == 0
            })

            func signIn(_ token: String) async throws -> String {
                let page = try await client.send(HTTPRequest(url: base + "/console/sign-in", timeout: 120))
                let html = String(decoding: page.body, as: UTF8.self)
                let csrf = try #require(html.firstMatch(of: /name="csrf" value="([^"]+)"/)?.1)
                let signInCookie = try #require(page.headers.first { $0.0 == "set-cookie" && $0.1.hasPrefix("gw_console_signin=") }?.1.split(separator: ";").first)
                let form = "csrf=\(csrf)&token=\(token)"
                let answer = try await client.send(HTTPRequest(method: "POST", url: base + "/console/sign-in",
                                                               headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", String(signInCookie))],
                                                               body: Array(form.utf8), timeout: 120))
                #expect(answer.status == 303)
                let session = try #require(answer.headers.first { $0.0 == "set-cookie" && $0.1.hasPrefix("gw_console_session=") }?.1.split(separator: ";").first)
                return String(session) + "; gw_console_lang=en"
            }
            let operator_ = try await signIn(metricsToken)
            let answer = try await client.send(HTTPRequest(url: base + "/console/status", headers: [("Cookie", operator_)], timeout: 120))
            #expect(answer.status == 200)
            let html = String(decoding: answer.body, as: UTF8.self)
            // /ready's checks, as /ready answers them now.
            let ready = try await client.send(HTTPRequest(url: base + "/ready", timeout: 120))
            let checks = try JSONParser.parse(ready.body)["checks"]
            guard case .object(let fields)? = checks else {
                Issue.record("/ready has no checks")
                return
            }
            for (name, value) in fields {
                #expect(html.contains("<th scope=\"row\">\(name)</th>"), "check \(name) on the status page")
                if case .string("ok") = value { #expect(html.contains("<th scope=\"row\">\(name)</th><td><span class=\"tag\">ok</span>")) }
            }
            // The queue as Redis has it: three scheduled, one dead letter, nothing pending.
            #expect(html.contains("Deferred (scheduled)</th><td class=\"numeric\">3</td>"))
            #expect(html.contains("Dead letters</th><td class=\"numeric\">1</td>"))
            #expect(html.contains("Read, not yet acknowledged</th><td class=\"numeric\">0</td>"))
            // This process's provider and its breaker.
            #expect(html.contains("<th scope=\"row\">sandbox-status</th>"))
            #expect(html.contains("closed (sending)"))
            #expect(html.contains("templates in service"))
            // Compliance's token does not open it.
            let compliance = try await signIn(complianceToken)
            #expect(try await client.send(HTTPRequest(url: base + "/console/status", headers: [("Cookie", compliance)], timeout: 120)).status == 403)
        }
    }
}
