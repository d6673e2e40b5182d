import Foundation
import Providers
import RedisQueue

/// Circuit breakers shared by every worker. When a worker's breaker for a provider opens, it writes
/// `<prefix><provider>` = when the breaker closes again (ms since 1970), expiring then. Before each
/// dispatch a worker reads the keys of the providers it may use (one MGET) and opens its own
/// breakers until those times. So one worker's failures spare the others theirs; each worker still
/// sends its own probe when the time is up.
///
/// A provider's Retry-After is shared the same way: `<prefix><provider>:retry_after` = the time
/// before which it must not be called (ms since 1970), expiring then, read by the same MGET. That
/// hold only rises: a later, shorter Retry-After from another worker does not replace it.
struct SharedBreakers: Sendable {
    let client: RedisClient
    let prefix: String

    func holdKey(_ name: String) -> String { prefix + name + ":retry_after" }

    /// Opens the local breakers of `names` that another worker reported open, and holds the
    /// providers another worker was told to leave alone for a while.
    func adopt(_ names: [String], providers: ProviderRegistry, now: Date) async throws {
        guard !names.isEmpty else { return }
        let reply = try await client.command(["MGET"] + names.map { prefix + $0 } + names.map(holdKey))
        guard let values = reply.array, values.count == names.count * 2 else {
            throw RedisError(code: .protocolError, message: "unexpected MGET reply \(reply)")
        }
        func time(_ value: RESPValue) -> Date? {
            value.string.flatMap { Int64($0) }.map { Date(timeIntervalSince1970: Double($0) / 1000) }
        }
        for (name, value) in zip(names, values) {
            guard let until = time(value) else { continue }
            providers.policy(of: name).breaker.adopt(openUntil: until, now: now)
        }
        for (name, value) in zip(names, values.dropFirst(names.count)) {
            guard let until = time(value) else { continue }
            providers.policy(of: name).breaker.hold(until: until)
        }
    }

    /// Raises a provider's shared hold, never lowers it: KEYS[1] the hold key, ARGV[1] the new
    /// "until" (ms since 1970), ARGV[2] its time to live (ms). A hold already as late or later stays
    /// as it is, with its own expiry; otherwise the new one replaces it. So one worker's short
    /// Retry-After (1 s) never cuts short the 60 s another worker was told. Returns 1 if it raised.
    static let raiseHold = RedisScript("""
        local current = tonumber(redis.call('GET', KEYS[1]))
        local later = tonumber(ARGV[1])
        if current and current >= later then return 0 end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        return 1
        """)

    /// Tells the other workers which providers asked not to be called before when: a hold only
    /// ever gets later (see `raiseHold`).
    func publishHolds(_ holds: [(name: String, until: Date)], now: Date) async throws {
        let calls: [[String]] = holds.compactMap { name, until in
            let milliseconds = Int64(until.timeIntervalSince1970 * 1000)
            let ttl = milliseconds - Int64(now.timeIntervalSince1970 * 1000)
            guard ttl > 0 else { return nil }
            return ["1", holdKey(name), String(milliseconds), String(ttl)]
        }
        guard !calls.isEmpty else { return }
        for reply in try await Self.raiseHold.run(client, calls) {
            if case .error(let message) = reply { throw RedisError.server(message, context: "raising a shared Retry-After hold") }
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
