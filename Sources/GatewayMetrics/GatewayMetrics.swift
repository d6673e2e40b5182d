import CoreMetrics
import Foundation
import GatewayCore
import Prometheus
import Synchronization

/// The gateway's metrics, in one Prometheus registry: what the wrapped contact log and providers
/// count as they work, and the figures read at scrape time (queue, breakers). `gateway run` makes
/// one and bootstraps `MetricsSystem` with its `factory` (once per process); the tests make one
/// each, so their counts never mix. Every metric the gateway writes is in `catalog` with its type,
/// labels and help text, which the README's table and the Grafana dashboard use.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics factory over `registry`: the gateway's own metrics get their help text
    /// and buckets from `catalog`; any other library's metrics go to the same registry.
    public let factory: any MetricsFactory
    private let guardrail: LabelGuard
    /// The counters and timers made so far, by metric and label values as given. Making one through
    /// swift-metrics asks the registry each time (the labels checked, joined and looked up under a
    /// lock: about 3% of a worker's CPU in the throughput benchmark). The guard's answer for a set
    /// of values never changes, so the handler made the first time serves every later record.
    private let counters = Mutex<[HandlerKey: CoreMetrics.Counter]>([:])
    private let timers = Mutex<[HandlerKey: CoreMetrics.Timer]>([:])
    /// Label sets kept at most per kind (past it, handlers are made each time, as without the cache).
    static let cachedLabelSets = 4096

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), maxValuesPerLabel: Int = 200) {
        self.registry = registry
        factory = CatalogFactory(registry: registry)
        guardrail = LabelGuard(maxValuesPerLabel: maxValuesPerLabel)
        // Counters whose label values are known start at 0, so a rate() over them works, and a
        // dashboard shows 0, from the first scrape rather than from the first reply or failure.
        for channel in Channel.allCases { declare(.replies, [("channel", channel.rawValue)]) }
        for intent in ReplyPolicy.configurable + Self.keywordIntents { declare(.replyIntents, [("intent", intent)]) }
        for priority in ["high", "normal"] { declare(.escalations, [("priority", priority)]) }
        declare(.escalationsResolved, [])
        for operation in MeteredContactLog.operations { declare(.appendErrors, [("operation", operation)]) }
    }

    /// The intents besides the configurable ones that every reply reading can give.
    static let keywordIntents = ["opt_out", "opt_in", "help", "promise_to_pay"]

    private func declare(_ metric: Metric, _ labels: [(String, String)]) {
        _ = Counter(label: metric.name, dimensions: guardrail.check(metric, labels), factory: factory)
    }

    /// The exposition in Prometheus' text format (version 0.0.4).
    public func exposition() -> [UInt8] { registry.emitToBuffer() }

    // MARK: - What the wrappers record

    /// An event the contact log wrote: the outcomes and decisions (`sent`, `failed`, `unknown`, `retry_scheduled`,
    /// `suppressed`, `expired`, `invalid`, `deferred`, `duplicate`...) count in `gateway_jobs_total`.
    func recorded(_ event: ContactEvent) {
        switch event.kind {
        case let kind where kind.isTerminal || Self.countedDecisions.contains(kind):
            increment(.jobs, [("outcome", kind.rawValue), ("channel", event.channel?.rawValue ?? "none"), ("reason", event.reason ?? "none")])
        case .escalationResolved:
            increment(.escalationsResolved, [])
        default:
            break
        }
    }

    /// Besides the terminal outcomes, the decisions on the way that `gateway_jobs_total` counts.
    static let countedDecisions: Set<EventKind> = [.retryScheduled, .deferred, .duplicate]

    /// A reply recorded for the first time, with the intents it was read as, and the escalations it opened.
    func reply(channel: Channel, intents: [String], escalations: [Escalation]) {
        increment(.replies, [("channel", channel.rawValue)])
        for intent in Set(intents).sorted() { increment(.replyIntents, [("intent", intent)]) }
        for escalation in escalations { increment(.escalations, [("priority", escalation.priority)]) }
    }

    func provider(_ provider: String, took duration: Duration) {
        timer(.providerDuration, [("provider", provider)]).recordNanoseconds(Self.nanoseconds(duration))
    }

    func provider(_ provider: String, channel: Channel, answered result: DispatchResult) {
        increment(.providerAnswers, [("provider", provider), ("channel", channel.rawValue), ("class", Self.answerClass(result))])
    }

    /// A provider's answers start at 0 for each of its channels and classes, so its error ratio
    /// reads 0 (not "no data") until something fails.
    func declare(provider: String, channels: Set<Channel>) {
        for channel in channels.sorted(by: { $0.rawValue < $1.rawValue }) {
            for answerClass in Self.answerClasses {
                declare(.providerAnswers, [("provider", provider), ("channel", channel.rawValue), ("class", answerClass)])
            }
        }
    }

    static let answerClasses = ["accepted", "permanent", "retryable", "possibly_delivered"]

    /// accepted, permanent, retryable or possibly_delivered.
    static func answerClass(_ result: DispatchResult) -> String {
        switch result {
        case .accepted: "accepted"
        case .permanentFailure: "permanent"
        case .retryableFailure: "retryable"
        case .possiblyDelivered: "possibly_delivered"
        }
    }

    func append(_ operation: String, took duration: Duration, failed: Bool) {
        timer(.appendDuration, [("operation", operation)], guarded: false).recordNanoseconds(Self.nanoseconds(duration))
        if failed { increment(.appendErrors, [("operation", operation)]) }
    }

    // MARK: - Figures read at scrape time

    func set(_ metric: Metric, _ labels: [(String, String)] = [], to value: Double) {
        Gauge(label: metric.name, dimensions: guardrail.check(metric, labels), factory: factory).record(value)
    }

    private func increment(_ metric: Metric, _ labels: [(String, String)]) {
        let key = HandlerKey(metric, labels)
        if let counter = counters.withLock({ $0[key] }) { return counter.increment() }
        let counter = CoreMetrics.Counter(label: metric.name, dimensions: guardrail.check(metric, labels), factory: factory)
        counters.withLock { if $0.count < Self.cachedLabelSets { $0[key] = counter } }
        counter.increment()
    }

    private func timer(_ metric: Metric, _ labels: [(String, String)], guarded: Bool = true) -> CoreMetrics.Timer {
        let key = HandlerKey(metric, labels)
        if let timer = timers.withLock({ $0[key] }) { return timer }
        let timer = CoreMetrics.Timer(label: metric.name, dimensions: guarded ? guardrail.check(metric, labels) : labels, factory: factory)
        timers.withLock { if $0.count < Self.cachedLabelSets { $0[key] = timer } }
        return timer
    }

    /// A metric and its label names and values, in order.
    struct HandlerKey: Hashable {
        let parts: [String]
        init(_ metric: Metric, _ labels: [(String, String)]) {
            parts = [metric.name] + labels.flatMap { [$0.0, $0.1] }
        }
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// One metric the gateway writes.
public struct Metric: Sendable, Hashable {
    public enum Kind: String, Sendable { case counter, gauge, histogram }
    public let name: String
    public let kind: Kind
    public let labels: [String]
    public let help: String
    /// Histograms: the upper bounds of the buckets, in seconds.
    public let buckets: [Double]

    init(_ name: String, _ kind: Kind, _ labels: [String], _ help: String, buckets: [Double] = []) {
        self.name = name
        self.kind = kind
        self.labels = labels
        self.help = help
        self.buckets = buckets
    }

    public static func == (a: Metric, b: Metric) -> Bool { a.name == b.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }

    static let jobs = Metric("gateway_jobs_total", .counter, ["outcome", "channel", "reason"],
                             "Outcome events the contact log recorded: terminal outcomes (sent, failed, unknown, suppressed, expired, invalid), retry_scheduled, deferred and duplicate, by channel and reason.")
    static let providerAnswers = Metric("gateway_provider_answers_total", .counter, ["provider", "channel", "class"],
                                        "Provider answers per message, by class: accepted, permanent, retryable, possibly_delivered.")
    static let providerDuration = Metric("gateway_provider_request_duration_seconds", .histogram, ["provider"],
                                         "Time a provider call took, from the call to its last answer (one observation per call; a bulk provider's call carries several messages).",
                                         buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30])
    static let appendDuration = Metric("gateway_contact_log_append_duration_seconds", .histogram, ["operation"],
                                       "Time one write to the contact log took (one transaction), by operation.",
                                       buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15])
    static let appendErrors = Metric("gateway_contact_log_append_errors_total", .counter, ["operation"],
                                     "Writes to the contact log that failed (database locked or down, disk full...), by operation.")
    static let replies = Metric("gateway_replies_total", .counter, ["channel"], "Customers' replies recorded (a webhook delivered again counts once).")
    static let replyIntents = Metric("gateway_reply_intents_total", .counter, ["intent"],
                                     "Intents customers' replies were read as (a reply with two intents counts in both).")
    static let escalations = Metric("gateway_escalations_total", .counter, ["priority"], "Escalations opened by replies, by priority.")
    static let escalationsResolved = Metric("gateway_escalations_resolved_total", .counter, [], "Escalations resolved by a person.")
    static let queueEntries = Metric("gateway_queue_stream_entries", .gauge, [],
                                     "Entries in the job stream (XLEN): the stream is not trimmed, so this includes jobs already handled.")
    static let queueWaiting = Metric("gateway_queue_waiting_entries", .gauge, [],
                                     "Jobs in the stream no worker has read yet (the consumer group's lag): the queue depth. NaN when Redis cannot tell (entries deleted by hand).")
    static let queuePending = Metric("gateway_queue_pending_entries", .gauge, [], "Jobs read by a worker and not yet acknowledged (XPENDING).")
    static let queueOldestPending = Metric("gateway_queue_oldest_pending_age_seconds", .gauge, [],
                                           "Age of the oldest pending job, from its stream id (when it was enqueued); 0 when none is pending.")
    static let scheduled = Metric("gateway_scheduled_jobs", .gauge, [], "Jobs waiting for their time in the scheduled set (deferred by a contact rule, retries): ZCARD.")
    static let deadLetters = Metric("gateway_dead_letter_entries", .gauge, [], "Entries in the dead-letter stream (XLEN): jobs that could not be decoded or validated.")
    static let redisUp = Metric("gateway_queue_read_up", .gauge, [],
                                "1 when the last read of the queue figures from Redis succeeded, 0 when it failed (the queue gauges then keep their last values).")
    static let breakerState = Metric("gateway_provider_breaker_state", .gauge, ["provider", "state"],
                                     "Each provider's circuit breaker in this process: 1 for its current state (closed, open, half_open), 0 for the others.")

    /// Every metric the gateway writes.
    public static let catalog: [Metric] = [
        jobs, providerAnswers, providerDuration, appendDuration, appendErrors, replies, replyIntents, escalations, escalationsResolved,
        queueEntries, queueWaiting, queuePending, queueOldestPending, scheduled, deadLetters, redisUp, breakerState,
    ]
}

