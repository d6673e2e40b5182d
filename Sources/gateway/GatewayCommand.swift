import ArgumentParser
import ContactLog
import CoreMetrics
import Conversations
import Foundation
import GatewayApp
import GatewayCore
import GatewayHTTP
import GatewayMetrics
import Logging
import RedisQueue
import Replies
import ServiceLifecycle
import Worker

@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Collections notification gateway: Redis jobs in, SMS/email/push out, every decision in the contact log.",
        subcommands: [Run.self, Log.self, ReconcileCommand.self, Audit.self, Tokens.self, TemplatesCommand.self, ContactsCommand.self, RulesCommand.self, RepliesCommand.self, EscalationsCommand.self],
        defaultSubcommand: Run.self)
}

struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Gateway configuration file (keys in README; GATEWAY_<KEY> and REDIS_URL override it).")
    var config: String = "config/gateway.yml"

    /// The configured contact log, whole: only for the reply and escalation desks, which read,
    /// append and write state. Other commands ask for the role they use (below), as the HTTP
    /// handlers do. Commands that only read ask for a log that exists already (they never create
    /// an empty one); commands that record (opt-outs) open or create it.
    func contactLog(_ configuration: GatewayConfiguration, mustExist: Bool = true) async throws -> any ContactLogStore {
        guard !mustExist || ContactLogs.exists(configuration.contactLogPath) else {
            throw ValidationError("no contact log at \(configuration.contactLogPath) (has the gateway run here yet?)")
        }
        do { return try await ContactLogs.open(configuration.contactLogPath) } catch let error as ConfigurationError {
            throw ValidationError(error.message)
        }
    }

    /// The contact log for a command that only reads it.
    func logReader(_ configuration: GatewayConfiguration, mustExist: Bool = true) async throws -> any LogReader {
        try await contactLog(configuration, mustExist: mustExist)
    }

    /// The contact log for a command that records (and reads what it changes).
    func logWriter(_ configuration: GatewayConfiguration, mustExist: Bool = true) async throws -> any LogReader & LogAppender {
        try await contactLog(configuration, mustExist: mustExist)
    }

    /// The contact log for `gateway audit checkpoint` and `prove`: a PostgreSQL one.
    func checkpointing(_ configuration: GatewayConfiguration, for command: String) async throws -> any LogCheckpointing {
        guard let store = try await contactLog(configuration) as? any LogCheckpointing else {
            throw ValidationError("audit \(command) needs the PostgreSQL contact log: a SQLite file has one chain, whose head `gateway audit verify` prints (keep it somewhere else)")
        }
        return store
    }

    /// The contact log for `gateway audit`: its chain and the retention job (and reading, for a dry run).
    func logMaintenance(_ configuration: GatewayConfiguration) async throws -> any LogReader & LogMaintenance {
        try await contactLog(configuration)
    }

    @Option(help: "Log lines as json (one object per line, for log collectors) or text (for people). Default: log_format in the configuration, else json unless standard error is a terminal.")
    var logFormat: String?

    /// Reads the configuration and sets up logging (once per process) with its format and `logLevel`.
    func load(logLevel: Logger.Level = .info) throws -> GatewayConfiguration {
        let configuration: GatewayConfiguration
        do {
            configuration = try GatewayConfiguration.load(path: config)
        } catch let error as ConfigurationError {
            throw ValidationError(error.message)
        }
        let format: GatewayLogHandler.Format
        if let logFormat {
            guard let chosen = GatewayLogHandler.Format(rawValue: logFormat) else {
                throw ValidationError("--log-format must be json or text; got \(logFormat)")
            }
            format = chosen
        } else {
            format = configuration.logFormat.flatMap(GatewayLogHandler.Format.init(rawValue:)) ?? .automatic
        }
        LoggingBootstrap.once { GatewayLogHandler.bootstrap(format: format, level: logLevel) }
        return configuration
    }
}

/// swift-log may be bootstrapped once per process; a command that loads its configuration twice must not try again.
enum LoggingBootstrap {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var done = false

