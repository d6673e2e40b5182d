import ContactLog
import Foundation
import GatewayCore
import Providers
import RedisQueue
import Templates

/// What a batch does, decided without I/O, in the style of a connection state machine: events in
/// (the entries, the facts the log holds about them, the cap ledger's answers), an action out.
///
///     var plan = BatchPlan(decoded: decoded, facts: facts, inputs: inputs)
///     var action = plan.start()
///     while case .checkCaps(let round) = action { action = plan.capsAnswered(try await ledger.checkMany(round, now: now)) }
///     // .execute(actions): dead letters, deferrals, events (with claims), kept promises, sends
///
/// Each entry is, in this order: a duplicate of an earlier entry of the batch, a job whose attempt
/// the log already settled or another worker is sending (left pending), invalid (dead-lettered),
/// a `reply` job no reply asked for (suppressed), or decided by the contact rules; the jobs the rules
/// let through wait for their caps, which the ledger checks for the whole batch at once, each job's
/// allowed channels in turn until one has its slots reserved.
struct BatchPlan {
    /// What the decision reads besides the entries and the log's facts.
    struct Inputs {
        var settings: BatchProcessor.Settings
        var catalog: TemplateCatalog
        var rules: ContactRules
        var providers: ProviderRegistry
        var replyPolicy: ReplyPolicy
        var now: Date
    }

    /// A stream entry, its job's bytes, and the job or why it was refused.
    typealias Decoded = (entry: StreamEntry, raw: [UInt8]?, result: Result<Job, JobRejection>)

    enum Action {
        /// Check these jobs' caps (reserving the slots of the first that fits) and come back with the answers.
        case checkCaps([(checks: [CapCheck], member: String)])
        /// Everything is decided: carry it out.
        case execute(BatchActions)
    }

    /// A job the rules let through, waiting for its caps: its allowed channels in order, and what each answered.
    private struct Waiting {
        var job: Job
        var entry: StreamEntry
        var raw: [UInt8]?
        var plan: RulesEngine.Plan
        var category: Category
        var toneFacts: ToneFacts
        var channels: [(channel: Channel, checks: [CapCheck])]
        var next = 0
        var results: [Channel: CapResult] = [:]
        var reserved: [CapCheck] = []
    }

    private let inputs: Inputs
    private let contactState: ContactStateSnapshot
    private let droppedTokens: Set<String>
    private var actions: BatchActions
    private var waiting: [Waiting] = []
    /// The waiting jobs whose next channel is in the round out at the ledger.
    private var round: [Int] = []

    /// Decodes the entries of a batch. An entry without a `job` field is refused with a hint.
    static func decode(_ entries: [StreamEntry], settings: BatchProcessor.Settings) -> [Decoded] {
        let decoder = JobDecoder(maxJobBytes: settings.maxJobBytes)
        return entries.map { entry in
            guard let raw = entry.fields["job"] else {
                let fields = entry.fields.keys.sorted().joined(separator: ", ")
                return (entry, nil, .failure(JobRejection(code: .noJobField, message: "stream entry has no \"job\" field (fields: \(fields.isEmpty ? "none" : fields)); enqueue with XADD \(settings.stream) * job '<json>'")))
            }
            return (entry, raw, decoder.decode(raw))
        }
    }

    /// What to read from the log for these entries, in one read: what it knows of their job ids,
    /// the contacts' opt-outs, what replies set for these contacts, debts and addresses (pauses,
    /// blocks, moods, answers) and dead push tokens.
    static func admissionRequest(for decoded: [Decoded]) -> AdmissionRequest {
        // Every valid job (an id twice adds nothing the sets below do not drop).
        let jobs = decoded.compactMap { item -> Job? in if case .success(let job) = item.result { job } else { nil } }
        let ids = decoded.compactMap { item -> String? in
            switch item.result {
            case .success(let job): job.id
            case .failure(let rejection): rejection.jobID
            }
        }
        let contacts = Array(Set(jobs.map(\.contact.id)))
        return AdmissionRequest(
            jobIDs: Array(Set(ids)), contactIDs: contacts,
            states: jobs.isEmpty ? nil : StateQuery(
                kinds: [.hold, .mood, .answer], contactIDs: contacts, debtIDs: Array(Set(jobs.compactMap(\.debtID))),
                addresses: Array(Set(jobs.flatMap { [$0.contact.phone, $0.contact.email].compactMap { $0 } })), activeOnly: true),
            pushTokens: Array(Set(jobs.flatMap(\.pushTokens))))
    }