/// The Prometheus factory, with the catalog's help text and buckets for the gateway's own metrics
/// (the registry requires one help text per name, so every maker of a name goes through here).
struct CatalogFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    let inner: PrometheusMetricsFactory
    let metrics: [String: Metric]

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        inner = PrometheusMetricsFactory(registry: registry)
        metrics = Dictionary(uniqueKeysWithValues: Metric.catalog.map { ($0.name, $0) })
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        guard let metric = metrics[label] else { return inner.makeCounter(label: label, dimensions: dimensions) }
        return registry.makeCounter(name: label, labels: dimensions, help: metric.help)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        guard let metric = metrics[label] else { return inner.makeFloatingPointCounter(label: label, dimensions: dimensions) }
        return registry.makeCounter(name: label, labels: dimensions, help: metric.help)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard let metric = metrics[label] else { return inner.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate) }
        return registry.makeGauge(name: label, labels: dimensions, help: metric.help)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        guard let metric = metrics[label] else { return inner.makeMeter(label: label, dimensions: dimensions) }
        return registry.makeGauge(name: label, labels: dimensions, help: metric.help)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        guard let metric = metrics[label] else { return inner.makeTimer(label: label, dimensions: dimensions) }
        return registry.makeDurationHistogram(name: label, labels: dimensions,
                                              buckets: metric.buckets.map { Duration.nanoseconds(Int64(($0 * 1e9).rounded())) }, help: metric.help)
    }

    func destroyCounter(_ handler: any CounterHandler) { inner.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { inner.destroyFloatingPointCounter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) { inner.destroyRecorder(handler) }
    func destroyMeter(_ handler: any MeterHandler) { inner.destroyMeter(handler) }
    func destroyTimer(_ handler: any TimerHandler) { inner.destroyTimer(handler) }
}

