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
    /// Verifiers for the delivery reports of the Twilio providers that set a status_callback.
    public var twilioReceipts: [TwilioReceipts] = []
    /// Verifiers for the incoming-message webhooks of the Twilio providers that set an inbound_url.
    public var twilioInbound: [TwilioReceipts] = []
    /// Verifiers for the event webhooks of the SendGrid providers.
    public var sendGridEvents: [SendGridEvents] = []
    /// Token checks for the delivery reports of the Infobip providers.
    public var infobipReports: [InfobipReports] = []
    /// The inbound e-mail (Inbound Parse) URLs of the SendGrid providers that set an inbound_token.
    public var sendGridInbound: [SendGridInboundRoute] = []
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

    public func policy(of provider: String) -> ProviderPolicy {
        policies[provider] ?? ProviderPolicy()
    }

    /// Reads every `providers/*.yml`. With none, the sandbox provider serves every channel, writing
    /// to the outbox file. Secrets are `${ENV_VAR}` references; a missing variable is an error.
    public static func load(directory: String, outboxPath: String, client: CurlHTTPClient,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProviderRegistry {
        let fm = FileManager.default
        let files = ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }.sorted()
        var loaded: [(provider: any MessageProvider, priority: Int)] = []
        var policies: [String: ProviderPolicy] = [:]
        var receipts: [TwilioReceipts] = []
        var inbound: [TwilioReceipts] = []
        var events: [SendGridEvents] = []
        var reports: [InfobipReports] = []
        var inboundMail: [SendGridInboundRoute] = []
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
            let entry = try provider(named: name, values: values, file: path, outboxPath: outboxPath, client: client)
            loaded.append((entry.provider, entry.priority))
            if let receipt = entry.receipts { receipts.append(receipt) }
            if let replies = entry.inbound { inbound.append(replies) }
            if let verifier = entry.events { events.append(verifier) }
            if let check = entry.reports { reports.append(check) }
            if let route = entry.inboundMail { inboundMail.append(route) }
        }
        if loaded.isEmpty {
            loaded.append((try SandboxProvider(outboxPath: outboxPath), 1000))
        }
        var registry = ProviderRegistry(providers: loaded)
        registry.policies = policies
        registry.twilioReceipts = receipts
        registry.twilioInbound = inbound
        registry.sendGridEvents = events
        registry.infobipReports = reports
        registry.sendGridInbound = inboundMail
        return registry
    }

    static func provider(named name: String, values: [String: String], file: String, outboxPath: String,
                         client: CurlHTTPClient) throws -> (provider: any MessageProvider, priority: Int, receipts: TwilioReceipts?, inbound: TwilioReceipts?,
                                            events: SendGridEvents?, reports: InfobipReports?, inboundMail: SendGridInboundRoute?) {
        var values = values
        func take(_ key: String) -> String? { values.removeValue(forKey: key) }
        func required(_ key: String) throws -> String {
            guard let value = take(key), !value.isEmpty else { throw ConfigurationError("\(file): \(key) is required") }
            return value
        }
        guard let type = take("type") else {
            throw ConfigurationError("\(file): type is required (twilio, infobip, sendgrid, smtp, fcm, apns, webhook or sandbox)")
        }
        let priorityText = take("priority") ?? "100"
        guard let priority = Int(priorityText) else { throw ConfigurationError("\(file): priority must be a whole number, got \"\(priorityText)\"") }
        let provider: any MessageProvider
        var receipts: TwilioReceipts?
        var inbound: TwilioReceipts?
        var events: SendGridEvents?
        var reports: InfobipReports?
        var inboundMail: SendGridInboundRoute?
        func timeoutValue() throws -> Double {
            let text = take("timeout_seconds") ?? "10"
            guard let timeout = Double(text), timeout > 0, timeout <= 120 else {
                throw ConfigurationError("\(file): timeout_seconds must be a number from 0 to 120, got \"\(text)\"")
            }
            return timeout
        }
        func baseURL(_ fallback: String) throws -> String {
            let url = take("base_url") ?? fallback
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw ConfigurationError("\(file): base_url must start with https:// (or http:// for a local fake), got \"\(url)\"")
            }
            return url
        }
        func unsignedFlag() throws -> Bool {
            let unsigned = take("accept_unsigned_receipts")
            guard unsigned == nil || unsigned == "true" || unsigned == "false" else {
                throw ConfigurationError("\(file): accept_unsigned_receipts must be true or false")
            }
            return unsigned == "true"
        }
        switch type {
        case "sandbox":
            provider = try SandboxProvider(name: name, outboxPath: take("outbox") ?? outboxPath)
        case "twilio":
            let sid = try required("account_sid")
            guard sid.hasPrefix("AC"), sid.count == 34 else {
                throw ConfigurationError("\(file): account_sid must be a Twilio Account SID (AC followed by 32 characters), got \"\(sid)\"")
            }
            let from = take("from")
            let service = take("messaging_service_sid")
            guard (from == nil) != (service == nil) else {
                throw ConfigurationError("\(file): give exactly one of from (an E.164 number) or messaging_service_sid (MG...)")
            }
            if let from, !JobDecoder.isE164(from), !from.allSatisfy({ $0.isLetter || $0.isNumber }) {
                throw ConfigurationError("\(file): from must be an E.164 number like +15005550006 or an alphanumeric sender id, got \"\(from)\"")
            }
            let base = try baseURL("https://api.twilio.com")
            let timeout = try timeoutValue()
            let token = try required("auth_token")
            let callback = take("status_callback")
            let unsigned = try unsignedFlag()
            if let callback {
                guard callback.hasPrefix("https://") || callback.hasPrefix("http://") else {
                    throw ConfigurationError("\(file): status_callback must be the full public URL of /webhooks/twilio/status, like https://gateway.example.com/webhooks/twilio/status")
                }
                receipts = TwilioReceipts(provider: name, authToken: token, callbackURL: callback, acceptUnsigned: unsigned)
            }
            if let url = take("inbound_url") {
                guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                    throw ConfigurationError("\(file): inbound_url must be the full public URL of /webhooks/twilio/inbound, as set on the Twilio number's messaging webhook")
                }
                inbound = TwilioReceipts(provider: name, authToken: token, callbackURL: url, acceptUnsigned: unsigned)
            }
            provider = TwilioProvider(name: name, configuration: .init(
                accountSID: sid, authToken: token, from: from, messagingServiceSID: service,
                baseURL: base, statusCallback: callback, timeout: timeout), client: client)
        case "infobip":
            let base = try baseURL("https://api.infobip.com")
            var notify = take("notify_url")
            if let token = take("report_token") {
                guard token.utf8.count >= 16 else { throw ConfigurationError("\(file): report_token must be at least 16 characters (use ${ENV_VAR})") }
                guard let url = notify else { throw ConfigurationError("\(file): report_token needs notify_url: the public URL of /webhooks/infobip/reports") }
                notify = url + (url.contains("?") ? "&" : "?") + "token=" + FormEncoding.escape(token)
                reports = InfobipReports(provider: name, token: token)
            } else if notify != nil {
                throw ConfigurationError("\(file): notify_url needs report_token: Infobip does not sign reports, so the gateway only accepts reports carrying this secret")
            }
            provider = InfobipProvider(name: name, configuration: .init(apiKey: try required("api_key"), baseURL: base, from: try required("from"),
                                                                        notifyURL: notify, timeout: try timeoutValue()), client: client)
        case "smtp":
            let url = try required("url")
            guard url.hasPrefix("smtp://") || url.hasPrefix("smtps://") else {
                throw ConfigurationError("\(file): url must be smtp://host:587 (STARTTLS) or smtps://host:465, got \"\(url)\"")
            }
            let from = try required("from_email")
            guard JobDecoder.isEmailAddress(from) else { throw ConfigurationError("\(file): from_email is not an e-mail address: \"\(from)\"") }
            let starttls = take("require_starttls") ?? "true"
            guard starttls == "true" || starttls == "false" else { throw ConfigurationError("\(file): require_starttls must be true or false") }
            let ca = take("ca_file")
            if let ca, !FileManager.default.fileExists(atPath: ca) { throw ConfigurationError("\(file): ca_file \(ca) does not exist") }
            let user = take("username")
            let password = take("password")
            if (user == nil) != (password == nil) { throw ConfigurationError("\(file): give both username and password (or neither)") }
            provider = SMTPProvider(name: name, configuration: .init(
                url: url, fromEmail: from, fromName: take("from_name"), username: user, password: password, requireTLS: starttls == "true",
                caFile: ca, listUnsubscribe: take("list_unsubscribe"), timeout: try timeoutValue()), client: client)
        case "fcm":
            let path = try required("service_account_file")
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError("\(file): service_account_file \(path) cannot be read")
            }
            let account: FCMProvider.ServiceAccount
            do { account = try JSONDecoder().decode(FCMProvider.ServiceAccount.self, from: data) } catch {
                throw ConfigurationError("\(file): \(path) is not a service-account JSON (project_id, private_key, client_email, token_uri): \(error)")
            }
            do {
                provider = try FCMProvider(name: name, account: account, baseURL: try baseURL("https://fcm.googleapis.com"), timeout: try timeoutValue(), client: client)
            } catch let error as ConfigurationError {
                throw error
            } catch {
                throw ConfigurationError("\(file): the private_key in \(path) is not an RSA key: \(error)")
            }
        case "apns":
            let keyID = try required("key_id")
            let teamID = try required("team_id")
            for (field, value) in [("key_id", keyID), ("team_id", teamID)] where value.count != 10 || !value.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) }) {
                throw ConfigurationError("\(file): \(field) must be Apple's 10-character id (capital letters and digits), got \"\(value)\"")
            }
            let topic = try required("topic")
            guard topic.contains("."), !topic.contains(" ") else {
                throw ConfigurationError("\(file): topic must be the app's bundle id, like com.bank.app, got \"\(topic)\"")
            }
            let keyPath = try required("private_key_file")
            guard let keyData = FileManager.default.contents(atPath: keyPath) else {
                throw ConfigurationError("\(file): private_key_file \(keyPath) cannot be read")
            }
            let environment = take("environment") ?? "production"
            let defaultBase: String
            switch environment {
            case "production": defaultBase = "https://api.push.apple.com"
            case "sandbox": defaultBase = "https://api.sandbox.push.apple.com"
            default: throw ConfigurationError("\(file): environment must be production or sandbox (development builds of the app), got \"\(environment)\"")
            }
            let base = try baseURL(defaultBase)
            guard base.hasPrefix("https://") else {
                throw ConfigurationError("\(file): base_url must start with https://: APNs speaks only HTTP/2, which the gateway negotiates over TLS")
            }
            let ca = take("ca_file")
            if let ca, !FileManager.default.fileExists(atPath: ca) { throw ConfigurationError("\(file): ca_file \(ca) does not exist") }
            let ttlText = take("ttl_seconds") ?? "3600"
            guard let ttl = Double(ttlText), ttl >= 0, ttl <= 86_400 else {
                throw ConfigurationError("\(file): ttl_seconds must be a number of seconds from 0 to 86400, got \"\(ttlText)\"")
            }
            do {
                provider = try APNsProvider(name: name, configuration: .init(
                    keyID: keyID, teamID: teamID, topic: topic, privateKeyPEM: String(decoding: keyData, as: UTF8.self),
                    baseURL: base, timeToLive: ttl, timeout: try timeoutValue(), caFile: ca), client: client)
            } catch let error as ConfigurationError {
                throw error
            } catch {
                throw ConfigurationError("\(file): \(keyPath) is not an APNs signing key (the .p8 file, a P-256 private key): \(error)")
            }
        case "webhook":
            let url = try required("url")
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw ConfigurationError("\(file): url must start with https:// (or http:// on a private network), got \"\(url)\"")
            }
            let secret = try required("secret")
            guard secret.utf8.count >= 16 else { throw ConfigurationError("\(file): secret must be at least 16 characters (use ${ENV_VAR})") }
            guard let list = take("channels") else { throw ConfigurationError("\(file): channels is required for a webhook provider, like channels: sms, push") }
            let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let channels = names.compactMap(Channel.init(rawValue:))
            guard !channels.isEmpty, channels.count == names.count else {
                throw ConfigurationError("\(file): channels must list sms, email and/or push, comma-separated; got \"\(list)\"")
            }
            provider = WebhookProvider(name: name, configuration: .init(url: url, secret: secret, channels: Set(channels), timeout: try timeoutValue()), client: client)
        case "sendgrid":
            let from = try required("from_email")
            guard JobDecoder.isEmailAddress(from) else { throw ConfigurationError("\(file): from_email is not an e-mail address: \"\(from)\"") }
            let key = take("event_webhook_public_key")
            let unsigned = try unsignedFlag()
            do {
                events = try SendGridEvents(provider: name, publicKey: key, acceptUnsigned: unsigned)
            } catch {
                throw ConfigurationError("\(file): event_webhook_public_key: \((error as? ReceiptRejection)?.message ?? "\(error)")")
            }
            if key == nil && !unsigned { events = nil }
            if let token = take("inbound_token") {
                guard token.utf8.count >= 16 else { throw ConfigurationError("\(file): inbound_token must be at least 16 characters (use ${ENV_VAR}); it is the secret in the Inbound Parse URL") }
                let parser = SendGridInbound(provider: name)
                inboundMail = SendGridInboundRoute(provider: name, token: token) { body, type, at in parser.parse(body: body, contentType: type, at: at) }
            }
            provider = SendGridProvider(name: name, configuration: .init(
                apiKey: try required("api_key"), fromEmail: from, fromName: take("from_name"), listUnsubscribe: take("list_unsubscribe"),
                baseURL: try baseURL("https://api.sendgrid.com"), timeout: try timeoutValue()), client: client)
        default:
            throw ConfigurationError("\(file): unknown provider type \"\(type)\" (known: twilio, infobip, sendgrid, smtp, fcm, apns, webhook, sandbox)")
        }
        if let channels = take("channels") {
            throw ConfigurationError("\(file): channels is fixed by the provider type; remove \"channels: \(channels)\"")
        }
        if let unknown = values.keys.sorted().first {
            throw ConfigurationError("\(file): unknown key \"\(unknown)\" for a \(type) provider")
        }
        return (provider, priority, receipts, inbound, events, reports, inboundMail)
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
