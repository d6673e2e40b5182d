import ContactLog
import Conversations
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Providers
import RedisQueue
import Replies
import Templates

/// Where the HTTP API listens and what it needs to know.
public struct HTTPConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var defaultLocale: String
    public var maxJobBytes: Int
    /// Header, body and idle timeouts and the cap on open connections.
    public var limits: ConnectionLimits

    public init(host: String = "127.0.0.1", port: Int = 8080, defaultLocale: String = "es-CR", maxJobBytes: Int = 64 * 1024,
                limits: ConnectionLimits = ConnectionLimits()) {
        self.host = host
        self.port = port
        self.defaultLocale = defaultLocale
        self.maxJobBytes = maxJobBytes
        self.limits = limits
    }
}

/// The HTTP API. `gateway run` and the tests both build it here.
public func buildApplication(configuration: HTTPConfiguration, templates: TemplateStore, store: any ContactLogStore,
                             twilioReceipts: [TwilioReceipts] = [], twilioInbound: [TwilioReceipts] = [], sendGridEvents: [SendGridEvents] = [],
                             infobipReports: [InfobipReports] = [], tokens: APITokens = APITokens(), tokenFile: TokenFile? = nil, readiness: Readiness? = nil,
                             intake: JobIntake? = nil, replies: RepliesStore? = nil, replyDesk: ReplyDesk? = nil,
                             sendGridInbound: [SendGridInboundRoute] = [], metrics: MetricsEndpoint? = nil,
                             console: RouteCollection<BasicRequestContext>? = nil, logger: Logger,
                             onServerRunning: @escaping @Sendable (any NIOCore.Channel) async -> Void = { _ in }) -> some ApplicationProtocol {
    Application(router: buildRouter(configuration: configuration, templates: templates, store: store, twilioReceipts: twilioReceipts,
                                    twilioInbound: twilioInbound, sendGridEvents: sendGridEvents, infobipReports: infobipReports,
                                    tokens: tokens, tokenFile: tokenFile, readiness: readiness, intake: intake, replies: replies, replyDesk: replyDesk,
                                    sendGridInbound: sendGridInbound, metrics: metrics, console: console),
                server: limitedHTTP1(configuration.limits),
                configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "notification-gateway"),
                onServerRunning: onServerRunning, logger: logger)
}

/// HTTP/1.1 with `limits`: timeouts on every connection and a cap on how many are open.
func limitedHTTP1(_ limits: ConnectionLimits) -> HTTPServerBuilder {
    let connections = ConnectionCount()
    return HTTPServerBuilder { responder in LimitedHTTP1Channel(responder: responder, limits: limits, connections: connections) }
}