/// Keeps label values from growing the exposition without bound: a reason code comes from a
/// provider's answer, and a provider that answers a new code each time must not make a new series
/// each time. Values longer than 100 characters, and values beyond the first `maxValuesPerLabel`
/// of a label of a metric, are counted as `other`.
final class LabelGuard: Sendable {
    private let maxValuesPerLabel: Int
    private let seen = NIOLockedSeen()

    init(maxValuesPerLabel: Int) { self.maxValuesPerLabel = maxValuesPerLabel }

    func check(_ metric: Metric, _ labels: [(String, String)]) -> [(String, String)] {
        labels.map { name, value in
            guard value.utf8.count <= 100 else { return (name, "other") }
            return (name, seen.admit(metric.name + "\u{0}" + name, value, limit: maxValuesPerLabel) ? value : "other")
        }
    }
}

/// The values seen per label, behind a lock.
final class NIOLockedSeen: @unchecked Sendable {
    // @unchecked: `values` is only touched under `lock`.
    private let lock = NSLock()
    private var values: [String: Set<String>] = [:]

    func admit(_ key: String, _ value: String, limit: Int) -> Bool {
        lock.withLock {
            if values[key]?.contains(value) == true { return true }
            guard values[key, default: []].count < limit else { return false }
            values[key, default: []].insert(value)
            return true
        }
    }
}
