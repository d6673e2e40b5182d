import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Console
@testable import GatewayHTTP

@Suite struct ConsoleSessionTests {
    @Test func aPageWithoutSessionRedirectsToSignIn() async throws {
        let harness = try ConsoleHarness()
        try await harness.withApp { client in
            var browser = Browser()
            let response = try await browser.get(client, "/console/templates")
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/console/sign-in?next=%2Fconsole%2Ftemplates")
            // A cookie that is not a session gets the same answer.
            browser.cookies[Console.sessionCookie] = SessionStore.randomToken()
            #expect(try await browser.get(client, "/console/").status == .seeOther)
        }
    }

    @Test func signingInStoresASessionInRedisWithTheIdleTTLAndASafeCookie() async throws {
        let harness = try ConsoleHarness(idleSeconds: 600)
        try await harness.withApp { client in
            var browser = Browser()
            let page = try await browser.get(client, "/console/sign-in")
            #expect(page.status == .ok)
            let signInCookie = page.headers[values: .setCookie].first { $0.hasPrefix(Console.signInCookie + "=") } ?? ""
            #expect(signInCookie.contains("HttpOnly") && signInCookie.contains("SameSite=Strict") && signInCookie.contains("Path=/console"))
            let csrf = Browser.csrf(in: String(buffer: page.body)) ?? ""
            let response = try await browser.post(client, "/console/sign-in", form: [("csrf", csrf), ("token", harness.tokens.plain["marketing-luis"]!)])
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/console/")
            let cookie = response.headers[values: .setCookie].first { $0.hasPrefix(Console.sessionCookie + "=") } ?? ""
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Strict"))
            #expect(cookie.contains("Path=/console"))
            #expect(cookie.contains("Max-Age=600"))
            #expect(!cookie.contains("Secure"))   // plain HTTP, no trusted proxy
            let id = try #require(browser.cookies[Console.sessionCookie])
            #expect(id.utf8.count == 43)
            let ttl = try await harness.console.sessions.ttl(id: id)
            #expect(ttl > 0 && ttl <= 600)
            let session = try #require(try await harness.console.sessions.find(id: id))
            #expect(session.name == "marketing-luis")
            #expect(session.roles == ["marketing"])
            // Redis holds the hash of the id, never the id itself.
            let raw = try await harness.redis.command(["GET", harness.console.configuration.sessionKeyPrefix + id])
            #expect(raw == .null)
            let home = try await browser.get(client, "/console/")
            #expect(home.status == .ok)
            #expect(String(buffer: home.body).contains("marketing-luis"))
        }
    }

    @Test func signOutEndsTheSessionInRedisAtOnce() async throws {
        let harness = try ConsoleHarness()
        try await harness.withApp { client in
            var browser = Browser()
            _ = try await browser.signIn(client, token: harness.tokens.plain["compliance-ana"]!)
            let id = try #require(browser.cookies[Console.sessionCookie])
            let home = try await browser.get(client, "/console/")
            let csrf = try #require(Browser.csrf(in: String(buffer: home.body)))
            let stolen = browser.cookies
            let out = try await browser.post(client, "/console/sign-out", form: [("csrf", csrf)])
            #expect(out.status == .seeOther)
            #expect(out.headers[.location] == "/console/sign-in?signed_out=1")
            #expect(browser.cookies[Console.sessionCookie] == nil)
            #expect(try await harness.console.sessions.find(id: id) == nil)
            // The old cookie, replayed, no longer opens anything.
            var replay = Browser(cookies: stolen)
            #expect(try await replay.get(client, "/console/").status == .seeOther)
        }
    }

    @Test func aWrongTokenIsRefusedWithTheErrorSummaryLinkingToTheField() async throws {
        let harness = try ConsoleHarness()
        try await harness.withApp { client in
            var browser = Browser(cookies: [Console.languageCookie: "en"])
            let response = try await browser.signIn(client, token: "gw_not-a-real-token")
            #expect(response.status == .unauthorized)
            let html = String(buffer: response.body)
            #expect(html.contains("<title>Error: Sign in"))
            #expect(html.contains("There is a problem"))
            #expect(html.contains("<a href=\"#token\">The API token is not valid"))
            #expect(html.contains("id=\"token-error\""))
            #expect(browser.cookies[Console.sessionCookie] == nil)
            let empty = try await browser.signIn(client, token: "  ")
            #expect(empty.status == .badRequest)
            #expect(String(buffer: empty.body).contains("<a href=\"#token\">Enter your API token</a>"))
        }
    }

