import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import Providers

/// Each provider that can be asked whether it took a message reads its documented answer: Infobip's
/// SMS logs, SendGrid's Email Activity, the sandbox's outbox (Twilio's list: WorkerTests.ReconcileTests).
@Suite struct SendLookupTests {
    /// 2026-11-30T10:00:00Z
    static let t0 = Date(timeIntervalSince1970: 1_796_032_800)

    static func sms(_ body: String = "Hola Ana, su cuota vence hoy", to: String = "+50688880001") -> SendInQuestion {
        SendInQuestion(jobID: "J1", attempt: 1, channel: .sms, address: to, body: body, claimedAt: t0, endedAt: t0.addingTimeInterval(60))
    }

    /// Infobip's GET /sms/1/logs answer, as its documentation shows one.
    static let infobipLogs = """
        {"results": [
          {"bulkId": "BULK-1", "messageId": "MSG-OTHER", "to": "50688880001", "from": "BANCO", "text": "Otro mensaje",
           "sentAt": "2026-11-30T10:00:03.000+0000", "doneAt": "2026-11-30T10:00:05.000+0000", "smsCount": 1, "mccMnc": "71201",
           "price": {"pricePerMessage": 0.01, "currency": "EUR"},
           "status": {"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DELIVERED_TO_HANDSET", "description": "Message delivered to handset"},
           "error": {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR", "description": "No Error", "permanent": false}},
          {"bulkId": "BULK-1", "messageId": "MSG-IT", "to": "50688880001", "from": "BANCO", "text": "Hola Ana, su cuota vence hoy",
           "sentAt": "2026-11-30T10:00:02.000+0000", "doneAt": "2026-11-30T10:00:04.000+0000", "smsCount": 1, "mccMnc": "71201",
           "price": {"pricePerMessage": 0.01, "currency": "EUR"},
           "status": {"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DELIVERED_TO_HANDSET", "description": "Message delivered to handset"},
           "error": {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR", "description": "No Error", "permanent": false}}
        ]}
        """

