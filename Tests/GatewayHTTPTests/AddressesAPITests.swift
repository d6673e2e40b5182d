import ContactLog
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

/// An opt-out a reply set on a number, seen and lifted through the API.
@Suite struct AddressesAPITests {
    let auth = TestTokens()
    let inboundURL = "https://gateway.example.com/webhooks/twilio/inbound"
    let token = "tw-secret-token"

    @Test func anAddressOptOutIsShownAndLiftedByComplianceWithWhoAndWhy() async throws {
        let store = try temporaryStore()
        let phone = "+50688887777"
        _ = try await store.append([ContactEvent(jobID: "J1", contactID: "C1", kind: .sent, at: Date(), channel: .sms, provider: "twilio",
                                                 providerMessageID: "SM-J1", body: "Hola", address: phone)])
        let templates = try TemplateStore(directory: repositoryRoot.appendingPathComponent("templates").path,
                                          requirements: ContactRulesFile.templateRequirements(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path),
                                          defaultLocale: "es-CR")
        let inbound = [TwilioReceipts(provider: "twilio", authToken: token, callbackURL: inboundURL)]
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templates, store: store, twilioInbound: inbound, tokens: auth.tokens))
        let fields = [("MessageSid", "SM-in-1"), ("AccountSid", "AC" + String(repeating: "0", count: 32)), ("From", phone), ("To", "+15005550006"),
                      ("Body", "BAJA"), ("NumMedia", "0")]
        let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded",
                                   HTTPField.Name("X-Twilio-Signature")!: TwilioReceipts.signature(url: inboundURL, parameters: fields, authToken: token)]
        let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.1)" }.joined(separator: "&")
        try await app.test(.router) { client in
            try await client.execute(uri: "/webhooks/twilio/inbound", method: .post, headers: headers, body: ByteBuffer(string: body)) { #expect($0.status == .ok) }
            // Read by an agent, the number written either way.
            for path in ["/addresses/+50688887777/opt-outs", "/addresses/%2B50688887777/opt-outs"] {
                try await client.execute(uri: path, method: .get, headers: auth.agent) { response in
                    #expect(response.status == .ok)
                    let json = RepliesAPITests.json(response.body)
                    #expect(json["address"] as? String == phone)
                    let holds = json["opt_outs"] as? [[String: Any]] ?? []
                    #expect(holds.count == 1)
                    #expect(holds.first?["kind"] as? String == "opt_out" && holds.first?["in_force"] as? Bool == true)
                    #expect((holds.first?["sentence"] as? String)?.contains("opted out for every contact at it") == true)
                }
            }
            // Lifting: compliance only, with who and why.
            try await client.execute(uri: "/addresses/%2B50688887777/opt-outs?by=agent:bea&reason=consent%20on%20a%20call", method: .delete, headers: auth.agent) {
                #expect($0.status == .forbidden)
            }
            for (query, missing) in [("by=compliance:ana", "reason is required"), ("reason=consent%20on%20a%20call", "by is required"), ("by=x&reason=y&channel=sms", "unknown parameter"), ("by=%0A&reason=y", "by is required"), ("by=ana%0Aforged&reason=y", "by is required")] {
                try await client.execute(uri: "/addresses/%2B50688887777/opt-outs?\(query)", method: .delete, headers: auth.compliance) { response in
                    #expect(response.status == .badRequest)
                    #expect(String(buffer: response.body).contains(missing))
                }
            }
            try await client.execute(uri: "/addresses/%2B50688887777/opt-outs?by=compliance:ana&reason=consent%20given%20again%20on%20a%20call", method: .delete,
                                     headers: auth.compliance) { response in
                #expect(response.status == .ok)
                let json = RepliesAPITests.json(response.body)
                let lifted = json["lifted"] as? [[String: Any]] ?? []
                #expect(lifted.count == 1 && lifted.first?["in_force"] as? Bool == false)
                // The BAJA also opted out C1, the contact texted at the number: lifted with it.
                let marks = json["contact_opt_outs_lifted"] as? [[String: Any]] ?? []
                #expect(marks.count == 1 && marks.first?["contact_id"] as? String == "C1" && marks.first?["channel"] as? String == "sms")
            }
            try await client.execute(uri: "/addresses/%2B50688887777/opt-outs?by=compliance:ana&reason=again", method: .delete, headers: auth.compliance) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains("no_opt_out"))
            }
            try await client.execute(uri: "/addresses/%2B50688887777/opt-outs", method: .get, headers: auth.compliance) { response in
                #expect((RepliesAPITests.json(response.body)["opt_outs"] as? [Any])?.isEmpty == true)
            }
            try await client.execute(uri: "/addresses/%2B50688887777/opt-outs", method: .get, headers: auth.scoring) { #expect($0.status == .forbidden) }
        }
        #expect(try await store.optOuts(["C1"]).isEmpty)
        let lifted = try await store.events(EventFilter(kinds: [.holdChanged])).map(\.event)
        #expect(lifted.count == 1)
        #expect(lifted.first?.address == phone && lifted.first?.reason == "lifted")
        #expect(lifted.first?.detail?.contains("compliance:ana via API token compliance-ana: consent given again on a call") == true)
    }
}
