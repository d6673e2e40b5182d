import Foundation

/// A token bucket per provider, shared by every worker: `rate` tokens a second, at most `burst`
/// saved up. Taking tokens is one Lua script, so workers together never exceed the provider's rate.
public struct TokenBucket: Sendable {
    public let client: RedisClient
    public let key: String
    public let rate: Double
    public let burst: Int

    public init(client: RedisClient, key: String, rate: Double, burst: Int) {
        self.client = client
        self.key = key
        self.rate = rate
        self.burst = burst
    }

    /// KEYS[1] hash {tokens, at}. ARGV: now ms, rate per second, burst, wanted. Returns tokens granted.
    static let script = RedisScript("""
        local now, rate, burst, wanted = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
        local tokens, at = tonumber(state[1]), tonumber(state[2])
        if tokens == nil then tokens, at = burst, now end
        tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
        local granted = math.min(wanted, math.floor(tokens))
        tokens = tokens - granted
        redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
        redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 60000)
        return granted
        """)

    /// Takes up to `wanted` tokens; returns how many were granted.
    public func take(_ wanted: Int, now: Date) async throws -> Int {
        guard wanted > 0 else { return 0 }
        let reply = try await Self.script.call(client, ["1", key, String(Int64(now.timeIntervalSince1970 * 1000)),
                                              String(rate), String(burst), String(wanted)])
        return reply.integer ?? 0
    }

    /// Seconds until `missing` more tokens exist.
    public func wait(for missing: Int) -> Double { Double(max(1, missing)) / rate }
}
