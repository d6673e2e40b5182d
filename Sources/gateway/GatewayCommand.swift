import ArgumentParser
import ContactLog
import Foundation
import GatewayCore
import GatewayHTTP
import Logging
import ServiceLifecycle
import Worker

@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Collections notification gateway: Redis jobs in, SMS/email/push out, every decision in the contact log.",
        subcommands: [Run.self, Log.self, TemplatesCommand.self, ContactsCommand.self, RulesCommand.self],
        defaultSubcommand: Run.self)
}

struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Gateway configuration file (keys in README; GATEWAY_<KEY> and REDIS_URL override it).")
    var config: String = "config/gateway.yml"

    func load() throws -> GatewayConfiguration {
        do {
            return try GatewayConfiguration.load(path: config)
        } catch let error as ConfigurationError {
            throw ValidationError(error.message)
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
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "gateway")
        let configuration = try options.load()
        let gateway: Gateway
        do {
            gateway = try Gateway(configuration: configuration, logger: logger)
        } catch let error as ConfigurationError {
            throw ValidationError(error.message)
        }
        logger.info("gateway configured", metadata: [
            "contact_log": "\(configuration.contactLogPath)",
            "templates": "\(gateway.templates.current.templateNames.joined(separator: ","))",
            "providers": "\(gateway.providers.providers.map(\.name).joined(separator: ","))",
        ])
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: gateway.worker, successTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: gateway.reloader),
        ]
        if configuration.httpPort != 0 {
            let http = buildApplication(
                configuration: HTTPConfiguration(host: configuration.httpHost, port: configuration.httpPort, defaultLocale: configuration.defaultLocale),
                templates: gateway.templates, store: gateway.store, twilioReceipts: gateway.providers.twilioReceipts,
                sendGridEvents: gateway.providers.sendGridEvents, infobipReports: gateway.providers.infobipReports, logger: logger)
            services.append(.init(service: http))
            logger.info("HTTP API listening", metadata: ["address": "\(configuration.httpHost):\(configuration.httpPort)"])
        }
        let group = ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        await gateway.shutdown()
    }
}

struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the contact log: a contact's attempts, or one job's events.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "Contact id (contact.id in the job).")
    var contact: String?

    @Option(help: "Job id.")
    var job: String?

    @Flag(help: "Every event (received, dispatching...), not only outcomes, deferrals and opt-out changes.")
    var all = false

    @Flag(help: "One JSON object per line instead of a table.")
    var json = false

    @Option(help: "At most this many events.")
    var limit: Int = 1000

    func validate() throws {
        guard contact != nil || job != nil else { throw ValidationError("give --contact ID or --job ID") }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() async throws {
        let configuration = try options.load()
        guard FileManager.default.fileExists(atPath: configuration.contactLogPath) else {
            throw ValidationError("no contact log at \(configuration.contactLogPath) (has the gateway run here yet?)")
        }
        let store = try SQLiteContactLog(path: configuration.contactLogPath)
        // By default: outcomes and everything that held a message back or changed what may be sent.
        let kinds: [EventKind]? = all ? nil : EventKind.allCases.filter {
            $0.isTerminal || [.retryScheduled, .duplicate, .deferred, .optOut, .optIn].contains($0)
        }
        let events = try await store.events(EventFilter(contactID: contact, jobID: job, kinds: kinds, limit: limit))
        if json {
            for stored in events { print(EventPrinter.jsonLine(stored)) }
        } else if events.isEmpty {
            print("no events")
        } else {
            for stored in events { print(EventPrinter.text(stored)) }
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

    static func jsonLine(_ stored: StoredEvent) -> String {
        let e = stored.event
        var object: [String: JSONValue] = ["seq": .number(Double(stored.sequence)), "kind": .string(e.kind.rawValue),
                                           "at": .string(formatTimestamp(e.at)), "attempt": .number(Double(e.attempt))]
        let optional: [(String, String?)] = [
            ("job_id", e.jobID), ("contact_id", e.contactID), ("channel", e.channel?.rawValue), ("template", e.template),
            ("tone", e.tone), ("variant", e.variant), ("provider", e.provider), ("provider_message_id", e.providerMessageID),
            ("reason", e.reason), ("detail", e.detail), ("body", e.body), ("address", e.address), ("stream_id", e.streamID),
        ]
        for (key, value) in optional { if let value { object[key] = .string(value) } }
        let encoder = JSONEncoder.stable()
        return String(decoding: (try? encoder.encode(object)) ?? Data(), as: UTF8.self)
    }
}
