import Foundation
import GatewayCore
import YAMLMessages
import Yams

/// Everything the gateway process needs. Defaults make `gateway run` work on a fresh clone:
/// a local Redis, SQLite under var/, templates/ and providers/ from the repository.
public struct GatewayConfiguration: Sendable, Equatable {
    public var redisURL = "redis://127.0.0.1:6379/0"
    public var stream = "gateway:jobs"
    public var group = "gateway"
    /// Unique per worker process; defaults to host name and process id.
    public var consumer = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    public var deadLetterStream = "gateway:jobs:dead"
    public var scheduledKey = "gateway:scheduled"
    /// Prefix of the frequency-cap ledger keys shared by all workers.
    public var capsPrefix = "gateway:caps:"
    /// Prefix of the per-provider rate-limit buckets shared by all workers.
    public var ratePrefix = "gateway:rate:"
    /// Prefix of the keys through which workers tell each other a provider's breaker is open.
    public var breakerPrefix = "gateway:breaker:"
    public var batchSize = 256
    /// Batches in flight at once in one worker process (each with its own Redis connection).
    public var concurrency = 4
    public var blockMilliseconds = 1000
    /// Entries another consumer left pending this long are taken over (that consumer is presumed dead).
    public var claimIdleMilliseconds = 120_000
    /// A provider's answer is recorded in the contact log at most this long after it arrives.
    public var recordDelayMilliseconds = 100
    /// How long each check of `GET /ready` may take before it counts as failing.
    public var readyTimeoutMilliseconds = 2000
    public var maxJobBytes = 64 * 1024
    public var contactLogPath = "var/contact-log.sqlite"
    public var outboxPath = "var/outbox.jsonl"
    public var templatesDirectory = "templates"
    public var providersDirectory = "providers"
    /// Compliance's rules; its `templates:` section is what every template must carry.
    public var contactRulesPath = "config/contact-rules.yml"
    /// Compliance's reply lexicons (es.yml, en.yml, shared.yml) for `gateway replies` and POST /replies/classify.
    public var repliesDirectory = "config/replies"
    /// What each reply intent does (pauses, blocks, escalations, answers); missing: the standard policy.
    public var replyActionsPath = "config/reply-actions.yml"
    /// The Redis stream escalations are published on, for the agents' tools.
    public var escalationStream = "gateway:escalations"
    /// How often templates/ is checked for edits.
    public var templatesReloadSeconds = 2.0
    /// Where the HTTP API listens (health, templates). Port 0 turns it off.
    public var httpHost = "127.0.0.1"
    public var httpPort = 8080
    /// A request's header must arrive whole within this many seconds of its first byte.
    public var httpHeaderTimeoutSeconds = 10.0
    /// A request's body must arrive whole within this many seconds of its header.
    public var httpBodyTimeoutSeconds = 60.0
    /// A connection with no request in progress is closed after this many seconds.
    public var httpIdleTimeoutSeconds = 60.0
    /// Connections beyond this many are answered 503 and closed.
    public var httpMaxConnections = 1000
    /// The web console's sessions end after this many seconds without a request (8 hours).
    public var consoleSessionIdleSeconds = 28_800
    /// Behind a TLS proxy that sets X-Forwarded-Proto: trust it, so console cookies are marked Secure.
    public var consoleTrustForwardedProto = false
    /// Behind a proxy that appends the client's address to X-Forwarded-For: count the console's
    /// failed sign-ins by the address the proxy saw (the header's last entry), not the proxy's.
    public var consoleTrustForwardedFor = false
    /// Failed console sign-ins allowed from one client address, and from all together, per window.
    public var consoleSignInAttempts = 10
    public var consoleSignInAttemptsAll = 200
    public var consoleSignInWindowSeconds = 900
    /// Where the failed sign-in counters live in Redis.
    public var consoleSignInPrefix = "gateway:console:sign-in:"
    /// `required`: a template change saved in the console waits for a compliance user's approval.
    public var templateApprovalRequired = false
    public var defaultLocale = "es-CR"
    /// Attempts per job, the first included, before a retryable failure becomes `failed`.
    public var maxAttempts = 4
    /// First retry delay; each later one doubles, with ±20% jitter, capped at one hour.
    public var retryBaseSeconds = 30.0
    /// How long the contact log keeps events; `gateway audit prune` removes whole months older
    /// than this. At least two years (Chile); three by default (US Regulation F keeps records three).
    public var retentionDays = 1095
    /// How many hash chains the PostgreSQL contact log's batch appends spread over (README, Performance).
    public var logChains = 1
    /// The key that signs checkpoints on a timer (`gateway audit keygen`); nil: none (cron instead).
    public var checkpointKeyPath: String?
    public var checkpointSeconds = 3600
    /// The API tokens (hashed) and their roles.
    public var apiTokensPath = "config/api-tokens.yml"
    /// `json` or `text` log lines; nil: json unless standard error is a terminal. `--log-format` overrides it.
    public var logFormat: String?

