import Foundation
import GatewayCore
import GRDB
import Synchronization
import Testing
@testable import ContactLog

func temporaryLog() throws -> SQLiteContactLog {
    try SQLiteContactLog(path: FileManager.default.temporaryDirectory.appendingPathComponent("log-\(UUID().uuidString)/contact-log.sqlite").path)
}

func event(_ job: String?, _ kind: EventKind, attempt: Int = 1, contact: String = "C-1") -> ContactEvent {
    ContactEvent(jobID: job, contactID: contact, kind: kind, at: Date(timeIntervalSince1970: 1_796_000_000), attempt: attempt,
                 channel: .sms, template: "payment-reminder", tone: "neutral", provider: "sandbox", body: "Hola")
}

@Suite struct SQLiteContactLogTests {
    @Test(arguments: StoreKind.available) func appendsAndReadsBackEveryField(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        let log = store.log
        let full = ContactEvent(jobID: "J1", contactID: "C-1", kind: .sent, at: Date(timeIntervalSince1970: 1_796_000_000.123), attempt: 2,
                                channel: .sms, template: "payment-reminder", tone: "empathetic", variant: "payment-reminder/sms.es.mustache",
                                provider: "twilio", providerMessageID: "SM1", reason: "provider_queued", detail: "accepted",
                                body: "Hola Ana", address: "+50688887777", streamID: "1-0", data: "{\"x\":1}")
        #expect(try await log.append([full]) == [true])
        let stored = try await log.events(EventFilter(jobID: "J1"))
        #expect(stored.count == 1)
        #expect(stored[0].event == full)
    }

    @Test(arguments: StoreKind.available) func aJobHasOneTerminalOutcomeAtMost(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        let log = store.log
        #expect(try await log.append([event("J1", .received), event("J1", .sent), event("J1", .failed), event("J1", .duplicate)]) == [true, true, false, true])
        #expect(try await log.append([event("J1", .invalid)]) == [false])
        // Entries with no readable job id are not bound by it.
        #expect(try await log.append([event(nil, .invalid), event(nil, .invalid)]) == [true, true])
        let states = try await log.jobStates(["J1", "J2"])
        #expect(states["J1"]?.terminal == .sent)
        #expect(states["J2"] == nil)
    }

    @Test(arguments: StoreKind.available) func oneDispatchClaimPerAttempt(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        let log = store.log
        let claimedAt = Date(timeIntervalSince1970: 1_796_000_000)
        #expect(try await log.append([event("J1", .dispatching)]) == [true])
        #expect(try await log.append([event("J1", .dispatching)]) == [false])
        var state = try #require(try await log.jobStates(["J1"])["J1"])
        #expect(state == JobState(terminal: nil, lastDispatchAttempt: 1, lastDispatchResolved: false, lastDispatchAt: claimedAt))
        _ = try await log.append([event("J1", .retryScheduled), event("J1", .dispatching, attempt: 2)])
        state = try #require(try await log.jobStates(["J1"])["J1"])
        #expect(state == JobState(terminal: nil, lastDispatchAttempt: 2, lastDispatchResolved: false, lastDispatchAt: claimedAt))
        _ = try await log.append([event("J1", .sent, attempt: 2)])
        state = try #require(try await log.jobStates(["J1"])["J1"])
        #expect(state == JobState(terminal: .sent, lastDispatchAttempt: 2, lastDispatchResolved: true, lastDispatchAt: claimedAt))
    }

    /// More events than one multi-row INSERT holds (PostgreSQL), with refused ones among them: each
    /// answer is right, the events are stored in order, and the chain links exactly those written.
    @Test(arguments: StoreKind.available) func aLargeBatchWithRefusedEventsKeepsOrderAndChain(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        let log = store.log
        #expect(try await log.append([event("L3", .dispatching)]) == [true])
        var events: [ContactEvent] = [], expected: [Bool] = []
        for n in 0..<1500 {
            events.append(event("L\(n)", .dispatching))
            expected.append(n != 3)                          // L3's attempt was claimed before
            events.append(event("L\(n)", .sent))
            expected.append(true)
            if n % 7 == 0 {                                  // a second outcome for the job
                events.append(event("L\(n)", .failed))
                expected.append(false)
            }
        }
        #expect(try await log.append(events) == expected)
        let stored = try await log.events(EventFilter(limit: 10_000)).map(\.event)
        let kept = zip(events, expected).filter(\.1).map(\.0)
        #expect(stored.count == 1 + kept.count)
        #expect(stored.dropFirst().map { "\($0.jobID ?? "") \($0.kind.rawValue)" } == kept.map { "\($0.jobID ?? "") \($0.kind.rawValue)" })
        let chain = try await log.verifyChain()
        #expect(chain.problem == nil)
        #expect(chain.checked == stored.count)
    }

