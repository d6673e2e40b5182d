import ContactLog
import Crypto
import Foundation
import GatewayCore
import GatewayHTTP
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import RedisQueue
import Templates

/// The console's settings (`console_*` in config/gateway.yml).
public struct ConsoleConfiguration: Sendable {
    /// A session ends after this long without a request; the cookie's Max-Age is the same.
    public var sessionIdleSeconds: Int
    /// Mark cookies Secure when `X-Forwarded-Proto: https` (set only behind a TLS proxy that
    /// overwrites the header; a client could otherwise send it).
    public var trustForwardedProto: Bool
    /// The language when neither the cookie nor Accept-Language chooses one.
    public var defaultLocale: String
    public var sessionKeyPrefix: String
    /// Count failed sign-ins by X-Forwarded-For's last entry (the address a proxy in front saw).
    public var trustForwardedFor: Bool
    /// How many failed sign-ins are allowed, from one address and from all, per window.
    public var signInLimit: SignInLimit
    /// With `template_approval: required`: a saved change waits for a compliance user's approval.
    public var templateApproval: Bool

    public init(sessionIdleSeconds: Int = 28_800, trustForwardedProto: Bool = false, defaultLocale: String = "es-CR",
                sessionKeyPrefix: String = "gateway:console:session:", trustForwardedFor: Bool = false,
                signInLimit: SignInLimit = SignInLimit(), templateApproval: Bool = false) {
        self.sessionIdleSeconds = sessionIdleSeconds
        self.trustForwardedProto = trustForwardedProto
        self.defaultLocale = defaultLocale
        self.sessionKeyPrefix = sessionKeyPrefix
        self.trustForwardedFor = trustForwardedFor
        self.signInLimit = signInLimit
        self.templateApproval = templateApproval
    }
}

/// A section of the console: a link on the home page and in the header, shown only to callers with
/// one of `roles` (or admin).
public struct ConsoleSection: Sendable {
    public var path: String
    public var title: Phrase
    public var summary: Phrase
    public var roles: Set<Role>
    /// Shown only with `template_approval: required`.
    public var onlyWithApproval = false
}

/// The web console at /console/. Build it once and hand `routes()` to `buildApplication(console:)`.
public final class Console: Sendable {
    public let configuration: ConsoleConfiguration
    /// The API tokens in force now (the same file the API reads).
    let tokens: @Sendable () -> APITokens
    public let sessions: SessionStore
    let templates: TemplateStore
    let store: any ContactLogStore
    let logger: Logger
    /// What the operators' status page reads (readiness, queue, breakers).
    let operations: ConsoleOperations
    /// Template saves in this process, one at a time.
    let saveLock = SaveLock()
    /// Failed sign-ins counted in Redis, by client address and in all.
    let signInLimiter: SignInLimiter

    /// The sections, in the order the home page lists them.
    static let sections: [ConsoleSection] = [
        ConsoleSection(path: "/console/templates", title: .sectionTemplates, summary: .sectionTemplatesSummary, roles: [.marketing]),
        ConsoleSection(path: "/console/tones", title: .sectionTones, summary: .sectionTonesSummary, roles: [.marketing, .compliance]),
        ConsoleSection(path: "/console/approvals", title: .sectionApprovals, summary: .sectionApprovalsSummary, roles: [.marketing, .compliance],
                       onlyWithApproval: true),
        ConsoleSection(path: "/console/contacts", title: .sectionContacts, summary: .sectionContactsSummary, roles: [.compliance]),
        ConsoleSection(path: "/console/escalations", title: .sectionEscalations, summary: .sectionEscalationsSummary, roles: [.agent, .compliance]),
        ConsoleSection(path: "/console/reports", title: .sectionReports, summary: .sectionReportsSummary, roles: [.compliance]),
        ConsoleSection(path: "/console/audit", title: .sectionAudit, summary: .sectionAuditSummary, roles: [.compliance]),
        ConsoleSection(path: "/console/status", title: .sectionStatus, summary: .sectionStatusSummary, roles: [.metrics]),
    ]

