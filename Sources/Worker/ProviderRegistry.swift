import Foundation
import GatewayCore
import Providers
import Yams

/// How much a provider may be sent, and its circuit breaker.
public struct ProviderPolicy: Sendable {
    /// Requests a second across all workers (nil: no limit) and how many may be saved up.
    public var ratePerSecond: Double?
    public var burst: Int
    public let breaker: CircuitBreaker

    public init(ratePerSecond: Double? = nil, burst: Int = 1, breaker: CircuitBreaker = CircuitBreaker()) {
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        self.breaker = breaker
    }
}

/// The configured providers, and which ones serve each channel, best first.
public struct ProviderRegistry: Sendable {
    public var providers: [any MessageProvider]
    public var policies: [String: ProviderPolicy] = [:]
    /// The webhooks the configured providers send to the gateway, each with its verifier.
    public var webhooks: [ProviderWebhook] = []
    private var byChannel: [Channel: [any MessageProvider]]

    public init(providers: [(provider: any MessageProvider, priority: Int)]) {
        let ordered = providers.sorted { ($0.priority, $0.provider.name) < ($1.priority, $1.provider.name) }.map(\.provider)
        self.providers = ordered
        var byChannel: [Channel: [any MessageProvider]] = [:]
        for provider in ordered {
            for channel in provider.channels { byChannel[channel, default: []].append(provider) }
        }
        self.byChannel = byChannel
    }

    /// The preferred provider of a channel.
    public func provider(for channel: Channel) -> (any MessageProvider)? { byChannel[channel]?.first }

    /// Every provider of a channel, in priority order: the next is tried when one fails.
    public func providers(for channel: Channel) -> [any MessageProvider] { byChannel[channel] ?? [] }

    /// The providers that can carry a job on a channel, best first, each with the address it
    /// would use: for push, the token of that provider's push service, unless a provider declared
    /// that token dead.
    public func routes(for job: Job, on channel: Channel, droppedTokens: Set<String> = []) -> [Route] {
        providers(for: channel).compactMap { provider in
            guard let address = provider.address(of: job, on: channel), !(channel == .push && droppedTokens.contains(address)) else { return nil }
            return Route(provider: provider, address: address)
        }
    }

    public struct Route: Sendable {
        public var provider: any MessageProvider
        public var address: String
    }

    /// The same registry with each provider replaced by `transform(provider)` (a wrapper that keeps
    /// its name): the order, the policies and the webhooks stay as they are.
    public func mapProviders(_ transform: (any MessageProvider) -> any MessageProvider) -> ProviderRegistry {
        var mapped = ProviderRegistry(providers: providers.enumerated().map { (provider: transform($1), priority: $0) })
        mapped.policies = policies
        mapped.webhooks = webhooks
        return mapped
    }

    public func policy(of provider: String) -> ProviderPolicy {
        policies[provider] ?? ProviderPolicy()
    }

    /// Verifiers for the delivery reports of the Twilio providers that set a status_callback.
    public var twilioReceipts: [TwilioReceipts] { webhooks.compactMap { if case .twilioStatus(let v) = $0 { v } else { nil } } }
    /// Verifiers for the incoming-message webhooks of the Twilio providers that set an inbound_url.
    public var twilioInbound: [TwilioReceipts] { webhooks.compactMap { if case .twilioInbound(let v) = $0 { v } else { nil } } }
    /// Verifiers for the event webhooks of the SendGrid providers.
    public var sendGridEvents: [SendGridEvents] { webhooks.compactMap { if case .sendGridEvents(let v) = $0 { v } else { nil } } }
    /// Token checks for the delivery reports of the Infobip providers.
    public var infobipReports: [InfobipReports] { webhooks.compactMap { if case .infobipReports(let v) = $0 { v } else { nil } } }
    /// The inbound e-mail (Inbound Parse) URLs of the SendGrid providers that set an inbound_token.
    public var sendGridInbound: [SendGridInboundRoute] { webhooks.compactMap { if case .sendGridInbound(let v) = $0 { v } else { nil } } }

    /// The provider types a file can name in `type:`, in the order error messages list them.
    static let types: KeyValuePairs<String, any ConfigurableProvider.Type> = [
        "twilio": TwilioProvider.self, "infobip": InfobipProvider.self, "sendgrid": SendGridProvider.self, "smtp": SMTPProvider.self,
        "fcm": FCMProvider.self, "apns": APNsProvider.self, "webhook": WebhookProvider.self, "sandbox": SandboxProvider.self,
    ]
    static let typeNames = types.map(\.key).joined(separator: ", ")

