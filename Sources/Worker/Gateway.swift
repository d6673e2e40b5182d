import ContactLog
import Conversations
import Foundation
import GatewayCore
import Logging
import Providers
import RedisQueue
import Templates

/// Everything a running gateway is made of, built from a configuration. `gateway run` and the
/// end-to-end tests both build it here, so the tests exercise exactly what production runs.
public struct Gateway: Sendable {
    public let configuration: GatewayConfiguration
    /// The first lane's connection; `redisClients` has every lane's.
    public let redis: RedisClient
    public let redisClients: [RedisClient]
    public let store: any ContactLogStore
    public let http: CurlHTTPClient
    public let providers: ProviderRegistry
    public let templates: TemplateStore
    public let rules: ContactRules
    /// What replies do (config/reply-actions.yml, read again when it changes).
    public let replyPolicy: ReplyPolicySource
    public let worker: QueueWorker
    public let reloader: TemplateReloader
    /// Signs the chain heads every `checkpoint_seconds` when `checkpoint_key` is set.
    public let checkpointer: Checkpointer?

    /// What `gateway run` wraps around the contact log and each provider before the lanes are
    /// built (the metrics), so the worker and the API use the wrapped ones.
    public struct Decorations: Sendable {
        public var store: @Sendable (any ContactLogStore) -> any ContactLogStore
        public var provider: @Sendable (any MessageProvider) -> any MessageProvider
        public init(store: @escaping @Sendable (any ContactLogStore) -> any ContactLogStore = { $0 },
                    provider: @escaping @Sendable (any MessageProvider) -> any MessageProvider = { $0 }) {
            self.store = store
            self.provider = provider
        }
    }

    public init(configuration: GatewayConfiguration, logger: Logger,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                clock: @escaping @Sendable () -> Date = Date.init, decorations: Decorations = Decorations()) async throws {
        self.configuration = configuration
        var redisConfiguration: RedisConfiguration
        do { redisConfiguration = try RedisConfiguration(url: configuration.redisURL) } catch let error as RedisError {
            throw ConfigurationError(error.message)
        }
        redisConfiguration.clientName = "gateway:\(configuration.consumer)"
        let contactRules = try ContactRulesFile.read(path: configuration.contactRulesPath)
        rules = contactRules.rules
        let templates: TemplateStore
        do {
            templates = try TemplateStore(directory: configuration.templatesDirectory, requirements: contactRules.templates,
                                          defaultLocale: configuration.defaultLocale)
        } catch {
            throw ConfigurationError("templates: \(error)")
        }
        self.templates = templates
        let replyActionsPath = configuration.replyActionsPath
        @Sendable func warnOfMissingTemplates(_ policy: ReplyPolicy) {
            for name in [policy.optOutConfirmationTemplate, policy.helpTemplate] where !templates.current.hasTemplate(name) {
                logger.warning("a template replies are answered with does not exist: those answers will be refused as unknown_template", metadata: [
                    "template": "\(name)", "reply_actions": "\(replyActionsPath)", "fix": "add templates/\(name)/ or name another in reply-actions.yml",
                ])
            }
        }
        do { replyPolicy = try ReplyPolicySource(path: replyActionsPath, logger: logger, onReload: warnOfMissingTemplates) } catch {
            throw ConfigurationError(error.message)
        }
        let replyPolicy = self.replyPolicy
        warnOfMissingTemplates(replyPolicy.current)
        let http = CurlHTTPClient()
        self.http = http
        providers = try ProviderRegistry.load(directory: configuration.providersDirectory, outboxPath: configuration.outboxPath,
                                              client: http, environment: environment).mapProviders(decorations.provider)
        // A claim younger than claim_idle_ms / 2 is taken as "still being sent" (see BatchProcessor), so a
        // batch must always finish well within that: the slowest provider request bounds it.
        let slowest = providers.providers.map(\.requestTimeout).max() ?? 0
        guard Double(configuration.claimIdleMilliseconds) / 1000 >= 4 * slowest else {
            throw ConfigurationError("claim_idle_ms (\(configuration.claimIdleMilliseconds)) must be at least 4 × the longest provider timeout (\(slowest) s): raise claim_idle_ms or lower timeout_seconds")
        }
        let opened = try await ContactLogs.open(configuration.contactLogPath, chains: configuration.logChains, logger: logger)
        if let path = configuration.checkpointKeyPath {
            guard let signing = opened as? any LogCheckpointing else {
                throw ConfigurationError("checkpoint_key needs the PostgreSQL contact log: a SQLite file has one chain, whose head `gateway audit verify` prints (remove checkpoint_key)")
            }
            do {
                checkpointer = Checkpointer(store: signing, key: try CheckpointKeys.signingKey(file: path),
                                            interval: .seconds(configuration.checkpointSeconds), logger: logger)
            } catch let error as ContactLogError {
                throw ConfigurationError("checkpoint_key: \(error.message)")
            }
        } else {
            checkpointer = nil
        }
        store = decorations.store(opened)
        // One lane per batch in flight, each with its own Redis connection (a lane's blocking read must
        // not hold up another's cap checks) and its own consumer name in the group.
        var lanes: [BatchProcessor] = []
        var clients: [RedisClient] = []
        for lane in 0..<configuration.concurrency {
            var laneConfiguration = redisConfiguration
            if lane > 0 { laneConfiguration.clientName = "gateway:\(configuration.consumer)#\(lane)" }
            let client = RedisClient(configuration: laneConfiguration)
            clients.append(client)
            let consumer = StreamConsumer(client: client, stream: configuration.stream, group: configuration.group,
                                          consumer: lane == 0 ? configuration.consumer : "\(configuration.consumer)#\(lane)",
                                          deadLetterStream: configuration.deadLetterStream)
            let scheduler = RetryScheduler(client: client, key: configuration.scheduledKey, stream: configuration.stream,
                                           baseSeconds: configuration.retryBaseSeconds)
            lanes.append(BatchProcessor(settings: .init(configuration), consumer: consumer, store: store, providers: providers,
                                        templates: { templates.current }, scheduler: scheduler, rules: rules,
                                        ledger: CapLedger(client: client, prefix: configuration.capsPrefix), clock: clock,
                                        replyPolicy: { replyPolicy.looked() }, logger: logger))
        }
        redis = clients[0]
        redisClients = clients
        worker = QueueWorker(lanes: lanes, logger: logger)
        reloader = TemplateReloader(store: templates, interval: .milliseconds(Int(configuration.templatesReloadSeconds * 1000)), logger: logger)
    }

    /// Releases the Redis connection and the HTTP thread. Call after the worker has returned.
    public func shutdown() async {
        for client in redisClients { await client.shutdown() }
        http.shutdown()
    }
}