    public init(configuration: ConsoleConfiguration, tokens: @escaping @Sendable () -> APITokens, redis: RedisClient,
                templates: TemplateStore, store: any ContactLogStore, logger: Logger, operations: ConsoleOperations = ConsoleOperations()) {
        self.operations = operations
        self.configuration = configuration
        self.tokens = tokens
        sessions = SessionStore(redis: redis, prefix: configuration.sessionKeyPrefix, idleSeconds: configuration.sessionIdleSeconds)
        signInLimiter = SignInLimiter(redis: redis, limit: configuration.signInLimit)
        self.templates = templates
        self.store = store
        self.logger = logger
    }

    static let sessionCookie = "gw_console_session"
    static let signInCookie = "gw_console_signin"
    static let languageCookie = "gw_console_lang"
    /// Form bodies (a template's source among them) may be this large.
    static let maxFormBytes = 1 << 20

    var defaultLanguage: Language { Language.of(locale: configuration.defaultLocale) ?? .es }

    /// Every route under /console (the router adds the prefix).
    public func routes() -> RouteCollection<BasicRequestContext> {
        let routes = RouteCollection(context: BasicRequestContext.self)
        routes.add(middleware: ConsoleHeaders(console: self))
        routes.get("", use: page { [self] _, _, visit in home(visit) })
        routes.get("sign-in") { [self] request, _ in try await signInPage(request) }
        routes.post("sign-in") { [self] request, _ in try await signIn(request) }
        routes.post("sign-out", use: action { [self] _, _, visit, _ in try await signOut(visit) })
        routes.get("language") { [self] request, _ in switchLanguage(request) }
        routes.get("static/:file") { _, context in Assets.response(context.parameters.get("file") ?? "") }
        addTemplatePages(to: routes)
        addTonePages(to: routes)
        addApprovalPages(to: routes)
        addCompliancePages(to: routes)
        // Anything else under /console: the console's own 404 page (with its headers).
        let notFound: @Sendable (Request, BasicRequestContext) async throws -> Response = { [self] request, _ in
            let visit = try await self.visit(request)
            return Reply.html(Layout.message(visit, title: .notFoundTitle, body: .notFoundBody), status: .notFound, visit: visit)
        }
        routes.get("**", use: notFound)
        routes.post("**", use: notFound)
        return routes
    }

    // MARK: - Who is asking

    /// What a page needs to know about the request: language, caller, session.
    func visit(_ request: Request) async throws -> Visit {
        let cookies = Cookies.parse(request.headers[.cookie])
        let language = Language.negotiate(acceptLanguage: request.headers[.acceptLanguage], cookie: cookies[Self.languageCookie],
                                          fallback: defaultLanguage)
        let secure = configuration.trustForwardedProto
            && request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.split(separator: ",").first?.trimmingCharacters(in: .whitespaces).lowercased() == "https"
        var visit = Visit(language: language, path: request.uri.path + (request.uri.query.map { "?\($0)" } ?? ""), secure: secure,
                          idleSeconds: configuration.sessionIdleSeconds)
        visit.approvals = configuration.templateApproval
        guard let id = cookies[Self.sessionCookie], let session = try await sessions.find(id: id) else { return visit }
        guard let caller = tokens().caller(sha256: session.tokenSHA256) else {
            // The token was revoked (or the file changed its hash): the session ends with it.
            try await sessions.delete(id: id)
            logger.notice("console session ended: its token is no longer in the tokens file", metadata: ["name": "\(session.name)"])
            return visit
        }
        visit.caller = caller
        visit.sessionID = id
        visit.session = session
        return visit
    }

    /// A GET page for callers with one of `roles` (empty: any signed-in caller).
    func page(_ roles: Set<Role> = [], _ handler: @escaping @Sendable (Request, BasicRequestContext, Visit) async throws -> Response)
        -> @Sendable (Request, BasicRequestContext) async throws -> Response {
        { [self] request, context in
            let visit = try await visit(request)
            guard visit.caller != nil else { return Reply.redirect(signInLocation(next: visit.path)) }
            if let refusal = refusal(visit, roles) { return refusal }
            return try await handler(request, context, visit)
        }
    }

