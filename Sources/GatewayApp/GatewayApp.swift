import Console
import Conversations
import Foundation
import GatewayCore
import GatewayHTTP
import GatewayMetrics
import Hummingbird
import Logging
import RedisQueue
import Replies
import ServiceLifecycle
import Worker

/// The whole running gateway: the queue worker, the template reloader and, when `http_port` is not
/// 0, the HTTP API with the reply desk its webhooks use. `gateway run` and the end-to-end tests both
/// build it here, so the tests run what production runs.
public struct GatewayApp: Sendable {
    public let gateway: Gateway
    /// The services to run together: the worker, the reloader, the checkpointer and the HTTP server if any.
    public let services: [ServiceGroupConfiguration.ServiceConfiguration]
    /// The API's own Redis connection (the worker's block in XREADGROUP); nil without HTTP.
    let apiRedis: RedisClient?
    /// What GET /metrics exposes: the contact log and the providers are wrapped to count into it.
    public let metrics: GatewayMetrics

    /// - Parameters:
    ///   - descriptorLimit: the process's open-file limit; the HTTP connection cap is lowered to leave
    ///     descriptors for files and databases (0: not known, keep the configured cap).
    ///   - anyFreePort: tests: serve HTTP on a port the system picks (even with `http_port: 0`), and
    ///     learn it here once the server listens.
    ///   - metrics: where the counts go (`gateway run` passes the one it bootstrapped `MetricsSystem`
    ///     with; by default a registry of this app's own, so tests never mix counts).
    public static func build(configuration: GatewayConfiguration, logger: Logger, descriptorLimit: UInt64 = 0,
                             environment: [String: String] = ProcessInfo.processInfo.environment,
                             clock: @escaping @Sendable () -> Date = Date.init,
                             metrics: GatewayMetrics = GatewayMetrics(),
                             anyFreePort: (@Sendable (Int) async -> Void)? = nil) async throws -> GatewayApp {
        let decorations = Gateway.Decorations(store: { MeteredContactLog($0, metrics: metrics) },
                                              provider: { MeteredProvider($0, metrics: metrics) })
        let gateway = try await Gateway(configuration: configuration, logger: logger, environment: environment, clock: clock,
                                        decorations: decorations)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: gateway.worker, successTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: gateway.reloader),
        ]
        if let checkpointer = gateway.checkpointer { services.append(.init(service: checkpointer)) }
        guard configuration.httpPort != 0 || anyFreePort != nil else {
            return GatewayApp(gateway: gateway, services: services, apiRedis: nil, metrics: metrics)
        }
        do {
            let (http, redis) = try await api(gateway: gateway, logger: logger, descriptorLimit: descriptorLimit,
                                              port: anyFreePort == nil ? configuration.httpPort : 0, metrics: metrics, clock: clock,
                                              onServerRunning: anyFreePort ?? { _ in })
            services.append(.init(service: http))
            return GatewayApp(gateway: gateway, services: services, apiRedis: redis, metrics: metrics)
        } catch {
            await gateway.shutdown()
            throw error
        }
    }

    static func api(gateway: Gateway, logger: Logger, descriptorLimit: UInt64, port: Int,
                    metrics: GatewayMetrics, clock: @escaping @Sendable () -> Date,
                    onServerRunning: @escaping @Sendable (Int) async -> Void) async throws -> (any Service, RedisClient) {
        let configuration = gateway.configuration
        let tokenFile: TokenFile
        do { tokenFile = try TokenFile(path: configuration.apiTokensPath, logger: logger) } catch { throw ConfigurationError("\(error)") }
        let tokens = tokenFile.current()
        if tokens.entries.isEmpty {
            logger.warning("no API tokens: every API endpoint but /health and the provider webhooks answers 401", metadata: [
                "api_tokens": "\(configuration.apiTokensPath)", "fix": "gateway tokens new --name NAME --role ROLE",
            ])
        }
        let requested = ConnectionLimits(headerTimeout: .seconds(configuration.httpHeaderTimeoutSeconds),
                                         bodyTimeout: .seconds(configuration.httpBodyTimeoutSeconds),
                                         idleTimeout: .seconds(configuration.httpIdleTimeoutSeconds),
                                         maxConnections: configuration.httpMaxConnections)
        let limits = descriptorLimit > 0 ? requested.fitting(descriptorLimit: descriptorLimit) : requested
        if limits.maxConnections < requested.maxConnections {
            logger.warning("http_max_connections lowered to leave descriptors for files and databases", metadata: [
                "http_max_connections": "\(limits.maxConnections)", "configured": "\(requested.maxConnections)", "open_file_limit": "\(descriptorLimit)",
                "fix": "raise the hard open-file limit (ulimit -Hn, LimitNOFILE=, docker --ulimit nofile=) or lower http_max_connections",
            ])
        }
        // Compliance's reply lexicons for POST /replies/classify and the webhooks; edits are picked up within seconds.
        var replies: RepliesStore?
        if FileManager.default.fileExists(atPath: configuration.repliesDirectory) {
            do { replies = try RepliesStore(directory: configuration.repliesDirectory) } catch { throw ConfigurationError(error.message) }
        } else {
            logger.notice("no reply lexicons: POST /replies/classify answers 503", metadata: ["replies": "\(configuration.repliesDirectory)"])
        }
        var redisConfiguration = try RedisConfiguration(url: configuration.redisURL)
        redisConfiguration.clientName = "gateway-api:\(configuration.consumer)"
        let redis = RedisClient(configuration: redisConfiguration)
        let providers = gateway.providers
        // GET /metrics reads the queue's figures on the API's connection, at most every 2 s.
        let figures = ScrapeFigures(metrics: metrics, redis: redis,
                                    keys: .init(stream: configuration.stream, group: configuration.group,
                                                scheduled: configuration.scheduledKey, deadLetters: configuration.deadLetterStream),
                                    providers: providers, now: clock)
        var desk = ReplyDesk(store: gateway.store, lexicons: replies, policy: gateway.replyPolicy.current,
                             intake: JobIntake(client: redis, stream: configuration.stream),
                             escalations: StreamOnce(client: redis, stream: configuration.escalationStream,
                                                     prefix: configuration.escalationStream + ":published:"),
                             timeZone: TimeZone(identifier: gateway.rules.defaultTimeZone) ?? TimeZone(identifier: "UTC")!,
                             confirmingKeywords: Set(providers.twilioInbound.map(\.provider)), logger: logger)
        desk.policySource = gateway.replyPolicy
        // /ready's checks, shown on the console's status page too.
        let readiness = Readiness.gateway(redis: redis, gateway: gateway)
        // The web console at /console/: sessions on the API's Redis connection, the same tokens.
        let console = Console(configuration: ConsoleConfiguration(sessionIdleSeconds: configuration.consoleSessionIdleSeconds,
                                                                  trustForwardedProto: configuration.consoleTrustForwardedProto,
                                                                  defaultLocale: configuration.defaultLocale,
                                                                  trustForwardedFor: configuration.consoleTrustForwardedFor,
                                                                  signInLimit: SignInLimit(perAddress: configuration.consoleSignInAttempts,
                                                                                           all: configuration.consoleSignInAttemptsAll,
                                                                                           windowSeconds: configuration.consoleSignInWindowSeconds,
                                                                                           keyPrefix: configuration.consoleSignInPrefix),
                                                                  templateApproval: configuration.templateApprovalRequired),
                              tokens: { tokenFile.current() }, redis: redis, templates: gateway.templates, store: gateway.store, logger: logger,
                              operations: ConsoleOperations(readiness: readiness, queue: {
                                  let q = try await figures.queueNow()
                                  return .init(entries: q.entries, waiting: q.waiting, pending: q.pending, oldestPendingAge: q.oldestPendingAge,
                                               scheduled: q.scheduled, deadLetters: q.deadLetters)
                              }, providers: {
                                  ScrapeFigures.breakerStates(providers, at: clock()).map {
                                      .init(name: $0.provider, channels: $0.channels, breaker: $0.state, openUntil: $0.openUntil)
                                  }
                              }, replyActionsRefused: { [replyPolicy = gateway.replyPolicy] in replyPolicy.refused }))
        let http = buildApplication(
            configuration: HTTPConfiguration(host: configuration.httpHost, port: port, defaultLocale: configuration.defaultLocale,
                                             maxJobBytes: configuration.maxJobBytes, limits: limits),
            templates: gateway.templates, store: gateway.store, twilioReceipts: providers.twilioReceipts,
            twilioInbound: providers.twilioInbound, sendGridEvents: providers.sendGridEvents, infobipReports: providers.infobipReports,
            tokenFile: tokenFile, readiness: readiness,
            intake: JobIntake(client: redis, stream: configuration.stream), replies: replies, replyDesk: desk,
            sendGridInbound: providers.sendGridInbound, metrics: MetricsEndpoint { await figures.exposition() },
            console: console.routes(), logger: logger,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("HTTP API listening", metadata: ["address": "\(configuration.httpHost):\(port)", "api_tokens": "\(tokens.entries.count)"])
                await onServerRunning(port)
            })
        return (http, redis)
    }

    /// Runs every service until SIGTERM or SIGINT (or the worker stops), then releases connections.
    public func run(logger: Logger) async throws {
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            await shutdown()
            throw error
        }
        await shutdown()
    }

    /// Releases the API's and the worker's Redis connections and the HTTP client thread.
    public func shutdown() async {
        await apiRedis?.shutdown()
        await gateway.shutdown()
    }
}