    public init() {}

    static let keys: [String: @Sendable (inout GatewayConfiguration, String, String) throws -> Void] = [
        "redis_url": { c, v, _ in c.redisURL = v },
        "stream": { c, v, _ in c.stream = v },
        "group": { c, v, _ in c.group = v },
        "consumer": { c, v, _ in c.consumer = v },
        "dead_letter_stream": { c, v, _ in c.deadLetterStream = v },
        "scheduled_key": { c, v, _ in c.scheduledKey = v },
        "caps_prefix": { c, v, _ in c.capsPrefix = v },
        "rate_prefix": { c, v, _ in c.ratePrefix = v },
        "breaker_prefix": { c, v, _ in c.breakerPrefix = v },
        "batch_size": { c, v, k in c.batchSize = try int(v, k, 1...10_000) },
        "concurrency": { c, v, k in c.concurrency = try int(v, k, 1...32) },
        "block_ms": { c, v, k in c.blockMilliseconds = try int(v, k, 1...60_000) },
        "claim_idle_ms": { c, v, k in c.claimIdleMilliseconds = try int(v, k, 1_000...86_400_000) },
        "record_delay_ms": { c, v, k in c.recordDelayMilliseconds = try int(v, k, 1...10_000) },
        "ready_timeout_ms": { c, v, k in c.readyTimeoutMilliseconds = try int(v, k, 100...60_000) },
        "max_job_bytes": { c, v, k in c.maxJobBytes = try int(v, k, 1_024...16_777_216) },
        "contact_log": { c, v, _ in c.contactLogPath = v },
        "outbox": { c, v, _ in c.outboxPath = v },
        "templates": { c, v, _ in c.templatesDirectory = v },
        "providers": { c, v, _ in c.providersDirectory = v },
        "contact_rules": { c, v, _ in c.contactRulesPath = v },
        "replies": { c, v, _ in c.repliesDirectory = v },
        "reply_actions": { c, v, _ in c.replyActionsPath = v },
        "escalation_stream": { c, v, _ in c.escalationStream = v },
        "templates_reload_seconds": { c, v, k in
            guard let seconds = Double(v), seconds >= 0.05, seconds <= 3600 else {
                throw ConfigurationError("\(k) must be a number of seconds between 0.05 and 3600, got \"\(v)\"")
            }
            c.templatesReloadSeconds = seconds
        },
        "retention_days": { c, v, k in c.retentionDays = try int(v, k, 730...36_500) },
        "log_chains": { c, v, k in c.logChains = try int(v, k, 1...256) },
        "checkpoint_key": { c, v, _ in c.checkpointKeyPath = v.isEmpty ? nil : v },
        "checkpoint_seconds": { c, v, k in c.checkpointSeconds = try int(v, k, 10...86_400) },
        "api_tokens": { c, v, _ in c.apiTokensPath = v },
        "http_host": { c, v, _ in c.httpHost = v },
        "http_port": { c, v, k in c.httpPort = try int(v, k, 0...65535) },
        "http_header_timeout_seconds": { c, v, k in c.httpHeaderTimeoutSeconds = try seconds(v, k, 0.1...3600) },
        "http_body_timeout_seconds": { c, v, k in c.httpBodyTimeoutSeconds = try seconds(v, k, 0.1...3600) },
        "http_idle_timeout_seconds": { c, v, k in c.httpIdleTimeoutSeconds = try seconds(v, k, 0.1...3600) },
        "http_max_connections": { c, v, k in c.httpMaxConnections = try int(v, k, 1...1_000_000) },
        "console_session_idle_seconds": { c, v, k in c.consoleSessionIdleSeconds = try int(v, k, 60...604_800) },
        "console_trust_forwarded_proto": { c, v, k in
            guard let flag = ["true": true, "yes": true, "false": false, "no": false][v.lowercased()] else {
                throw ConfigurationError("\(k) must be true or false, got \"\(v)\"")
            }
            c.consoleTrustForwardedProto = flag
        },
        "console_trust_forwarded_for": { c, v, k in
            guard let flag = ["true": true, "yes": true, "false": false, "no": false][v.lowercased()] else {
                throw ConfigurationError("\(k) must be true or false, got \"\(v)\"")
            }
            c.consoleTrustForwardedFor = flag
        },
        "console_sign_in_attempts": { c, v, k in c.consoleSignInAttempts = try int(v, k, 1...10_000) },
        "console_sign_in_attempts_all": { c, v, k in c.consoleSignInAttemptsAll = try int(v, k, 1...1_000_000) },
        "console_sign_in_window_seconds": { c, v, k in c.consoleSignInWindowSeconds = try int(v, k, 10...86_400) },
        "console_sign_in_prefix": { c, v, _ in c.consoleSignInPrefix = v },
        "template_approval": { c, v, k in
            switch v.lowercased() {
            case "required": c.templateApprovalRequired = true
            case "none", "off", "not_required": c.templateApprovalRequired = false
            default: throw ConfigurationError("\(k) must be required or none, got \"\(v)\"")
            }
        },
        "default_locale": { c, v, _ in c.defaultLocale = v },
        "max_attempts": { c, v, k in c.maxAttempts = try int(v, k, 1...20) },
        "retry_base_seconds": { c, v, k in
            guard let seconds = Double(v), seconds >= 0.01, seconds <= 86_400 else {
                throw ConfigurationError("\(k) must be a number of seconds between 0.01 and 86400, got \"\(v)\"")
            }
            c.retryBaseSeconds = seconds
        },
        "log_format": { c, v, k in
            guard v == "json" || v == "text" else { throw ConfigurationError("\(k) must be json or text, got \"\(v)\"") }
            c.logFormat = v
        },
    ]

