import ContactLog
import Crypto
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Providers
import Testing
import Worker
@testable import GatewayHTTP
@testable import Templates

@Suite struct ReceiptsAPITests {
    let callback = "https://gateway.example.com/webhooks/twilio/status"
    let token = "tw-secret-token"

    func signedRequest(_ fields: [(String, String)], token: String? = nil, url: String? = nil) -> (body: ByteBuffer, headers: HTTPFields) {
        let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.1)" }.joined(separator: "&")
        var headers = HTTPFields()
        headers[.contentType] = "application/x-www-form-urlencoded"
        headers[HTTPField.Name("X-Twilio-Signature")!] = TwilioReceipts.signature(url: url ?? callback, parameters: fields, authToken: token ?? self.token)
        return (ByteBuffer(string: body), headers)
    }

    @Test func aSTOPReplyOptsTheTextedContactsOutOnce() async throws {
        let store = try temporaryStore()
        let phone = "+50688887777"
        for (job, contact) in [("J1", "C1"), ("J2", "C2")] {
            _ = try await store.append([ContactEvent(jobID: job, contactID: contact, kind: .sent, at: Date(), channel: .sms, provider: "twilio",
                                                     providerMessageID: "SM-\(job)", body: "Hola", address: phone)])
        }
        let inboundURL = "https://gateway.example.com/webhooks/twilio/inbound"
        let inbound = [TwilioReceipts(provider: "twilio", authToken: token, callbackURL: inboundURL)]
        let templates = try TemplateStore(directory: repositoryRoot.appendingPathComponent("templates").path,
                                          requirements: ContactRulesFile.templateRequirements(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path),
                                          defaultLocale: "es-CR")
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templates, store: store, twilioInbound: inbound))
        @Sendable func reply(_ sid: String, from: String, _ body: String) -> [(String, String)] {
            [("MessageSid", sid), ("AccountSid", "AC" + String(repeating: "0", count: 32)), ("From", from), ("To", "+15005550006"), ("Body", body), ("NumMedia", "0")]
        }
        try await app.test(.router) { client in
            let stop = signedRequest(reply("SM-in-1", from: phone, "Stop, por favor"), url: inboundURL)
            for _ in 0..<2 {   // Twilio retries: recorded once
                try await client.execute(uri: "/webhooks/twilio/inbound", method: .post, headers: stop.headers, body: stop.body) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "text/xml")
                    #expect(String(buffer: response.body).contains("<Response></Response>"))
                }
            }
            let question = signedRequest(reply("SM-in-2", from: "+15550001111", "cuando puedo pagar?"), url: inboundURL)
            try await client.execute(uri: "/webhooks/twilio/inbound", method: .post, headers: question.headers, body: question.body) { response in
                #expect(response.status == .ok)
            }
            // Signed for the status URL, not the inbound one: refused.
            let misdirected = signedRequest(reply("SM-in-3", from: phone, "STOP"))
            try await client.execute(uri: "/webhooks/twilio/inbound", method: .post, headers: misdirected.headers, body: misdirected.body) { response in
                #expect(response.status == .forbidden)
            }
        }
        #expect(try await store.optOuts(["C1", "C2"]).mapValues { $0.map(\.channel) } == ["C1": [.sms], "C2": [.sms]])
        #expect(try await store.optOuts(["C1"])["C1"]?.first?.setBy == "reply:twilio:SM-in-1")
        let inboundEvents = try await store.events(EventFilter(kinds: [.inbound])).map(\.event)
        #expect(inboundEvents.map(\.contactID) == ["C1", "C2", nil])
        #expect(inboundEvents.map(\.reason) == ["opt_out", "opt_out", "message"])
        #expect(inboundEvents[0].body == "Stop, por favor" && inboundEvents[0].address == phone)
        #expect(inboundEvents[2].detail?.contains("kept for review") == true)
    }

    @Test func signedReportsAreRecordedAndForgedOnesRefused() async throws {
        let store = try temporaryStore()
        var sent = ContactEvent(jobID: "J1", contactID: "C1", kind: .sent, at: Date(), channel: .sms, provider: "twilio", providerMessageID: "SM123")
        sent.body = "Hola"
        _ = try await store.append([sent])
        let templates = try TemplateStore(directory: repositoryRoot.appendingPathComponent("templates").path,
                                          requirements: ContactRulesFile.templateRequirements(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path),
                                          defaultLocale: "es-CR")
        let receipts = [TwilioReceipts(provider: "twilio", authToken: token, callbackURL: callback)]
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templates, store: store, twilioReceipts: receipts))
        let delivered: [(String, String)] = [("AccountSid", "AC1"), ("MessageSid", "SM123"), ("MessageStatus", "delivered"), ("To", "+50688887777")]
        try await app.test(.router) { client in
            let good = signedRequest(delivered)
            try await client.execute(uri: "/webhooks/twilio/status", method: .post, headers: good.headers, body: good.body) { response in
                #expect(response.status == .noContent)
            }
            // Replayed: still 204, recorded once.
            try await client.execute(uri: "/webhooks/twilio/status", method: .post, headers: good.headers, body: good.body) { response in
                #expect(response.status == .noContent)
            }
            // Tampered after signing: the body says undelivered, the signature was for delivered.
            var forged = signedRequest(delivered)
            forged.body = ByteBuffer(string: "AccountSid=AC1&MessageSid=SM123&MessageStatus=undelivered&To=%2B50688887777")
            try await client.execute(uri: "/webhooks/twilio/status", method: .post, headers: forged.headers, body: forged.body) { response in
                #expect(response.status == .forbidden)
            }
            // Signed with another token, and not signed at all.
            let wrongKey = signedRequest(delivered, token: "other")
            try await client.execute(uri: "/webhooks/twilio/status", method: .post, headers: wrongKey.headers, body: wrongKey.body) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/webhooks/twilio/status", method: .post, body: good.body) { response in
                #expect(response.status == .forbidden)
            }
            // A late `sent` after `delivered`, and a report about a message nobody sent.
            let late = signedRequest([("MessageSid", "SM123"), ("MessageStatus", "sent")])
            try await client.execute(uri: "/webhooks/twilio/status", method: .post, headers: late.headers, body: late.body) { response in
                #expect(response.status == .noContent)
            }
            let unknown = signedRequest([("MessageSid", "SM999"), ("MessageStatus", "delivered")])
            try await client.execute(uri: "/webhooks/twilio/status", method: .post, headers: unknown.headers, body: unknown.body) { response in
                #expect(response.status == .noContent)
            }
        }
        #expect(try await store.deliveryStatus(jobID: "J1") == .delivered)
        let events = try await store.events(EventFilter(kinds: [.receipt])).map(\.event)
        #expect(events.map(\.reason) == ["delivered", "sent", "delivered"])
        #expect(events.map(\.jobID) == ["J1", "J1", nil])
    }
}