    @Test func infobipLogsAreAskedAsDocumentedAndReadForTheMessage() async throws {
        let fake = FakeProviderLogs()
        fake.setInfobipLogs(Self.infobipLogs)
        let (found, missing, stale) = try await fake.serve { base in
            let infobip = InfobipProvider(name: "infobip", configuration: .init(apiKey: fake.infobipKey, baseURL: base, from: "BANCO", timeout: 120), client: CurlHTTPClient())
            let now = Self.t0.addingTimeInterval(3600)
            return (await infobip.lookUp(Self.sms(), now: now), await infobip.lookUp(Self.sms("Hola Luis"), now: now),
                    await infobip.lookUp(Self.sms("Hola Luis"), now: Self.t0.addingTimeInterval(72 * 3600)))
        }
        #expect(found == .found(messageID: "MSG-IT", status: "DELIVERED_TO_HANDSET"))
        guard case .notFound(let detail) = missing else { Issue.record("\(missing)"); return }
        #expect(detail.contains("no SMS to 50688880001"), "\(detail)")
        guard case .cannotTell(let reason) = stale else { Issue.record("\(stale)"); return }
        #expect(reason.contains("48 hours"), "Infobip keeps logs 48 hours: older, absence proves nothing")
        let asked = try #require(fake.requests.first)
        #expect(asked.path == "/sms/1/logs" && asked.authorization == "App \(fake.infobipKey)")
        #expect(asked.query["to"] == "50688880001" && asked.query["from"] == "BANCO" && asked.query["limit"] == "1000")
        #expect(asked.query["sentSince"] == "2026-11-30T09:55:00.000+0000" && asked.query["sentUntil"] == "2026-11-30T10:06:00.000+0000",
                "the claim's window, five minutes of clock slack each side: \(asked.query)")
    }

    @Test func infobipRefusingTheQueryCannotTell() async throws {
        let fake = FakeProviderLogs()
        fake.setInfobipLogs(status: 429, #"{"requestError": {"serviceException": {"messageId": "TOO_MANY_REQUESTS", "text": "Too many requests"}}}"#)
        let result = try await fake.serve { base in
            await InfobipProvider(name: "infobip", configuration: .init(apiKey: fake.infobipKey, baseURL: base, from: "BANCO", timeout: 120), client: CurlHTTPClient())
                .lookUp(Self.sms(), now: Self.t0.addingTimeInterval(60))
        }
        guard case .cannotTell(let reason) = result else { Issue.record("\(result)"); return }
        #expect(reason.contains("429"))
    }

    static func email(subject: String = "Su cuota vence hoy") -> SendInQuestion {
        SendInQuestion(jobID: "J2", attempt: 1, channel: .email, address: "ana@example.com", body: "Hola Ana", subject: subject,
                       claimedAt: t0, endedAt: t0.addingTimeInterval(60))
    }

    /// SendGrid's GET /v3/messages answer, as its API reference shows one.
    static let sendGridActivity = """
        {"messages": [
          {"from_email": "cobros@bank.example", "msg_id": "abc123XYZ.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",
           "subject": "Su cuota vence hoy", "to_email": "ana@example.com", "status": "delivered",
           "opens_count": 1, "clicks_count": 0, "last_event_time": "2026-11-30T10:05:00Z"},
          {"from_email": "cobros@bank.example", "msg_id": "old999.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-1.0",
           "subject": "Su cuota vence hoy", "to_email": "ana@example.com", "status": "delivered",
           "opens_count": 0, "clicks_count": 0, "last_event_time": "2026-10-30T10:00:00Z"}
        ]}
        """

    @Test func sendGridActivityIsReadAndItsAddOnMissingIsSaid() async throws {
        let fake = FakeProviderLogs()
        fake.setSendGridActivity(Self.sendGridActivity)
        let provider: @Sendable (String) -> SendGridProvider = { base in
            SendGridProvider(name: "sendgrid", configuration: .init(apiKey: fake.sendGridKey, fromEmail: "cobros@bank.example", baseURL: base, timeout: 120), client: CurlHTTPClient())
        }
        let (found, other) = try await fake.serve { base in
            (await provider(base).lookUp(Self.email(), now: Self.t0.addingTimeInterval(3600)),
             await provider(base).lookUp(Self.email(subject: "Otro asunto"), now: Self.t0.addingTimeInterval(3600)))
        }
        #expect(found == .found(messageID: "abc123XYZ", status: "delivered"), "the X-Message-Id receipts carry: msg_id up to its first dot")
        guard case .notFound = other else { Issue.record("\(other)"); return }
        let asked = try #require(fake.requests.first)
        #expect(asked.path == "/v3/messages" && asked.authorization == "Bearer \(fake.sendGridKey)")
        #expect(asked.rawQuery.contains("query=to_email%3D%22ana%40example.com%22"), "\(asked.rawQuery)")

        fake.setSendGridActivity(status: 403, #"{"errors": [{"field": null, "message": "access forbidden"}]}"#)
        let forbidden = try await fake.serve { base in await provider(base).lookUp(Self.email(), now: Self.t0.addingTimeInterval(3600)) }
        guard case .cannotTell(let reason) = forbidden else { Issue.record("\(forbidden)"); return }
        #expect(reason.contains("Email Activity add-on"), "\(reason)")
    }

    @Test func theSandboxFindsWhatItWrote() async throws {
        let outbox = FileManager.default.temporaryDirectory.appendingPathComponent("lookup-\(UUID().uuidString)/outbox.jsonl").path
        let sandbox = try SandboxProvider(outboxPath: outbox)
        let results = await sandbox.send([OutboundMessage(jobID: "J1", contactID: "C1", channel: .sms, to: "+50688880001", body: "Hola")])
        guard case .accepted(let id, _) = results[0] else { Issue.record("\(results)"); return }
        #expect(await sandbox.lookUp(Self.sms()) == .found(messageID: id, status: "written"))
        var other = Self.sms()
        other.attempt = 2
        guard case .notFound = await sandbox.lookUp(other) else { Issue.record("attempt 2 was never written"); return }
    }
}
