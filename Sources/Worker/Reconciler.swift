import ContactLog
import Foundation
import GatewayCore
import Providers

/// `gateway reconcile --ask-providers`: asks the provider of each unresolved send that can be asked
/// whether it took the message, and records what it answered as one `reconciled` event per job,
/// through the log's ordinary append (so it is hash-chained like every event). A provider that has
/// the message (`found`: its id and status) makes the job show `sent`, reason `reconciled`, and its
/// receipts match the job; one that answered and has none (`not_found`) leaves the job `unknown`;
/// one that cannot tell leaves nothing. A job already asked is not asked again (the database also
/// refuses a second `reconciled` for a job). Claims without a result yet are not asked: the worker
/// first ends them `unknown`.
public struct Reconciler: Sendable {
    /// What became of one send.
    public enum Answer: Sendable, Equatable {
        /// The provider has it; `recorded` false when another reconcile recorded first.
        case found(messageID: String, status: String, recorded: Bool)
        case notFound(detail: String, recorded: Bool)
        case cannotTell(reason: String)
        /// Its provider cannot be asked (FCM, APNs, SMTP, webhook, or not configured here).
        case noLookup(reason: String)
        /// A provider was asked before and had no such message.
        case alreadyAsked(at: Date, detail: String?)
        /// A claim with no outcome yet: the worker ends it `unknown` first.
        case notEnded

        /// Whether the send is still unresolved after this (everything but found).
        public var unresolved: Bool {
            if case .found = self { false } else { true }
        }

        /// A stable word for it (output, JSON).
        public var code: String {
            switch self {
            case .found: "found"
            case .notFound: "not_found"
            case .cannotTell: "cannot_tell"
            case .noLookup: "no_lookup"
            case .alreadyAsked: "already_asked"
            case .notEnded: "not_ended"
            }
        }
    }

    let log: any LogReader & LogAppender
    /// The configured providers that can be asked, by name.
    let lookups: [String: any SendLookup]
    let clock: @Sendable () -> Date

    public init(log: any LogReader & LogAppender, lookups: [String: any SendLookup], clock: @escaping @Sendable () -> Date = Date.init) {
        self.log = log
        self.lookups = lookups
        self.clock = clock
    }

    /// The providers of a registry that can be asked.
    public static func lookups(of registry: ProviderRegistry) -> [String: any SendLookup] {
        var lookups: [String: any SendLookup] = [:]
        for provider in registry.providers {
            if let lookup = provider as? any SendLookup { lookups[provider.name] = lookup }
        }
        return lookups
    }

    /// Asks about each send in turn and records each answer as it comes.
    public func reconcile(_ sends: [UnresolvedSend], _ each: (UnresolvedSend, Answer) async throws -> Void = { _, _ in }) async throws -> [Answer] {
        var answers: [Answer] = []
        for send in sends {
            let answer = try await reconcile(send)
            try await each(send, answer)
            answers.append(answer)
        }
        return answers
    }

    func reconcile(_ send: UnresolvedSend) async throws -> Answer {
        if let asked = send.notFoundAt { return .alreadyAsked(at: asked, detail: send.notFoundDetail) }
        guard send.state != .noResult else { return .notEnded }
        guard let name = send.provider else { return .noLookup(reason: "the claim names no provider") }
        guard let lookup = lookups[name] else {
            return .noLookup(reason: "\(name) is not a provider that can be asked here (Twilio, Infobip, SendGrid and the sandbox can; FCM, APNs, SMTP and webhooks cannot: check by hand)")
        }
        guard let address = send.address else { return .cannotTell(reason: "the claim has no address to look for") }
        let question = SendInQuestion(jobID: send.jobID, attempt: send.attempt, channel: send.channel, address: address, body: send.body,
                                      subject: send.subject, claimedAt: send.claimedAt, endedAt: send.endedAt)
        switch await lookup.lookUp(question) {
        case .cannotTell(let reason):
            return .cannotTell(reason: reason)
        case .found(let messageID, let status):
            var event = self.event(send, provider: name, reason: .found,
                                   detail: "\(name) has this message as \(messageID) (\(status)), asked by gateway reconcile; the job shows sent, reason reconciled")
            event.providerMessageID = messageID
            event.data = JSONValue.object(["status": .string(status), "asked": .string(name)]).serialized
            return .found(messageID: messageID, status: status, recorded: try await log.append([event]) == [true])
        case .notFound(let detail):
            var event = self.event(send, provider: name, reason: .notFound,
                                   detail: "\(detail); the job stays unknown and is not asked again")
            event.data = JSONValue.object(["asked": .string(name)]).serialized
            return .notFound(detail: detail, recorded: try await log.append([event]) == [true])
        }
    }

    func event(_ send: UnresolvedSend, provider: String, reason: Reason, detail: String) -> ContactEvent {
        ContactEvent(jobID: send.jobID, contactID: send.contactID, kind: .reconciled, at: clock(), attempt: send.attempt,
                     channel: send.channel, template: send.template, provider: provider, reason: reason.rawValue, detail: detail,
                     address: send.address, debtID: send.debtID, segment: send.segment)
    }
}
