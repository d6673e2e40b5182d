import Foundation
import GatewayCore
import Testing
@testable import Providers

/// `send(_:answer:)`, the call the worker makes: what a provider that does not stream its answers
/// gets by default.
@Suite struct MessageProviderAnswersTests {
    /// Answers every message with its body as the message id; counts its calls.
    final class Echo: MessageProvider, @unchecked Sendable {
        // @unchecked: `calls` is guarded by `lock`.
        let name = "echo"
        let channels: Set<Channel> = [.sms]
        let requestTimeout = 1.0
        let sendsInBulk: Bool
        let dropLast: Bool
        private let lock = NSLock()
        private var calls: [[String]] = []

        init(bulk: Bool, dropLast: Bool = false) {
            sendsInBulk = bulk
            self.dropLast = dropLast
        }

        func send(_ messages: [OutboundMessage]) async -> [DispatchResult] {
            lock.withLock { calls.append(messages.map(\.body)) }
            let answers = messages.map { DispatchResult.accepted(messageID: $0.body, status: nil) }
            return dropLast ? Array(answers.dropLast()) : answers
        }

        var callBodies: [[String]] { lock.withLock { calls } }
    }

    final class Collected: @unchecked Sendable {
        // @unchecked: `answers` is guarded by `lock`.
        private let lock = NSLock()
        private var answers: [Int: [DispatchResult]] = [:]
        func add(_ index: Int, _ result: DispatchResult) { lock.withLock { answers[index, default: []].append(result) } }
        var all: [Int: [DispatchResult]] { lock.withLock { answers } }
    }

    static func messages(_ bodies: [String]) -> [OutboundMessage] {
        bodies.map { OutboundMessage(jobID: "J-\($0)", contactID: "C", channel: .sms, to: "+50688887777", body: $0) }
    }

    @Test func aProviderThatDoesNotSendInBulkGetsEachMessageInACallOfItsOwn() async {
        let provider = Echo(bulk: false)
        let collected = Collected()
        await provider.send(Self.messages(["a", "b", "c"])) { collected.add($0, $1) }
        #expect(provider.callBodies.sorted { $0[0] < $1[0] } == [["a"], ["b"], ["c"]])
        #expect(collected.all == [0: [.accepted(messageID: "a", status: nil)], 1: [.accepted(messageID: "b", status: nil)],
                                  2: [.accepted(messageID: "c", status: nil)]])
    }

    @Test func aBulkProviderGetsOneCallAndAMessageItDidNotAnswerIsRetried() async {
        let provider = Echo(bulk: true, dropLast: true)
        let collected = Collected()
        await provider.send(Self.messages(["a", "b"])) { collected.add($0, $1) }
        #expect(provider.callBodies == [["a", "b"]])
        #expect(collected.all == [0: [.accepted(messageID: "a", status: nil)],
                                  1: [.retryableFailure(code: .notDispatched, message: "echo gave no answer for this message", retryAfter: nil)]])
    }
}
