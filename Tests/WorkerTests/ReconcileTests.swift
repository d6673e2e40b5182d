import ContactLog
import Foundation
import GatewayCore
import Providers
import Testing
import TestSupport
@testable import Worker

/// `gateway reconcile --ask-providers`: unknown sends are looked up at a loopback Twilio that
/// checks the path, query and Basic auth, and what it answers is recorded once per job, in the
/// chain, on SQLite and PostgreSQL.
@Suite struct ReconcileTests {
    enum Store: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
        static var available: [Store] { TestPostgres.url == nil ? [.sqlite] : [.sqlite, .postgres] }

        func open() async throws -> any ContactLogStore {
            switch self {
            case .sqlite:
                try await ContactLogs.open(FileManager.default.temporaryDirectory.appendingPathComponent("reconcile-\(UUID().uuidString)/log.sqlite").path)
            case .postgres:
                try await ContactLogs.open(try await TestPostgres.freshDatabase())
            }
        }
    }

    /// 2026-11-30T10:00:00Z
    static let t0 = Date(timeIntervalSince1970: 1_796_032_800)
    static let from = "+15005550006"

    static func claim(_ job: String, to address: String, body: String, provider: String = "twilio", at seconds: Double) -> ContactEvent {
        ContactEvent(jobID: job, contactID: "C-\(job)", kind: .dispatching, at: t0.addingTimeInterval(seconds), channel: provider == "fcm" ? .push : .sms,
                     template: "payment-reminder", provider: provider, body: body, address: address, debtID: "LN-\(job)", segment: "early")
    }

    static func ended(_ job: String, _ kind: EventKind, _ reason: Reason, at seconds: Double) -> ContactEvent {
        ContactEvent(jobID: job, contactID: "C-\(job)", kind: kind, at: t0.addingTimeInterval(seconds), reason: reason.rawValue, debtID: "LN-\(job)", segment: "early")
    }

    @Test(arguments: Store.available) func unknownSendsAreAskedOnceAndTheAnswersRecordedInTheChain(_ store: Store) async throws {
        let log = try await store.open()
        _ = try await log.append([
            // The worker died mid-send: Twilio has the message.
            Self.claim("FOUND", to: "+50688880001", body: "Hola Ana, su cuota vence hoy", at: 0),
            Self.ended("FOUND", .unknown, .interrupted, at: 600),
            // The connection failed after the request: Twilio has none with this text.
            Self.claim("NOTFOUND", to: "+50688880002", body: "Hola Luis, su cuota vence hoy", at: 10),
            Self.ended("NOTFOUND", .unknown, .possiblyDelivered, at: 11),
            // Written before `unknown` existed: Twilio has it, on the second page of its list.
            Self.claim("OLD", to: "+50688880003", body: "Hola Eva", at: 20),
            Self.ended("OLD", .failed, .interrupted, at: 700),
            // A push: FCM cannot be asked.
            Self.claim("PUSH", to: "fcm-token-1", body: "Su cuota vence hoy", provider: "fcm", at: 30),
            Self.ended("PUSH", .unknown, .interrupted, at: 700),
        ])
        let fake = FakeProviderLogs()
        fake.capTwilioPages(at: 2)
        fake.setTwilioMessages([
            .init(sid: "SM" + String(repeating: "1", count: 32), to: "+50688880001", from: Self.from, body: "Hola Ana, su cuota vence hoy",
                  status: "delivered", dateCreated: Self.t0.addingTimeInterval(2)),
            // Same number and day, other text; the same text a day before the claim: not it.
            .init(sid: "SM" + String(repeating: "2", count: 32), to: "+50688880001", from: Self.from, body: "Otro mensaje",
                  status: "delivered", dateCreated: Self.t0.addingTimeInterval(5)),
            .init(sid: "SM" + String(repeating: "3", count: 32), to: "+50688880002", from: Self.from, body: "Hola Luis, su cuota vence hoy",
                  status: "delivered", dateCreated: Self.t0.addingTimeInterval(-86_000)),
            // OLD's message is the oldest of three that day: page 2 of 2.
            .init(sid: "SM" + String(repeating: "4", count: 32), to: "+50688880003", from: Self.from, body: "Hola Eva",
                  status: "sent", dateCreated: Self.t0.addingTimeInterval(21)),
            .init(sid: "SM" + String(repeating: "5", count: 32), to: "+50688880003", from: Self.from, body: "Otro", status: "sent",
                  dateCreated: Self.t0.addingTimeInterval(3000)),
            .init(sid: "SM" + String(repeating: "6", count: 32), to: "+50688880003", from: Self.from, body: "Otro más", status: "sent",
                  dateCreated: Self.t0.addingTimeInterval(4000)),
        ])
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let now = Self.t0.addingTimeInterval(7200)
        try await fake.serve { base in
            let twilio = TwilioProvider(name: "twilio", configuration: .init(accountSID: fake.accountSID, authToken: fake.authToken, from: Self.from, baseURL: base),
                                        client: client)
            let reconciler = Reconciler(log: log, lookups: ["twilio": twilio], clock: { now })
            let unresolved = try await log.unresolvedSends(from: nil, to: nil, now: now, liveWindow: 60)
            #expect(unresolved.map(\.jobID) == ["FOUND", "NOTFOUND", "OLD", "PUSH"])
            let answers = try await reconciler.reconcile(unresolved)
            #expect(answers.map(\.code) == ["found", "not_found", "found", "no_lookup"], "\(answers)")
            #expect(answers[0] == .found(messageID: "SM" + String(repeating: "1", count: 32), status: "delivered", recorded: true))
            #expect(answers[2] == .found(messageID: "SM" + String(repeating: "4", count: 32), status: "sent", recorded: true))

            // What Twilio was asked: its list, by number, sender and the claim's days, with Basic auth.
            let asked = fake.requests
            #expect(asked.count == 4, "FOUND, NOTFOUND and OLD's two pages: \(asked.map(\.rawQuery))")
            let basic = "Basic " + Data("\(fake.accountSID):\(fake.authToken)".utf8).base64EncodedString()
            #expect(asked.allSatisfy { $0.path == "/2010-04-01/Accounts/\(fake.accountSID)/Messages.json" && $0.authorization == basic })
            #expect(asked[0].query["To"] == "+50688880001" && asked[0].query["From"] == Self.from)
            #expect(asked[0].rawQuery.contains("DateSent%3E=2026-11-30") && asked[0].rawQuery.contains("DateSent%3C=2026-12-01"), "\(asked[0].rawQuery)")
            #expect(asked[3].query["Page"] == "1" && asked[3].query["PageToken"] != nil, "the second page followed next_page_uri")

            // A second run asks nothing: FOUND and OLD are resolved, NOTFOUND was asked already.
            let again = try await log.unresolvedSends(from: nil, to: nil, now: now, liveWindow: 60)
            #expect(again.map(\.jobID) == ["NOTFOUND", "PUSH"])
            let second = try await reconciler.reconcile(again)
            #expect(second.map(\.code) == ["already_asked", "no_lookup"])
            #expect(fake.requests.count == 4)
        }

        // One reconciled event per job, chained like every event; the unknown event stays.
        let found = try await log.events(EventFilter(jobID: "FOUND")).map(\.event)
        #expect(found.map(\.kind) == [.dispatching, .unknown, .reconciled])
        let reconciled = try #require(found.last)
        #expect(reconciled.reason == "found" && reconciled.providerMessageID == "SM" + String(repeating: "1", count: 32) && reconciled.provider == "twilio")
        #expect(reconciled.address == "+50688880001" && reconciled.debtID == "LN-FOUND" && reconciled.segment == "early" && reconciled.at == now)
        let notFound = try await log.events(EventFilter(jobID: "NOTFOUND", kinds: [.reconciled])).map(\.event)
        #expect(notFound.map(\.reason) == ["not_found"])
        #expect(notFound.first?.detail?.contains("no message to +50688880002") == true, "\(notFound.first?.detail ?? "")")
        #expect(try await log.events(EventFilter(jobID: "PUSH", kinds: [.reconciled])).isEmpty)
        #expect(try await log.verifyChain().problem == nil, "audit verify passes after reconciling")

        // Receipts for the message id now reach the job; its outcome shows sent, reason reconciled.
        #expect(try await log.appendReceipt(Receipt(provider: "twilio", messageID: "SM" + String(repeating: "1", count: 32), status: .delivered,
                                                    providerStatus: "delivered", at: now, raw: "{}")) == .recorded(jobID: "FOUND"))
        let summary = try await log.summary(from: Self.t0.addingTimeInterval(-86_400), to: Self.t0.addingTimeInterval(86_400))
        let shown = Dictionary(summary.rows.map { ("\($0.outcome) \($0.reason ?? "-")", $0.count) }, uniquingKeysWith: +)
        #expect(shown == ["sent reconciled": 2, "unknown possibly_delivered": 1, "unknown interrupted": 1], "\(shown)")
        #expect(try await log.jobStates(["FOUND"])["FOUND"]?.terminal == .unknown, "the stored outcome is not rewritten")
    }

    /// The command as an operator runs it, against the sandbox (no providers/*.yml): what is found is
    /// recorded and said, what is not stays unresolved (exit 2), and a second run asks nothing.
    @Test func theCommandAsksTheSandboxAndSaysWhatIsLeft() async throws {
        let harness = try Harness()
        let process = GatewayProcessTests()
        let config = try process.writeConfig(harness)
        let sandbox = try SandboxProvider(outboxPath: harness.configuration.outboxPath)
        let written = await sandbox.send([OutboundMessage(jobID: "CLI-IN", contactID: "C-CLI-IN", channel: .sms, to: "+50688880001", body: "Hola")])
        guard case .accepted(let id, _) = written.first else { Issue.record("\(written)"); return }
        let log = try await ContactLogs.open(harness.configuration.contactLogPath)
        _ = try await log.append([
            Self.claim("CLI-IN", to: "+50688880001", body: "Hola", provider: "sandbox", at: 0), Self.ended("CLI-IN", .unknown, .interrupted, at: 600),
            Self.claim("CLI-OUT", to: "+50688880002", body: "Hola", provider: "sandbox", at: 10), Self.ended("CLI-OUT", .unknown, .possiblyDelivered, at: 11),
        ])
        let listed = try process.run(["reconcile", "--config", config, "--from", "2026-11-29", "--log-format", "text"])
        #expect(listed.status == 2 && listed.output.contains("2 unresolved: 1 interrupted, 1 possibly_delivered"), "\(listed.output)")
        #expect(try await log.events(EventFilter(kinds: [.reconciled])).isEmpty, "listing records nothing")

        let asked = try process.run(["reconcile", "--ask-providers", "--config", config, "--from", "2026-11-29", "--log-format", "text"])
        #expect(asked.status == 2, "CLI-OUT stays unresolved: \(asked.output)")
        #expect(asked.output.contains("found  job CLI-IN attempt 1") && asked.output.contains(id), "\(asked.output)")
        #expect(asked.output.contains("not_found  job CLI-OUT attempt 1"), "\(asked.output)")
        #expect(asked.output.contains("2 asked about: 1 found, 1 not_found; 1 still unresolved"), "\(asked.output)")
        let reconciled = try await log.events(EventFilter(kinds: [.reconciled])).map(\.event)
        #expect(reconciled.map { "\($0.jobID ?? "") \($0.reason ?? "") \($0.providerMessageID ?? "-")" } == ["CLI-IN found \(id)", "CLI-OUT not_found -"])

        let again = try process.run(["reconcile", "--ask-providers", "--config", config, "--from", "2026-11-29", "--format", "json", "--log-format", "text"])
        #expect(again.status == 2)
        let lines = again.output.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(lines.count == 1 && lines[0].contains("\"answer\":\"already_asked\"") && lines[0].contains("CLI-OUT"), "\(again.output)")
        #expect(try await log.events(EventFilter(kinds: [.reconciled])).count == 2)
        let verified = try process.run(["audit", "verify", "--config", config, "--log-format", "text"])
        #expect(verified.status == 0, "\(verified.output)")
    }
}
