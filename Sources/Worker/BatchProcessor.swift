import ContactLog
import Foundation
import GatewayCore
import Logging
import Providers
import RedisQueue
import Templates

/// Runs one batch of stream entries through every stage:
/// decode + validate → decide → render → claim (log) → dispatch → record (log) → ack.
/// `BatchPlan` decides (pure), `Failover` chooses providers (pure), `Outcomes` turns answers into
/// events (pure); this type is the executor that performs their actions, in this order.
///
/// Ordering is what makes it safe:
/// - refused entries go to the dead-letter stream before anything is acked;
/// - a `dispatching` event is committed before any provider is called, and the database allows
///   only one per job and attempt, so two workers, or a restart, can never send a job twice;
/// - outcomes are committed before the entries are acked, so an acked job always has its outcome.
public struct BatchProcessor: Sendable {
    /// The settings a batch uses, out of the gateway's configuration.
    public struct Settings: Sendable, Equatable {
        /// The job stream (named in the hint a refused entry gets).
        public var stream: String
        public var batchSize: Int
        public var blockMilliseconds: Int
        /// A pending entry idle this long is taken over; half of it tells a live claim from a dead one.
        public var claimIdleMilliseconds: Int
        public var maxJobBytes: Int
        public var maxAttempts: Int
        public var defaultLocale: String
        /// Prefixes of the keys through which workers share rate limits and open breakers.
        public var ratePrefix: String
        public var breakerPrefix: String

        public init(_ configuration: GatewayConfiguration) {
            stream = configuration.stream
            batchSize = configuration.batchSize
            blockMilliseconds = configuration.blockMilliseconds
            claimIdleMilliseconds = configuration.claimIdleMilliseconds
            maxJobBytes = configuration.maxJobBytes
            maxAttempts = configuration.maxAttempts
            defaultLocale = configuration.defaultLocale
            ratePrefix = configuration.ratePrefix
            breakerPrefix = configuration.breakerPrefix
        }
    }

    public var settings: Settings
    public var consumer: StreamConsumer
    public var store: any ContactLogStore
    public var providers: ProviderRegistry
    public var templates: @Sendable () -> TemplateCatalog
    public var scheduler: RetryScheduler
    public var rules: ContactRules
    public var ledger: CapLedger
    public var clock: @Sendable () -> Date
    public var logger: Logger
    /// How replies steer the next message (the mood's age, the payment-received template).
    public var replyPolicy: ReplyPolicy

    public init(settings: Settings, consumer: StreamConsumer, store: any ContactLogStore,
                providers: ProviderRegistry, templates: @escaping @Sendable () -> TemplateCatalog,
                scheduler: RetryScheduler, rules: ContactRules, ledger: CapLedger,
                clock: @escaping @Sendable () -> Date = Date.init, replyPolicy: ReplyPolicy = .standard, logger: Logger) {
        self.replyPolicy = replyPolicy
        self.settings = settings
        self.consumer = consumer
        self.store = store
        self.providers = providers
        self.templates = templates
        self.scheduler = scheduler
        self.rules = rules
        self.ledger = ledger
        self.clock = clock
        self.logger = logger
    }

    /// Counts of what a batch came to, for logs and tests.
    public struct Summary: Sendable, Equatable {
        public var entries = 0
        public var sent = 0
        public var failed = 0
        public var retried = 0
        public var invalid = 0
        public var suppressed = 0
        public var expired = 0
        public var duplicates = 0
        public var deferred = 0
        /// Entries left pending because another worker is sending the same job right now.
        public var inProgressElsewhere = 0

        public init() {}

        mutating func add(_ other: Summary) {
            entries += other.entries
            sent += other.sent
            failed += other.failed
            retried += other.retried
            invalid += other.invalid
            suppressed += other.suppressed
            expired += other.expired
            duplicates += other.duplicates
            deferred += other.deferred
            inProgressElsewhere += other.inProgressElsewhere
        }
    }

    /// A job that passed every check and is about to be sent.
    struct Send {
        var job: Job
        var entry: StreamEntry
        var raw: [UInt8]
        var message: OutboundMessage
        var provider: any MessageProvider
        /// Every provider that can carry the message, best first, with its address.
        var routes: [ProviderRegistry.Route]
        var rendered: RenderedMessage
        /// The cap slots this send holds; given back if it does not go out.
        var capChecks: [CapCheck]
    }

