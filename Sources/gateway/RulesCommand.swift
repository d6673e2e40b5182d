import ArgumentParser
import ContactLog
import Foundation
import GatewayCore
import Providers
import RedisQueue
import Templates
import Worker

struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rules", abstract: "Compliance's contact rules.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Explain what the rules would decide for a job, without sending or counting anything.")

        @Argument(help: "A job JSON file, as the scoring service would enqueue it.")
        var job: String

        @Option(help: "The moment to judge, ISO 8601 with zone (default: now), e.g. 2026-12-05T21:14:00-05:00.")
        var at: String?

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let configuration = try options.load()
            let now: Date
            if let at {
                guard let parsed = parseTimestamp(at) else { throw ValidationError("--at must be ISO 8601 with a zone, like 2026-12-05T21:14:00-05:00") }
                now = parsed
            } else {
                now = Date()
            }
            guard let bytes = FileManager.default.contents(atPath: job) else { throw ValidationError("cannot read \(job)") }
            let job: Job
            switch JobDecoder(maxJobBytes: configuration.maxJobBytes).decode(Array(bytes)) {
            case .success(let decoded): job = decoded
            case .failure(let rejection): throw ValidationError("the job would be refused as invalid: \(rejection.message)")
            }
            let rules: ContactRules
            let catalog: TemplateCatalog
            let providers: ProviderRegistry
            do {
                rules = try ContactRulesFile.load(path: configuration.contactRulesPath)
                catalog = try TemplateCatalog(directory: configuration.templatesDirectory)
                providers = try ProviderRegistry.load(directory: configuration.providersDirectory, outboxPath: configuration.outboxPath, client: CurlHTTPClient())
            } catch {
                throw ValidationError("\(error)")
            }
            guard catalog.hasTemplate(job.template) else { throw ValidationError("the job would be refused: template \(job.template) does not exist") }
            let category = job.category ?? catalog.settings(of: job.template)?.category ?? .collection
            var optOuts: [OptOut] = []
            var droppedTokens: Set<String> = []
            var state = ContactStateSnapshot()
            if ContactLogs.exists(configuration.contactLogPath) {
                let store = try await ContactLogs.open(configuration.contactLogPath)
                optOuts = try await store.optOuts([job.contact.id])[job.contact.id] ?? []
                droppedTokens = try await store.droppedPushTokens(job.pushTokens)
                // What customers' replies set, read as the worker reads it: pauses and blocks for the
                // contact, its debt and its addresses, and the answers the gateway itself enqueued.
                state = ContactStateSnapshot(records: try await store.states(StateQuery(
                    kinds: [.hold, .answer], contactIDs: [job.contact.id], debtIDs: job.debtID.map { [$0] } ?? [],
                    addresses: [job.contact.phone, job.contact.email].compactMap { $0 }, activeOnly: true)))
            }
            let plan = RulesEngine.plan(job: job, now: now, rules: rules, optOuts: optOuts, category: category, state: state) { channel in
                BatchProcessor.unreachable(channel, job: job, providers: providers, catalog: catalog, droppedTokens: droppedTokens)
            }
            let zone = plan.location.timeZones[0]
            print("job       \(job.id) (template \(job.template), \(category.rawValue))")
            print("contact   \(job.contact.id) in \(plan.location.country), \(plan.location.timeZones.joined(separator: ", ")) (\(plan.location.source))")
            print("at        \(formatTimestamp(now)) = \(HoursPolicy.describe(now, zone: zone)) \(zone)")
            if !optOuts.isEmpty { for mark in optOuts { print("opt-out   \(mark.sentence)") } }
            for hold in state.holds.sorted(by: { $0.since < $1.since }) where hold.inForce(at: now) {
                print("hold      \(EscalationText.printable(hold.sentence))\(Self.note(hold, job: job, category: category))")
            }
            if category == .reply, state.answers[job.id] == nil {
                // As the worker decides: only the gateway's own answers may pass opt-outs and hours.
                print("decision  suppress (not_an_answer): category reply is for the gateway's own answers to customers' replies, and no reply asked for job \(job.id); send collection or transactional [rule reply-answer]")
                return
            }

            // Caps, read-only: the ledger is asked, nothing is counted.
            var caps: [Channel: CapResult] = [:]
            var redisNote: String?
            var redisConfiguration = try? RedisConfiguration(url: configuration.redisURL)
            redisConfiguration?.connectTimeout = 1
            let client = redisConfiguration.map(RedisClient.init)
            for (channel, verdict) in plan.verdicts {
                switch verdict {
                case .allowedNow(let sentence):
                    print("\(channel.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0))allowed now: \(sentence)")
                    let checks = rules.capChecks(job: job, channel: channel, country: plan.location.country, category: category, zone: zone)
                    if checks.isEmpty {
                        caps[channel] = .reserved
                        continue
                    }
                    do {
                        guard let client else { throw RedisError(code: .configuration, message: "bad redis_url") }
                        let result = try await CapLedger(client: client, prefix: configuration.capsPrefix).check(checks, member: job.id, now: now, reserve: false)
                        caps[channel] = result
                        switch result {
                        case .reserved: print("          caps ok: \(checks.map(\.ruleID).joined(separator: ", "))")
                        case .blocked(let rule, let reopens, let sentence): print("          cap \(rule) full (\(sentence)) until \(HoursPolicy.describeLocal(reopens, zone: zone))")
                        }
                    } catch {
                        redisNote = "caps not checked: Redis at \(redisConfiguration?.redacted ?? configuration.redisURL) did not answer (\(error))"
                        caps[channel] = .reserved
                    }
                case .closed(let until, let ruleID, let sentence):
                    print("\(channel.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0))closed by \(ruleID): \(sentence); next allowed \(until.map { HoursPolicy.describeLocal($0, zone: zone) } ?? "none in 15 days")")
                case .optedOut(let mark):
                    print("\(channel.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0))\(mark.sentence)")
                case .unreachable(let reason):
                    print("\(channel.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0))unreachable: \(EscalationText.printable(reason))")
                }
            }
            await client?.shutdown()
            if let redisNote { print("note      \(redisNote)") }
            // Only the first channel whose caps pass would be used.
            var firstCaps: [Channel: CapResult] = [:]
            for channel in plan.allowedNow {
                firstCaps[channel] = caps[channel]
                if caps[channel] == .reserved { break }
            }
            switch RulesEngine.resolve(job: job, now: now, plan: plan, caps: firstCaps, rules: rules) {
            case .send(let channel, _): print("decision  send now on \(channel.rawValue)")
            case .defer(_, let ruleID, let detail): print("decision  \(detail) [rule \(ruleID)]")
            case .suppress(let code, let ruleID, let detail): print("decision  suppress (\(code)): \(EscalationText.printable(detail)) [rule \(ruleID)]")
            case .expire(let detail): print("decision  expire: \(detail)")
            }
        }

        /// Why a hold in force does or does not bear on this job.
        static func note(_ hold: Hold, job: Job, category: Category) -> String {
            switch hold.kind {
            case .block:
                return [job.contact.phone, job.contact.email].contains(hold.address) ? "" : " (not an address of this job)"
            case .optOut:
                guard [job.contact.phone, job.contact.email].contains(hold.address) else { return " (not an address of this job)" }
                return category == .reply ? " (does not apply: the gateway's own answer to a reply)" : ""
            case .pause:
                guard category == .collection else { return " (does not apply: \(category.rawValue) messages are not paused)" }
                switch hold.scope {
                case .contact, .address: return hold.contactID == job.contact.id ? "" : " (another contact's)"
                case .debt: return hold.debtID == job.debtID ? "" : " (does not apply: debt \(hold.debtID ?? "?") is not this job's debt \(job.debtID ?? "(none)"))"
                }
            }
        }
    }
}
