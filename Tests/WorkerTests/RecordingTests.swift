import ContactLog
import Foundation
import GatewayCore
import GRDB
import Providers
import Testing
import TestSupport
@testable import Worker

/// The record matches what customers received: each provider answer reaches the contact log soon
/// after it arrives, not when the slowest send of its batch returns; and an answer that cannot be
/// written (the log locked by another process) is held and written later, never replaced by
/// `interrupted`.
@Suite struct RecordingTests {
    @Test func anAnswerIsRecordedWhileAnotherSendOfItsBatchIsStillOut() async throws {
        let twilio = FakeTwilio()
        // Whichever request arrives first is accepted; the second is held until the test lets it go.
        twilio.enqueue(.accept, .hold(limit: 120))
        let harness = try Harness { $0.recordDelayMilliseconds = 20 }
        try await twilio.serve { base in
            try harness.writeTwilio(twilio, base)
            // Both jobs are on the stream before the worker starts, so they are one batch.
            try await harness.enqueue(job("RS-1", phone: "+50688880001"))
            try await harness.enqueue(job("RS-2", phone: "+50688880002"))
            try await harness.running { _ in
                #expect(try await eventually { twilio.heldCount == 1 })
                // While one send is still out, the other's answer is already in the log, with its message id.
                #expect(try await eventually {
                    let outcomes = [try await harness.outcome(job: "RS-1"), try await harness.outcome(job: "RS-2")].compactMap { $0 }
                    return outcomes.count == 1 && outcomes[0].kind == .sent && outcomes[0].providerMessageID?.hasPrefix("SM") == true
                })
                #expect(twilio.heldCount == 1, "the held send was answered before its batch-mate was recorded")
                twilio.releaseHeld()
                for id in ["RS-1", "RS-2"] {
                    let outcome = try await harness.waitForOutcome(job: id)
                    #expect(outcome.kind == .sent && outcome.providerMessageID?.hasPrefix("SM") == true, "\(id): \(outcome.kind) \(outcome.reason ?? "")")
                }
            }
        }
        #expect(twilio.requests.count == 2)
    }

    /// A provider that answers one message twice, another never and one it was not given (an
    /// adapter's bugs): the first answer is the one recorded, the message without one is retried,
    /// neither lost nor sent twice, and the stray answer is dropped.
    @Test func aMessageAnsweredTwiceCountsOnceAndOneNeverAnsweredIsRetried() async throws {
        let harness = try Harness()
        let gateway = try await Gateway(configuration: harness.configuration, logger: Harness.logger)
        var processor = gateway.worker.processor
        processor.providers = ProviderRegistry(providers: [(Stammering(), 0)])
        try await processor.consumer.ensureGroup()
        try await harness.enqueue(job("ST-1", phone: "+50688880001"))
        try await harness.enqueue(job("ST-2", phone: "+50688880002"))
        let summary = try await processor.process(try await processor.consumer.readNew(count: 10, blockMilliseconds: 200))
        #expect(summary.sent == 1 && summary.retried == 1 && summary.failed == 0, "\(summary)")
        let first = try await harness.events(job: "ST-1")
        #expect(first.map(\.kind) == [.dispatching, .sent])
        #expect(first.last?.providerMessageID == "SM-first")
        let second = try await harness.events(job: "ST-2")
        #expect(second.map(\.kind) == [.dispatching, .retryScheduled])
        #expect(second.last?.reason == Reason.notDispatched.rawValue)
        #expect(second.last?.detail?.contains("stammering gave no answer for this message") == true, "\(second.last?.detail ?? "")")
        await gateway.shutdown()
    }

    @Test func anAnswerTheLogCannotTakeIsHeldAndRecordedWhenItCan() async throws {
        let twilio = FakeTwilio()
        twilio.enqueue(.hold(limit: 120))
        let harness = try Harness()
        try await twilio.serve { base in
            try harness.writeTwilio(twilio, base)
            try await harness.running { gateway in
                try await harness.enqueue(job("LK-1"))
                // The send is out, so its claim is in the log. Now another process locks the log.
                #expect(try await eventually { twilio.heldCount == 1 })
                #expect(try await harness.events(job: "LK-1").map(\.kind) == [.dispatching])
                let locker = try LogLocker(path: harness.configuration.contactLogPath)
                #expect(try await eventually { locker.isLocked })
                twilio.releaseHeld()
                // The worker cannot write the answer: it says so, and takes no new work.
                #expect(try await eventually { gateway.worker.health.current[.outcomes] != nil })
                #expect(gateway.worker.health.current[.store]?.message.contains("record 1 outcomes") == true)
                locker.unlock()
                let outcome = try await harness.waitForOutcome(job: "LK-1")
                #expect(outcome.kind == .sent && outcome.providerMessageID?.hasPrefix("SM") == true, "\(outcome.kind) \(outcome.reason ?? "") \(outcome.detail ?? "")")
                #expect(try await eventually { gateway.worker.health.isHealthy })
            }
        }
        #expect(twilio.requests.count == 1)
        #expect(try await harness.events(job: "LK-1").map(\.kind) == [.dispatching, .sent])
    }
}

/// Answers its first message twice (accepted, then refused), its second never, and one it was not given.
struct Stammering: MessageProvider {
    var name = "stammering"
    var channels: Set<Channel> = [.sms]
    var requestTimeout = 5.0
    func send(_ messages: [OutboundMessage]) async -> [DispatchResult] { [] }
    func send(_ messages: [OutboundMessage], answer: @escaping @Sendable (Int, DispatchResult) -> Void) async {
        answer(0, .accepted(messageID: "SM-first", status: "queued"))
        answer(0, .permanentFailure(code: .http(400), message: "a second answer for the same message"))
        answer(messages.count, .accepted(messageID: "SM-nobody", status: "queued"))  // no such message
    }
}

/// Another process's hold on the contact log: an exclusive transaction, on a thread of its own,
/// until `unlock()`. Writers wait for it up to their busy timeout, then fail.
final class LogLocker: @unchecked Sendable {
    // @unchecked: `locked` is behind `lock`; the semaphore is thread-safe.
    private let lock = NSLock()
    private var locked = false
    private let release = DispatchSemaphore(value: 0)

    init(path: String) throws {
        // Opening reads the schema, and taking the lock needs the worker's own writes and WAL
        // checkpoints to finish: wait for them (a busy machine makes them slow) rather than fail.
        var configuration = Configuration()
        configuration.busyMode = .timeout(60)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        let thread = Thread { [self] in
            try? queue.inTransaction(.exclusive) { _ in
                lock.withLock { locked = true }
                release.wait()
                return .rollback
            }
            lock.withLock { locked = false }
        }
        thread.start()
    }

    var isLocked: Bool { lock.withLock { locked } }

    func unlock() { release.signal() }
}
