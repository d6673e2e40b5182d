import Foundation
import Providers
import RedisQueue

/// Circuit breakers shared by every worker. When a worker's breaker for a provider opens, it writes
/// `<prefix><provider>` = when the breaker closes again (ms since 1970), expiring then. Before each
/// dispatch a worker reads the keys of the providers it may use (one MGET) and opens its own
/// breakers until those times. So one worker's failures spare the others theirs; each worker still
/// sends its own probe when the time is up.
struct SharedBreakers: Sendable {
    let client: RedisClient
    let prefix: String

    /// Opens the local breakers of `names` that another worker reported open.
    func adopt(_ names: [String], providers: ProviderRegistry, now: Date) async throws {
        guard !names.isEmpty else { return }
        let reply = try await client.command(["MGET"] + names.map { prefix + $0 })
        guard let values = reply.array, values.count == names.count else {
            throw RedisError(code: .protocolError, message: "unexpected MGET reply \(reply)")
        }
        for (name, value) in zip(names, values) {
            guard let text = value.string, let milliseconds = Int64(text) else { continue }
            providers.policy(of: name).breaker.adopt(openUntil: Date(timeIntervalSince1970: Double(milliseconds) / 1000), now: now)
        }
    }

    /// Tells the other workers which breakers opened here, and until when.
    func publish(_ opened: [(name: String, until: Date)], now: Date) async throws {
        let commands: [[String]] = opened.compactMap { name, until in
            let milliseconds = Int64(until.timeIntervalSince1970 * 1000)
            let ttl = milliseconds - Int64(now.timeIntervalSince1970 * 1000)
            guard ttl > 0 else { return nil }
            return ["SET", prefix + name, String(milliseconds), "PX", String(ttl)]
        }
        guard !commands.isEmpty else { return }
        _ = try await client.pipeline(commands)
    }
}