    /// A form POST for callers with one of `roles`: the request must come from this console's page
    /// (Origin / Sec-Fetch-Site when sent) and carry the session's CSRF token in the `csrf` field.
    func action(_ roles: Set<Role> = [], _ handler: @escaping @Sendable (Request, BasicRequestContext, Visit, Form) async throws -> Response)
        -> @Sendable (Request, BasicRequestContext) async throws -> Response {
        { [self] request, context in
            let visit = try await visit(request)
            guard sameOrigin(request) else { return csrfRefusal(visit, request, why: "cross-site request (Origin or Sec-Fetch-Site)") }
            guard let session = visit.session else { return Reply.redirect(signInLocation(next: nil, ended: true)) }
            let form: Form
            switch await Form.read(request) {
            case .success(let read): form = read
            case .failure(let error): return Reply.html(Layout.message(visit, title: .badRequestTitle, text: error.message), status: error.status, visit: visit)
            }
            guard CSRF.matches(form["csrf"], session.csrf) else { return csrfRefusal(visit, request, why: "missing or wrong csrf field") }
            if let refusal = refusal(visit, roles) { return refusal }
            return try await handler(request, context, visit, form)
        }
    }

    /// A JSON endpoint under /console/api for the pages' scripts: 401 without a session, 403 without
    /// the X-CSRF-Token header matching the session's token, or without the role.
    func api(_ roles: Set<Role>, _ handler: @escaping @Sendable (Request, BasicRequestContext, Visit) async throws -> Response)
        -> @Sendable (Request, BasicRequestContext) async throws -> Response {
        { [self] request, context in
            let visit = try await visit(request)
            guard let session = visit.session else { return Reply.jsonError(.unauthorized, "no_session", "sign in to the console first") }
            guard sameOrigin(request), CSRF.matches(request.headers[HTTPField.Name("X-CSRF-Token")!], session.csrf) else {
                logger.notice("console request refused: CSRF", metadata: ["path": "\(request.uri.path)", "name": "\(session.name)"])
                return Reply.jsonError(.forbidden, "csrf", "send the page's CSRF token in X-CSRF-Token, from this console's origin")
            }
            guard visit.allows(roles) else {
                return Reply.jsonError(.forbidden, "forbidden", "this needs one of the roles \(roles.map(\.rawValue).sorted().joined(separator: ", "))")
            }
            return try await handler(request, context, visit)
        }
    }

    func refusal(_ visit: Visit, _ roles: Set<Role>) -> Response? {
        guard !visit.allows(roles) else { return nil }
        let text = visit.t(.forbiddenBody, ["needed": roles.map(\.rawValue).sorted().joined(separator: " / "), "roles": visit.rolesText])
        return Reply.html(Layout.message(visit, title: .forbiddenTitle, text: text), status: .forbidden, visit: visit)
    }

    func csrfRefusal(_ visit: Visit, _ request: Request, why: String) -> Response {
        logger.notice("console request refused: CSRF", metadata: ["path": "\(request.uri.path)", "why": "\(why)",
                                                                   "name": "\(visit.caller?.name ?? "-")"])
        return Reply.html(Layout.message(visit, title: .csrfTitle, body: .csrfBody), status: .forbidden, visit: visit)
    }

    /// False when the browser says the request came from another site: an Origin that is not this
    /// host, or Sec-Fetch-Site other than same-origin / none. Clients that send neither pass (the
    /// CSRF token still has to match).
    func sameOrigin(_ request: Request) -> Bool {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site != "same-origin", site != "none" { return false }
        if let origin = request.headers[HTTPField.Name("Origin")!] {
            guard let host = request.headers[HTTPField.Name("Host")!] ?? request.head.authority,
                  let url = URLComponents(string: origin), let scheme = url.scheme, scheme == "http" || scheme == "https",
                  let originHost = url.host else { return false }
            let originAuthority = originHost + (url.port.map { ":\($0)" } ?? "")
            return originAuthority.lowercased() == host.lowercased()
        }
        return true
    }

    /// The client's address for counting failed sign-ins: the last X-Forwarded-For entry (the one
    /// the proxy in front added) when `trustForwardedFor`, else the connection's peer as the HTTP
    /// server saw it; "unknown" when neither is there (then all such clients share one count).
    func clientAddress(_ request: Request) -> String {
        if configuration.trustForwardedFor, let forwarded = request.headers[values: HTTPField.Name("X-Forwarded-For")!].last,
           let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty, last.utf8.count <= 64 {
            return last
        }
        return request.headers[PeerAddress.header] ?? "unknown"
    }