    /// Carries out a batch: `BatchPlan` decides, this performs its actions in the documented order.
    @discardableResult
    public func process(_ entries: [StreamEntry]) async throws -> Summary {
        guard !entries.isEmpty else { return Summary() }
        let now = clock()

        // 1. Decode everything, read what the log knows about it in one read, and decide each
        //    entry, checking the caps of the whole batch in pipelined rounds.
        let decoded = BatchPlan.decode(entries, settings: settings)
        let facts = try await store.admissionFacts(BatchPlan.admissionRequest(for: decoded))
        var plan = BatchPlan(decoded: decoded, facts: facts, inputs: BatchPlan.Inputs(
            settings: settings, catalog: templates(), rules: rules, providers: providers, replyPolicy: replyPolicy, now: now))
        var action = plan.start()
        while case .checkCaps(let round) = action {
            action = plan.capsAnswered(try await ledger.checkMany(round, now: now))
        }
        guard case .execute(let actions) = action else { preconditionFailure("a plan ends with its actions") }
        var summary = actions.summary

        // 2. Refused entries to the dead-letter stream, deferred jobs to the scheduled set, then
        //    everything decided so far into the log.
        try await consumer.deadLetter(actions.deadLetters, at: formatTimestamp(now))
        try await scheduler.schedule(actions.deferrals)
        let written = try await store.append(actions.events)
        for promise in actions.keptPromises {
            _ = try await store.writeStates([promise.write], events: [promise.event])
        }
        // A `dispatching` row the database refused means another worker holds this attempt. Its cap
        // slot is not given back: the ledger's member is the job id, so the slot this batch reserved
        // is the one the other worker's send counts on (and gives back itself if that send fails).
        var claimed: [Send] = []
        for claim in actions.sends {
            if written[claim.eventIndex] {
                claimed.append(claim.send)
            } else {
                summary.duplicates += 1
            }
        }

        // 3. Dispatch, every provider's share at once.
        let (answered, failovers) = try await dispatch(claimed, now: clock())

        // 4. Record outcomes, scheduling retries first so a crash in between cannot lose them.
        let outcomes = Outcomes(answered, done: clock(), maxAttempts: settings.maxAttempts) { after, attempt, retryAfter in
            scheduler.retryTime(after: after, attempt: attempt, retryAfter: retryAfter)
        }
        summary.add(outcomes.summary)
        try await scheduler.schedule(outcomes.retries)
        // With the outcomes, in the same transaction: a recipient who unsubscribed at the provider is
        // never sent on that channel again, and a dead push token is not used again.
        _ = try await store.appendOutcomes(Self.stamped(failovers + outcomes.events, jobs: actions.jobs),
                                           optOuts: outcomes.unsubscribed, droppedTokens: outcomes.deadTokens)
        // Only messages actually sent count against caps.
        for release in actions.releases + outcomes.releases where !release.checks.isEmpty {
            try await ledger.release(release.checks, member: release.member)
        }

        if !outcomes.possiblyDelivered.isEmpty {
            let jobs = outcomes.possiblyDelivered
            logger.warning("sends failed after the request went out: the provider may have taken them; recorded failed (possibly_delivered), not resent", metadata: [
                "jobs": "\(jobs.prefix(20).joined(separator: ", "))\(jobs.count > 20 ? " and \(jobs.count - 20) more" : "")",
            ])
        }

        // 5. Only now is the batch acknowledged.
        try await consumer.ack(entries.map(\.id).filter { !actions.leftPending.contains($0) })
        logger.debug("batch done", metadata: [
            "entries": "\(summary.entries)", "sent": "\(summary.sent)", "failed": "\(summary.failed)",
            "retried": "\(summary.retried)", "invalid": "\(summary.invalid)", "suppressed": "\(summary.suppressed)",
            "expired": "\(summary.expired)", "duplicates": "\(summary.duplicates)", "deferred": "\(summary.deferred)",
        ])
        return summary
    }

    /// Why a channel cannot carry this job at all, or nil when it can: a phone that cannot take an SMS
    /// (a fixed line), no provider, no template variant, no provider for the job's push token, or push
    /// tokens a provider declared dead. The worker and `gateway rules check` share it.
    public static func unreachable(_ channel: Channel, job: Job, providers: ProviderRegistry, catalog: TemplateCatalog,
                                   droppedTokens: Set<String>) -> String? {
        if channel == .sms, let phone = job.contact.phone, let reason = PhoneNumbering.smsUnreachable(phone) { return reason }
        if providers.provider(for: channel) == nil { return "no provider is configured for \(channel.rawValue)" }
        if !catalog.hasVariant(template: job.template, channel: channel) { return "template \(job.template) has no \(channel.rawValue) variant" }
        if providers.routes(for: job, on: channel, droppedTokens: droppedTokens).isEmpty {
            if !providers.routes(for: job, on: channel).isEmpty {
                return "the push token was unregistered by the provider (the app was removed)"
            }
            let kinds = providers.providers(for: channel).compactMap { $0.pushPlatform?.rawValue }
            return "no push provider takes the job's token: contact.push.\(job.contact.push?.fcm == nil ? "apns" : "fcm") is given, the configured push providers take \(Set(kinds).sorted().joined(separator: " and ")) tokens"
        }
        return nil
    }

    /// Events carry their job's debt and segment, for the log's filters and reports.
    static func stamped(_ events: [ContactEvent], jobs: [String: Job]) -> [ContactEvent] {
        events.map { event in
            guard let id = event.jobID, let job = jobs[id] else { return event }
            var event = event
            event.debtID = job.debtID
            event.segment = job.segment
            return event
        }
    }