/// Routes. Provider webhooks are authenticated by the providers' signatures; everything else but
/// /health and /ready need a bearer token with the route's role (see APITokens). With `tokenFile`, its
/// current tokens are used (changes apply without a restart); otherwise `tokens`.
public func buildRouter(configuration: HTTPConfiguration, templates: TemplateStore, store: any ContactLogStore,
                        twilioReceipts: [TwilioReceipts] = [], twilioInbound: [TwilioReceipts] = [], sendGridEvents: [SendGridEvents] = [],
                        infobipReports: [InfobipReports] = [], tokens: APITokens = APITokens(), tokenFile: TokenFile? = nil, readiness: Readiness? = nil,
                        intake: JobIntake? = nil, replies: RepliesStore? = nil, replyDesk: ReplyDesk? = nil,
                        sendGridInbound: [SendGridInboundRoute] = [], metrics: MetricsEndpoint? = nil,
                        console: RouteCollection<BasicRequestContext>? = nil) -> Router<BasicRequestContext> {
    let router = Router()
    // Without one of its own (tests), replies are read with the lexicons given and the standard policy.
    let desk = replyDesk ?? ReplyDesk(store: store, lexicons: replies, policy: .standard, intake: intake, escalations: nil,
                                      timeZone: TimeZone(identifier: "UTC")!, logger: Logger(label: "replies"))
    let escalations = EscalationDesk(store: store)
    let addressOptOuts = AddressOptOuts(store: store)
    // First, so that every route below gets its {parameters} percent-decoded (once, here).
    router.add(middleware: PathParameterDecoding())
    // The largest body any route below takes: the webhooks' 4 MiB, or a job's max_job_bytes.
    router.add(middleware: DeclaredBodyLimit(maxBytes: max(4 << 20, configuration.maxJobBytes)))
    /// Runs `handler` for a caller with `role`; otherwise answers 401 or 403. Refused requests
    /// the handler throws as APIError become 400s with their reason.
    func guarded(_ role: Role, _ others: Role..., handler: @escaping @Sendable (Request, BasicRequestContext, Caller) async throws -> Response)
        -> @Sendable (Request, BasicRequestContext) async throws -> Response {
        { request, context in
            let current = tokenFile?.current() ?? tokens
            var result = current.authorize(request, role)
            // A route open to several roles: any one of them will do.
            for other in others { if case .failure(let refusal) = result, refusal.status == .forbidden { result = current.authorize(request, other) } }
            if !others.isEmpty, case .failure(var refusal) = result, refusal.status == .forbidden {
                refusal.message = refusal.message.replacingOccurrences(of: "the \(others.last!.rawValue) role",
                                                                       with: "one of the roles \(([role] + others).map(\.rawValue).joined(separator: ", "))")
                result = .failure(refusal)
            }
            switch result {
            case .failure(let refusal):
                context.logger.notice("API request refused", metadata: ["path": "\(request.uri.path)", "status": "\(refusal.status.code)"])
                return refusal.response
            case .success(let caller):
                do { return try await handler(request, context, caller) } catch let error as APIError { return JSONResponse.error(error) }
            }
        }
    }
    router.get("/health") { _, _ in JSONResponse.ok(JSONValue.object(["status": .string("ok")])) }
    // Open like /health (load balancers and probes call it): whether Redis, the contact log, the
    // templates and the worker work now; 503 naming what does not. Without `readiness`: log and templates.
    let readiness = readiness ?? Readiness(checks: [.store(store), .templates(templates)])
    router.get("/ready") { _, _ in
        let report = await readiness.evaluate()
        return JSONResponse.ok(report, status: report.ready ? .ok : .serviceUnavailable)
    }
    if let metrics { router.get("/metrics", use: guarded(.metrics) { _, _, _ in await metrics.response() }) }
    router.get("/templates", use: guarded(.marketing) { _, _, _ in JSONResponse.ok(TemplatesAPI.list(templates)) })
    router.post("/templates/:name/preview", use: guarded(.marketing) { request, context, _ in
        let name = context.parameters.get("name") ?? ""
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: 1 << 20)
        } catch {
            return JSONResponse.error(.contentTooLarge, "request_too_large", "the request body may be at most 1 MiB")
        }
        return TemplatesAPI.preview(name: name, body: Array(buffer: body), store: templates, defaultLocale: configuration.defaultLocale)
    })
    router.post("/replies/classify", use: guarded(.compliance, .marketing) { request, _, _ in
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: 4 << 20) } catch {
            return JSONResponse.error(.contentTooLarge, "request_too_large", "the request body may be at most 4 MiB")
        }
        return try RepliesAPI.classify(body: Array(buffer: body), store: replies)
    })
    router.get("/contacts/:id/opt-outs", use: guarded(.compliance) { _, context, _ in
        try await ContactsAPI.list(contact: context.parameters.get("id") ?? "", store: store)
    })
    router.post("/contacts/:id/opt-outs", use: guarded(.compliance) { request, context, _ in
        let body = try await request.body.collect(upTo: 64 * 1024)
        return try await ContactsAPI.add(contact: context.parameters.get("id") ?? "", body: Array(buffer: body), store: store)
    })
    router.delete("/contacts/:id/opt-outs", use: guarded(.compliance) { request, context, caller in
        try await ContactsAPI.remove(contact: context.parameters.get("id") ?? "", request: request, caller: caller, store: store)
    })
    router.get("/addresses/:address/opt-outs", use: guarded(.compliance, .agent) { _, context, _ in
        try await AddressesAPI.list(context.parameters.get("address") ?? "", desk: addressOptOuts)
    })
    router.delete("/addresses/:address/opt-outs", use: guarded(.compliance) { request, context, caller in
        try await AddressesAPI.lift(context.parameters.get("address") ?? "", request: request, caller: caller, desk: addressOptOuts)
    })
    router.get("/contacts/:id/timeline", use: guarded(.compliance) { request, context, caller in
        let filter = try LogAPI.filter(request, allowed: ["from", "to", "limit", "cursor"], contact: context.parameters.get("id") ?? "")
        return try await LogAPI.page(request, caller: caller, filter: filter, store: store)
    })
    router.get("/log", use: guarded(.compliance) { request, _, caller in
        let filter = try LogAPI.filter(request, allowed: LogAPI.filterParameters.union(LogAPI.pageParameters))
        return try await LogAPI.page(request, caller: caller, filter: filter, store: store)
    })
    router.get("/log/export.csv", use: guarded(.compliance) { request, _, caller in
        let filter = try LogAPI.filter(request, allowed: LogAPI.filterParameters)
        return try await LogAPI.export(request, caller: caller, filter: filter, store: store)
    })
    router.get("/reports/summary", use: guarded(.compliance) { request, _, caller in
        try await LogAPI.summary(request, caller: caller, store: store)
    })
    router.post("/jobs", use: guarded(.scoring) { request, _, caller in
        guard let intake else {
            return JSONResponse.error(.serviceUnavailable, "no_queue", "this server has no job queue configured")
        }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: configuration.maxJobBytes) } catch {
            return JSONResponse.error(.contentTooLarge, "too_large", "a job may be at most \(configuration.maxJobBytes) bytes (max_job_bytes)")
        }
        return try await JobsAPI.submit(body: Array(buffer: body), caller: caller, intake: intake,
                                        decoder: JobDecoder(maxJobBytes: configuration.maxJobBytes))
    })
    router.post("/webhooks/twilio/status") { request, context in
        let body = try await request.body.collect(upTo: 64 * 1024)
        return try await ReceiptsAPI.twilio(body: Array(buffer: body), signature: request.headers[HTTPField.Name("X-Twilio-Signature")!],
                                            verifiers: twilioReceipts, store: store, logger: context.logger)
    }
    router.post("/webhooks/twilio/inbound") { request, context in
        let body = try await request.body.collect(upTo: 64 * 1024)
        return try await ReceiptsAPI.twilioInbound(body: Array(buffer: body), signature: request.headers[HTTPField.Name("X-Twilio-Signature")!],
                                                   verifiers: twilioInbound, desk: desk, logger: context.logger)
    }
    router.post("/webhooks/sendgrid/events") { request, context in
        let body = try await request.body.collect(upTo: 4 << 20)
        return try await ReceiptsAPI.sendGrid(
            body: Array(buffer: body),
            signature: request.headers[HTTPField.Name("X-Twilio-Email-Event-Webhook-Signature")!],
            timestamp: request.headers[HTTPField.Name("X-Twilio-Email-Event-Webhook-Timestamp")!],
            verifiers: sendGridEvents, store: store, logger: context.logger)
    }
    router.post("/webhooks/infobip/inbound") { request, context in
        let body = try await request.body.collect(upTo: 4 << 20)
        return try await ReceiptsAPI.infobipInbound(body: Array(buffer: body), token: request.uri.queryParameters.get("token"),
                                                    checks: infobipReports, desk: desk, logger: context.logger)
    }
    router.post("/webhooks/sendgrid/inbound") { request, context in
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: 30 << 20) } catch {
            return JSONResponse.error(.contentTooLarge, "request_too_large", "an inbound e-mail may be at most 30 MiB (SendGrid's own limit)")
        }
        return try await ReceiptsAPI.sendGridInbound(body: Array(buffer: body), contentType: request.headers[.contentType],
                                                      token: request.uri.queryParameters.get("token"), routes: sendGridInbound,
                                                      desk: desk, logger: context.logger)
    }
    router.get("/escalations", use: guarded(.agent, .compliance) { request, _, _ in
        try await EscalationsAPI.list(request, desk: escalations)
    })
    router.get("/escalations/:id", use: guarded(.agent, .compliance) { _, context, _ in
        try await EscalationsAPI.show(context.parameters.get("id") ?? "", desk: escalations)
    })
    router.post("/escalations/:id/resolve", use: guarded(.agent) { request, context, caller in
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: 64 * 1024) } catch {
            return JSONResponse.error(.contentTooLarge, "request_too_large", "the request body may be at most 64 KiB")
        }
        return try await EscalationsAPI.resolve(context.parameters.get("id") ?? "", body: Array(buffer: body), caller: caller, desk: escalations)
    })
    // The web console (the Console module): its own sign-in, sessions and CSRF checks.
    if let console { router.addRoutes(console, atPath: "/console") }
    router.post("/webhooks/infobip/reports") { request, context in
        let body = try await request.body.collect(upTo: 4 << 20)
        return try await ReceiptsAPI.infobip(body: Array(buffer: body), token: request.uri.queryParameters.get("token"),
                                             checks: infobipReports, store: store, logger: context.logger)
    }
    return router
}

enum JSONResponse {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder.stable()
        return encoder
    }()

    static func ok<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        ok(JSONValue.object(["error": .object(["code": .string(code), "message": .string(message)])]), status: status)
    }

    static func error(_ error: APIError) -> Response { self.error(error.status, error.code, error.message) }
}

/// A refused request: the status, a stable code and a message that says what to fix.
struct APIError: Error {
    var status: HTTPResponse.Status
    var code: String
    var message: String

    static func badRequest(_ message: String) -> APIError { APIError(status: .badRequest, code: "bad_request", message: message) }
}
