import ContactLog
import Foundation
import GatewayCore
import Logging
import Providers
import RedisQueue
import Templates

/// Runs one batch of stream entries through every stage:
/// decode + validate → decide → render → claim (log) → dispatch → record (log) → ack.
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

    /// A `dispatching` claim younger than this belongs to a worker that is still sending; an older one
    /// without a result belongs to a worker that died. Half of claim_idle_ms: an entry is only taken
    /// over from a dead consumer after claim_idle_ms, so by then its claim is always older than this.
    var inProgressWindow: TimeInterval { Double(settings.claimIdleMilliseconds) / 2000 }

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

    /// The cap checks one job waits for: its allowed channels in order, and what each answered.
    struct CapRequest {
        var member: String
        var channels: [(channel: Channel, checks: [CapCheck])]
        var next = 0
        var results: [Channel: CapResult] = [:]
        var reserved: [CapCheck] = []
    }

    @discardableResult
    public func process(_ entries: [StreamEntry]) async throws -> Summary {
        guard !entries.isEmpty else { return Summary() }
        var summary = Summary()
        summary.entries = entries.count
        let now = clock()
        let catalog = templates()
        let decoder = JobDecoder(maxJobBytes: settings.maxJobBytes)

        // 1. Decode everything, then ask the log about every job id in one query.
        let decoded: [(StreamEntry, [UInt8]?, Result<Job, JobRejection>)] = entries.map { entry in
            guard let raw = entry.fields["job"] else {
                let fields = entry.fields.keys.sorted().joined(separator: ", ")
                return (entry, nil, .failure(JobRejection(code: .noJobField, message: "stream entry has no \"job\" field (fields: \(fields.isEmpty ? "none" : fields)); enqueue with XADD \(settings.stream) * job '<json>'")))
            }
            return (entry, raw, decoder.decode(raw))
        }
        let jobsByID = Dictionary(decoded.compactMap { item -> (String, Job)? in
            if case .success(let job) = item.2 { (job.id, job) } else { nil }
        }, uniquingKeysWith: { first, _ in first })
        let ids = decoded.compactMap { item -> String? in
            switch item.2 {
            case .success(let job): job.id
            case .failure(let rejection): rejection.jobID
            }
        }
        // What the log knows of these job ids, the contacts' opt-outs, what replies set for these
        // contacts, debts and addresses (pauses, blocks, moods, answers) and dead push tokens: one read.
        let jobs = Array(jobsByID.values)
        let uniqueContacts = Array(Set(jobs.map(\.contact.id)))
        let facts = try await store.admissionFacts(AdmissionRequest(
            jobIDs: Array(Set(ids)), contactIDs: uniqueContacts,
            states: jobs.isEmpty ? nil : StateQuery(
                kinds: [.hold, .mood, .answer], contactIDs: uniqueContacts, debtIDs: Array(Set(jobs.compactMap(\.debtID))),
                addresses: Array(Set(jobs.flatMap { [$0.contact.phone, $0.contact.email].compactMap { $0 } })), activeOnly: true),
            pushTokens: Array(Set(jobs.flatMap(\.pushTokens)))))
        let (states, optOuts, droppedTokens) = (facts.jobStates, facts.optOuts, facts.droppedTokens)
        let contactState = ContactStateSnapshot(records: facts.states)
        var keptPromises: [(hold: Hold, job: Job)] = []
        var deferrals: [(raw: [UInt8], attempt: Int, at: Date)] = []
        var releases: [(checks: [CapCheck], member: String)] = []

        // 2. Decide each entry.
        var events: [ContactEvent] = []
        var deadLetters: [StreamConsumer.DeadLetter] = []
        var sends: [Send] = []
        var dispatchEventIndex: [Int] = []
        var seen: Set<String> = []
        var leftPending: Set<String> = []
        var capRequests: [CapRequest] = []
        var finishers: [([Channel: CapResult], [CapCheck]) -> Void] = []
        for (entry, raw, result) in decoded {
            // The job as it arrived, byte for byte (not decoded: a job that is not UTF-8 is kept as it was sent).
            func received(_ jobID: String?, _ contactID: String?, attempt: Int = 1) -> ContactEvent {
                ContactEvent(jobID: jobID, contactID: contactID, kind: .received, at: now, attempt: attempt,
                             streamID: entry.id, rawData: raw)
            }
            let (jobID, contactID, attempt): (String?, String?, Int) = switch result {
            case .success(let job): (job.id, job.contact.id, job.attempt)
            case .failure(let rejection): (rejection.jobID, rejection.contactID, 1)
            }
            if let jobID {
                if seen.contains(jobID) {
                    summary.duplicates += 1
                    events.append(ContactEvent(jobID: jobID, contactID: contactID, kind: .duplicate, at: now, attempt: attempt,
                                               reason: Reason.duplicateInBatch.rawValue, detail: "the same job id came twice in one batch; only the first is handled", streamID: entry.id))
                    continue
                }
                switch Admission.decide(attempt: attempt, state: states[jobID], now: now, inProgressWindow: inProgressWindow) {
                case .proceed:
                    // Only an entry that goes ahead claims the id for the rest of the batch.
                    seen.insert(jobID)
                case .duplicate(let reason, let detail):
                    summary.duplicates += 1
                    events.append(ContactEvent(jobID: jobID, contactID: contactID, kind: .duplicate, at: now, attempt: attempt,
                                               reason: reason.rawValue, detail: detail, streamID: entry.id))
                    continue
                case .inProgressElsewhere:
                    // Another worker is sending this very attempt now. Leave the entry pending: it is looked at
                    // again when reclaimed, by which time that send has its outcome (or is known to have died).
                    summary.inProgressElsewhere += 1
                    leftPending.insert(entry.id)
                    continue
                case .interrupted(let last, let since):
                    seen.insert(jobID)
                    summary.failed += 1
                    events.append(ContactEvent(jobID: jobID, contactID: contactID, kind: .failed, at: now, attempt: last,
                                               reason: Reason.interrupted.rawValue, detail: "a send of attempt \(last) was started\(since.map { " at \(formatTimestamp($0))" } ?? "") and its result was never recorded (the worker stopped mid-send); not retried, so the customer cannot get the message twice", streamID: entry.id))
                    continue
                case .badAttempt(let detail):
                    // Not terminal: a stray entry must not block the real job with this id.
                    summary.duplicates += 1
                    events.append(ContactEvent(jobID: jobID, contactID: contactID, kind: .duplicate, at: now, attempt: attempt,
                                               reason: Reason.badAttempt.rawValue, detail: detail, streamID: entry.id))
                    deadLetters.append(.init(entry: entry, code: Reason.badAttempt.rawValue, reason: detail))
                    continue
                }
            }
            switch result {
            case .failure(let rejection):
                summary.invalid += 1
                events.append(received(rejection.jobID, rejection.contactID))
                events.append(ContactEvent(jobID: rejection.jobID, contactID: rejection.contactID, kind: .invalid, at: now,
                                           reason: rejection.code.rawValue, detail: rejection.message, streamID: entry.id))
                deadLetters.append(.init(entry: entry, code: rejection.code.rawValue, reason: rejection.message))
            case .success(let job):
                guard catalog.hasTemplate(job.template) else {
                    let message = "template \"\(job.template)\" does not exist (templates/\(job.template)/ not found)"
                    summary.invalid += 1
                    events.append(received(job.id, job.contact.id, attempt: job.attempt))
                    events.append(ContactEvent(jobID: job.id, contactID: job.contact.id, kind: .invalid, at: now, attempt: job.attempt,
                                               template: job.template, reason: Reason.unknownTemplate.rawValue, detail: message, streamID: entry.id))
                    deadLetters.append(.init(entry: entry, code: Reason.unknownTemplate.rawValue, reason: message))
                    continue
                }
                let category = job.category ?? catalog.settings(of: job.template)?.category ?? .collection
                if category == .reply, contactState.answers[job.id] == nil {
                    // Only the gateway's own answers may pass opt-outs and hours: a job that claims to be one is not sent.
                    summary.suppressed += 1
                    events.append(received(job.id, job.contact.id, attempt: job.attempt))
                    events.append(ContactEvent(jobID: job.id, contactID: job.contact.id, kind: .suppressed, at: now, attempt: job.attempt, template: job.template,
                                               reason: Reason.notAnAnswer.rawValue, detail: "category reply is for the gateway's own answers to customers' replies, and no reply asked for job \(job.id); send collection or transactional [rule reply-answer]",
                                               streamID: entry.id))
                    continue
                }
                if job.template == replyPolicy.paymentReceivedTemplate, let debt = job.debtID {
                    for hold in contactState.holds where hold.intent == "promise_to_pay" && hold.debtID == debt && hold.keptBy == nil && hold.liftedAt == nil {
                        keptPromises.append((hold, job))
                    }
                }
                let plan = RulesEngine.plan(job: job, now: now, rules: rules, optOuts: optOuts[job.contact.id] ?? [], category: category,
                                            state: contactState) { channel in
                    Self.unreachable(channel, job: job, providers: providers, catalog: catalog, droppedTokens: droppedTokens)
                }
                let toneFacts = ToneFacts(job: job, category: category, now: now, mood: contactState.moods[job.contact.id],
                                          maxAge: replyPolicy.moodMaxAge)
                /// A job that cannot be rendered is refused as invalid, with the reason, and dead-lettered.
                func refuse(_ error: RenderError, channel: Channel, tone: String) {
                    summary.invalid += 1
                    events.append(ContactEvent(jobID: job.id, contactID: job.contact.id, kind: .invalid, at: now, attempt: job.attempt,
                                               channel: channel, template: job.template, tone: tone, reason: error.code.rawValue,
                                               detail: error.message, streamID: entry.id))
                    deadLetters.append(.init(entry: entry, code: error.code.rawValue, reason: error.message))
                }
                // Caps are checked for the whole batch at once, below; the rest of the decision waits for them.
                let channelsToTry = (job.expiresAt.map { $0 > now } ?? true)
                    ? plan.allowedNow.map { ($0, rules.capChecks(job: job, channel: $0, country: plan.location.country, category: category, zone: plan.location.timeZones[0])) }
                    : []
                capRequests.append(CapRequest(member: job.id, channels: channelsToTry))
                finishers.append { capResults, capChecks in
                    let decision = RulesEngine.resolve(job: job, now: now, plan: plan, caps: capResults, rules: rules)
                    events.append(received(job.id, job.contact.id, attempt: job.attempt))
                    switch decision {
                    case .expire(let detail):
                        summary.expired += 1
                        events.append(ContactEvent(jobID: job.id, contactID: job.contact.id, kind: .expired, at: now, attempt: job.attempt,
                                                   template: job.template, reason: Reason.expired.rawValue, detail: detail, streamID: entry.id))
                    case .suppress(let code, let ruleID, let detail):
                        summary.suppressed += 1
                        events.append(ContactEvent(jobID: job.id, contactID: job.contact.id, kind: .suppressed, at: now, attempt: job.attempt,
                                                   template: job.template, reason: code.rawValue, detail: "\(detail) [rule \(ruleID)]", streamID: entry.id))
                    case .defer(let until, let ruleID, let detail):
                        // A job that cannot be rendered is refused now, not hours later when it comes back.
                        if let channel = plan.verdicts.first(where: { if case .optedOut = $0.verdict { false } else if case .unreachable = $0.verdict { false } else { true } })?.channel {
                            let tone = catalog.tonePolicy.tone(for: toneFacts).tone
                            do throws(RenderError) {
                                _ = try catalog.render(template: job.template, channel: channel, tone: tone, job: job, category: category,
                                                       defaultLocale: settings.defaultLocale)
                            } catch {
                                refuse(error, channel: channel, tone: tone)
                                return
                            }
                        }
                        summary.deferred += 1
                        deferrals.append((raw ?? [], job.attempt, until))
                        events.append(ContactEvent(jobID: job.id, contactID: job.contact.id, kind: .deferred, at: now, attempt: job.attempt,
                                                   template: job.template, reason: ruleID, detail: detail, streamID: entry.id,
                                                   data: "{\"until\":\"\(formatTimestamp(until))\"}"))
                    case .send(let channel, let rulesDetail):
                        let routes = providers.routes(for: job, on: channel, droppedTokens: droppedTokens)
                        let provider = routes[0].provider
                        let (tone, toneRule) = catalog.tonePolicy.tone(for: toneFacts)
                        let rendered: RenderedMessage
                        do throws(RenderError) {
                            rendered = try catalog.render(template: job.template, channel: channel, tone: tone, job: job, category: category,
                                                          defaultLocale: settings.defaultLocale)
                        } catch {
                            releases.append((capChecks, job.id))
                            refuse(error, channel: channel, tone: tone)
                            return
                        }
                        let address = routes[0].address
                        let message = OutboundMessage(jobID: job.id, contactID: job.contact.id, attempt: job.attempt, channel: channel,
                                                      to: address, subject: rendered.subject, body: rendered.body, html: rendered.html)
                        var toneNote = "tone \(tone) (\(toneRule == "default" ? "policy default" : "rule \(toneRule)"))"
                        if toneFacts.sentimentSource == "reply" { toneNote += "; sentiment \(toneFacts.sentimentLabel ?? "?") from the contact's latest reply" }
                        if rendered.tone != tone { toneNote += "; no \(tone) variant, \(rendered.tone) used" }
                        dispatchEventIndex.append(events.count)
                        events.append(ContactEvent(jobID: job.id, contactID: job.contact.id, kind: .dispatching, at: now, attempt: job.attempt,
                                                   channel: channel, template: job.template, tone: rendered.tone, variant: rendered.variant,
                                                   provider: provider.name, detail: "sending through \(provider.name); \(category.rawValue); \(toneNote); \(rulesDetail)",
                                                   body: rendered.body, address: address, streamID: entry.id,
                                                   data: Self.renderingFacts(rendered, toneRule: toneRule, category: category, toneFacts: toneFacts)))
                        sends.append(Send(job: job, entry: entry, raw: raw ?? [], message: message, provider: provider, routes: routes, rendered: rendered,
                                          capChecks: capChecks))
                    }
                }
            }
        }

        // Caps for every job that got this far, in pipelined rounds: each job's first allowed channel,
        // then the next channel for those a cap blocked. The first channel whose slots are reserved is used.
        var active = capRequests.indices.filter { !capRequests[$0].channels.isEmpty }
        while !active.isEmpty {
            let results = try await ledger.checkMany(active.map { (capRequests[$0].channels[capRequests[$0].next].checks, capRequests[$0].member) }, now: now)
            var blocked: [Int] = []
            for (index, result) in zip(active, results) {
                let (channel, checks) = capRequests[index].channels[capRequests[index].next]
                capRequests[index].results[channel] = result
                if result == .reserved {
                    capRequests[index].reserved = checks
                } else {
                    capRequests[index].next += 1
                    if capRequests[index].next < capRequests[index].channels.count { blocked.append(index) }
                }
            }
            active = blocked
        }
        for (request, finish) in zip(capRequests, finishers) { finish(request.results, request.reserved) }

        // 3. Refused entries to the dead-letter stream, deferred jobs to the scheduled set, then
        //    everything decided so far into the log.
        try await consumer.deadLetter(deadLetters, at: formatTimestamp(now))
        try await scheduler.schedule(deferrals)
        let written = try await store.append(Self.stamped(events, jobs: jobsByID))
        // A payment-received job for a debt keeps its promise pause from lifting by itself (unless
        // someone changed the pause since it was read: a person lifting it wins).
        for (hold, job) in keptPromises {
            var kept = hold
            kept.keptBy = "job \(job.id) (\(job.template))"
            guard let version = contactState.holdVersions[hold.id] else { continue }
            _ = try await store.writeStates([StateWrite(.hold(kept, at: now), expect: .version(version))], events: [
                ContactEvent(jobID: nil, contactID: hold.contactID, kind: .holdChanged, at: now, reason: Reason.promiseKept.rawValue,
                             detail: "promise pause \(hold.id) of debt \(job.debtID ?? "?") kept: job \(job.id) (\(job.template)) came, so collection does not resume at \(hold.until.map(formatTimestamp) ?? "its date"); a person lifts it",
                             data: JSONValue.object(["hold": .string(hold.id), "job": .string(job.id)]).serialized, debtID: job.debtID),
            ])
        }
        // A `dispatching` row the database refused means another worker holds this attempt. Its cap
        // slot is not given back: the ledger's member is the job id, so the slot this batch reserved
        // is the one the other worker's send counts on (and gives back itself if that send fails).
        var claimed: [Send] = []
        for (send, index) in zip(sends, dispatchEventIndex) {
            if written[index] {
                claimed.append(send)
            } else {
                summary.duplicates += 1
            }
        }

        // 4. Dispatch, every provider's share at once.
        let (results, dispatched, failovers, notBefore) = try await dispatch(claimed, now: clock())

        // 5. Record outcomes, scheduling retries first so a crash in between cannot lose them.
        var retries: [(raw: [UInt8], attempt: Int, at: Date)] = []
        var unsubscribed: [OptOut] = []
        var deadTokens: [DroppedToken] = []
        var possiblyDelivered: [String] = []
        let done = clock()
        var outcomes: [ContactEvent] = failovers
        for (index, (send, result)) in zip(dispatched, results).enumerated() {
            let base = ContactEvent(jobID: send.job.id, contactID: send.job.contact.id, kind: .sent, at: done, attempt: send.job.attempt,
                                    channel: send.message.channel, template: send.job.template, tone: send.rendered.tone,
                                    variant: send.rendered.variant, provider: send.provider.name, body: send.message.body,
                                    address: send.message.to, streamID: send.entry.id)
            var event = base
            switch result {
            case .accepted(let id, let status):
                summary.sent += 1
                event.providerMessageID = id
                event.reason = status.map { Reason.accepted($0).rawValue }
                event.detail = "accepted by \(send.provider.name) as \(id)" + (status.map { " (\($0))" } ?? "")
            case .permanentFailure(let code, let message):
                releases.append((send.capChecks, send.job.id))
                if send.provider.deadTokenCodes.contains(code) {
                    deadTokens.append(DroppedToken(token: send.message.to, contactID: send.job.contact.id, provider: send.provider.name, reason: code.rawValue, at: done))
                }
                if send.provider.unsubscribedCodes.contains(code) {
                    unsubscribed.append(OptOut(contactID: send.job.contact.id, channel: send.message.channel, kind: .optOut,
                                               setBy: "provider:\(send.provider.name)", setAt: done, reason: "\(code): \(message)"))
                }
                summary.failed += 1
                event.kind = .failed
                event.reason = code.rawValue
                event.detail = message
            case .retryableFailure(let code, let message, _):
                releases.append((send.capChecks, send.job.id))
                if send.job.attempt < settings.maxAttempts {
                    summary.retried += 1
                    // No sooner than the latest Retry-After of every provider this attempt tried or skipped.
                    let wait = notBefore[index].map { max(0, $0.at.timeIntervalSince(done)) }
                    let at = scheduler.retryTime(after: done, attempt: send.job.attempt, retryAfter: wait)
                    retries.append((send.raw, send.job.attempt + 1, at))
                    event.kind = .retryScheduled
                    event.reason = code.rawValue
                    event.detail = "\(message); attempt \(send.job.attempt + 1) of \(settings.maxAttempts) at \(formatTimestamp(at))"
                        + (notBefore[index].map { " (no sooner: \($0.provider) may not be called before \(formatTimestamp($0.at)))" } ?? "")
                } else {
                    summary.failed += 1
                    event.kind = .failed
                    event.reason = code.rawValue
                    event.detail = "\(message); gave up after \(send.job.attempt) attempts"
                }
            case .possiblyDelivered(let code, let message):
                // Its cap slots stay taken: the message may have reached the customer.
                summary.failed += 1
                possiblyDelivered.append(send.job.id)
                event.kind = .failed
                event.reason = code.rawValue
                event.detail = "\(message); not sent again, through \(send.provider.name) or another provider, so the customer cannot get it twice: check with \(send.provider.name) whether it went out"
            }
            outcomes.append(event)
        }
        try await scheduler.schedule(retries)
        // With the outcomes, in the same transaction: a recipient who unsubscribed at the provider is
        // never sent on that channel again, and a dead push token is not used again.
        _ = try await store.appendOutcomes(Self.stamped(outcomes, jobs: jobsByID), optOuts: unsubscribed, droppedTokens: deadTokens)
        // Only messages actually sent count against caps.
        for release in releases where !release.checks.isEmpty { try await ledger.release(release.checks, member: release.member) }

        if !possiblyDelivered.isEmpty {
            logger.warning("sends failed after the request went out: the provider may have taken them; recorded failed (possibly_delivered), not resent", metadata: [
                "jobs": "\(possiblyDelivered.prefix(20).joined(separator: ", "))\(possiblyDelivered.count > 20 ? " and \(possiblyDelivered.count - 20) more" : "")",
            ])
        }

        // 6. Only now is the batch acknowledged.
        try await consumer.ack(entries.map(\.id).filter { !leftPending.contains($0) })
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

    /// Sends each message through its channel's providers in priority order: a retryable failure
    /// (429, 5xx, timeout, connection error, the shared rate limit, an open circuit breaker) moves it
    /// to the next provider at once, and each such hand-over is recorded. Every provider's share goes
    /// out concurrently. A provider that answers with a Retry-After is not called again before then,
    /// by this worker or (through Redis) any other: its messages go to the next provider.
    /// Returns the final answer for each message, each send with the provider that gave it and the
    /// address used, the hand-overs, and for each message the latest Retry-After among the providers
    /// it was tried on or held back from (with the provider's name), for its retry.
    private func dispatch(_ sends: [Send], now: Date) async throws -> ([DispatchResult], [Send], [ContactEvent], [(at: Date, provider: String)?]) {
        var results = [DispatchResult?](repeating: nil, count: sends.count)
        var sends = sends
        var tried = [Set<String>](repeating: [], count: sends.count)
        var last = [DispatchResult?](repeating: nil, count: sends.count)
        var notBefore = [(at: Date, provider: String)?](repeating: nil, count: sends.count)
        func wait(_ index: Int, until: Date, for provider: String) {
            if notBefore[index].map({ $0.at < until }) ?? true { notBefore[index] = (until, provider) }
        }
        var failovers: [ContactEvent] = []
        var pending = Array(sends.indices)
        // Breakers other workers opened count here too. Only a help: the jobs are claimed already,
        // so a Redis error here must not stop their sending (nor, below, their recording).
        let breakers = SharedBreakers(client: scheduler.client, prefix: settings.breakerPrefix)
        do {
            try await breakers.adopt(Set(sends.flatMap { $0.routes.map(\.provider.name) }).sorted(), providers: providers, now: now)
        } catch {
            logger.warning("could not read the breakers other workers opened; using this worker's own", metadata: ["error": "\(error)"])
        }
        while !pending.isEmpty {
            var groups: [String: (provider: any MessageProvider, indices: [Int])] = [:]
            for index in pending {
                var choice: ProviderRegistry.Route?
                for route in sends[index].routes where !tried[index].contains(route.provider.name) {
                    let breaker = providers.policy(of: route.provider.name).breaker
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
                    results[index] = last[index] ?? .retryableFailure(
                        code: .noProviderAvailable,
                        message: "every \(sends[index].message.channel.rawValue) provider is failing (circuit breakers open) or asked to wait (Retry-After)", retryAfter: nil)
                    continue
                }
                let next = route.provider
                tried[index].insert(next.name)
                sends[index].provider = next
                sends[index].message.to = route.address
                groups[next.name, default: (next, [])].indices.append(index)
            }
            let current = sends
            let (answers, opened, asked) = try await withThrowingTaskGroup(of: (answers: [(Int, DispatchResult)], opened: (name: String, until: Date)?, retryAfter: (name: String, seconds: Double)?).self) { group in
                for (name, entry) in groups {
                    let policy = providers.policy(of: name)
                    let client = scheduler.client
                    let prefix = settings.ratePrefix
                    group.addTask {
                        var allowed = entry.indices
                        var limited: [(Int, DispatchResult)] = []
                        if let rate = policy.ratePerSecond {
                            let bucket = TokenBucket(client: client, key: prefix + name, rate: rate, burst: policy.burst)
                            let granted = try await bucket.take(entry.indices.count, now: now)
                            let missing = entry.indices.count - granted
                            allowed = Array(entry.indices.prefix(granted))
                            limited = entry.indices.dropFirst(granted).map {
                                ($0, .retryableFailure(code: .rateLimited, message: "\(name) is at its rate limit of \(rate)/s", retryAfter: bucket.wait(for: missing)))
                            }
                        }
                        let sent = await entry.provider.send(allowed.map { current[$0].message })
                        var opened: Date?
                        // The longest Retry-After the provider itself answered (not the shared rate limit's wait).
                        var retryAfter: Double?
                        for answer in sent {
                            let failed: Bool
                            switch answer {
                            case .retryableFailure(_, _, let seconds):
                                failed = true
                                if let seconds, seconds > 0 { retryAfter = max(retryAfter ?? 0, Self.boundedRetryAfter(seconds)) }
                            case .possiblyDelivered: failed = true
                            case .accepted, .permanentFailure: failed = false
                            }
                            opened = policy.breaker.record(success: !failed, now: now) ?? opened
                        }
                        return (Array(zip(allowed, sent)) + limited, opened.map { (name, $0) }, retryAfter.map { (name, $0) })
                    }
                }
                var all: [(Int, DispatchResult)] = []
                var opened: [(name: String, until: Date)] = []
                var asked: [(name: String, seconds: Double)] = []
                for try await part in group {
                    all += part.answers
                    if let breaker = part.opened { opened.append(breaker) }
                    if let retryAfter = part.retryAfter { asked.append(retryAfter) }
                }
                return (all, opened, asked)
            }
            // Retry-After counts from the answer.
            let answered = clock()
            if !asked.isEmpty {
                let holds = asked.map { (name: $0.name, until: answered.addingTimeInterval($0.seconds)) }
                for hold in holds { providers.policy(of: hold.name).breaker.hold(until: hold.until) }
                do { try await breakers.publishHolds(holds, now: answered) } catch {
                    logger.warning("could not tell the other workers about a provider's Retry-After", metadata: ["error": "\(error)"])
                }
            }
            if !opened.isEmpty {
                logger.warning("circuit breaker opened", metadata: ["providers": "\(opened.map(\.name).joined(separator: ", "))"])
                do { try await breakers.publish(opened, now: now) } catch {
                    logger.warning("could not tell the other workers about the opened breakers", metadata: ["error": "\(error)"])
                }
            }
            pending = []
            for (index, answer) in answers.sorted(by: { $0.0 < $1.0 }) {
                if case .retryableFailure(_, _, let seconds?) = answer, seconds > 0 {
                    wait(index, until: answered.addingTimeInterval(Self.boundedRetryAfter(seconds)), for: sends[index].provider.name)
                }
                guard case .retryableFailure(let code, let message, _) = answer,
                      sends[index].routes.contains(where: { !tried[index].contains($0.provider.name) }) else {
                    results[index] = answer
                    continue
                }
                last[index] = answer
                pending.append(index)
                let send = sends[index]
                failovers.append(ContactEvent(jobID: send.job.id, contactID: send.job.contact.id, kind: .providerFailed, at: now, attempt: send.job.attempt,
                                              channel: send.message.channel, provider: send.provider.name, reason: code.rawValue,
                                              detail: "\(message); trying the next \(send.message.channel.rawValue) provider", streamID: send.entry.id))
            }
        }
        return (results.map { $0 ?? .retryableFailure(code: .notDispatched, message: "no provider answered", retryAfter: nil) }, sends, failovers, notBefore)
    }

    /// The longest a provider's Retry-After holds it back and delays a retry: an hour, as the longest
    /// retry delay. A value that is not a finite number of seconds (Retry-After: inf) counts as that.
    static let longestRetryAfter: Double = 3600

    static func boundedRetryAfter(_ seconds: Double) -> Double {
        seconds.isFinite ? min(max(seconds, 0), longestRetryAfter) : longestRetryAfter
    }
}