    /// The debt and segment of each valid job, by id (the first entry of an id wins): what its
    /// events are stamped with. Only those two: looking a whole job up copied all of it.
    static func stampsByID(_ decoded: [Decoded]) -> [String: BatchProcessor.JobStamp] {
        Dictionary(decoded.compactMap { item -> (String, BatchProcessor.JobStamp)? in
            if case .success(let job) = item.result { (job.id, BatchProcessor.JobStamp(debtID: job.debtID, segment: job.segment)) } else { nil }
        }, uniquingKeysWith: { first, _ in first })
    }

    /// Decides every entry up to its caps.
    init(decoded: [Decoded], facts: AdmissionFacts, inputs: Inputs) {
        self.inputs = inputs
        contactState = ContactStateSnapshot(records: facts.states)
        droppedTokens = facts.droppedTokens
        actions = BatchActions(jobs: Self.stampsByID(decoded))
        actions.summary.entries = decoded.count
        var seen: Set<String> = []
        for (entry, raw, result) in decoded {
            admit(entry: entry, raw: raw, result: result, jobState: { facts.jobStates[$0] }, optOuts: facts.optOuts, seen: &seen)
        }
    }

    /// The first action: the first round of cap checks, or, when no job waits for caps, the whole batch.
    mutating func start() -> Action {
        round = waiting.indices.filter { !waiting[$0].channels.isEmpty }
        return next()
    }

    /// The ledger's answers to the last round, in its order. A job whose channel is capped waits
    /// with its next allowed channel for the next round.
    mutating func capsAnswered(_ results: [CapResult]) -> Action {
        precondition(results.count == round.count, "one cap answer per job of the round")
        var blocked: [Int] = []
        for (index, result) in zip(round, results) {
            let (channel, checks) = waiting[index].channels[waiting[index].next]
            waiting[index].results[channel] = result
            if result == .reserved {
                waiting[index].reserved = checks
            } else {
                waiting[index].next += 1
                if waiting[index].next < waiting[index].channels.count { blocked.append(index) }
            }
        }
        round = blocked
        return next()
    }

    private mutating func next() -> Action {
        if !round.isEmpty {
            return .checkCaps(round.map { (waiting[$0].channels[waiting[$0].next].checks, waiting[$0].job.id) })
        }
        // Moved out first: `for item in waiting` copied every job (its strings and arrays retained).
        let items = waiting
        waiting = []
        for index in items.indices { resolve(items[index]) }
        BatchProcessor.stamp(&actions.events, jobs: actions.jobs)
        return .execute(actions)
    }

    private var inProgressWindow: TimeInterval { Double(inputs.settings.claimIdleMilliseconds) / 2000 }

    // MARK: - Before caps

