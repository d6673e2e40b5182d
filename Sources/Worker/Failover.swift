import Foundation
import GatewayCore
import Providers

/// Failover for the claimed sends of one batch, as a state machine: no I/O, time comes in with
/// every event. The executor asks for a round (`nextRound(now:)`), sends each group through its
/// provider, and hands each answer back as it arrives (`answered(_:_:fromProvider:sentAt:answeredAt:)`),
/// until no round is left. A message handed over waits for the round's end to be sent again.
///
/// - A retryable failure (429, 5xx, timeout, connection error, the shared rate limit) moves the
///   message to its next provider at once; each such hand-over is returned, for the log.
/// - A provider whose circuit breaker is open is skipped; one that answered with a Retry-After is
///   skipped until then, and the message's retry is not scheduled sooner than the latest such time
///   among the providers it was tried on or held back from (`notBefore`).
/// - A permanent failure, an acceptance, or an answer after which the request may have gone out
///   (`possiblyDelivered`) is final: never sent through another provider, so never twice.
/// - A message with no provider left ends with the last retryable answer it got, or
///   `no_provider_available` when every provider was skipped.
///
/// The breakers are the providers' in-memory `CircuitBreaker`s (shared by the worker's batches):
/// the machine asks them before choosing, records each provider answer in them, and sets the holds
/// Retry-After asks for. Opened breakers and holds are returned so the executor can tell other workers.
struct Failover {
    /// Messages going to one provider in a round, by index into the batch's sends.
    struct Group {
        var provider: any MessageProvider
        var indices: [Int]
    }

    /// A round: the messages to send now, by provider, and those that ended without a provider to
    /// try (every breaker open or every provider holding a Retry-After), with their final answer.
    struct Round {
        var groups: [Group] = []
        var ended: [(index: Int, result: DispatchResult)] = []
    }

    /// A message handed to its next provider after a retryable failure.
    struct Handover: Equatable {
        var index: Int
        var provider: String
        var code: Reason
        var message: String
    }

    /// The longest a provider's Retry-After holds it back and delays a retry: an hour, as the longest
    /// retry delay. A value that is not a finite number of seconds (Retry-After: inf) counts as that.
    static let longestRetryAfter: Double = 3600

    static func boundedRetryAfter(_ seconds: Double) -> Double {
        seconds.isFinite ? min(max(seconds, 0), longestRetryAfter) : longestRetryAfter
    }

    private let routes: [[ProviderRegistry.Route]]
    private let channels: [Channel]
    private let breaker: (String) -> CircuitBreaker
    /// The route each message is on: its last provider and the address used there.
    private(set) var current: [ProviderRegistry.Route]
    private var tried: [Set<String>]
    private var last: [DispatchResult?]
    /// For each message, the latest time a provider it was tried on or held back from may be called again.
    private(set) var notBefore: [(at: Date, provider: String)?]
    private var pending: [Int]

    /// - Parameters:
    ///   - routes: for each message, its providers best first with the address each uses (never empty).
    ///   - channels: each message's channel, for the words of the log.
    ///   - breaker: the circuit breaker of a provider, by name.
    init(routes: [[ProviderRegistry.Route]], channels: [Channel], breaker: @escaping (String) -> CircuitBreaker) {
        precondition(routes.count == channels.count && routes.allSatisfy { !$0.isEmpty }, "every message needs a channel and a route")
        self.routes = routes
        self.channels = channels
        self.breaker = breaker
        current = routes.map { $0[0] }
        tried = Array(repeating: [], count: routes.count)
        last = Array(repeating: nil, count: routes.count)
        notBefore = Array(repeating: nil, count: routes.count)
        pending = Array(routes.indices)
    }

    /// Chooses the next provider of every message still waiting: the first it has not tried whose
    /// breaker allows a request and that did not ask to wait. A message without one ends here.
    /// Returns the groups to send now, in the order their providers were first chosen, and the
    /// messages that ended here (which the executor records like any other final answer).
    mutating func nextRound(now: Date) -> Round {
        var round = Round()
        for index in pending {
            var choice: ProviderRegistry.Route?
            for route in routes[index] where !tried[index].contains(route.provider.name) {
                let breaker = breaker(route.provider.name)
                if let until = breaker.held(now: now) {
                    // It asked not to be called before then: the next provider now, and no retry sooner.
                    wait(index, until: until, for: route.provider.name)
                    continue
                }
                if breaker.allow(now: now) {
                    choice = route
                    break
                }
            }
            guard let route = choice else {
                let result = last[index] ?? .retryableFailure(
                    code: .noProviderAvailable,
                    message: "every \(channels[index].rawValue) provider is failing (circuit breakers open) or asked to wait (Retry-After)", retryAfter: nil)
                round.ended.append((index, result))
                continue
            }
            tried[index].insert(route.provider.name)
            current[index] = route
            if let group = round.groups.firstIndex(where: { $0.provider.name == route.provider.name }) {
                round.groups[group].indices.append(index)
            } else {
                round.groups.append(Group(provider: route.provider, indices: [index]))
            }
        }
        pending = []
        return round
    }

    /// What one answer came to.
    struct Step {
        /// The message's final answer, or nil when it was handed over to its next provider (it waits for the next round).
        var final: DispatchResult?
        var handover: Handover?
        /// The provider's breaker opened with this answer, until then.
        var opened: Date?
        /// The provider asked (Retry-After) not to be called before then.
        var hold: Date?
    }

    /// Takes one answer, as it arrives. A provider answer (`fromProvider`; not one the shared rate
    /// limit gave before any request) counts for the provider's breaker at `sentAt`; its Retry-After
    /// holds the provider from `answeredAt` on. A retryable answer with a provider left to try is
    /// handed over; any other is final.
    mutating func answered(_ index: Int, _ result: DispatchResult, fromProvider: Bool, sentAt: Date, answeredAt: Date) -> Step {
        var step = Step()
        let provider = current[index].provider.name
        if fromProvider {
            let failed: Bool
            switch result {
            case .retryableFailure(_, _, let seconds):
                failed = true
                // The provider's own Retry-After (not the shared rate limit's wait).
                if let seconds, seconds > 0 { step.hold = answeredAt.addingTimeInterval(Self.boundedRetryAfter(seconds)) }
            case .possiblyDelivered: failed = true
            case .accepted, .permanentFailure: failed = false
            }
            step.opened = breaker(provider).record(success: !failed, now: sentAt)
            if let hold = step.hold { breaker(provider).hold(until: hold) }
        }
        if case .retryableFailure(_, _, let seconds?) = result, seconds > 0 {
            wait(index, until: answeredAt.addingTimeInterval(Self.boundedRetryAfter(seconds)), for: provider)
        }
        guard case .retryableFailure(let code, let message, _) = result,
              routes[index].contains(where: { !tried[index].contains($0.provider.name) }) else {
            step.final = result
            return step
        }
        last[index] = result
        pending.append(index)
        step.handover = Handover(index: index, provider: provider, code: code, message: message)
        return step
    }

    /// Whether every message has its final answer.
    var isFinished: Bool { pending.isEmpty }

    private mutating func wait(_ index: Int, until: Date, for provider: String) {
        if notBefore[index].map({ $0.at < until }) ?? true { notBefore[index] = (until, provider) }
    }
}
