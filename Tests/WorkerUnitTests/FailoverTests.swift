import Foundation
import GatewayCore
import Providers
import Testing
@testable import Worker

/// The failover state machine as tables: providers answer from a script, time is given, no Redis
/// and no network. Each case names what each message ends with (`code@provider`), the hand-overs
/// (`message:provider:code`), the breakers opened and the number of rounds.
@Suite struct FailoverTests {
    /// A provider the machine only names and groups by; it is never asked to send.
    struct Named: MessageProvider {
        var name: String
        var channels: Set<Channel> { [.sms] }
        var requestTimeout: Double { 10 }
        func send(_ messages: [OutboundMessage]) async -> [DispatchResult] { [] }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var testDescription: String
        /// For each message, its providers best first (addresses are `provider:message`).
        var routes: [[String]]
        /// What each provider answers, request after request, across rounds.
        var answers: [String: [DispatchResult]]
        /// Requests of each provider's first group (the last ones) the shared rate limit holds back: not sent, no breaker count.
        var limited: [String: Int] = [:]
        /// Before the batch: providers held by an earlier Retry-After (seconds from t0), and breakers open.
        var heldFor: [String: Double] = [:]
        var openBreakers: Set<String> = []
        /// Breakers that opened earlier and whose open time ended this many seconds before t0 (half-open now).
        var reopened: [String: Double] = [:]
        var breaker = CircuitBreaker.Settings()
        var final: [String]
        var handovers: [String] = []
        var opened: [String] = []
        var holds: [String] = []
        /// For each message, seconds after t0 before which no retry may go (nil: none).
        var notBefore: [Double?]? = nil
        /// Messages that ended in a round for want of a provider to try (`message:code`).
        var ended: [String] = []
        var rounds: Int
    }

    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    /// Every round's answers come in 2 s after it started.
    static let answerDelay: Double = 2

    static let http500 = DispatchResult.retryableFailure(code: .http(500), message: "server error", retryAfter: nil)
    static let accepted = DispatchResult.accepted(messageID: "M1", status: nil)

    static let cases: [Case] = [
        Case(testDescription: "accepted by the first provider: one round, no hand-over",
             routes: [["a", "b"]], answers: ["a": [accepted]], final: ["accepted@a"], rounds: 1),
        Case(testDescription: "a 500 hands over to the next provider, which takes it",
             routes: [["a", "b"]], answers: ["a": [http500], "b": [accepted]],
             final: ["accepted@b"], handovers: ["0:a:http_500"], rounds: 2),
        Case(testDescription: "retryable everywhere: the last answer stands, one hand-over per provider left",
             routes: [["a", "b"]], answers: ["a": [http500], "b": [.retryableFailure(code: .timeout, message: "timed out", retryAfter: nil)]],
             final: ["timeout@b"], handovers: ["0:a:http_500"], rounds: 2),
        Case(testDescription: "a permanent failure is final: never sent through another provider",
             routes: [["a", "b"]], answers: ["a": [.permanentFailure(code: .http(400), message: "bad number")]],
             final: ["http_400@a"], rounds: 1),
        Case(testDescription: "possibly delivered is final: never sent twice",
             routes: [["a", "b"]], answers: ["a": [.possiblyDelivered(code: .possiblyDelivered, message: "connection closed after the request")]],
             final: ["possibly_delivered@a"], rounds: 1),
        Case(testDescription: "a provider holding a Retry-After is skipped (and looked at again after the next one fails), and the retry waits for it",
             routes: [["a", "b"]], answers: ["b": [http500]], heldFor: ["a": 90],
             final: ["http_500@b"], handovers: ["0:b:http_500"], notBefore: [90], ended: ["0:http_500"], rounds: 2),
        Case(testDescription: "a 429 with Retry-After: hand-over now, the provider held from the answer, no retry sooner",
             routes: [["a", "b"], ["a"]],
             answers: ["a": [.retryableFailure(code: .http(429), message: "slow down", retryAfter: 30), accepted], "b": [accepted]],
             final: ["accepted@b", "accepted@a"], handovers: ["0:a:http_429"], holds: ["a@32"], notBefore: [32, nil], rounds: 2),
        Case(testDescription: "a Retry-After of infinity holds for the longest wait, an hour",
             routes: [["a"]], answers: ["a": [.retryableFailure(code: .http(503), message: "down", retryAfter: .infinity)]],
             final: ["http_503@a"], holds: ["a@3602"], notBefore: [3602], rounds: 1),
        Case(testDescription: "every breaker open: no request at all, no_provider_available",
             routes: [["a", "b"]], answers: [:], openBreakers: ["a", "b"],
             final: ["no_provider_available@a"], ended: ["0:no_provider_available"], rounds: 1),
        Case(testDescription: "a half-open breaker lets one probe through; the message that finds no other provider ends, and is reported",
             routes: [["a"], ["a"]], answers: ["a": [accepted]], reopened: ["a": 1],
             final: ["accepted@a", "no_provider_available@a"], ended: ["1:no_provider_available"], rounds: 1),
        Case(testDescription: "failures open the breaker in the round they happen, from when it was sent; the failed go to the next provider",
             routes: [["a", "b"], ["a", "b"], ["a", "b"]], answers: ["a": [http500, http500, accepted], "b": [accepted, accepted]],
             breaker: CircuitBreaker.Settings(failureRate: 0.5, minimumRequests: 3, window: 3, openFor: 30),
             final: ["accepted@b", "accepted@b", "accepted@a"], handovers: ["0:a:http_500", "1:a:http_500"], opened: ["a@30"], rounds: 2),
        Case(testDescription: "the shared rate limit hands over without counting against the breaker",
             routes: [["a", "b"], ["a", "b"]],
             answers: ["a": [accepted], "b": [accepted]], limited: ["a": 1],
             breaker: CircuitBreaker.Settings(failureRate: 0.5, minimumRequests: 1, window: 1, openFor: 30),
             final: ["accepted@a", "accepted@b"], handovers: ["1:a:rate_limited"], rounds: 2),
    ]