@Suite struct SendGridWebhookTests {
    @Test func signedEventsAreRecordedAndUnsubscribesBecomeOptOuts() async throws {
        let key = P256.Signing.PrivateKey()
        let store = try temporaryStore()
        _ = try await store.append([ContactEvent(jobID: "E1", contactID: "C-E", kind: .sent, at: Date(), channel: .email, provider: "sendgrid", providerMessageID: "msg1")])
        let templates = try TemplateStore(directory: repositoryRoot.appendingPathComponent("templates").path,
                                          requirements: ContactRulesFile.templateRequirements(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path),
                                          defaultLocale: "es-CR")
        let verifier = try SendGridEvents(provider: "sendgrid", publicKey: key.publicKey.derRepresentation.base64EncodedString())
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templates, store: store, sendGridEvents: [verifier]))
        let body = #"[{"event":"delivered","sg_message_id":"msg1.filter.0","timestamp":1796000000},{"event":"unsubscribe","sg_message_id":"msg1.filter.0","timestamp":1796000100}]"#
        let timestamp = "1796000200"
        let signature = try key.signature(for: Data(timestamp.utf8) + Data(body.utf8)).derRepresentation.base64EncodedString()
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[HTTPField.Name("X-Twilio-Email-Event-Webhook-Signature")!] = signature
        headers[HTTPField.Name("X-Twilio-Email-Event-Webhook-Timestamp")!] = timestamp
        let signedHeaders = headers
        try await app.test(.router) { client in
            try await client.execute(uri: "/webhooks/sendgrid/events", method: .post, headers: signedHeaders, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .noContent)
            }
            var tampered = signedHeaders
            tampered[HTTPField.Name("X-Twilio-Email-Event-Webhook-Timestamp")!] = "1796000201"
            try await client.execute(uri: "/webhooks/sendgrid/events", method: .post, headers: tampered, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .forbidden)
            }
        }
        #expect(try await store.deliveryStatus(jobID: "E1") == .unsubscribed)
        let marks = try await store.optOuts(["C-E"])["C-E"] ?? []
        #expect(marks.map(\.channel) == [.email])
        #expect(marks.first?.setBy == "provider:sendgrid")
    }
}

