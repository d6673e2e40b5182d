import Foundation
import Providers
import RedisQueue
import Worker

/// The figures read when Prometheus scrapes: the queue's from Redis (one pipelined round trip:
/// XLEN of the job stream, XINFO GROUPS for the group's lag, the XPENDING summary, ZCARD of the
/// scheduled set, XLEN of the dead-letter stream), at most once per `maxAge` however many scrapes
/// come (a scrape storm does not hammer Redis: scrapes meanwhile get the figures read last, and
/// scrapes during a read wait for that read); and each provider's breaker state in this process.
public actor ScrapeFigures {
    public struct Keys: Sendable {
        public var stream: String
        public var group: String
        public var scheduled: String
        public var deadLetters: String

        public init(stream: String, group: String, scheduled: String, deadLetters: String) {
            self.stream = stream
            self.group = group
            self.scheduled = scheduled
            self.deadLetters = deadLetters
        }
    }

    let metrics: GatewayMetrics
    let redis: RedisClient
    let keys: Keys
    let providers: ProviderRegistry
    let maxAge: Duration
    let now: @Sendable () -> Date
    private var readAt: ContinuousClock.Instant?
    private var reading: Task<Void, Never>?

    public init(metrics: GatewayMetrics, redis: RedisClient, keys: Keys, providers: ProviderRegistry,
                maxAge: Duration = .seconds(2), now: @escaping @Sendable () -> Date = Date.init) {
        self.metrics = metrics
        self.redis = redis
        self.keys = keys
        self.providers = providers
        self.maxAge = maxAge
        self.now = now
    }

    /// Brings the gauges up to date (Redis at most once per `maxAge`), then returns the exposition.
    public func exposition() async -> [UInt8] {
        await refresh()
        breakers()
        return metrics.exposition()
    }

    func refresh() async {
        if let reading { return await reading.value }
        if let readAt, ContinuousClock.now - readAt < maxAge { return }
        let task = Task { await self.read() }
        reading = task
        await task.value
        reading = nil
        readAt = ContinuousClock.now
    }

    /// The queue's figures read now (one pipelined round trip), for the console's status page.
    public func queueNow() async throws -> (entries: Int, waiting: Int?, pending: Int, oldestPendingAge: Double, scheduled: Int, deadLetters: Int) {
        let figures = try await queueFigures()
        return (figures.entries, figures.waiting, figures.pending, figures.oldestPendingAge, figures.scheduled, figures.deadLetters)
    }

    private func queueFigures() async throws -> QueueFigures {
        let replies = try await redis.pipeline([
            ["XLEN", keys.stream], ["XINFO", "GROUPS", keys.stream], ["XPENDING", keys.stream, keys.group],
            ["ZCARD", keys.scheduled], ["XLEN", keys.deadLetters],
        ])
        return try QueueFigures(replies: replies, group: keys.group, now: now())
    }

    private func read() async {
        do {
            let figures = try await queueFigures()
            metrics.set(.queueEntries, to: Double(figures.entries))
            metrics.set(.queueWaiting, to: figures.waiting.map(Double.init) ?? .nan)
            metrics.set(.queuePending, to: Double(figures.pending))
            metrics.set(.queueOldestPending, to: figures.oldestPendingAge)
            metrics.set(.scheduled, to: Double(figures.scheduled))
            metrics.set(.deadLetters, to: Double(figures.deadLetters))
            metrics.set(.redisUp, to: 1)
        } catch {
            metrics.set(.redisUp, to: 0)
        }
    }

    /// Each provider's breaker: 1 on its current state. An open breaker whose time is up lets the
    /// next request through as a probe, so it reads as half_open.
    private func breakers() {
        for breaker in Self.breakerStates(providers, at: now()) {
            for state in ["closed", "open", "half_open"] {
                metrics.set(.breakerState, [("provider", breaker.provider), ("state", state)], to: state == breaker.state ? 1 : 0)
            }
        }
    }

    /// Each provider's breaker state as the metric names it (closed, open, half_open), its
    /// channels, and until when an open one stays open; for /metrics and the console's status page.
    public nonisolated static func breakerStates(_ providers: ProviderRegistry, at: Date)
        -> [(provider: String, channels: [String], state: String, openUntil: Date?)] {
        providers.providers.map { provider in
            let (state, until): (String, Date?) = switch providers.policy(of: provider.name).breaker.currentState {
            case .closed: ("closed", nil)
            case .open(let until): until > at ? ("open", until) : ("half_open", nil)
            case .halfOpen: ("half_open", nil)
            }
            return (provider.name, provider.channels.map(\.rawValue).sorted(), state, until)
        }
    }
}

/// The queue's figures out of the five replies `ScrapeFigures` asks for.
struct QueueFigures: Equatable {
    var entries: Int
    /// The group's lag; nil when Redis cannot tell.
    var waiting: Int?
    var pending: Int
    var oldestPendingAge: Double
    var scheduled: Int
    var deadLetters: Int

    init(replies: [RESPValue], group: String, now: Date) throws {
        guard replies.count == 5 else { throw RedisError(code: .protocolError, message: "expected 5 replies, got \(replies.count)") }
        func integer(_ reply: RESPValue, _ what: String) throws -> Int {
            guard let value = reply.integer else { throw RedisError(code: .protocolError, message: "unexpected \(what) reply \(reply)") }
            return value
        }
        entries = try integer(replies[0], "XLEN")
        scheduled = try integer(replies[3], "ZCARD")
        deadLetters = try integer(replies[4], "XLEN")
        // A stream or group that does not exist yet (no job ever, no worker started): nothing read, nothing pending.
        switch replies[1] {
        case .array(let groups):
            let ours = groups.compactMap { Self.fields($0) }.first { $0["name"]?.string == group }
            if let ours {
                waiting = ours["lag"].flatMap(\.integer)
            } else {
                waiting = entries
            }
        case .error(let message) where message.contains("no such key"):
            waiting = 0
        default:
            throw RedisError(code: .protocolError, message: "unexpected XINFO GROUPS reply \(replies[1])")
        }
        switch replies[2] {
        case .array(let summary) where summary.count >= 2:
            pending = try integer(summary[0], "XPENDING")
            if pending > 0, let oldest = summary[1].string, let milliseconds = Int64(oldest.prefix { $0 != "-" }) {
                oldestPendingAge = max(0, now.timeIntervalSince1970 - Double(milliseconds) / 1000)
            } else {
                oldestPendingAge = 0
            }
        case .error(let message) where message.hasPrefix("NOGROUP"):
            pending = 0
            oldestPendingAge = 0
        default:
            throw RedisError(code: .protocolError, message: "unexpected XPENDING reply \(replies[2])")
        }
    }

    /// A flat [key, value, key, value...] reply as a dictionary.
    static func fields(_ reply: RESPValue) -> [String: RESPValue]? {
        guard let items = reply.array, items.count % 2 == 0 else { return nil }
        var fields: [String: RESPValue] = [:]
        for index in stride(from: 0, to: items.count, by: 2) {
            guard let key = items[index].string else { return nil }
            fields[key] = items[index + 1]
        }
        return fields
    }
}
