import ArgumentParser
import ContactLog
import Foundation
import GatewayCore
import Providers
import Worker

/// `gateway reconcile`: the sends the log cannot say reached the customer or not; with
/// `--ask-providers`, asks the providers that allow it and records what they answer (README,
/// "Reconciling unresolved sends").
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "List the sends the contact log cannot resolve (interrupted, possibly delivered, claims without a result); --ask-providers asks the providers and records their answers.",
        discussion: """
            A send is unresolved when its worker died between the request and the recorded answer \
            (unknown interrupted, or a claim with no result yet), or when the connection failed after the \
            whole request went out (unknown possibly_delivered). None is ever sent again. \
            With --ask-providers, each unknown send whose provider can be asked (twilio, infobip, sendgrid, \
            sandbox) is looked up once, and the answer recorded as a reconciled event: found (the job shows \
            sent, reason reconciled, and receipts for the provider's message id reach it) or not_found (it \
            stays unknown); a provider that cannot tell leaves nothing. A job already asked is not asked again. \
            Exit 0 when nothing is left unresolved, 2 when some sends are (so a scheduled job can alert).
            Examples:
              gateway reconcile --from 2026-11-30
              gateway reconcile --from 2026-11-01 --to 2026-12-01 --format json > unresolved.jsonl
              gateway reconcile --ask-providers --from 2026-11-30
            """)

    @OptionGroup var options: ConfigOptions
    @Option(help: "Claims from this day (YYYY-MM-DD, UTC) or instant (ISO 8601), inclusive. Default: 7 days ago.")
    var from: String?
    @Option(help: "Claims up to this day or instant, exclusive.")
    var to: String?
    @Option(help: "text or json (JSON Lines).")
    var format: String = "text"
    @Flag(help: "Ask the providers that can be asked (providers/*.yml) and record their answers in the contact log.")
    var askProviders = false

    func validate() throws {
        guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json; got \(format)") }
    }

    func run() async throws {
        let configuration = try options.load()
        let store = try await options.logWriter(configuration)
        let now = Date()
        let from = try from.map { try Log.instant($0, option: "--from") } ?? now.addingTimeInterval(-7 * 86_400)
        let to = try to.map { try Log.instant($0, option: "--to") }
        let found = try await store.unresolvedSends(from: from, to: to, now: now,
                                                    liveWindow: Double(configuration.claimIdleMilliseconds) / 2000)
        guard askProviders else {
            for send in found { print(format == "json" ? Self.json(send).serialized : Self.line(send)) }
            if format == "text" {
                let counts = Dictionary(grouping: found, by: \.state).mapValues(\.count)
                print(found.isEmpty ? "no unresolved sends" : "\(found.count) unresolved: " + UnresolvedSend.State.allStates.compactMap { state in
                    counts[state].map { "\($0) \(state.rawValue)" }
                }.joined(separator: ", ") + "; gateway reconcile --ask-providers asks the providers that allow it (README, Reconciling unresolved sends)")
            }
            if !found.isEmpty { throw ExitCode(2) }
            return
        }
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        let registry: ProviderRegistry
        do {
            registry = try ProviderRegistry.load(directory: configuration.providersDirectory, outboxPath: configuration.outboxPath, client: client)
        } catch let error as ConfigurationError {
            throw ValidationError(error.message)
        }
        let reconciler = Reconciler(log: store, lookups: Reconciler.lookups(of: registry))
        let format = self.format
        let answers = try await reconciler.reconcile(found) { send, answer in
            print(format == "json" ? Self.json(send, answer: answer).serialized : Self.line(send, answer: answer))
        }
        let left = answers.filter(\.unresolved).count
        if format == "text" {
            let counts = Dictionary(grouping: answers, by: \.code).mapValues(\.count)
            let summary = ["found", "not_found", "cannot_tell", "no_lookup", "already_asked", "not_ended"].compactMap { code in
                counts[code].map { "\($0) \(code)" }
            }.joined(separator: ", ")
            print(found.isEmpty ? "no unresolved sends" : "\(found.count) asked about: \(summary); \(left) still unresolved")
        }
        if left > 0 { throw ExitCode(2) }
    }

    static func line(_ send: UnresolvedSend) -> String {
        let ended = send.endedAt.map { ", ended \(formatTimestamp($0))" } ?? ""
        let asked = send.notFoundAt.map { "; asked \(formatTimestamp($0)): not found" } ?? ""
        return "\(send.state.rawValue)  job \(send.jobID) attempt \(send.attempt)  \(send.channel?.rawValue ?? "?") via \(send.provider ?? "?") to \(send.address ?? "?")  claimed \(formatTimestamp(send.claimedAt))\(ended)\(asked)"
    }

    static func line(_ send: UnresolvedSend, answer: Reconciler.Answer) -> String {
        let said: String = switch answer {
        case .found(let id, let status, let recorded): "\(id) (\(status))" + (recorded ? ", recorded: the job shows sent" : ", already recorded by another reconcile")
        case .notFound(let detail, let recorded): detail + (recorded ? "; recorded, stays unknown" : "; already recorded by another reconcile")
        case .cannotTell(let reason): reason + "; nothing recorded"
        case .noLookup(let reason): reason
        case .alreadyAsked(let at, let detail): "asked \(formatTimestamp(at)): \(detail ?? "not found"); not asked again"
        case .notEnded: "no outcome yet (its worker died; the entry is ended unknown when taken over); not asked"
        }
        return "\(answer.code)  job \(send.jobID) attempt \(send.attempt)  \(send.channel?.rawValue ?? "?") via \(send.provider ?? "?") to \(send.address ?? "?")  (\(send.state.rawValue))  \(said)"
    }

    static func json(_ send: UnresolvedSend, answer: Reconciler.Answer? = nil) -> JSONValue {
        var object: [String: JSONValue] = [
            "state": .string(send.state.rawValue), "job_id": .string(send.jobID), "attempt": .number(Double(send.attempt)),
            "claimed_at": .string(formatTimestamp(send.claimedAt)),
        ]
        object["contact_id"] = send.contactID.map(JSONValue.string) ?? .null
        object["channel"] = send.channel.map { .string($0.rawValue) } ?? .null
        object["provider"] = send.provider.map(JSONValue.string) ?? .null
        object["address"] = send.address.map(JSONValue.string) ?? .null
        object["template"] = send.template.map(JSONValue.string) ?? .null
        object["ended_at"] = send.endedAt.map { .string(formatTimestamp($0)) } ?? .null
        object["not_found_at"] = send.notFoundAt.map { .string(formatTimestamp($0)) } ?? .null
        if let answer {
            var asked: [String: JSONValue] = ["answer": .string(answer.code)]
            switch answer {
            case .found(let id, let status, let recorded):
                asked["message_id"] = .string(id)
                asked["status"] = .string(status)
                asked["recorded"] = .bool(recorded)
            case .notFound(let detail, let recorded):
                asked["detail"] = .string(detail)
                asked["recorded"] = .bool(recorded)
            case .cannotTell(let reason), .noLookup(let reason):
                asked["detail"] = .string(reason)
            case .alreadyAsked(_, let detail):
                asked["detail"] = detail.map(JSONValue.string) ?? .null
            case .notEnded:
                break
            }
            object["asked"] = .object(asked)
        }
        return .object(object)
    }
}

extension UnresolvedSend.State {
    static let allStates: [UnresolvedSend.State] = [.interrupted, .possiblyDelivered, .noResult]
}