    func signInLocation(next: String?, ended: Bool = false, signedOut: Bool = false) -> String {
        var query: [String] = []
        if let next, let safe = Self.safeNext(next), safe != "/console/", safe != "/console" { query.append("next=" + HTML.component(safe)) }
        if ended { query.append("ended=1") }
        if signedOut { query.append("signed_out=1") }
        return "/console/sign-in" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    /// Where to go after signing in: only a path inside the console (never another site).
    static func safeNext(_ next: String) -> String? {
        guard next.hasPrefix("/console"), next.utf8.count <= 2000, !next.contains("//"), !next.contains("\\"),
              next.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else { return nil }
        let rest = next.dropFirst("/console".count)
        guard rest.isEmpty || rest.hasPrefix("/") || rest.hasPrefix("?") else { return nil }
        return next
    }

    // MARK: - Sign-in, sign-out, language, home

    func signInPage(_ request: Request) async throws -> Response {
        let visit = try await visit(request)
        let query = request.uri.queryParameters
        let next = query.get("next").flatMap { Self.safeNext(String($0)) }
        if visit.caller != nil { return Reply.redirect(next ?? "/console/") }
        var notice: Phrase?
        if query.get("signed_out") != nil { notice = .signedOut } else if query.get("ended") != nil { notice = .sessionEnded }
        return signInForm(visit, next: next, notice: notice)
    }

    /// The form, with a fresh sign-in CSRF token: a random value in a cookie and in the form (there
    /// is no session yet to hold one).
    func signInForm(_ visit: Visit, next: String?, notice: Phrase? = nil, errors: [FieldError] = [], status: HTTPResponse.Status = .ok) -> Response {
        let token = SessionStore.randomToken()
        let html = Layout.signIn(visit, csrf: token, next: next, notice: notice, errors: errors)
        var response = Reply.html(html, status: status, visit: visit)
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.signInCookie, token, maxAge: 3600, visit: visit)))
        return response
    }

    func signIn(_ request: Request) async throws -> Response {
        let visit = try await visit(request)
        guard sameOrigin(request) else { return csrfRefusal(visit, request, why: "cross-site sign-in (Origin or Sec-Fetch-Site)") }
        let form: Form
        switch await Form.read(request) {
        case .success(let read): form = read
        case .failure(let error): return Reply.html(Layout.message(visit, title: .badRequestTitle, text: error.message), status: error.status, visit: visit)
        }
        let expected = Cookies.parse(request.headers[.cookie])[Self.signInCookie] ?? ""
        guard CSRF.matches(form["csrf"], expected) else { return csrfRefusal(visit, request, why: "sign-in form without its cookie") }
        let token = (form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let next = form["next"].flatMap(Self.safeNext)
        guard !token.isEmpty else {
            return signInForm(visit, next: next, errors: [FieldError(field: "token", message: visit.t(.tokenMissing))], status: .badRequest)
        }
        // Over one address's limit, a right token and a wrong one get the same answer. Over the limit
        // of all addresses together, a right token still signs in and only wrong ones are refused:
        // tokens are 32 random bytes, so that limit cannot be what stops guessing, and closing sign-in
        // to everyone would let anyone lock the console's users out by sending wrong tokens from a
        // few addresses. It stays an alarm (the warning below, and 429).
        let address = clientAddress(request)
        let attempt = try await signInLimiter.attempt(address: address)
        let caller = token.utf8.count <= 512 ? tokens().caller(token: token) : nil
        if let refusal = attempt.refusal, refusal.scope == .address || caller == nil {
            logger.warning("console sign-in refused: too many failed sign-ins", metadata: [
                "security": "sign_in_rate_limit", "address": "\(address)", "scope": "\(refusal.scope.rawValue)",
                "failures": "\(refusal.failures)", "retry_after": "\(refusal.retryAfter)"])
            let minutes = String(max(1, (refusal.retryAfter + 59) / 60))
            let message = visit.m(refusal.scope == .address ? .signInLimited : .signInLimitedAll, ["minutes": minutes])
            var response = signInForm(visit, next: next, errors: [FieldError(field: "token", message: message)], status: .tooManyRequests)
            response.headers[.retryAfter] = String(refusal.retryAfter)
            return response
        }
        guard let caller else {
            logger.notice("console sign-in refused: token not valid", metadata: ["address": "\(address)", "failures": "\(attempt.count)"])
            return signInForm(visit, next: next, errors: [FieldError(field: "token", message: visit.t(.tokenInvalid))], status: .unauthorized)
        }
        // A refused attempt was taken back already (here: the all-addresses limit, with a right token).
        if attempt.refusal == nil { try await signInLimiter.succeeded(address: address) }
        let digest = SHA256Hex.of(token)
        let (id, _) = try await sessions.create(caller: caller, tokenSHA256: digest)
        logger.notice("console sign-in", metadata: ["name": "\(caller.name)", "roles": "\(caller.roles.map(\.rawValue).sorted().joined(separator: ","))"])
        var response = Reply.redirect(next ?? "/console/")
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.sessionCookie, id, maxAge: configuration.sessionIdleSeconds, visit: visit)))
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.signInCookie, "", maxAge: 0, visit: visit)))
        return response
    }

    func signOut(_ visit: Visit) async throws -> Response {
        if let id = visit.sessionID { try await sessions.delete(id: id) }
        logger.notice("console sign-out", metadata: ["name": "\(visit.caller?.name ?? "-")"])
        var response = Reply.redirect(signInLocation(next: nil, signedOut: true))
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.sessionCookie, "", maxAge: 0, visit: visit)))
        return response
    }

    /// GET /console/language?to=en&back=/console/templates: remembers the choice in a cookie.
    func switchLanguage(_ request: Request) -> Response {
        let query = request.uri.queryParameters
        let back = query.get("back").flatMap { Self.safeNext(String($0)) } ?? "/console/"
        guard let language = query.get("to").flatMap({ Language(rawValue: String($0)) }) else { return Reply.redirect(back) }
        var response = Reply.redirect(back)
        let secure = configuration.trustForwardedProto
            && request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased().hasPrefix("https") == true
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.languageCookie, language.rawValue, maxAge: 365 * 86_400,
                                                                                secure: secure, httpOnly: true)))
        return response
    }

    func home(_ visit: Visit) -> Response {
        Reply.html(Layout.home(visit, sections: Self.sections.filter { visit.shows($0) }), visit: visit)
    }

    // MARK: - Cookies

    func cookie(_ name: String, _ value: String, maxAge: Int, visit: Visit) -> String {
        Self.cookie(name, value, maxAge: maxAge, secure: visit.secure, httpOnly: true)
    }

    /// Path=/console, SameSite=Strict, HttpOnly; Secure under TLS. Values are base64url or a language code.
    static func cookie(_ name: String, _ value: String, maxAge: Int, secure: Bool, httpOnly: Bool) -> String {
        "\(name)=\(value); Path=/console; Max-Age=\(maxAge)" + (httpOnly ? "; HttpOnly" : "") + "; SameSite=Strict" + (secure ? "; Secure" : "")
    }
}