    /// What compliance needs beyond the text: the other parts of the message, why this tone, what it costs.
    static func renderingFacts(_ rendered: RenderedMessage, toneRule: String, category: Category, toneFacts: ToneFacts) -> String {
        var facts: [String: JSONValue] = ["tone_rule": .string(toneRule), "category": .string(category.rawValue),
                                          "tone_source": .string(toneFacts.sentimentSource)]
        if let label = toneFacts.sentimentLabel { facts["sentiment_label"] = .string(label) }
        if let score = toneFacts.sentimentScore { facts["sentiment_score"] = .number(score) }
        if let subject = rendered.subject { facts["subject"] = .string(subject) }
        if let html = rendered.html { facts["html"] = .string(html) }
        if let sms = rendered.sms {
            facts["sms_encoding"] = .string(sms.encoding.rawValue)
            facts["sms_segments"] = .number(Double(sms.segments))
        }
        return JSONValue.object(facts).serialized
    }

    /// Sends the claimed messages, every provider's share at once, round after round of `Failover`
    /// (which decides who is tried next): the shared rate limit holds back what is over it, and the
    /// breakers other workers opened and the Retry-After holds they saw count here too. Returns each
    /// send with the provider and address of its final answer, and the hand-over events.
    private func dispatch(_ sends: [Send], now: Date) async throws -> ([Outcomes.Answered], [ContactEvent]) {
        // Only a help: the jobs are claimed already, so a Redis error here must not stop their
        // sending (nor, below, their recording).
        let breakers = SharedBreakers(client: scheduler.client, prefix: settings.breakerPrefix)
        do {
            try await breakers.adopt(Set(sends.flatMap { $0.routes.map(\.provider.name) }).sorted(), providers: providers, now: now)
        } catch {
            logger.warning("could not read the breakers other workers opened; using this worker's own", metadata: ["error": "\(error)"])
        }
        let providers = providers
        var failover = Failover(routes: sends.map(\.routes), channels: sends.map(\.message.channel)) { providers.policy(of: $0).breaker }
        var failovers: [ContactEvent] = []
        while !failover.isFinished {
            let groups = failover.nextRound(now: now)
            let messages = sends.indices.map { index in
                var message = sends[index].message
                message.to = failover.current[index].address
                return message
            }
            let answers = try await withThrowingTaskGroup(of: Failover.Answer.self) { group in
                for entry in groups {
                    let name = entry.provider.name
                    let policy = providers.policy(of: name)
                    let client = scheduler.client
                    let prefix = settings.ratePrefix
                    group.addTask {
                        var allowed = entry.indices
                        var limited: [(index: Int, result: DispatchResult)] = []
                        if let rate = policy.ratePerSecond {
                            let bucket = TokenBucket(client: client, key: prefix + name, rate: rate, burst: policy.burst)
                            let granted = try await bucket.take(entry.indices.count, now: now)
                            let missing = entry.indices.count - granted
                            allowed = Array(entry.indices.prefix(granted))
                            limited = entry.indices.dropFirst(granted).map {
                                ($0, .retryableFailure(code: .rateLimited, message: "\(name) is at its rate limit of \(rate)/s", retryAfter: bucket.wait(for: missing)))
                            }
                        }
                        let sent = await entry.provider.send(allowed.map { messages[$0] })
                        return Failover.Answer(provider: name, sent: Array(zip(allowed, sent)).map { ($0.0, $0.1) }, limited: limited)
                    }
                }
                var all: [Failover.Answer] = []
                for try await answer in group { all.append(answer) }
                return all
            }
            // Retry-After counts from the answer.
            let answered = clock()
            let round = failover.answered(answers, sentAt: now, answeredAt: answered)
            if !round.holds.isEmpty {
                do { try await breakers.publishHolds(round.holds, now: answered) } catch {
                    logger.warning("could not tell the other workers about a provider's Retry-After", metadata: ["error": "\(error)"])
                }
            }
            if !round.opened.isEmpty {
                logger.warning("circuit breaker opened", metadata: ["providers": "\(round.opened.map(\.name).joined(separator: ", "))"])
                do { try await breakers.publish(round.opened, now: now) } catch {
                    logger.warning("could not tell the other workers about the opened breakers", metadata: ["error": "\(error)"])
                }
            }
            for handover in round.handovers {
                let send = sends[handover.index]
                failovers.append(ContactEvent(jobID: send.job.id, contactID: send.job.contact.id, kind: .providerFailed, at: now, attempt: send.job.attempt,
                                              channel: send.message.channel, provider: handover.provider, reason: handover.code.rawValue,
                                              detail: "\(handover.message); trying the next \(send.message.channel.rawValue) provider", streamID: send.entry.id))
            }
        }
        let results = failover.finalResults
        let answered = sends.indices.map { index in
            var send = sends[index]
            send.provider = failover.current[index].provider
            send.message.to = failover.current[index].address
            return Outcomes.Answered(send: send, result: results[index], notBefore: failover.notBefore[index])
        }
        return (answered, failovers)
    }
}
