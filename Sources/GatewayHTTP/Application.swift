import ContactLog
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Providers
import Templates

/// Where the HTTP API listens and what it needs to know.
public struct HTTPConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var defaultLocale: String

    public init(host: String = "127.0.0.1", port: Int = 8080, defaultLocale: String = "es-CR") {
        self.host = host
        self.port = port
        self.defaultLocale = defaultLocale
    }
}

/// The HTTP API: health, and marketing's template endpoints. `gateway run` and the tests both
/// build it here.
public func buildApplication(configuration: HTTPConfiguration, templates: TemplateStore, store: any ContactLogStore,
                             twilioReceipts: [TwilioReceipts] = [], sendGridEvents: [SendGridEvents] = [],
                             infobipReports: [InfobipReports] = [], logger: Logger) -> some ApplicationProtocol {
    Application(router: buildRouter(configuration: configuration, templates: templates, store: store, twilioReceipts: twilioReceipts,
                                    sendGridEvents: sendGridEvents, infobipReports: infobipReports),
                configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "notification-gateway"),
                logger: logger)
}

public func buildRouter(configuration: HTTPConfiguration, templates: TemplateStore, store: any ContactLogStore,
                        twilioReceipts: [TwilioReceipts] = [], sendGridEvents: [SendGridEvents] = [],
                        infobipReports: [InfobipReports] = []) -> Router<BasicRequestContext> {
    let router = Router()
    router.get("/health") { _, _ in JSONResponse.ok(JSONValue.object(["status": .string("ok")])) }
    router.get("/templates") { _, _ in JSONResponse.ok(TemplatesAPI.list(templates)) }
    router.post("/templates/:name/preview") { request, context in
        let name = context.parameters.get("name") ?? ""
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: 1 << 20)
        } catch {
            return JSONResponse.error(.contentTooLarge, "request_too_large", "the request body may be at most 1 MiB")
        }
        return TemplatesAPI.preview(name: name, body: Array(buffer: body), store: templates, defaultLocale: configuration.defaultLocale)
    }
    router.get("/contacts/:id/opt-outs") { _, context in
        try await ContactsAPI.list(contact: context.parameters.get("id") ?? "", store: store)
    }
    router.post("/contacts/:id/opt-outs") { request, context in
        let body = try await request.body.collect(upTo: 64 * 1024)
        return try await ContactsAPI.add(contact: context.parameters.get("id") ?? "", body: Array(buffer: body), store: store)
    }
    router.post("/webhooks/twilio/status") { request, context in
        let body = try await request.body.collect(upTo: 64 * 1024)
        return try await ReceiptsAPI.twilio(body: Array(buffer: body), signature: request.headers[HTTPField.Name("X-Twilio-Signature")!],
                                            verifiers: twilioReceipts, store: store, logger: context.logger)
    }
    router.post("/webhooks/sendgrid/events") { request, context in
        let body = try await request.body.collect(upTo: 4 << 20)
        return try await ReceiptsAPI.sendGrid(
            body: Array(buffer: body),
            signature: request.headers[HTTPField.Name("X-Twilio-Email-Event-Webhook-Signature")!],
            timestamp: request.headers[HTTPField.Name("X-Twilio-Email-Event-Webhook-Timestamp")!],
            verifiers: sendGridEvents, store: store, logger: context.logger)
    }
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