    private mutating func admit(entry: StreamEntry, raw: [UInt8]?, result: Result<Job, JobRejection>,
                                jobState: (String) -> JobState?, optOuts: [String: [OptOut]], seen: inout Set<String>) {
        let now = inputs.now
        let (jobID, contactID, attempt): (String?, String?, Int) = switch result {
        case .success(let job): (job.id, job.contact.id, job.attempt)
        case .failure(let rejection): (rejection.jobID, rejection.contactID, 1)
        }
        if let jobID {
            if seen.contains(jobID) {
                actions.summary.duplicates += 1
                actions.events.append(ContactEvent(jobID: jobID, contactID: contactID, kind: .duplicate, at: now, attempt: attempt,
                                                   reason: Reason.duplicateInBatch.rawValue, detail: "the same job id came twice in one batch; only the first is handled", streamID: entry.id))
                return
            }
            switch Admission.decide(attempt: attempt, state: jobState(jobID), now: now, inProgressWindow: inProgressWindow) {
            case .proceed:
                // Only an entry that goes ahead claims the id for the rest of the batch.
                seen.insert(jobID)
            case .duplicate(let reason, let detail):
                actions.summary.duplicates += 1
                actions.events.append(ContactEvent(jobID: jobID, contactID: contactID, kind: .duplicate, at: now, attempt: attempt,
                                                   reason: reason.rawValue, detail: detail, streamID: entry.id))
                return
            case .inProgressElsewhere:
                // Another worker is sending this very attempt now. Leave the entry pending: it is looked at
                // again when reclaimed, by which time that send has its outcome (or is known to have died).
                actions.summary.inProgressElsewhere += 1
                actions.leftPending.insert(entry.id)
                return
            case .interrupted(let last, let since):
                seen.insert(jobID)
                actions.summary.unknown += 1
                actions.events.append(ContactEvent(jobID: jobID, contactID: contactID, kind: .unknown, at: now, attempt: last,
                                                   reason: Reason.interrupted.rawValue, detail: "a send of attempt \(last) was started\(since.map { " at \(formatTimestamp($0))" } ?? "") and its result was never recorded (the worker stopped mid-send): whether the provider took it is unknown; not retried, so the customer cannot get the message twice (gateway reconcile asks the provider)", streamID: entry.id))
                return
            case .badAttempt(let detail):
                // Not terminal: a stray entry must not block the real job with this id.
                actions.summary.duplicates += 1
                actions.events.append(ContactEvent(jobID: jobID, contactID: contactID, kind: .duplicate, at: now, attempt: attempt,
                                                   reason: Reason.badAttempt.rawValue, detail: detail, streamID: entry.id))
                actions.deadLetters.append(.init(entry: entry, code: Reason.badAttempt.rawValue, reason: detail))
                return
            }
        }
        switch result {
        case .failure(let rejection):
            actions.summary.invalid += 1
            actions.events.append(received(entry, raw, rejection.jobID, rejection.contactID))
            actions.events.append(ContactEvent(jobID: rejection.jobID, contactID: rejection.contactID, kind: .invalid, at: now,
                                               reason: rejection.code.rawValue, detail: rejection.message, streamID: entry.id))
            actions.deadLetters.append(.init(entry: entry, code: rejection.code.rawValue, reason: rejection.message))
        case .success(let job):
            admit(job, entry: entry, raw: raw, optOuts: optOuts[job.contact.id] ?? [])
        }
    }

    private mutating func admit(_ job: Job, entry: StreamEntry, raw: [UInt8]?, optOuts: [OptOut]) {
        let (now, catalog, rules) = (inputs.now, inputs.catalog, inputs.rules)
        guard catalog.hasTemplate(job.template) else {
            let message = "template \"\(job.template)\" does not exist (templates/\(job.template)/ not found)"
            actions.summary.invalid += 1
            actions.events.append(received(entry, raw, job.id, job.contact.id, attempt: job.attempt))
            actions.events.append(ContactEvent(jobID: job.id, contactID: job.contact.id, kind: .invalid, at: now, attempt: job.attempt,
                                               template: job.template, reason: Reason.unknownTemplate.rawValue, detail: message, streamID: entry.id))
            actions.deadLetters.append(.init(entry: entry, code: Reason.unknownTemplate.rawValue, reason: message))
            return
        }
        let category = job.category ?? catalog.settings(of: job.template)?.category ?? .collection
        if category == .reply, contactState.answers[job.id] == nil {
            // Only the gateway's own answers may pass opt-outs and hours: a job that claims to be one is not sent.
            actions.summary.suppressed += 1
            actions.events.append(received(entry, raw, job.id, job.contact.id, attempt: job.attempt))
            actions.events.append(ContactEvent(jobID: job.id, contactID: job.contact.id, kind: .suppressed, at: now, attempt: job.attempt, template: job.template,
                                               reason: Reason.notAnAnswer.rawValue, detail: "category reply is for the gateway's own answers to customers' replies, and no reply asked for job \(job.id); send collection or transactional [rule reply-answer]",
                                               streamID: entry.id))
            return
        }
        if job.template == inputs.replyPolicy.paymentReceivedTemplate, let debt = job.debtID {
            for hold in contactState.holds where hold.intent == "promise_to_pay" && hold.debtID == debt && hold.keptBy == nil && hold.liftedAt == nil {
                keepPromise(hold, job: job)
            }
        }
        let (providers, droppedTokens) = (inputs.providers, droppedTokens)
        let plan = RulesEngine.plan(job: job, now: now, rules: rules, optOuts: optOuts, category: category, state: contactState) { channel in
            BatchProcessor.unreachable(channel, job: job, providers: providers, catalog: catalog, droppedTokens: droppedTokens)
        }
        let toneFacts = ToneFacts(job: job, category: category, now: now, mood: contactState.moods[job.contact.id],
                                  maxAge: inputs.replyPolicy.moodMaxAge)
        // Caps are checked for the whole batch at once; the rest of the decision waits for them.
        let channels = (job.expiresAt.map { $0 > now } ?? true)
            ? plan.allowedNow.map { ($0, rules.capChecks(job: job, channel: $0, country: plan.location.country, category: category, zone: plan.location.timeZones[0])) }
            : []
        waiting.append(Waiting(job: job, entry: entry, raw: raw, plan: plan, category: category, toneFacts: toneFacts, channels: channels))
    }

