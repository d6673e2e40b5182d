import ContactLog
import Conversations
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Providers
import Replies
import Templates
import Testing
import Worker
@testable import GatewayHTTP

/// A customer's e-mail reply through SendGrid's Inbound Parse, and the escalation it raises
/// worked through the API by an agent.
@Suite struct EmailRepliesAPITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A default-mode Inbound Parse post, as SendGrid sends it (CRLF, boundary in the Content-Type).
    static func parsePost(from: String, subject: String, text: String, messageID: String) -> (body: ByteBuffer, contentType: String) {
        let boundary = "xYzZY"
        var lines: [String] = []
        func field(_ name: String, _ value: String) {
            lines += ["--\(boundary)", "Content-Disposition: form-data; name=\"\(name)\"", "", value]
        }
        field("headers", "MIME-Version: 1.0\r\nFrom: Ana Mora <\(from)>\r\nMessage-ID: <\(messageID)>\r\nSubject: \(subject)\r\nTo: cobranza@bank.example")
        field("from", "Ana Mora <\(from)>")
        field("to", "cobranza@bank.example")
        field("subject", subject)
        field("text", text)
        field("envelope", #"{"to":["cobranza@bank.example"],"from":"\#(from)"}"#)
        field("charsets", #"{"to":"UTF-8","from":"UTF-8","subject":"UTF-8","text":"UTF-8"}"#)
        field("attachments", "0")
        lines.append("--\(boundary)--")
        return (ByteBuffer(string: lines.joined(separator: "\r\n") + "\r\n"), "multipart/form-data; boundary=\(boundary)")
    }

    @Test func anEmailDisputeIsRecordedOnceEscalatedAndResolvedByAnAgent() async throws {
        let store = try temporaryStore()
        let email = "ana.mora@example.com"
        _ = try await store.append([ContactEvent(jobID: "J1", contactID: "C1", kind: .sent, at: Date(), channel: .email, provider: "sendgrid",
                                                 providerMessageID: "SG-1", body: "Recordatorio", address: email, debtID: "LN-9")])
        let templates = try TemplateStore(directory: Self.root.appendingPathComponent("templates").path,
                                          requirements: ContactRulesFile.templateRequirements(path: Self.root.appendingPathComponent("config/contact-rules.yml").path),
                                          defaultLocale: "es-CR")
        let lexicons = try RepliesStore(directory: Self.root.appendingPathComponent("config/replies").path)
        let parser = SendGridInbound(provider: "sendgrid")
        let route = SendGridInboundRoute(provider: "sendgrid", token: "inbound-secret-0123456789") { parser.parse(body: $0, contentType: $1, at: $2) }
        let auth = TestTokens()
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templates, store: store, tokens: auth.tokens,
                                                  replies: lexicons, sendGridInbound: [route]))
        let post = Self.parsePost(from: email, subject: "Re: Recordatorio de pago", text: "Esa deuda no es mía, nunca tuve esa tarjeta.\r\n\r\nEl lun, 30 nov 2026, Banco escribió:\r\n> Recordatorio de pago",
                                  messageID: "CAB-1@mail.example.com")
        try await app.test(.router) { client in
            try await client.execute(uri: "/webhooks/sendgrid/inbound?token=wrong-token-000000", method: .post,
                                     headers: [.contentType: post.contentType], body: post.body) { response in
                #expect(response.status == .forbidden)
            }
            for _ in 0..<2 {   // SendGrid retries: recorded once
                try await client.execute(uri: "/webhooks/sendgrid/inbound?token=inbound-secret-0123456789", method: .post,
                                         headers: [.contentType: post.contentType], body: post.body) { response in
                    #expect(response.status == .ok)
                }
            }
            try await client.execute(uri: "/webhooks/sendgrid/inbound?token=inbound-secret-0123456789", method: .post,
                                     headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .badRequest)
            }
            var id = ""
            try await client.execute(uri: "/escalations", method: .get, headers: auth.agent) { response in
                #expect(response.status == .ok)
                let body = String(buffer: response.body)
                #expect(body.contains(#""intents":["dispute"]"#) && body.contains(#""debt":"LN-9""#) && body.contains(#""channel":"email""#))
                id = body.components(separatedBy: #""id":""#).dropFirst().first?.components(separatedBy: "\"").first ?? ""
            }
            #expect(id.hasPrefix("E-"))
            try await client.execute(uri: "/escalations/\(id)/resolve", method: .post, headers: auth.marketing, body: ByteBuffer(string: #"{"note": "x"}"#)) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/escalations/\(id)/resolve", method: .post, headers: auth.agent, body: ByteBuffer(string: #"{"lift": true}"#)) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/escalations/\(id)/resolve", method: .post, headers: auth.agent,
                                     body: ByteBuffer(string: #"{"note": "debt verified; validation notice mailed", "lift": true}"#)) { response in
                #expect(response.status == .ok)
                let body = String(buffer: response.body)
                #expect(body.contains(#""resolved_by":"agent-bea""#) && body.contains(#""status":"resolved""#) && body.contains(#""lifted":["H-"#))
            }
            try await client.execute(uri: "/escalations/\(id)/resolve", method: .post, headers: auth.agent,
                                     body: ByteBuffer(string: #"{"note": "again"}"#)) { response in
                #expect(response.status == .conflict)
            }
            try await client.execute(uri: "/escalations/E-0000000000000000", method: .get, headers: auth.agent) { response in
                #expect(response.status == .notFound)
            }
        }
        let inbound = try await store.events(EventFilter(kinds: [.inbound])).map(\.event)
        #expect(inbound.count == 1)
        #expect(inbound.first?.channel == .email && inbound.first?.contactID == "C1" && inbound.first?.address == email)
        #expect(inbound.first?.body?.contains("Recordatorio de pago") == false, "the quoted history is not part of the reply")
    }

    /// "Stop the texts, write to my e-mail" sent by e-mail opts out the texts, not the e-mail it came by;
    /// "no more emails" opts out the e-mail.
    @Test func anEmailedOptOutIsForTheChannelsItNamesNotTheOneItKeeps() async throws {
        let store = try temporaryStore()
        let lexicons = try RepliesStore(directory: Self.root.appendingPathComponent("config/replies").path)
        let templates = try TemplateStore(directory: Self.root.appendingPathComponent("templates").path,
                                          requirements: ContactRulesFile.templateRequirements(path: Self.root.appendingPathComponent("config/contact-rules.yml").path),
                                          defaultLocale: "es-CR")
        let parser = SendGridInbound(provider: "sendgrid")
        let route = SendGridInboundRoute(provider: "sendgrid", token: "inbound-secret-0123456789") { parser.parse(body: $0, contentType: $1, at: $2) }
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templates, store: store, tokens: TestTokens().tokens,
                                                  replies: lexicons, sendGridInbound: [route]))
        let cases = [("ana.mora@example.com", "C1", "Por favor ya no me manden mensajes de texto, escríbanme solo al correo.", [Channel.sms]),
                     ("beto.rojas@example.com", "C2", "Please take me off your emails. No more emails.", [Channel.email])]
        for (number, (email, contact, text, _)) in cases.enumerated() {
            _ = try await store.append([ContactEvent(jobID: "J\(number)", contactID: contact, kind: .sent, at: Date(), channel: .email, provider: "sendgrid",
                                                     providerMessageID: "SG-\(number)", body: "Recordatorio", address: email, debtID: "LN-\(number)")])
            let post = Self.parsePost(from: email, subject: "Re: Recordatorio", text: text, messageID: "CAB-\(number)@mail.example.com")
            try await app.test(.router) { client in
                try await client.execute(uri: "/webhooks/sendgrid/inbound?token=inbound-secret-0123456789", method: .post,
                                         headers: [.contentType: post.contentType], body: post.body) { response in
                    #expect(response.status == .ok)
                }
            }
        }
        for (_, contact, text, channels) in cases {
            #expect(try await store.optOuts([contact])[contact]?.map(\.channel) == channels, "\(text)")
        }
    }
}