    @Test(arguments: StoreKind.available) func theDatabaseRefusesUpdatesAndDeletes(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        let log = store.log
        _ = try await log.append([event("J1", .sent)])
        for sql in ["UPDATE events SET body = 'changed'", "DELETE FROM events"] {
            await #expect { try await store.execute(sql) } throws: { error in refusal(error).contains("append-only") }
        }
        if kind == .postgres {
            await #expect { try await store.execute("TRUNCATE events") } throws: { error in refusal(error).contains("append-only") }
        }
        #expect(try await log.events(EventFilter(jobID: "J1")).first?.event.body == "Hola")
    }

    @Test(arguments: StoreKind.available) func outcomesViewDerivesTheJobState(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        let log = store.log
        _ = try await log.append([event("J1", .received), event("J1", .dispatching), event("J1", .sent), event("J2", .received), event("J2", .suppressed)])
        // The view compliance can query with plain SQL exists in both stores, and agrees with the store.
        try await store.execute("CREATE TABLE outcome_copy AS SELECT job_id, outcome FROM job_outcomes WHERE outcome = 'sent' AND job_id = 'J1'")
        #expect(try await log.jobStates(["J1", "J2"]).mapValues(\.terminal) == ["J1": .sent, "J2": .suppressed])
    }

    @Test(arguments: StoreKind.available) func filtersByContactAndKind(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        let log = store.log
        _ = try await log.append([event("J1", .received, contact: "A"), event("J1", .sent, contact: "A"),
                                  event("J2", .received, contact: "B"), event("J2", .invalid, contact: "B")])
        #expect(try await log.events(EventFilter(contactID: "A")).map(\.event.kind) == [.received, .sent])
        #expect(try await log.events(EventFilter(contactID: "B", kinds: [.invalid])).map(\.event.jobID) == ["J2"])
        #expect(try await log.events(EventFilter(limit: 3)).count == 3)
    }

    @Test(arguments: StoreKind.available) func manyJobStatesAtOnce(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        let log = store.log
        let ids = (0..<1200).map { "J\($0)" }
        _ = try await log.append(ids.map { event($0, .sent) })
        let states = try await log.jobStates(ids + ["unknown"])
        #expect(states.count == 1200)
        #expect(states.values.allSatisfy { $0.terminal == .sent })
    }

    @Test func reopeningKeepsTheLog() async throws {
        let log = try temporaryLog()
        _ = try await log.append([event("J1", .sent)])
        let again = try SQLiteContactLog(path: log.path)
        #expect(try await again.jobStates(["J1"])["J1"]?.terminal == .sent)
    }

    /// Several workers started together on one new log file (the 3-worker benchmark did this):
    /// switching the file to WAL needs it to itself, and SQLite answers "database is locked" at
    /// once instead of waiting, so every opener must wait its turn rather than exit.
    @Test func workersOpeningOneNewFileTogetherAllOpenIt() async throws {
        for _ in 0..<5 {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("log-\(UUID().uuidString)/contact-log.sqlite").path
            // Real threads, all at once (the cooperative pool would run two at a time).
            let failures = Mutex<[String]>([])
            let done = DispatchGroup()
            for _ in 0..<6 {
                done.enter()
                Thread {
                    do { _ = try SQLiteContactLog(path: path) } catch { failures.withLock { $0.append("\(error)") } }
                    done.leave()
                }.start()
            }
            done.wait()
            #expect(failures.withLock { $0 } == [])
            let log = try SQLiteContactLog(path: path)
            #expect(try await log.append([event("J1", .sent)]) == [true])
        }
    }
}
