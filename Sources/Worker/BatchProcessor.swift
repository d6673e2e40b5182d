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
        /// A provider's answer is recorded at most this long after it arrives (with those that came meanwhile).
        public var recordDelayMilliseconds: Int
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
            recordDelayMilliseconds = configuration.recordDelayMilliseconds
            maxJobBytes = configuration.maxJobBytes
            maxAttempts = configuration.maxAttempts
            defaultLocale = configuration.defaultLocale
            ratePrefix = configuration.ratePrefix
            breakerPrefix = configuration.breakerPrefix
        }
    }

    public var settings: Settings
    public var consumer: StreamConsumer
    public var store: any LogReader & LogAppender
    public var providers: ProviderRegistry
    public var templates: @Sendable () -> TemplateCatalog
    public var scheduler: RetryScheduler
    public var rules: ContactRules
    public var ledger: CapLedger
    public var clock: @Sendable () -> Date
    public var logger: Logger
    /// How replies steer the next message (the mood's age, the payment-received template), as in
    /// service when a batch starts.
    public var replyPolicy: @Sendable () -> ReplyPolicy
    /// Where a write that keeps failing is reported; the worker shares one between its lanes.
    public var health = WorkerHealth()

    public init(settings: Settings, consumer: StreamConsumer, store: any LogReader & LogAppender,
                providers: ProviderRegistry, templates: @escaping @Sendable () -> TemplateCatalog,
                scheduler: RetryScheduler, rules: ContactRules, ledger: CapLedger,
                clock: @escaping @Sendable () -> Date = Date.init, replyPolicy: @escaping @Sendable () -> ReplyPolicy = { .standard }, logger: Logger) {
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
        /// Sends whose fate the gateway does not know (interrupted, possibly delivered): never sent again.
        public var unknown = 0
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
            unknown += other.unknown
            retried += other.retried
            invalid += other.invalid
            suppressed += other.suppressed
            expired += other.expired
            duplicates += other.duplicates
            deferred += other.deferred
            inProgressElsewhere += other.inProgressElsewhere
        }
    }

    /// A job that passed every check and is about to be sent. A class: it goes from the plan to
    /// the claim, the dispatch and the outcome unchanged, and a reference is cheaper to pass on than
    /// a copy of everything in it.
    final class Send: Sendable {
        let job: Job
        let entry: StreamEntry
        let raw: [UInt8]
        /// As rendered, to the first route's provider and address.
        let message: OutboundMessage
        let provider: any MessageProvider
        /// Every provider that can carry the message, best first, with its address.
        let routes: [ProviderRegistry.Route]
        let rendered: RenderedMessage
        /// The cap slots this send holds; given back if it does not go out.
        let capChecks: [CapCheck]

        init(job: Job, entry: StreamEntry, raw: [UInt8], message: OutboundMessage, provider: any MessageProvider,
             routes: [ProviderRegistry.Route], rendered: RenderedMessage, capChecks: [CapCheck]) {
            self.job = job
            self.entry = entry
            self.raw = raw
            self.message = message
            self.provider = provider
            self.routes = routes
            self.rendered = rendered
            self.capChecks = capChecks
        }
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
            settings: settings, catalog: templates(), rules: rules, providers: providers, replyPolicy: replyPolicy(), now: now))
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
        // The entry is still recorded as `received`, with the job as it arrived.
        var claimed: [Send] = []
        var unclaimed: [ContactEvent] = []
        for claim in actions.sends {
            if written[claim.eventIndex] {
                claimed.append(claim.send)
            } else {
                summary.duplicates += 1
                let refused = actions.events[claim.eventIndex]
                unclaimed.append(ContactEvent(jobID: refused.jobID, contactID: refused.contactID, kind: .received, at: refused.at,
                                              attempt: refused.attempt, streamID: refused.streamID, debtID: refused.debtID,
                                              segment: refused.segment, rawData: refused.job))
            }
        }
        if !unclaimed.isEmpty { _ = try await store.append(unclaimed) }

        // 3. Dispatch, every provider's share at once, recording each answer within record_delay_ms of
        //    its arrival (retries scheduled first, so a crash in between cannot lose them).
        summary.add(try await dispatch(claimed, jobs: actions.jobs, now: clock()))
        // Cap slots of jobs that were refused after their caps were checked.
        await release(actions.releases)

        // 4. Only now is the batch acknowledged.
        try await consumer.ack(entries.map(\.id).filter { !actions.leftPending.contains($0) })
        logger.debug("batch done", metadata: [
            "entries": "\(summary.entries)", "sent": "\(summary.sent)", "failed": "\(summary.failed)", "unknown": "\(summary.unknown)",
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

    /// Events carry their job's debt and segment, for the log's filters and reports (set in place:
    /// no event is copied whole).
    static func stamp(_ events: inout [ContactEvent], jobs: [String: JobStamp]) {
        for index in events.indices {
            guard let id = events[index].jobID, let job = jobs[id] else { continue }
            events[index].debtID = job.debtID
            events[index].segment = job.segment
        }
    }

    /// What a job's events carry of it besides their own fields.
    struct JobStamp: Sendable {
        var debtID: String?
        var segment: String?
    }

    /// What compliance needs beyond the text: the other parts of the message, why this tone, what it costs.
    static func renderingFacts(_ rendered: RenderedMessage, toneRule: String, category: Category, toneFacts: ToneFacts) -> String {
        // In key order, as an object serializes (written for every send: no dictionary built).
        var facts: [(key: String, value: JSONValue)] = [("category", .string(category.rawValue))]
        if let html = rendered.html { facts.append(("html", .string(html))) }
        if let label = toneFacts.sentimentLabel { facts.append(("sentiment_label", .string(label))) }
        if let score = toneFacts.sentimentScore { facts.append(("sentiment_score", .number(score))) }
        if let sms = rendered.sms {
            facts.append(("sms_encoding", .string(sms.encoding.rawValue)))
            facts.append(("sms_segments", .number(Double(sms.segments))))
        }
        if let subject = rendered.subject { facts.append(("subject", .string(subject))) }
        facts.append(("tone_rule", .string(toneRule)))
        facts.append(("tone_source", .string(toneFacts.sentimentSource)))
        return JSONValue.serialized(sortedMembers: facts)
    }

    /// What comes back to the executor while sends are out: a provider's answers, or the record delay's tick.
    private enum Arrival: Sendable {
        /// A provider's `send` returned: every message handed to it has its answer in the mailbox.
        case done(indices: [Int], provider: String)
        case tick
    }

    /// Where providers leave their answers as they arrive (from the curl thread, or a provider's
    /// own tasks), until the batch takes them: at every record tick and whenever a provider's
    /// `send` returns. Keeps the first answer per message and the time it came.
    private final class Mailbox: @unchecked Sendable {
        // @unchecked: `arrived` and `answered` are guarded by `lock`.
        private let lock = NSLock()
        private var arrived: [(index: Int, result: DispatchResult, at: Date)] = []
        private var answered: Set<Int> = []

        func put(_ index: Int, _ result: DispatchResult, at: Date) {
            lock.lock()
            defer { lock.unlock() }
            if answered.insert(index).inserted { arrived.append((index, result, at)) }
        }

        /// The answers that came since the last call, in the order they came.
        func take() -> [(index: Int, result: DispatchResult, at: Date)] {
            lock.lock()
            defer { lock.unlock() }
            let taken = arrived
            arrived.removeAll(keepingCapacity: true)
            return taken
        }

        /// Of `indices`, those no answer came for; from now on an answer for one of them is dropped
        /// (it gets `not_dispatched` instead, once: an adapter answering after its call returned
        /// must not give a message a second outcome).
        func unanswered(_ indices: [Int]) -> [Int] {
            lock.lock()
            defer { lock.unlock() }
            return indices.filter { answered.insert($0).inserted }
        }
    }

    /// Sends the claimed messages, every provider's share at once, round after round of `Failover`
    /// (which decides who is tried next): the shared rate limit holds back what is over it, and the
    /// breakers other workers opened and the Retry-After holds they saw count here too.
    ///
    /// Each message goes to its provider on its own (unless the provider sends in bulk), so each final
    /// answer is known as it arrives, and it is recorded within `record_delay_ms`: the answers that came
    /// in meanwhile are written together, retries scheduled first. A crash can then only leave the sends
    /// truly in flight without a result. Returns the counts of what the sends came to.
    private func dispatch(_ sends: [Send], jobs: [String: JobStamp], now: Date) async throws -> Summary {
        guard !sends.isEmpty else { return Summary() }
        // Only a help: the jobs are claimed already, so a Redis error here must not stop their
        // sending (nor their recording).
        let breakers = SharedBreakers(client: scheduler.client, prefix: settings.breakerPrefix)
        do {
            try await breakers.adopt(Set(sends.flatMap { $0.routes.map(\.provider.name) }).sorted(), providers: providers, now: now)
        } catch {
            logger.warning("could not read the breakers other workers opened; using this worker's own", metadata: ["error": "\(error)"])
        }
        let providers = providers
        let delay = Duration.milliseconds(settings.recordDelayMilliseconds)
        var failover = Failover(routes: sends.map(\.routes), channels: sends.map(\.message.channel)) { providers.policy(of: $0).breaker }
        var summary = Summary()
        var answered: [Outcomes.Answered] = []
        var handovers: [ContactEvent] = []
        var opened: [(name: String, until: Date)] = []
        var holds: [(name: String, until: Date)] = []

        /// A final answer waits for the next write.
        func finish(_ index: Int, _ result: DispatchResult, at: Date) {
            answered.append(Outcomes.Answered(send: sends[index], provider: failover.current[index].provider,
                                              address: failover.current[index].address, result: result, at: at,
                                              notBefore: failover.notBefore[index]))
        }
        /// One answer (that came at `at`) into the machine: a final one waits for the next write, a hand-over is logged.
        func take(_ index: Int, _ result: DispatchResult, fromProvider: Bool, at: Date) {
            let step = failover.answered(index, result, fromProvider: fromProvider, sentAt: now, answeredAt: at)
            let name = failover.current[index].provider.name
            if let until = step.opened { opened.append((name, until)) }
            if let until = step.hold { holds.append((name, until)) }
            if let final = step.final { finish(index, final, at: at) }
            if let handover = step.handover {
                let send = sends[index]
                handovers.append(ContactEvent(jobID: send.job.id, contactID: send.job.contact.id, kind: .providerFailed, at: now, attempt: send.job.attempt,
                                              channel: send.message.channel, provider: handover.provider, reason: handover.code.rawValue,
                                              detail: "\(handover.message); trying the next \(send.message.channel.rawValue) provider", streamID: send.entry.id))
            }
        }

        while !failover.isFinished {
            let round = failover.nextRound(now: now)
            // Those with no provider left to try (every breaker open, every provider holding a Retry-After).
            for (index, result) in round.ended { finish(index, result, at: clock()) }
            let groups = round.groups
            let messages = sends.indices.map { index in
                var message = sends[index].message
                message.to = failover.current[index].address
                return message
            }
            // The shared rate limit, per provider, before any request of the round.
            var work: [(provider: any MessageProvider, indices: [Int])] = []
            var limited: [(index: Int, result: DispatchResult)] = []
            for group in groups {
                let name = group.provider.name
                let policy = providers.policy(of: name)
                var allowed = group.indices
                if let rate = policy.ratePerSecond {
                    let bucket = TokenBucket(client: scheduler.client, key: settings.ratePrefix + name, rate: rate, burst: policy.burst)
                    do {
                        let granted = try await bucket.take(group.indices.count, now: now)
                        let missing = group.indices.count - granted
                        allowed = Array(group.indices.prefix(granted))
                        limited += group.indices.dropFirst(granted).map {
                            ($0, .retryableFailure(code: .rateLimited, message: "\(name) is at its rate limit of \(rate)/s", retryAfter: bucket.wait(for: missing)))
                        }
                    } catch {
                        // Without the shared count, this worker cannot know the limit is kept: nothing goes to it now.
                        allowed = []
                        limited += group.indices.map {
                            ($0, .retryableFailure(code: .rateLimited, message: "\(name)'s shared rate limit could not be read (\(error)); not sent", retryAfter: nil))
                        }
                    }
                }
                if !allowed.isEmpty { work.append((group.provider, allowed)) }
            }
            for (index, result) in limited { take(index, result, fromProvider: false, at: clock()) }
            // Each provider gets its share in one call and answers message by message (see
            // `MessageProvider.send(_:answer:)`); the answers wait in the mailbox for the next tick.
            let mailbox = Mailbox()
            let clock = clock
            try await withThrowingTaskGroup(of: Arrival.self) { group in
                for (provider, indices) in work {
                    group.addTask {
                        await provider.send(indices.map { messages[$0] }) { position, result in
                            // An adapter's answer for a message it was not given is dropped, not a crash.
                            guard indices.indices.contains(position) else { return }
                            mailbox.put(indices[position], result, at: clock())
                        }
                        return .done(indices: indices, provider: provider.name)
                    }
                }
                func takeArrived() {
                    for arrived in mailbox.take() { take(arrived.index, arrived.result, fromProvider: true, at: arrived.at) }
                }
                var inFlight = work.count
                if inFlight > 0 { group.addTask { try? await Task.sleep(for: delay); return .tick } }
                while inFlight > 0, let arrival = try await group.next() {
                    switch arrival {
                    case .done(let indices, let provider):
                        inFlight -= 1
                        takeArrived()
                        for index in mailbox.unanswered(indices) {
                            take(index, .retryableFailure(code: .notDispatched, message: "\(provider) gave no answer for this message", retryAfter: nil),
                                 fromProvider: true, at: clock())
                        }
                    case .tick:
                        takeArrived()
                        summary.add(try await record(&answered, &handovers, jobs: jobs))
                        if inFlight > 0 { group.addTask { try? await Task.sleep(for: delay); return .tick } }
                    }
                }
                group.cancelAll()
            }
            // Retry-After counts from the answer; other workers learn of it, and of opened breakers.
            if !holds.isEmpty {
                do { try await breakers.publishHolds(holds, now: clock()) } catch {
                    logger.warning("could not tell the other workers about a provider's Retry-After", metadata: ["error": "\(error)"])
                }
                holds = []
            }
            if !opened.isEmpty {
                logger.warning("circuit breaker opened", metadata: ["providers": "\(opened.map(\.name).joined(separator: ", "))"])
                do { try await breakers.publish(opened, now: now) } catch {
                    logger.warning("could not tell the other workers about the opened breakers", metadata: ["error": "\(error)"])
                }
                opened = []
            }
        }
        summary.add(try await record(&answered, &handovers, jobs: jobs))
        return summary
    }

    /// Writes the answers that came in (and the hand-overs) and empties them: retries into the
    /// scheduled set first, then the outcomes into the log in one transaction with the opt-outs and
    /// dead push tokens the providers reported, then the cap slots of what did not go out are given
    /// back. Results in memory are never dropped: a write that fails is retried (see `persist`).
    private func record(_ answered: inout [Outcomes.Answered], _ handovers: inout [ContactEvent], jobs: [String: JobStamp]) async throws -> Summary {
        guard !answered.isEmpty || !handovers.isEmpty else { return Summary() }
        var made = Outcomes(answered, maxAttempts: settings.maxAttempts) { after, attempt, retryAfter in
            scheduler.retryTime(after: after, attempt: attempt, retryAfter: retryAfter)
        }
        // Taken out, so stamping changes the events in place instead of copying every one.
        var stamped = made.events
        made.events = []
        let outcomes = made
        let outcomeCount = stamped.count
        if !handovers.isEmpty { stamped.insert(contentsOf: handovers, at: 0) }
        Self.stamp(&stamped, jobs: jobs)
        let events = stamped
        try await persist("schedule \(outcomes.retries.count) retries in Redis", .redis) { try await scheduler.schedule(outcomes.retries) }
        try await persist("record \(outcomeCount) outcomes in the contact log", .store) {
            _ = try await store.appendOutcomes(events, optOuts: outcomes.unsubscribed, droppedTokens: outcomes.deadTokens)
        }
        await release(outcomes.releases)
        if !outcomes.possiblyDelivered.isEmpty {
            let jobs = outcomes.possiblyDelivered
            logger.warning("sends failed after the request went out: the provider may have taken them; recorded unknown (possibly_delivered), not resent", metadata: [
                "jobs": "\(jobs.prefix(20).joined(separator: ", "))\(jobs.count > 20 ? " and \(jobs.count - 20) more" : "")",
            ])
        }
        answered = []
        handovers = []
        return outcomes.summary
    }

    /// Runs a write until it succeeds, with backoff (100 ms to 5 s), holding what it writes in
    /// memory: provider answers are never replaced by `interrupted` because a database was locked or
    /// Redis restarted. While it fails, `WorkerHealth` says so (`/ready` answers 503) and the
    /// worker's lanes take no new work. Only cancellation stops it.
    private func persist(_ what: String, _ component: WorkerHealth.Component, _ write: () async throws -> Void) async throws {
        var backoff = Backoff()
        while true {
            do {
                try await write()
                if backoff.failures > 0 {
                    health.report(component, nil)
                    health.report(.outcomes, nil)
                    logger.notice("recorded after \(backoff.failures) failed tries: \(what)")
                }
                return
            } catch {
                if Task.isCancelled { throw error }
                let wait = backoff.next()
                health.report(component, "cannot \(what): \(error)")
                health.report(.outcomes, "provider answers held in memory until they can be recorded; taking no new work")
                logger.error("cannot \(what); holding the results and trying again", metadata: ["error": "\(error)", "retry_in_ms": "\(wait.milliseconds)"])
                try await Task.sleep(for: wait)
            }
        }
    }

    /// Gives back cap slots (only messages actually sent count against caps). A failure leaves the
    /// slots taken, which only errs on the side of sending less; it is logged.
    private func release(_ releases: [(checks: [CapCheck], member: String)]) async {
        for release in releases where !release.checks.isEmpty {
            do { try await ledger.release(release.checks, member: release.member) } catch {
                logger.warning("could not give back a cap slot; it stays counted until its window ends", metadata: ["job": "\(release.member)", "error": "\(error)"])
            }
        }
    }
}
