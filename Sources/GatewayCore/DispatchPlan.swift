import Foundation

/// What the gateway decides to do with a valid job before any provider is called.
public enum Decision: Sendable, Equatable {
    case send(Channel)
    case suppress(code: String, detail: String)
    case expire(detail: String)
}

/// Picks the channel for a job: the first channel in the job's order of preference that is
/// reachable. Pure: the caller says, per channel, why it is not reachable (or nil when it is).
public enum DispatchPlanner {
    public static func decide(job: Job, now: Date, unreachable: (Channel) -> String?) -> Decision {
        if let expiry = job.expiresAt, expiry <= now {
            return .expire(detail: "expired at \(formatTimestamp(expiry)) before it could be sent (now \(formatTimestamp(now)))")
        }
        var reasons: [String] = []
        for channel in job.channels {
            if let reason = unreachable(channel) {
                reasons.append("\(channel.rawValue): \(reason)")
            } else {
                return .send(channel)
            }
        }
        return .suppress(code: "no_reachable_channel", detail: "no requested channel can be used: " + reasons.joined(separator: "; "))
    }
}