/// What a page knows about its request.
public struct Visit: Sendable {
    public var language: Language
    /// The path and query asked for (for the language switch's way back and sign-in's `next`).
    public var path: String
    public var secure: Bool
    public var idleSeconds: Int
    public var caller: Caller?
    public var sessionID: String?
    public var session: ConsoleSession?
    /// `template_approval: required` is set (the approvals section is shown).
    public var approvals = false

    /// Whether the home page and the bar list `section` for this caller.
    func shows(_ section: ConsoleSection) -> Bool { allows(section.roles) && (!section.onlyWithApproval || approvals) }

    public func t(_ phrase: Phrase, _ values: [String: String] = [:]) -> String { Strings.text(phrase, language, values) }

    /// True when the caller has one of `roles` (or admin); any signed-in caller when `roles` is empty.
    public func allows(_ roles: Set<Role>) -> Bool {
        guard let caller else { return false }
        return roles.isEmpty || caller.roles.contains(.admin) || !caller.roles.isDisjoint(with: roles)
    }

    var rolesText: String { caller.map { $0.roles.map(\.rawValue).sorted().joined(separator: ", ") } ?? "" }

    /// The hidden field every form carries (the session's CSRF token).
    public var csrfField: HTML { "<input type=\"hidden\" name=\"csrf\" value=\"\(session?.csrf ?? "")\">" }
}

