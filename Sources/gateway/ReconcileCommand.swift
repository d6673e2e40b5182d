import ArgumentParser
import ContactLog
import Foundation
import GatewayCore

/// `gateway reconcile`: the sends the log cannot say reached the customer or not, for compliance to
/// check with each provider (README, "Reconciling unresolved sends").
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "List the sends the contact log cannot resolve (interrupted, possibly delivered, claims without a result), to check with the provider.",
        discussion: """
            A send is unresolved when its worker died between the request and the recorded answer \
            (unknown interrupted, or a claim with no result yet), or when the connection failed after the \
            whole request went out (unknown possibly_delivered). None is ever sent again. Exit 0 when there \
            is none, 2 when there are some (so a scheduled job can alert).
            Examples:
              gateway reconcile --from 2026-11-30
              gateway reconcile --from 2026-11-01 --to 2026-12-01 --format json > unresolved.jsonl
            """)

    @OptionGroup var options: ConfigOptions
    @Option(help: "Claims from this day (YYYY-MM-DD, UTC) or instant (ISO 8601), inclusive. Default: 7 days ago.")
    var from: String?
    @Option(help: "Claims up to this day or instant, exclusive.")
    var to: String?
    @Option(help: "text or json (JSON Lines).")
    var format: String = "text"

    func validate() throws {
        guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json; got \(format)") }
    }

    func run() async throws {
        let configuration = try options.load()
        let store = try await options.contactLog(configuration)
        let now = Date()
        let from = try from.map { try Log.instant($0, option: "--from") } ?? now.addingTimeInterval(-7 * 86_400)
        let to = try to.map { try Log.instant($0, option: "--to") }
        let found = try await store.unresolvedSends(from: from, to: to, now: now,
                                                    liveWindow: Double(configuration.claimIdleMilliseconds) / 2000)
        for send in found {
            if format == "json" {
                print(Self.json(send).serialized)
            } else {
                let ended = send.endedAt.map { ", ended \(formatTimestamp($0))" } ?? ""
                print("\(send.state.rawValue)  job \(send.jobID) attempt \(send.attempt)  \(send.channel?.rawValue ?? "?") via \(send.provider ?? "?") to \(send.address ?? "?")  claimed \(formatTimestamp(send.claimedAt))\(ended)")
            }
        }
        if format == "text" {
            let counts = Dictionary(grouping: found, by: \.state).mapValues(\.count)
            print(found.isEmpty ? "no unresolved sends" : "\(found.count) unresolved: " + UnresolvedSend.State.allStates.compactMap { state in
                counts[state].map { "\($0) \(state.rawValue)" }
            }.joined(separator: ", ") + "; check each with its provider (README, Reconciling unresolved sends)")
        }
        if !found.isEmpty { throw ExitCode(2) }
    }

    static func json(_ send: UnresolvedSend) -> JSONValue {
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
        return .object(object)
    }
}

extension UnresolvedSend.State {
    static let allStates: [UnresolvedSend.State] = [.interrupted, .possiblyDelivered, .noResult]
}