    /// A payment-received job for a debt keeps its promise pause from lifting by itself (unless
    /// someone changed the pause since it was read: a person lifting it wins).
    private mutating func keepPromise(_ hold: Hold, job: Job) {
        guard let version = contactState.holdVersions[hold.id] else { return }
        var kept = hold
        kept.keptBy = "job \(job.id) (\(job.template))"
        actions.keptPromises.append(BatchActions.KeptPromise(write: StateWrite(.hold(kept, at: inputs.now), expect: .version(version)), event:
            ContactEvent(jobID: nil, contactID: hold.contactID, kind: .holdChanged, at: inputs.now, reason: Reason.promiseKept.rawValue,
                         detail: "promise pause \(hold.id) of debt \(job.debtID ?? "?") kept: job \(job.id) (\(job.template)) came, so collection does not resume at \(hold.until.map(formatTimestamp) ?? "its date"); a person lifts it",
                         data: JSONValue.object(["hold": .string(hold.id), "job": .string(job.id)]).serialized, debtID: job.debtID)))
    }

    /// The job as it arrived, byte for byte (not decoded: a job that is not UTF-8 is kept as it was sent).
    private func received(_ entry: StreamEntry, _ raw: [UInt8]?, _ jobID: String?, _ contactID: String?, attempt: Int = 1) -> ContactEvent {
        ContactEvent(jobID: jobID, contactID: contactID, kind: .received, at: inputs.now, attempt: attempt, streamID: entry.id, rawData: raw)
    }

    // MARK: - After caps