    @Test(arguments: cases)
    func failover(_ scenario: Case) {
        var breakers: [String: CircuitBreaker] = [:]
        for name in Set(scenario.routes.joined()) {
            let breaker = CircuitBreaker(settings: scenario.breaker)
            if let seconds = scenario.heldFor[name] { breaker.hold(until: Self.t0.addingTimeInterval(seconds)) }
            if scenario.openBreakers.contains(name) { breaker.adopt(openUntil: Self.t0.addingTimeInterval(600), now: Self.t0) }
            if let ago = scenario.reopened[name] { breaker.adopt(openUntil: Self.t0.addingTimeInterval(-ago), now: Self.t0.addingTimeInterval(-1000)) }
            breakers[name] = breaker
        }
        let routes = scenario.routes.enumerated().map { message, names in
            names.map { ProviderRegistry.Route(provider: Named(name: $0), address: "\($0):\(message)") }
        }
        var machine = Failover(routes: routes, channels: routes.map { _ in .sms }) { breakers[$0]! }
        var script = scenario.answers
        var limited = scenario.limited
        var handovers: [String] = []
        var opened: [String] = []
        var holds: [String] = []
        var rounds = 0
        var ended: [String] = []
        let now = Self.t0
        // Each message's final answer, from a provider or from a round that found none to try.
        var finals: [Int: DispatchResult] = [:]
        while !machine.isFinished {
            rounds += 1
            let round = machine.nextRound(now: now)
            ended += round.ended.map { "\($0.index):\(Self.code($0.result))" }
            for (index, result) in round.ended { finals[index] = result }
            var answers: [(index: Int, result: DispatchResult, fromProvider: Bool)] = []
            for group in round.groups {
                let name = group.provider.name
                for index in group.indices { #expect(machine.current[index].address == "\(name):\(index)") }
                let held = min(limited.removeValue(forKey: name) ?? 0, group.indices.count)
                // As the executor does: the rate limit grants the first requests and holds back the rest.
                for index in group.indices.dropLast(held) {
                    guard var queue = script[name], !queue.isEmpty else {
                        Issue.record("\(name) was asked to send message \(index) and the script has no answer left")
                        answers.append((index, Self.http500, true))
                        continue
                    }
                    answers.append((index, queue.removeFirst(), true))
                    script[name] = queue
                }
                for index in group.indices.suffix(held) {
                    answers.append((index, .retryableFailure(code: .rateLimited, message: "at its rate limit", retryAfter: 1), false))
                }
            }
            // The answers of a round arrive in message order here, all `answerDelay` after it started.
            for (index, result, fromProvider) in answers.sorted(by: { $0.index < $1.index }) {
                let provider = machine.current[index].provider.name
                let step = machine.answered(index, result, fromProvider: fromProvider, sentAt: now, answeredAt: now.addingTimeInterval(Self.answerDelay))
                if let final = step.final { finals[index] = final }
                if let handover = step.handover { handovers.append("\(handover.index):\(handover.provider):\(handover.code.rawValue)") }
                if let until = step.opened { opened.append("\(provider)@\(Int(until.timeIntervalSince(Self.t0)))") }
                if let until = step.hold { holds.append("\(provider)@\(Int(until.timeIntervalSince(Self.t0)))") }
            }
            #expect(rounds < 10, "the machine must end")
            if rounds >= 10 { break }
        }
        let final = machine.current.indices.map { index in
            "\(finals[index].map(Self.code) ?? "none")@\(machine.current[index].provider.name)"
        }
        // Every message's final answer reaches the executor: from a provider, or from a round that found none to try.
        #expect(ended == scenario.ended, "messages that ended without a provider")
        #expect(final == scenario.final)
        #expect(handovers == scenario.handovers)
        #expect(opened == scenario.opened)
        #expect(holds == scenario.holds)
        #expect(rounds == scenario.rounds)
        if let expected = scenario.notBefore {
            #expect(machine.notBefore.map { $0.map { $0.at.timeIntervalSince(Self.t0) } } == expected)
        }
        for (name, queue) in script where !queue.isEmpty { Issue.record("\(name) has \(queue.count) scripted answers never asked for") }
    }

    static func code(_ result: DispatchResult) -> String {
        switch result {
        case .accepted: "accepted"
        case .permanentFailure(let code, _), .retryableFailure(let code, _, _), .possiblyDelivered(let code, _): code.rawValue
        }
    }

    @Test func aRetryAfterIsBoundedToAnHour() {
        #expect(Failover.boundedRetryAfter(1) == 1)
        #expect(Failover.boundedRetryAfter(-5) == 0)
        #expect(Failover.boundedRetryAfter(86_400) == 3600)
        #expect(Failover.boundedRetryAfter(.infinity) == 3600)
        #expect(Failover.boundedRetryAfter(.nan) == 3600)
    }
}