    static func once(_ bootstrap: () -> Void) {
        lock.withLock {
            guard !done else { return }
            done = true
            bootstrap()
        }
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the queue worker until SIGTERM or SIGINT.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical; got \(logLevel)")
        }
        let configuration = try options.load(logLevel: level)
        let logger = Logger(label: "gateway")
        // Every connection and file takes a descriptor; a soft limit of 1,024 is easy to reach.
        let descriptors = DescriptorLimit.raiseToHardLimit()
        if let failure = descriptors.failure {
            logger.warning("open-file limit not raised", metadata: ["limit": "\(descriptors.now)", "hard_limit": "\(descriptors.hard)", "error": "\(failure)"])
        } else {
            logger.info("open-file limit", metadata: ["limit": "\(descriptors.now)", "was": "\(descriptors.before)", "hard_limit": "\(descriptors.hard)"])
        }
        let app: GatewayApp
        do {
            // One registry for the process: the gateway's metrics and any library's go to GET /metrics.
            let metrics = GatewayMetrics()
            MetricsSystem.bootstrap(metrics.factory)
            app = try await GatewayApp.build(configuration: configuration, logger: logger, descriptorLimit: descriptors.now, metrics: metrics)
        } catch let error as ConfigurationError {
            throw ValidationError(error.message)
        }
        let gateway = app.gateway
        logger.info("gateway configured", metadata: [
            "contact_log": "\(ContactLogs.redacted(configuration.contactLogPath))",
            "templates": "\(gateway.templates.current.templateNames.joined(separator: ","))",
            "providers": "\(gateway.providers.providers.map(\.name).joined(separator: ","))",
        ])
        try await app.run(logger: logger)
    }
}

struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read the contact log: filter it, follow one contact's timeline, export it as CSV or JSON Lines.",
        discussion: """
            Without --all or --timeline, shows outcomes and everything that held a message back or changed what \
            may be sent. Output is streamed: exporting a million events needs no memory.
            Examples:
              gateway log --contact C-1042 --timeline
              gateway log --debt LN-77 --outcome suppressed
              gateway log --from 2026-11-01 --to 2026-12-01 --format csv > november.csv
            """)

    @OptionGroup var options: ConfigOptions

    @Option(help: "Contact id (contact.id in the job).")
    var contact: String?
    @Option(help: "Job id.")
    var job: String?
    @Option(help: "Debt id (debt_id in the job).")
    var debt: String?
    @Option(help: "sms, email or push.")
    var channel: String?
    @Option(help: "An event kind: sent, suppressed, failed, expired, invalid, deferred, receipt, opt_out... (repeatable).")
    var outcome: [String] = []
    @Option(help: "Template name.")
    var template: String?
    @Option(help: "From this day (YYYY-MM-DD, UTC) or instant (ISO 8601), inclusive.")
    var from: String?
    @Option(help: "Up to this day or instant, exclusive.")
    var to: String?
    @Flag(help: "Every event (received, dispatching, receipts, reads...), not only outcomes and decisions.")
    var all = false
    @Flag(help: "Every event of one contact, oldest first (needs --contact).")
    var timeline = false
    @Option(help: "text, json (JSON Lines) or csv.")
    var format: String = "text"
    @Flag(help: "Same as --format json.")
    var json = false
    @Option(help: "At most this many events.")
    var limit: Int?

    func validate() throws {
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive") }
        if timeline && contact == nil { throw ValidationError("--timeline needs --contact ID") }
        guard ["text", "json", "csv"].contains(format) else { throw ValidationError("--format must be text, json or csv; got \(format)") }
    }

    func filter() throws -> EventFilter {
        var filter = EventFilter(contactID: contact, jobID: job, debtID: debt, template: template)
        if let channel {
            guard let parsed = Channel(rawValue: channel) else { throw ValidationError("--channel must be sms, email or push; got \(channel)") }
            filter.channel = parsed
        }
        if !outcome.isEmpty {
            filter.kinds = try outcome.map { name in
                guard let kind = EventKind(rawValue: name) else {
                    throw ValidationError("--outcome \(name) is not an event kind; known: \(EventKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return kind
            }
        } else if !all && !timeline {
            filter.kinds = EventKind.allCases.filter { $0.isTerminal || [.retryScheduled, .duplicate, .deferred, .optOut, .optIn, .pruned, .reconciled].contains($0) }
        }
        filter.from = try from.map { try Self.instant($0, option: "--from") }
        filter.to = try to.map { try Self.instant($0, option: "--to") }
        return filter
    }

    /// A day (YYYY-MM-DD, midnight UTC) or an ISO 8601 instant.
    static func instant(_ text: String, option: String) throws -> Date {
        if let date = parseDayOrInstant(text) { return date }
        throw ValidationError("\(option) must be a day like 2026-11-01 or an instant like 2026-11-01T13:00:00Z; got \(text)")
    }

    func run() async throws {
        let configuration = try options.load()
        let store = try await options.logReader(configuration)
        let format = json ? "json" : format
        var remaining = limit ?? Int.max
        var count = 0
        if format == "csv" { FileHandle.standardOutput.write(Data(EventExport.csvHeader.utf8)) }
        try await store.forEachEvent(try filter(), pageSize: min(1000, remaining)) { stored in
            switch format {
            case "json": print(EventExport.jsonLine(stored))
            case "csv": FileHandle.standardOutput.write(Data(EventExport.csvRow(stored)))
            default: print(EventPrinter.text(stored))
            }
            count += 1
            remaining -= 1
            return remaining > 0
        }
        if count == 0 && format == "text" { print("no events") }
    }
}

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prove the contact log is intact (verify), or remove months past the retention period (prune).",
        subcommands: [Verify.self, Prune.self, Keygen.self, Checkpoint.self, Prove.self, CheckProof.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the hash chain; exit 1 naming the first event that does not match.")
        @OptionGroup var options: ConfigOptions
        @Option(help: "The Ed25519 public key every checkpoint must be signed with: base64, or a file holding it (`gateway audit keygen` writes <key>.pub).")
        var publicKey: String?
        @Option(help: "A checkpoint root kept outside the database (`audit checkpoint` prints it): verify fails unless a checkpoint with it is still in the log. Repeatable.")
        var expectRoot: [String] = []

        func run() async throws {
            let configuration = try options.load()
            let trusted: String?
            do { trusted = try publicKey.map(CheckpointKeys.publicKey) } catch let error as ContactLogError { throw ValidationError(error.message) }
            let report = try await options.logMaintenance(configuration).verifyChain()
            if let problem = report.problem {
                print("TAMPERED: \(problem.message) (\(report.checked) events checked)")
                throw ExitCode(1)
            }
            if let trusted, let other = report.checkpointKeys.first(where: { $0 != trusted }) {
                print("TAMPERED: a checkpoint is signed with key \(ContactLog.Checkpoint.fingerprint(other)), not the trusted \(ContactLog.Checkpoint.fingerprint(trusted)) (\(report.checked) events checked)")
                throw ExitCode(1)
            }
            for root in expectRoot where !report.checkpointRoots.values.contains(root.lowercased()) {
                print("TAMPERED: no checkpoint with root \(root) is in the log any more: checkpoints were deleted, and what came after the last one left may have been rewritten (\(report.checked) events checked)")
                throw ExitCode(1)
            }
            if trusted != nil && report.checkpoints == 0 {
                print("TAMPERED: --public-key was given but the log holds no checkpoint (\(report.checked) events checked)")
                throw ExitCode(1)
            }
            print("ok: \(report.checked) events verified")
            print("chain starts at \(report.anchorEvent.map { "anchor \(report.anchor) (left by the retention prune recorded as event \($0))" } ?? "the first event ever written")")
            if report.heads.isEmpty {
                print("head \(report.head)")
            } else {
                // log_chains: every chain verifies on its own; keep each head.
                for (chain, head) in report.heads.sorted(by: { $0.key < $1.key }) { print("chain \(chain) head \(head)") }
            }
            print("Keep the head somewhere else (a ticket, a signed e-mail): a later verify that passes through it proves nothing before it was rewritten.")
            if report.checkpoints > 0 {
                let keys = report.checkpointKeys.map(ContactLog.Checkpoint.fingerprint).joined(separator: ", ")
                print("checkpoints: \(report.checkpoints) signed tree head\(report.checkpoints == 1 ? "" : "s") verified (the last is event \(report.lastCheckpoint ?? 0)), signed by \(keys)"
                      + (trusted == nil ? "; pass --public-key to require the bank's key" : ", the trusted key"))
            }
        }
    }

    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the Ed25519 key that signs checkpoints: the private key in FILE (mode 0600), the public key in FILE.pub.")
        @Argument(help: "Where to write the private key (never overwritten).")
        var file: String

        func run() async throws {
            do {
                let publicKey = try CheckpointKeys.create(at: file)
                print("signing key written to \(file) (keep it only where checkpoints are made); public key \(publicKey) in \(file).pub, fingerprint \(ContactLog.Checkpoint.fingerprint(publicKey))")
            } catch let error as ContactLogError { throw ValidationError(error.message) }
        }
    }

    struct Checkpoint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append a signed tree head over every hash chain's head (PostgreSQL contact log); run it from cron, as prune.")
        @OptionGroup var options: ConfigOptions
        @Option(help: "The signing key file `gateway audit keygen` wrote.")
        var key: String

        func run() async throws {
            let configuration = try options.load()
            let signingKey: Curve25519SigningKey
            do { signingKey = try CheckpointKeys.signingKey(file: key) } catch let error as ContactLogError { throw ValidationError(error.message) }
            let store = try await options.checkpointing(configuration, for: "checkpoint")
            let checkpoint = try await store.checkpoint(signingKey: signingKey, at: Date())
            print("checkpoint over \(checkpoint.heads.count) chain\(checkpoint.heads.count == 1 ? "" : "s"): root \(checkpoint.root), signed by \(ContactLog.Checkpoint.fingerprint(checkpoint.key)) at \(checkpoint.at)")
            print("Keep the root somewhere else (a ticket, a signed e-mail): `gateway audit verify --expect-root \(checkpoint.root)` then proves nothing before it was rewritten, even by someone who deleted later checkpoints.")
        }
    }

    struct Prove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write proof (JSON) that one event is in the log: its chain up to the first checkpoint after it, and that checkpoint's signed root.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The event's seq (as `gateway log` and the API show it).")
        var seq: Int64

        func run() async throws {
            let configuration = try options.load()
            let store = try await options.checkpointing(configuration, for: "prove")
            do { print(try await store.inclusionProof(seq: seq).json) } catch let error as ContactLogError { throw ValidationError(error.message) }
        }
    }

    struct CheckProof: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-proof",
            abstract: "Check a proof `gateway audit prove` wrote, without the database: exit 1 if it does not hold.")
        @Argument(help: "The proof file.")
        var file: String
        @Option(help: "The Ed25519 public key the checkpoint must be signed with: base64, or a file holding it.")
        var publicKey: String

        func run() async throws {
            let proof: InclusionProof, trusted: String
            do {
                trusted = try CheckpointKeys.publicKey(publicKey)
                guard let data = FileManager.default.contents(atPath: file) else { throw ContactLogError("cannot read \(file)") }
                proof = try InclusionProof(json: Array(data))
            } catch let error as ContactLogError { throw ValidationError(error.message) }
            if let problem = proof.problem(trustedKey: trusted) {
                print("NOT PROVEN: \(problem)")
                throw ExitCode(1)
            }
            print("proven: this event is on chain \(proof.chain), which reaches head \(proof.head.prefix(12))… in the tree head signed \(proof.at) by \(ContactLog.Checkpoint.fingerprint(proof.key)) (root \(proof.root.prefix(12))…)")
            print("(the proof names it event \(proof.seq) and the checkpoint event \(proof.checkpointSeq); those numbers are not signed, the event's contents are:)")
            for (name, value) in proof.columns where value != nil { print("  \(name): \(value!)") }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove whole months older than retention_days from the start of the log, leaving a verifiable chain.")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Say what would be removed; remove nothing.")
        var dryRun = false
        @Option(help: "Who runs the prune, recorded in the log.")
        var by: String = "gateway audit prune"

        func run() async throws {
            let configuration = try options.load()
            let store = try await options.logMaintenance(configuration)
            let cutoff = Retention.cutoff(now: Date(), days: configuration.retentionDays)
            if dryRun {
                var count = 0
                try await store.forEachEvent(EventFilter(to: cutoff)) { _ in count += 1; return true }
                print("retention \(configuration.retentionDays) days: events before \(formatTimestamp(cutoff)) may go; \(count) are that old (a prune removes them up to the first newer event)")
                return
            }
            let before = try await store.verifyChain()
            if let problem = before.problem {
                print("refusing to prune a log that does not verify: \(problem.message)")
                throw ExitCode(1)
            }
            let report = try await store.prune(before: cutoff, at: Date(), by: by)
            print("removed \(report.removed) events from before \(formatTimestamp(cutoff))" + (report.throughSeq.map { " (through event \($0))" } ?? ""))
        }
    }
}

