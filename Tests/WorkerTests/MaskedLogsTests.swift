import Foundation
import GatewayApp
import GatewayCore
import GatewayHTTP
import Logging
import Providers
import ServiceLifecycle
import Testing
import TestSupport
@testable import Worker

/// A whole run of the gateway (jobs sent, a provider refusing one, a bad job, a customer's reply on
/// the webhook, API calls refused) with every log line captured through `GatewayLogHandler`, in
/// both formats: no line holds the test data's phone numbers, e-mail addresses or credentials.
@Suite struct MaskedLogsTests {
    final class Lines: @unchecked Sendable {
        // @unchecked: `lines` is behind `lock`.
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
    }

    /// What a handler without masking would have written: message and metadata as given.
    struct RawHandler: LogHandler {
        let lines: Lines
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { lines.append("\(event.message) \(metadata.merging(event.metadata ?? [:]) { $1 })") }
    }

    @Test func aWholeRunLogsNoPhoneNumberEmailOrCredential() async throws {
        let phones = ["+50688887777", "+50671234567", "+50660001111"]
        let emails = ["ana.mora@example.cr", "luis.vega@example.com", "cobros+c3@example.org"]
        let masked = Lines(), raw = Lines()
        let logger = Logger(label: "gateway") { label in
            MultiplexLogHandler([
                GatewayLogHandler(label: label, format: .json, level: .trace, sink: LogSink { masked.append($0) }),
                GatewayLogHandler(label: label, format: .text, level: .trace, sink: LogSink { masked.append($0) }),
                RawHandler(lines: raw),
            ])
        }
        let fake = FakeTwilio()
        let apiToken = "gw-" + UUID().uuidString
        try await fake.serve { twilioURL in
            var setup = try Harness()
            let inboundURL = "https://gateway.test/webhooks/twilio/inbound"
            try setup.writeProvider("twilio", """
                type: twilio
                account_sid: \(fake.accountSID)
                auth_token: \(setup.secret("TWILIO_AUTH_TOKEN", fake.authToken))
                from: "+15005550006"
                base_url: \(twilioURL)
                inbound_url: \(inboundURL)
                """)
            let (_, hash) = APITokens.generate()
            setup.configuration.apiTokensPath = setup.directory.appendingPathComponent("api-tokens.yml").path
            try "tokens:\n  - {name: compliance, roles: [compliance], sha256: \(hash)}\n"
                .write(toFile: setup.configuration.apiTokensPath, atomically: true, encoding: .utf8)
            setup.configuration.httpPort = 0
            let harness = setup
            let client = CurlHTTPClient()
            defer { client.shutdown() }
            try await harness.servingApp(logger: logger, build: { try await GatewayApp.build(configuration: harness.configuration, logger: logger, environment: harness.secrets.all, anyFreePort: $0) }) { app, base in
                let run = UUID().uuidString.prefix(8)
                func job(_ id: String, phone: String, email: String, template: String = "payment-reminder") -> String {
                    """
                    {"id": "\(id)", "template": "\(template)", "channels": ["sms"],
                     "contact": {"id": "C-\(id)", "name": "Ana Mora", "phone": "\(phone)", "email": "\(email)", "locale": "es-CR"},
                     "debt_id": "LN-77", "segment": "early", "data": {"amount_due": "125.50", "currency": "USD", "due_date": "2026-12-01", "pay_link": "https://pay.example/x"}}
                    """
                }
                // Sent.
                try await harness.enqueue(job("LOG-A-\(run)", phone: phones[0], email: emails[0]))
                #expect(try await harness.waitForOutcome(job: "LOG-A-\(run)").kind == .sent)
                // Refused by the provider, with the number in its answer.
                fake.enqueue(.error(status: 400, code: 21211, message: "The 'To' number \(phones[1]) is not a valid phone number."))
                try await harness.enqueue(job("LOG-B-\(run)", phone: phones[1], email: emails[1]))
                #expect(try await harness.waitForOutcome(job: "LOG-B-\(run)").kind == .failed)
                // Not a job the gateway can send (no such template).
                try await harness.enqueue(job("LOG-C-\(run)", phone: phones[2], email: emails[2], template: "no-such-template"))
                _ = try await harness.waitForOutcome(job: "LOG-C-\(run)")
                // The customer answers STOP on the webhook; the gateway confirms by SMS.
                let fields = [("MessageSid", "SM-in-\(run)"), ("AccountSid", fake.accountSID), ("From", phones[0]), ("To", "+15005550006"),
                              ("Body", "STOP ya no me escriban, mi correo es \(emails[0])"), ("NumMedia", "0")]
                let form = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.1)" }.joined(separator: "&")
                let signature = TwilioReceipts.signature(url: inboundURL, parameters: fields, authToken: fake.authToken)
                let reply = try await client.send(HTTPRequest(method: "POST", url: base + "/webhooks/twilio/inbound",
                                                              headers: [("Content-Type", "application/x-www-form-urlencoded"), ("X-Twilio-Signature", signature)],
                                                              body: Array(form.utf8), timeout: 120))
                #expect(reply.status == 200)
                #expect(try await eventually { fake.requests.count >= 3 }, "the opt-out confirmation went out")
                // Compliance tools calling with a revoked token, with contact ids that are a phone and an e-mail.
                for path in ["/contacts/\(phones[0])/opt-outs", "/contacts/\(emails[1])/timeline"] {
                    let refused = try await client.send(HTTPRequest(url: base + path, headers: [("Authorization", "Bearer \(apiToken)")], timeout: 120))
                    #expect(refused.status == 401)
                }
            }
        }

        let lines = masked.all
        #expect(lines.count > 10, "the run logged (\(lines.count) lines)")
        // The test data did reach the logging system: without masking it would be in the log.
        let reached = (phones + emails).filter { value in raw.all.contains { $0.contains(value) } }
        #expect(!reached.isEmpty, "some test data was logged (unmasked) at least once")
        print("MaskedLogsTests: \(lines.count) lines (JSON and text); unmasked, the log would have held: \(reached.joined(separator: ", "))")
        // National forms too: the last 8 digits of each number, and each address's local part.
        let forbidden = phones + phones.map { String($0.suffix(8)) } + emails + emails.map { String($0.prefix { $0 != "@" }) + "@" }
            + [fake.authToken, apiToken]
        for line in lines {
            for value in forbidden {
                #expect(!line.contains(value), "\(value) in the log: \(line)")
            }
        }
        // Every JSON line is one object with the stable keys first.
        for line in lines where line.hasPrefix("{") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            #expect(object["ts"] is String && object["level"] is String && object["label"] is String && object["message"] is String, "\(line)")
            #expect(line.hasPrefix("{\"ts\":\"20") && line.contains("\",\"level\":\""), "\(line)")
        }
    }
}