    /// Reads every `providers/*.yml`. With none, the sandbox provider serves every channel, writing
    /// to the outbox file. Secrets are `${ENV_VAR}` references; a missing variable is an error.
    public static func load(directory: String, outboxPath: String, client: CurlHTTPClient,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProviderRegistry {
        let fm = FileManager.default
        let files = ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }.sorted()
        var loaded: [(provider: any MessageProvider, priority: Int)] = []
        var policies: [String: ProviderPolicy] = [:]
        var webhooks: [ProviderWebhook] = []
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file)
            let name = String(file.prefix { $0 != "." })
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ConfigurationError("\(path): cannot read: \(error.localizedDescription)")
            }
            var values = try GatewayConfiguration.flatMapping(yaml: text, file: path)
            for key in secretKeys.sorted() {
                guard let value = values[key] else { continue }
                guard isEnvironmentReference(value) else {
                    throw ConfigurationError("\(path): \(key) must be an environment reference like ${\(name.uppercased().replacingOccurrences(of: "-", with: "_"))_\(key.uppercased())}, not the secret itself: secrets stay out of files (and out of git)")
                }
            }
            for (key, value) in values { values[key] = try expand(value, key: key, file: path, environment: environment) }
            policies[name] = try policy(&values, file: path)
            let entry = try provider(ProviderSettings(name: name, file: path, values: values, defaultOutbox: outboxPath), client: client)
            loaded.append((entry.configured.provider, entry.priority))
            webhooks += entry.configured.webhooks
        }
        if loaded.isEmpty {
            loaded.append((try SandboxProvider(outboxPath: outboxPath), 1000))
        }
        var registry = ProviderRegistry(providers: loaded)
        registry.policies = policies
        registry.webhooks = webhooks
        return registry
    }

    /// One file's provider: its `type` and `priority`, then what its type reads.
    static func provider(_ settings: ProviderSettings, client: CurlHTTPClient) throws -> (configured: ConfiguredProvider, priority: Int) {
        guard let type = settings.take("type") else {
            throw settings.error("type is required (\(typeNames))")
        }
        let priorityText = settings.take("priority") ?? "100"
        guard let priority = Int(priorityText) else { throw settings.error("priority must be a whole number, got \"\(priorityText)\"") }
        guard let providerType = types.first(where: { $0.key == type })?.value else {
            throw settings.error("unknown provider type \"\(type)\" (known: \(typeNames))")
        }
        let configured = try providerType.configured(settings, client: client)
        try settings.finish(type: type)
        return (configured, priority)
    }

    /// Keys every provider file may have: rate_per_second, burst, and the breaker_* settings.
    static func policy(_ values: inout [String: String], file: String) throws -> ProviderPolicy {
        func number(_ key: String, _ range: ClosedRange<Double>) throws -> Double? {
            guard let text = values.removeValue(forKey: key) else { return nil }
            guard let value = Double(text), range.contains(value) else {
                throw ConfigurationError("\(file): \(key) must be a number from \(range.lowerBound) to \(range.upperBound), got \"\(text)\"")
            }
            return value
        }
        let rate = try number("rate_per_second", 0.01...100_000)
        let burst = try number("burst", 1...100_000).map(Int.init) ?? max(1, Int((rate ?? 1).rounded(.up)))
        var settings = CircuitBreaker.Settings()
        if let value = try number("breaker_failure_rate", 0.01...1) { settings.failureRate = value }
        if let value = try number("breaker_min_requests", 1...10_000) { settings.minimumRequests = Int(value) }
        if let value = try number("breaker_window", 1...10_000) { settings.window = Int(value) }
        if let value = try number("breaker_open_seconds", 1...3600) { settings.openFor = value }
        guard settings.window >= settings.minimumRequests else {
            throw ConfigurationError("\(file): breaker_window must be at least breaker_min_requests")
        }
        return ProviderPolicy(ratePerSecond: rate, burst: burst, breaker: CircuitBreaker(settings: settings))
    }

    /// Replaces `${NAME}` with the environment variable NAME; an unset one is an error naming it.
    /// Keys whose value is a credential: only `${ENV_VAR}` is accepted for them.
    static let secretKeys: Set<String> = ["auth_token", "api_key", "password", "secret", "report_token", "inbound_token"]

    /// Exactly one `${NAME}`, nothing around it.
    static func isEnvironmentReference(_ value: String) -> Bool {
        guard value.hasPrefix("${"), value.hasSuffix("}"), value.count > 3 else { return false }
        let name = value.dropFirst(2).dropLast()
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") } && !(name.first?.isNumber ?? true)
    }

    static func expand(_ value: String, key: String, file: String, environment: [String: String]) throws -> String {
        var result = ""
        var rest = Substring(value)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw ConfigurationError("\(file): \(key) has an unclosed ${")
            }
            let name = String(rest[start.upperBound..<end])
            guard let resolved = environment[name], !resolved.isEmpty else {
                throw ConfigurationError("\(file): \(key) refers to ${\(name)}, but the environment variable \(name) is not set")
            }
            result += resolved
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }
}
