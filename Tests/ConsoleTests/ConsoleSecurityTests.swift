import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Console
@testable import GatewayHTTP

@Suite struct ConsoleSecurityTests {
    static let csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    func expectSecurityHeaders(_ response: TestResponse, _ what: String) {
        #expect(response.headers[.contentSecurityPolicy] == Self.csp, "\(what)")
        #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff", "\(what)")
        #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin", "\(what)")
        #expect(response.headers[.cacheControl] == "no-store", "\(what)")
    }

    @Test func everyConsoleResponseCarriesTheSecurityHeaders() async throws {
        let harness = try ConsoleHarness()
        try await harness.withApp { client in
            var browser = Browser()
            expectSecurityHeaders(try await browser.get(client, "/console/sign-in"), "sign-in page")
            expectSecurityHeaders(try await browser.get(client, "/console/templates"), "redirect to sign-in")
            expectSecurityHeaders(try await browser.get(client, "/console/static/console.css"), "stylesheet")
            expectSecurityHeaders(try await browser.get(client, "/console/static/console.js"), "script")
            let missing = try await browser.get(client, "/console/no/such/page")
            #expect(missing.status == .notFound)
            expectSecurityHeaders(missing, "404")
            let missingPost = try await browser.post(client, "/console/no/such/form", form: [])
            #expect(missingPost.status == .notFound)
            expectSecurityHeaders(missingPost, "404 to a POST")
            _ = try await browser.signIn(client, token: harness.tokens.plain["marketing-luis"]!)
            expectSecurityHeaders(try await browser.get(client, "/console/"), "home")
            expectSecurityHeaders(try await browser.post(client, "/console/sign-out", form: []), "CSRF refusal")
        }
    }

    @Test func noPageHasInlineScriptOrStyle() async throws {
        let harness = try ConsoleHarness()
        try await harness.withApp { client in
            var browser = Browser()
            var pages = [String(buffer: try await browser.get(client, "/console/sign-in").body)]
            _ = try await browser.signIn(client, token: harness.tokens.plain["ops-admin"]!)
            for path in ["/console/", "/console/templates", "/console/nothing-here"] {
                pages.append(String(buffer: try await browser.get(client, path).body))
            }
            for html in pages {
                #expect(!html.contains("<style"))
                #expect(!html.contains("style=\""))
                #expect(html.range(of: #"\son[a-z]+\s*="#, options: .regularExpression) == nil, "inline event handler")
                for match in html.matches(of: /<script([^>]*)>/) {
                    #expect(match.1.contains("src=\"/console/static/"), "inline script: \(match.0)")
                }
            }
        }
    }

    @Test func aPostWithoutTheCSRFTokenIsRefusedAndChangesNothing() async throws {
        let harness = try ConsoleHarness()
        try await harness.withApp { client in
            var browser = Browser(cookies: [Console.languageCookie: "en"])
            _ = try await browser.signIn(client, token: harness.tokens.plain["marketing-luis"]!)
            let id = try #require(browser.cookies[Console.sessionCookie])
            let missing = try await browser.post(client, "/console/sign-out", form: [])
            #expect(missing.status == .forbidden)
            #expect(String(buffer: missing.body).contains("This form could not be accepted"))
            let wrong = try await browser.post(client, "/console/sign-out", form: [("csrf", SessionStore.randomToken())])
            #expect(wrong.status == .forbidden)
            #expect(try await harness.console.sessions.find(id: id) != nil, "a refused sign-out must not end the session")
            // The right token from another site's page: refused by Origin and by Sec-Fetch-Site.
            let csrf = try #require(Browser.csrf(in: String(buffer: try await browser.get(client, "/console/").body)))
            let crossOrigin = try await browser.post(client, "/console/sign-out", form: [("csrf", csrf)],
                                                     headers: [HTTPField.Name("Origin")!: "https://evil.example", HTTPField.Name("Host")!: "gateway.bank.example"])
            #expect(crossOrigin.status == .forbidden)
            let crossSite = try await browser.post(client, "/console/sign-out", form: [("csrf", csrf)],
                                                   headers: [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"])
            #expect(crossSite.status == .forbidden)
            #expect(try await harness.console.sessions.find(id: id) != nil)
            // From the page itself: accepted.
            let own = try await browser.post(client, "/console/sign-out", form: [("csrf", csrf)],
                                             headers: [HTTPField.Name("Origin")!: "http://gateway.bank.example", HTTPField.Name("Host")!: "gateway.bank.example",
                                                       HTTPField.Name("Sec-Fetch-Site")!: "same-origin"])
            #expect(own.status == .seeOther)
            #expect(try await harness.console.sessions.find(id: id) == nil)
        }
    }

    @Test func signInNeedsTheFormsOwnCookie() async throws {
        let harness = try ConsoleHarness()
        try await harness.withApp { client in
            // A form posted from elsewhere has no sign-in cookie (SameSite=Strict) to match its field.
            var browser = Browser()
            let response = try await browser.post(client, "/console/sign-in", form: [("csrf", "x"), ("token", harness.tokens.plain["ops-admin"]!)])
            #expect(response.status == .forbidden)
            #expect(browser.cookies[Console.sessionCookie] == nil)
        }
    }

    @Test func valuesAreEscapedOnEveryPage() async throws {
        #expect(HTML.escape("<a href=\"x\">O'Brien & co</a>") == "&lt;a href=&quot;x&quot;&gt;O&#39;Brien &amp; co&lt;/a&gt;")
        let name = "<img src=x>"
        let fragment: HTML = "<p title=\"\(name)\">\(name)</p>"
        #expect(fragment.rendered == "<p title=\"&lt;img src=x&gt;\">&lt;img src=x&gt;</p>")
        #expect(HTML.component("a/b c?ñ") == "a%2Fb%20c%3F%C3%B1")
        let harness = try ConsoleHarness()
        try await harness.withApp { client in
            var browser = Browser()
            _ = try await browser.signIn(client, token: harness.tokens.plain[ConsoleTokens.trickyName]!)
            let html = String(buffer: try await browser.get(client, "/console/").body)
            #expect(html.contains("Luis &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Ana&quot;"))
            #expect(!html.contains("<script>alert(1)"))
        }
    }
}
