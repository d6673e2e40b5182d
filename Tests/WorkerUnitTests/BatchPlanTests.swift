import ContactLog
import Foundation
import GatewayCore
import Providers
import RedisQueue
import Templates
import Testing
@testable import Worker

/// The batch's decision as tables, without Redis or a database: entries and the log's facts go in,
/// the cap ledger's answers are scripted, and what comes out is compared: the events (kind and
/// reason, in order), the dead letters, deferrals, claims and cap releases, the entries left pending
/// and how many cap rounds it took. Shipped templates and contact rules, a Wednesday at 15:00 in Costa Rica.
@Suite struct BatchPlanTests {
    /// A provider for SMS and e-mail that the plan only routes to; it is never asked to send.
    struct Carrier: MessageProvider {
        var name: String { "carrier" }
        var channels: Set<Channel> { [.sms, .email] }
        var requestTimeout: Double { 10 }
        func send(_ messages: [OutboundMessage]) async -> [DispatchResult] { [] }
    }

    /// 2026-12-02 21:00 UTC: Wednesday 15:00 in Costa Rica, inside the allowed hours.
    static let now = Date(timeIntervalSince1970: 1_796_245_200)

    static func job(_ id: String, channels: String = #"["sms"]"#, template: String = "payment-reminder", extra: String = "",
                    data: String = #"{"amount_due": "125.50", "currency": "USD", "due_date": "2026-12-10", "pay_link": "https://pay.example/x"}"#) -> [UInt8] {
        Array("""
        {"id": "\(id)", "template": "\(template)", "channels": \(channels), \(extra)
         "contact": {"id": "C-\(id)", "name": "Ana Mora", "phone": "+50688887777", "email": "ana@example.cr", "locale": "es-CR"},
         "debt_id": "LN-77", "data": \(data)}
        """.utf8)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var testDescription: String
        /// Each entry's `job` field (nil: an entry without one).
        var jobs: [[UInt8]?]
        var jobStates: [String: JobState] = [:]
        var optOuts: [String: [OptOut]] = [:]
        /// The cap checks the ledger refuses, as job#n for a job's n-th allowed channel; the rest are reserved.
        var capBlocked: Set<String> = []
        var events: [String]
        var deadLetters: [String] = []
        var deferrals = 0
        /// The claimed sends: job@channel, each with the index of its dispatching event.
        var sends: [String] = []
        var releases: [String] = []
        var leftPending = 0
        var capRounds: Int
    }