    private static func seconds(_ value: String, _ key: String, _ range: ClosedRange<Double>) throws -> Double {
        guard let number = Double(value), range.contains(number) else {
            func text(_ bound: Double) -> String { bound.rounded() == bound ? String(Int(bound)) : String(bound) }
            throw ConfigurationError("\(key) must be a number of seconds from \(text(range.lowerBound)) to \(text(range.upperBound)), got \"\(value)\"")
        }
        return number
    }

    private static func int(_ value: String, _ key: String, _ range: ClosedRange<Int>) throws -> Int {
        guard let number = Int(value), range.contains(number) else {
            throw ConfigurationError("\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound), got \"\(value)\"")
        }
        return number
    }

    /// Reads `path` (if it exists) and then the environment: `GATEWAY_<KEY>` (e.g. GATEWAY_BATCH_SIZE)
    /// overrides the file, and `REDIS_URL` is honoured too. Unknown keys are errors, not silently ignored.
    public static func load(path: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> GatewayConfiguration {
        var configuration = GatewayConfiguration()
        if let path, FileManager.default.fileExists(atPath: path) {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ConfigurationError("\(path): cannot read: \(error.localizedDescription)")
            }
            let values = try flatMapping(yaml: text, file: path)
            for (key, value) in values.sorted(by: { $0.key < $1.key }) {
                guard let apply = keys[key] else {
                    throw ConfigurationError("\(path): unknown key \"\(key)\"; known keys: \(keys.keys.sorted().joined(separator: ", "))")
                }
                do { try apply(&configuration, value, key) } catch let error as ConfigurationError {
                    throw ConfigurationError("\(path): \(error.message)")
                }
            }
        }
        if let url = environment["REDIS_URL"], !url.isEmpty { configuration.redisURL = url }
        for key in keys.keys.sorted() {
            if let value = environment["GATEWAY_" + key.uppercased()], !value.isEmpty {
                do { try keys[key]!(&configuration, value, key) } catch let error as ConfigurationError {
                    throw ConfigurationError("environment GATEWAY_\(key.uppercased()): \(error.message)")
                }
            }
        }
        return configuration
    }

    /// A YAML mapping of scalars, as strings. Anything else is refused with the file name.
    static func flatMapping(yaml text: String, file: String) throws -> [String: String] {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw ConfigurationError("\(file): not valid YAML: \(YAMLMessages.describe(error))")
        }
        guard let node else { return [:] }
        guard let mapping = node.mapping else {
            throw ConfigurationError("\(file): must be a mapping of key: value lines")
        }
        var result: [String: String] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw ConfigurationError("\(file): keys must be plain words") }
            guard let scalar = value.scalar else {
                throw ConfigurationError("\(file): \(name) must be a single value, not a list or mapping")
            }
            result[name] = scalar.string
        }
        return result
    }
}