@Suite struct InfobipReportsAPITests {
    @Test func reportsWithTheTokenAreRecordedOthersRefused() async throws {
        let store = try temporaryStore()
        _ = try await store.append([ContactEvent(jobID: "I1", contactID: "C-I", kind: .sent, at: Date(), channel: .sms, provider: "infobip", providerMessageID: "m1")])
        let templates = try TemplateStore(directory: repositoryRoot.appendingPathComponent("templates").path,
                                          requirements: ContactRulesFile.templateRequirements(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path),
                                          defaultLocale: "es-CR")
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templates, store: store,
                                                  infobipReports: [InfobipReports(provider: "infobip", token: "0123456789abcdef")]))
        let body = #"{"results":[{"messageId":"m1","status":{"groupName":"DELIVERED","name":"DELIVERED_TO_HANDSET"}}]}"#
        try await app.test(.router) { client in
            try await client.execute(uri: "/webhooks/infobip/reports?token=wrong-token-value", method: .post, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/webhooks/infobip/reports", method: .post, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/webhooks/infobip/reports?token=0123456789abcdef", method: .post, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .noContent)
            }
        }
        #expect(try await store.deliveryStatus(jobID: "I1") == .delivered)
    }

    /// A STOP sent to an Infobip number opts out the contacts texted at that number, as with Twilio.
    @Test func aSTOPToAnInfobipNumberOptsTheTextedContactsOut() async throws {
        let store = try temporaryStore()
        let phone = "+573001234567"
        _ = try await store.append([ContactEvent(jobID: "IB1", contactID: "C-IB", kind: .sent, at: Date(), channel: .sms, provider: "infobip",
                                                 providerMessageID: "m-out", body: "Hola", address: phone)])
        let templates = try TemplateStore(directory: repositoryRoot.appendingPathComponent("templates").path,
                                          requirements: ContactRulesFile.templateRequirements(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path),
                                          defaultLocale: "es-CR")
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templates, store: store,
                                                  infobipReports: [InfobipReports(provider: "infobip", token: "0123456789abcdef")]))
        // Infobip's MO_JSON_2, the customer's number without "+".
        let stop = #"{"results":[{"messageId":"mo-1","from":"573001234567","to":"573009990000","text":"BAJA por favor","cleanText":"por favor","keyword":"BAJA","receivedAt":"2026-11-24T16:00:00.000+0000","smsCount":1,"price":{"pricePerMessage":0,"currency":"USD"}}],"messageCount":1,"pendingMessageCount":0}"#
        try await app.test(.router) { client in
            try await client.execute(uri: "/webhooks/infobip/inbound?token=wrong-token-value", method: .post, body: ByteBuffer(string: stop)) { response in
                #expect(response.status == .forbidden)
            }
            for _ in 0..<2 {   // forwarded again: recorded once
                try await client.execute(uri: "/webhooks/infobip/inbound?token=0123456789abcdef", method: .post, body: ByteBuffer(string: stop)) { response in
                    #expect(response.status == .noContent)
                }
            }
            try await client.execute(uri: "/webhooks/infobip/inbound?token=0123456789abcdef", method: .post,
                                     body: ByteBuffer(string: #"{"results":[{"messageId":"mo-2","text":"STOP"}]}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("results[0].from is missing"))
            }
        }
        #expect(try await store.optOuts(["C-IB"])["C-IB"]?.map(\.channel) == [.sms])
        #expect(try await store.optOuts(["C-IB"])["C-IB"]?.first?.setBy.hasPrefix("reply:infobip:") == true)
        let inbound = try await store.events(EventFilter(kinds: [.inbound])).map(\.event)
        #expect(inbound.count == 1)
        #expect(inbound.first?.reason == "opt_out" && inbound.first?.address == phone && inbound.first?.body == "BAJA por favor")
    }
}