/// A field's error: shown in the error summary (linking to `#field`) and beside the field.
public struct FieldError: Sendable, Equatable {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

enum SHA256Hex {
    static func of(_ text: String) -> String {
        Crypto.SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// The request's cookies (the last value wins for a repeated name; browsers send the most specific
/// path first, and every console cookie has the same path).
enum Cookies {
    static func parse(_ header: String?) -> [String: String] {
        guard let header else { return [:] }
        var cookies: [String: String] = [:]
        for pair in header.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = parts[0].trimmingCharacters(in: .whitespaces)
            if cookies[name] == nil { cookies[name] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return cookies
    }
}

/// A form body (application/x-www-form-urlencoded), decoded strictly: a bad `%` escape, bytes that
/// are not UTF-8 or a field given twice is refused with what is wrong.
public struct Form: Sendable {
    public var fields: [String: String]

    public subscript(_ name: String) -> String? { fields[name] }

    struct Refusal: Error {
        var status: HTTPResponse.Status
        var message: String
    }

    static func read(_ request: Request) async -> Result<Form, Refusal> {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            return .failure(Refusal(status: .unsupportedMediaType, message: "send the form as application/x-www-form-urlencoded (got \(contentType.isEmpty ? "no Content-Type" : contentType))"))
        }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: Console.maxFormBytes) } catch {
            return .failure(Refusal(status: .contentTooLarge, message: "the form may be at most 1 MiB"))
        }
        do { return .success(try parse(Array(buffer: body))) } catch { return .failure(error) }
    }

    static func parse(_ bytes: [UInt8]) throws(Refusal) -> Form {
        var fields: [String: String] = [:]
        guard !bytes.isEmpty else { return Form(fields: [:]) }
        for pair in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = try decode(parts[0])
            let value = parts.count > 1 ? try decode(parts[1]) : ""
            guard fields[name] == nil else { throw Refusal(status: .badRequest, message: "the field \(name) is given twice") }
            fields[name] = value
        }
        return Form(fields: fields)
    }

    static func decode(_ bytes: ArraySlice<UInt8>) throws(Refusal) -> String {
        switch PercentDecoding.decode(bytes, plusIsSpace: true) {
        case .success(let text): return text
        case .failure(.badEscape): throw Refusal(status: .badRequest, message: "the form has a % not followed by two hex digits")
        case .failure(.notUTF8): throw Refusal(status: .badRequest, message: "the form is not valid UTF-8")
        }
    }
}

/// Console responses.
enum Reply {
    static func html(_ html: HTML, status: HTTPResponse.Status = .ok, visit: Visit? = nil) -> Response {
        var response = Response(status: status, headers: [.contentType: "text/html; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(string: html.rendered)))
        // A signed-in page renews the cookie's Max-Age along with the session's TTL in Redis.
        if let visit, let id = visit.sessionID {
            response.headers.append(HTTPField(name: .setCookie, value: Console.cookie(Console.sessionCookie, id, maxAge: visit.idleSeconds,
                                                                                      secure: visit.secure, httpOnly: true)))
        }
        return response
    }

    /// 303 See Other: after a POST the browser GETs the new page.
    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: value.serialized)))
    }

    static func jsonError(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        json(.object(["error": .object(["code": .string(code), "message": .string(message)])]), status: status)
    }
}

/// The headers on every console response: a CSP without inline script or style, no sniffing, no
/// referrer outside the site, nothing cached (pages show customers' data and tokens' roles).
struct ConsoleHeaders: RouterMiddleware {
    typealias Context = BasicRequestContext
    let console: Console

    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError {
            let visit = Visit(language: .negotiate(acceptLanguage: request.headers[.acceptLanguage], cookie: nil, fallback: console.defaultLanguage),
                              path: request.uri.path, secure: false, idleSeconds: 0)
            let title: Phrase = error.status == .notFound ? .notFoundTitle : .badRequestTitle
            response = Reply.html(Layout.message(visit, title: title, text: error.body ?? error.status.reasonPhrase), status: error.status)
        } catch {
            let reference = SessionStore.randomToken().prefix(8)
            console.logger.error("console request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)", "reference": "\(reference)"])
            let visit = Visit(language: .negotiate(acceptLanguage: request.headers[.acceptLanguage], cookie: nil, fallback: console.defaultLanguage),
                              path: request.uri.path, secure: false, idleSeconds: 0)
            response = Reply.html(Layout.message(visit, title: .serverErrorTitle, text: visit.t(.serverErrorBody, ["reference": String(reference)])),
                                  status: .internalServerError)
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        response.headers[.cacheControl] = "no-store"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        return response
    }
}