    private mutating func resolve(_ item: Waiting) {
        let (now, catalog, job, entry, plan) = (inputs.now, inputs.catalog, item.job, item.entry, item.plan)
        let decision = RulesEngine.resolve(job: job, now: now, plan: plan, caps: item.results, rules: inputs.rules)
        // A job sent now is recorded by its `dispatching` alone, which carries the job as it arrived;
        // any other decision is recorded as `received` and then the decision.
        if case .send = decision {} else { actions.events.append(received(entry, item.raw, job.id, job.contact.id, attempt: job.attempt)) }
        switch decision {
        case .expire(let detail):
            actions.summary.expired += 1
            actions.events.append(ContactEvent(jobID: job.id, contactID: job.contact.id, kind: .expired, at: now, attempt: job.attempt,
                                               template: job.template, reason: Reason.expired.rawValue, detail: detail, streamID: entry.id))
        case .suppress(let code, let ruleID, let detail):
            actions.summary.suppressed += 1
            actions.events.append(ContactEvent(jobID: job.id, contactID: job.contact.id, kind: .suppressed, at: now, attempt: job.attempt,
                                               template: job.template, reason: code.rawValue, detail: "\(detail) [rule \(ruleID)]", streamID: entry.id))
        case .defer(let until, let ruleID, let detail):
            // A job that cannot be rendered is refused now, not hours later when it comes back.
            if let channel = plan.verdicts.first(where: { if case .optedOut = $0.verdict { false } else if case .unreachable = $0.verdict { false } else { true } })?.channel {
                let tone = catalog.tonePolicy.tone(for: item.toneFacts).tone
                do throws(RenderError) {
                    _ = try catalog.render(template: job.template, channel: channel, tone: tone, job: job, category: item.category,
                                           defaultLocale: inputs.settings.defaultLocale)
                } catch {
                    refuse(error, item, channel: channel, tone: tone)
                    return
                }
            }
            actions.summary.deferred += 1
            actions.deferrals.append((item.raw ?? [], job.attempt, until))
            actions.events.append(ContactEvent(jobID: job.id, contactID: job.contact.id, kind: .deferred, at: now, attempt: job.attempt,
                                               template: job.template, reason: ruleID, detail: detail, streamID: entry.id,
                                               data: "{\"until\":\"\(formatTimestamp(until))\"}"))
        case .send(let channel, let rulesDetail):
            let routes = inputs.providers.routes(for: job, on: channel, droppedTokens: droppedTokens)
            let provider = routes[0].provider
            let (tone, toneRule) = catalog.tonePolicy.tone(for: item.toneFacts)
            let rendered: RenderedMessage
            do throws(RenderError) {
                rendered = try catalog.render(template: job.template, channel: channel, tone: tone, job: job, category: item.category,
                                              defaultLocale: inputs.settings.defaultLocale)
            } catch {
                actions.releases.append((item.reserved, job.id))
                actions.events.append(received(entry, item.raw, job.id, job.contact.id, attempt: job.attempt))
                refuse(error, item, channel: channel, tone: tone)
                return
            }
            let address = routes[0].address
            let message = OutboundMessage(jobID: job.id, contactID: job.contact.id, attempt: job.attempt, channel: channel,
                                          to: address, subject: rendered.subject, body: rendered.body, html: rendered.html)
            var toneNote = "tone \(tone) (\(toneRule == "default" ? "policy default" : "rule \(toneRule)"))"
            if item.toneFacts.sentimentSource == "reply" { toneNote += "; sentiment \(item.toneFacts.sentimentLabel ?? "?") from the contact's latest reply" }
            if rendered.tone != tone { toneNote += "; no \(tone) variant, \(rendered.tone) used" }
            actions.sends.append(BatchActions.Claim(
                send: BatchProcessor.Send(job: job, entry: entry, raw: item.raw ?? [], message: message, provider: provider, routes: routes,
                                          rendered: rendered, capChecks: item.reserved),
                eventIndex: actions.events.count))
            actions.events.append(ContactEvent(jobID: job.id, contactID: job.contact.id, kind: .dispatching, at: now, attempt: job.attempt,
                                               channel: channel, template: job.template, tone: rendered.tone, variant: rendered.variant,
                                               provider: provider.name, detail: "sending through \(provider.name); \(item.category.rawValue); \(toneNote); \(rulesDetail)",
                                               body: rendered.body, address: address, streamID: entry.id,
                                               data: BatchProcessor.renderingFacts(rendered, toneRule: toneRule, category: item.category, toneFacts: item.toneFacts),
                                               job: item.raw))
        }
    }

    /// A job that cannot be rendered is refused as invalid, with the reason, and dead-lettered.
    private mutating func refuse(_ error: RenderError, _ item: Waiting, channel: Channel, tone: String) {
        actions.summary.invalid += 1
        actions.events.append(ContactEvent(jobID: item.job.id, contactID: item.job.contact.id, kind: .invalid, at: inputs.now, attempt: item.job.attempt,
                                           channel: channel, template: item.job.template, tone: tone, reason: error.code.rawValue,
                                           detail: error.message, streamID: item.entry.id))
        actions.deadLetters.append(.init(entry: item.entry, code: error.code.rawValue, reason: error.message))
    }
}

/// What a batch's plan decided, for the executor to carry out in this order: dead letters, deferrals,
/// then every event into the log (a send is claimed by its `dispatching` event: only the sends whose
/// event the log took go out), kept promises, the sends, their outcomes, cap releases, the ack.
struct BatchActions {
    /// A send and the index of its `dispatching` event in `events`.
    struct Claim {
        var send: BatchProcessor.Send
        var eventIndex: Int
    }

    /// A promise pause a payment-received job keeps, written only if nobody changed it since it was read.
    struct KeptPromise {
        var write: StateWrite
        var event: ContactEvent
    }

    /// The debt and segment of the batch's valid jobs by id, to stamp their events with.
    var jobs: [String: BatchProcessor.JobStamp]
    var summary = BatchProcessor.Summary()
    var events: [ContactEvent] = []
    var deadLetters: [StreamConsumer.DeadLetter] = []
    var deferrals: [(raw: [UInt8], attempt: Int, at: Date)] = []
    var sends: [Claim] = []
    var keptPromises: [KeptPromise] = []
    /// Cap slots reserved for jobs that will not be sent after all.
    var releases: [(checks: [CapCheck], member: String)] = []
    /// Entries another worker is handling: not acked.
    var leftPending: Set<String> = []
}