    @Test func aRevokedTokenEndsItsSessions() async throws {
        let harness = try ConsoleHarness()
        try await harness.withApp { client in
            var browser = Browser()
            _ = try await browser.signIn(client, token: harness.tokens.plain["marketing-luis"]!)
            let id = try #require(browser.cookies[Console.sessionCookie])
            #expect(try await browser.get(client, "/console/templates").status == .ok)
            harness.tokens.revoke("marketing-luis")
            #expect(try await browser.get(client, "/console/templates").status == .seeOther)
            #expect(try await harness.console.sessions.find(id: id) == nil)
        }
    }

    @Test func cookiesAreSecureOnlyBehindATrustedTLSProxy() async throws {
        for trusted in [false, true] {
            let harness = try ConsoleHarness(trustForwardedProto: trusted)
            try await harness.withApp { client in
                var browser = Browser()
                let page = try await browser.get(client, "/console/sign-in", headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
                let csrf = Browser.csrf(in: String(buffer: page.body)) ?? ""
                let response = try await browser.post(client, "/console/sign-in", form: [("csrf", csrf), ("token", harness.tokens.plain["ops-admin"]!)],
                                                      headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
                let cookie = response.headers[values: .setCookie].first { $0.hasPrefix(Console.sessionCookie + "=") } ?? ""
                #expect(cookie.contains("; Secure") == trusted, "trust_forwarded_proto \(trusted): \(cookie)")
            }
        }
    }

    @Test func eachRoleSeesOnlyItsSections() async throws {
        let harness = try ConsoleHarness()
        try await harness.withApp { client in
            var marketing = Browser(cookies: [Console.languageCookie: "en"])
            _ = try await marketing.signIn(client, token: harness.tokens.plain["marketing-luis"]!)
            let home = String(buffer: try await marketing.get(client, "/console/").body)
            #expect(home.contains("href=\"/console/templates\""))
            var compliance = Browser(cookies: [Console.languageCookie: "en"])
            _ = try await compliance.signIn(client, token: harness.tokens.plain["compliance-ana"]!)
            let theirs = String(buffer: try await compliance.get(client, "/console/").body)
            #expect(!theirs.contains("/console/templates"))
            let refused = try await compliance.get(client, "/console/templates")
            #expect(refused.status == .forbidden)
            #expect(String(buffer: refused.body).contains("This page needs the marketing role"))
        }
    }

    @Test func languageFollowsTheSwitchThenAcceptLanguageThenTheDefault() async throws {
        #expect(Language.negotiate(acceptLanguage: "en-US,en;q=0.9,es;q=0.8", cookie: nil, fallback: .es) == .en)
        #expect(Language.negotiate(acceptLanguage: "fr, es-CR;q=0.5, en;q=0.4", cookie: nil, fallback: .en) == .es)
        #expect(Language.negotiate(acceptLanguage: "fr, de", cookie: nil, fallback: .es) == .es)
        #expect(Language.negotiate(acceptLanguage: "en", cookie: "es", fallback: .en) == .es)
        let harness = try ConsoleHarness()
        try await harness.withApp { client in
            var browser = Browser()
            let english = try await browser.get(client, "/console/sign-in", headers: [.acceptLanguage: "en-GB,en;q=0.9"])
            #expect(String(buffer: english.body).contains("<html lang=\"en\">"))
            let switched = try await browser.get(client, "/console/language?to=es&back=%2Fconsole%2Fsign-in")
            #expect(switched.status == .seeOther)
            #expect(switched.headers[.location] == "/console/sign-in")
            let spanish = try await browser.get(client, "/console/sign-in", headers: [.acceptLanguage: "en-GB,en;q=0.9"])
            #expect(String(buffer: spanish.body).contains("<html lang=\"es\">"))
            #expect(String(buffer: spanish.body).contains("Iniciar sesión"))
            // The way back never leaves the console.
            let away = try await browser.get(client, "/console/language?to=en&back=https%3A%2F%2Fevil.example%2F")
            #expect(away.headers[.location] == "/console/")
        }
    }
}