    static let cases: [Case] = [
        Case(testDescription: "a valid job is claimed for sending on its channel by one dispatching event that carries it",
             jobs: [job("J1")], events: ["dispatching J1"], sends: ["J1@sms:0"], capRounds: 1),
        Case(testDescription: "the same id twice in one batch: only the first is handled",
             jobs: [job("J1"), job("J1")], events: ["duplicate J1 duplicate_in_batch", "dispatching J1"], sends: ["J1@sms:1"], capRounds: 1),
        Case(testDescription: "an entry without a job field is refused and dead-lettered",
             jobs: [nil], events: ["received -", "invalid - no_job_field"], deadLetters: ["no_job_field"], capRounds: 0),
        Case(testDescription: "a job the log already settled is a duplicate",
             jobs: [job("J1")], jobStates: ["J1": JobState(terminal: .sent, lastDispatchAttempt: 1, lastDispatchResolved: true, lastDispatchAt: now.addingTimeInterval(-3600))],
             events: ["duplicate J1 already_sent"], capRounds: 0),
        Case(testDescription: "another worker is sending it now: left pending, nothing recorded",
             jobs: [job("J1")], jobStates: ["J1": JobState(lastDispatchAttempt: 1, lastDispatchResolved: false, lastDispatchAt: now.addingTimeInterval(-1))],
             events: [], leftPending: 1, capRounds: 0),
        Case(testDescription: "a claim that died with its worker is recorded unknown (interrupted), never resent",
             jobs: [job("J1")], jobStates: ["J1": JobState(lastDispatchAttempt: 1, lastDispatchResolved: false, lastDispatchAt: now.addingTimeInterval(-3600))],
             events: ["unknown J1 interrupted"], capRounds: 0),
        Case(testDescription: "an unknown template is refused and dead-lettered",
             jobs: [job("J1", template: "no-such-template")], events: ["received J1", "invalid J1 unknown_template"], deadLetters: ["unknown_template"], capRounds: 0),
        Case(testDescription: "an opted-out contact is suppressed without asking the ledger",
             jobs: [job("J1")], optOuts: ["C-J1": [OptOut(contactID: "C-J1", channel: .sms, kind: .optOut, setBy: "reply", setAt: now.addingTimeInterval(-60))]],
             events: ["received J1", "suppressed J1 opted_out"], capRounds: 0),
        Case(testDescription: "a capped first channel: the next allowed channel is checked in a second round and used",
             jobs: [job("J1", channels: #"["sms", "email"]"#)], capBlocked: ["J1#1"],
             events: ["dispatching J1"], sends: ["J1@email:0"], capRounds: 2),
        Case(testDescription: "every channel capped: deferred to when a slot reopens",
             jobs: [job("J1")], capBlocked: ["J1#1"], events: ["received J1", "deferred J1 test-cap"], deferrals: 1, capRounds: 1),
        Case(testDescription: "an expired job is recorded expired without a cap check",
             jobs: [job("J1", extra: #""expires_at": "2026-12-01T00:00:00Z","#)], events: ["received J1", "expired J1 expired"], capRounds: 0),
        Case(testDescription: "a job that cannot be rendered is refused after its caps, and its slot is given back",
             jobs: [job("J1", data: #"{"currency": "USD", "due_date": "2026-12-10", "pay_link": "https://pay.example/x"}"#)],
             events: ["received J1", "invalid J1 missing_variable"], deadLetters: ["missing_variable"], releases: ["J1"], capRounds: 1),
        Case(testDescription: "decisions that wait for caps come after those that do not, each in entry order",
             jobs: [job("J1"), nil, job("J2")],
             events: ["received -", "invalid - no_job_field", "dispatching J1", "dispatching J2"],
             deadLetters: ["no_job_field"], sends: ["J1@sms:2", "J2@sms:3"], capRounds: 1),
    ]

    @Test(arguments: cases)
    func plan(_ scenario: Case) throws {
        let settings = BatchProcessor.Settings(GatewayConfiguration())
        let entries = scenario.jobs.enumerated().map { index, raw in
            StreamEntry(id: "1-\(index)", fields: raw.map { ["job": $0] } ?? ["other": Array("x".utf8)])
        }
        let decoded = BatchPlan.decode(entries, settings: settings)
        let request = BatchPlan.admissionRequest(for: decoded)
        #expect(Set(request.jobIDs) == Set(scenario.jobs.compactMap { $0 }.compactMap { raw -> String? in
            guard case .object(let object)? = try? JSONParser.parse(raw), case .string(let id)? = object["id"] else { return nil }
            return id
        }))
        let inputs = BatchPlan.Inputs(
            settings: settings,
            catalog: try TemplateCatalog(directory: repositoryRoot.appendingPathComponent("templates").path),
            rules: try ContactRulesFile.load(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path),
            providers: ProviderRegistry(providers: [(Carrier(), 1)]), replyPolicy: .standard, now: Self.now)
        var plan = BatchPlan(decoded: decoded, facts: AdmissionFacts(jobStates: scenario.jobStates, optOuts: scenario.optOuts), inputs: inputs)
        var action = plan.start()
        var rounds = 0
        var asked: [String: Int] = [:]
        while case .checkCaps(let round) = action {
            rounds += 1
            #expect(rounds < 5, "the cap rounds must end")
            if rounds >= 5 { return }
            action = plan.capsAnswered(round.map { _, member in
                // A job's n-th ask is about its n-th allowed channel.
                asked[member, default: 0] += 1
                return scenario.capBlocked.contains("\(member)#\(asked[member]!)")
                    ? .blocked(ruleID: "test-cap", reopensAt: Self.now.addingTimeInterval(3600), sentence: "1 a day")
                    : .reserved
            })
        }
        guard case .execute(let actions) = action else { Issue.record("no actions"); return }
        #expect(rounds == scenario.capRounds)
        #expect(actions.events.map { "\($0.kind.rawValue) \($0.jobID ?? "-")" + ($0.kind == .received || $0.kind == .dispatching ? "" : " \($0.reason ?? "?")") } == scenario.events)
        #expect(actions.deadLetters.map(\.code) == scenario.deadLetters)
        #expect(actions.deferrals.count == scenario.deferrals)
        #expect(actions.sends.map { "\($0.send.job.id)@\($0.send.message.channel.rawValue):\($0.eventIndex)" } == scenario.sends)
        for claim in actions.sends {
            #expect(actions.events[claim.eventIndex].kind == .dispatching && actions.events[claim.eventIndex].jobID == claim.send.job.id)
            // Events carry the debt of their job, for the log's filters.
            #expect(actions.events[claim.eventIndex].debtID == "LN-77")
            // It stands for the job's `received`: the job exactly as it arrived is on it.
            #expect(actions.events[claim.eventIndex].job == claim.send.raw && !claim.send.raw.isEmpty)
        }
        #expect(actions.releases.map(\.member) == scenario.releases)
        #expect(actions.leftPending.count == scenario.leftPending)
        #expect(actions.summary.entries == scenario.jobs.count)
    }
}
