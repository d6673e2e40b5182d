import ContactLog
import Foundation
import GatewayCore
import Providers
import RedisQueue

/// What the providers' answers come to, decided without I/O: the outcome event of each send, the
/// retries to schedule, the opt-outs and dead push tokens the providers reported, the cap slots to
/// give back and the sends that may have reached the customer though they failed.
struct Outcomes {
    /// A send, the provider and address that gave its final answer, the answer and when, and the
    /// latest time a provider it was tried on may be called again.
    struct Answered {
        var send: BatchProcessor.Send
        var provider: any MessageProvider
        var address: String
        var result: DispatchResult
        var at: Date
        var notBefore: (at: Date, provider: String)?
    }

    var events: [ContactEvent] = []
    var retries: [(raw: [UInt8], attempt: Int, at: Date)] = []
    var unsubscribed: [OptOut] = []
    var deadTokens: [DroppedToken] = []
    /// Only messages actually sent count against caps.
    var releases: [(checks: [CapCheck], member: String)] = []
    var possiblyDelivered: [String] = []
    var summary = BatchProcessor.Summary()

    /// - Parameter retryTime: when attempt `n + 1` of a job whose attempt `n` failed may go, given a
    ///   provider's wait. An outcome is dated when its answer arrived; a retry counts from then.
    init(_ answered: [Answered], maxAttempts: Int, retryTime: (_ after: Date, _ attempt: Int, _ retryAfter: Double?) -> Date) {
        for item in answered {
            let (send, provider, done) = (item.send, item.provider, item.at)
            var event = ContactEvent(jobID: send.job.id, contactID: send.job.contact.id, kind: .sent, at: done, attempt: send.job.attempt,
                                     channel: send.message.channel, template: send.job.template, tone: send.rendered.tone,
                                     variant: send.rendered.variant, provider: provider.name, body: send.message.body,
                                     address: item.address, streamID: send.entry.id)
            switch item.result {
            case .accepted(let id, let status):
                summary.sent += 1
                event.providerMessageID = id
                event.reason = status.map { Reason.accepted($0).rawValue }
                event.detail = "accepted by \(provider.name) as \(id)" + (status.map { " (\($0))" } ?? "")
            case .permanentFailure(let code, let message):
                releases.append((send.capChecks, send.job.id))
                if provider.deadTokenCodes.contains(code) {
                    deadTokens.append(DroppedToken(token: item.address, contactID: send.job.contact.id, provider: provider.name, reason: code.rawValue, at: done))
                }
                if provider.unsubscribedCodes.contains(code) {
                    unsubscribed.append(OptOut(contactID: send.job.contact.id, channel: send.message.channel, kind: .optOut,
                                               setBy: "provider:\(provider.name)", setAt: done, reason: "\(code): \(message)"))
                }
                summary.failed += 1
                event.kind = .failed
                event.reason = code.rawValue
                event.detail = message
            case .retryableFailure(let code, let message, _):
                releases.append((send.capChecks, send.job.id))
                event.reason = code.rawValue
                if send.job.attempt < maxAttempts {
                    summary.retried += 1
                    // No sooner than the latest Retry-After of every provider this attempt tried or skipped.
                    let wait = item.notBefore.map { max(0, $0.at.timeIntervalSince(done)) }
                    let at = retryTime(done, send.job.attempt, wait)
                    retries.append((send.raw, send.job.attempt + 1, at))
                    event.kind = .retryScheduled
                    event.detail = "\(message); attempt \(send.job.attempt + 1) of \(maxAttempts) at \(formatTimestamp(at))"
                        + (item.notBefore.map { " (no sooner: \($0.provider) may not be called before \(formatTimestamp($0.at)))" } ?? "")
                } else {
                    summary.failed += 1
                    event.kind = .failed
                    event.detail = "\(message); gave up after \(send.job.attempt) attempts"
                }
            case .possiblyDelivered(let code, let message):
                // Its cap slots stay taken: the message may have reached the customer.
                summary.unknown += 1
                possiblyDelivered.append(send.job.id)
                event.kind = .unknown
                event.reason = code.rawValue
                event.detail = "\(message); not sent again, through \(provider.name) or another provider, so the customer cannot get it twice: check with \(provider.name) whether it went out"
            }
            events.append(event)
        }
    }
}