enum EventPrinter {
    static func text(_ stored: StoredEvent) -> String {
        let e = stored.event
        var parts = [formatTimestamp(e.at), e.kind.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0), "job=\(e.jobID ?? "-")"]
        if let channel = e.channel { parts.append("channel=\(channel.rawValue)") }
        if let provider = e.provider { parts.append("provider=\(provider)") }
        if let id = e.providerMessageID { parts.append("message_id=\(id)") }
        if let template = e.variant ?? e.template { parts.append("template=\(template)") }
        if let tone = e.tone { parts.append("tone=\(tone)") }
        if let reason = e.reason { parts.append("reason=\(reason)") }
        var line = parts.joined(separator: "  ")
        if let detail = e.detail { line += "\n    \(detail)" }
        if let body = e.body, e.kind != .dispatching { line += "\n    text: \(body)" }
        return line
    }
}


struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create API tokens. Only their SHA-256 goes into the tokens file; the token is shown once.",
        subcommands: [New.self])

    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and add its hash to the api_tokens file.")
        @OptionGroup var options: ConfigOptions
        @Option(help: "Who will use it (a service or a person), as it will appear in the log.")
        var name: String
        @Option(help: "scoring, compliance, marketing or admin (repeatable).")
        var role: [String]
        @Flag(help: "Print the YAML entry instead of adding it to the file.")
        var print = false

        func run() async throws {
            let roles = try role.map { name in
                guard let role = Role(rawValue: name) else {
                    throw ValidationError("--role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", ")); got \(name)")
                }
                return role.rawValue
            }
            guard !roles.isEmpty else { throw ValidationError("give at least one --role") }
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.:@".contains($0) }) else {
                throw ValidationError("--name may hold letters, digits and - _ . : @")
            }
            let configuration = try options.load()
            let path = configuration.apiTokensPath
            let existing: APITokens
            do { existing = try APITokens.load(path: path) } catch { throw ValidationError("\(error)") }
            guard !existing.entries.contains(where: { $0.name == name }) else {
                throw ValidationError("\(path) already has a token named \(name); pick another name or remove that entry first")
            }
            let (token, hash) = APITokens.generate()
            let entry = "  - name: \(name)\n    roles: [\(roles.joined(separator: ", "))]\n    sha256: \(hash)\n"
            if print {
                Swift.print(entry, terminator: "")
            } else {
                var text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                if text.isEmpty || !text.contains("tokens:") {
                    text = "# API tokens: only SHA-256 hashes. Create with `gateway tokens new`; remove an entry to revoke it.\ntokens:\n"
                }
                if !text.hasSuffix("\n") { text += "\n" }
                text += entry
                _ = try APITokens.parse(text, file: path)
                let directory = (path as NSString).deletingLastPathComponent
                if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
                Swift.print("added \(name) (\(roles.joined(separator: ", "))) to \(path); restart the gateway to use it")
            }
            Swift.print("token (shown once, store it in the caller's secret store): \(token)")
        }
    }
}
