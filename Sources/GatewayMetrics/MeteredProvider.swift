import Foundation
import GatewayCore
import Providers

/// A provider with metrics: `send` goes to `inner` unchanged and is timed
/// (`gateway_provider_request_duration_seconds{provider}`: one observation per call of a bulk
/// provider, else one per message, from the hand-over to its answer), and each
/// answer is counted by class (`gateway_provider_answers_total{provider,channel,class}`). Every
/// other property is `inner`'s: a property added to `MessageProvider` must be forwarded here too,
/// or the worker would see the protocol's default instead of the provider's own answer.
public struct MeteredProvider: MessageProvider {
    public let inner: any MessageProvider
    let metrics: GatewayMetrics

    public init(_ inner: any MessageProvider, metrics: GatewayMetrics) {
        self.inner = inner
        self.metrics = metrics
        metrics.declare(provider: inner.name, channels: inner.channels)
    }

    public var name: String { inner.name }
    public var channels: Set<Channel> { inner.channels }
    public var requestTimeout: Double { inner.requestTimeout }
    public var unsubscribedCodes: Set<Reason> { inner.unsubscribedCodes }
    public var deadTokenCodes: Set<Reason> { inner.deadTokenCodes }
    public var pushPlatform: PushPlatform? { inner.pushPlatform }
    public var sendsInBulk: Bool { inner.sendsInBulk }

    public func send(_ messages: [OutboundMessage]) async -> [DispatchResult] {
        guard !messages.isEmpty else { return await inner.send(messages) }
        let clock = ContinuousClock()
        let start = clock.now
        let results = await inner.send(messages)
        metrics.provider(inner.name, took: clock.now - start)
        for (message, result) in zip(messages, results) { metrics.provider(inner.name, channel: message.channel, answered: result) }
        return results
    }

    public func send(_ messages: [OutboundMessage], answer: @escaping @Sendable (Int, DispatchResult) -> Void) async {
        guard !messages.isEmpty else { return }
        let clock = ContinuousClock()
        let start = clock.now
        let (metrics, name, bulk) = (metrics, inner.name, inner.sendsInBulk)
        await inner.send(messages) { index, result in
            guard messages.indices.contains(index) else { return }
            if !bulk { metrics.provider(name, took: clock.now - start) }
            metrics.provider(name, channel: messages[index].channel, answered: result)
            answer(index, result)
        }
        if bulk { metrics.provider(name, took: clock.now - start) }
    }
}
