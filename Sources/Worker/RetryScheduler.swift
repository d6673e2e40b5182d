import Foundation
import GatewayCore
import RedisQueue

/// Jobs waiting for a later attempt, in the sorted set `gateway:scheduled` (score: due time in
/// milliseconds). Due jobs go back onto the stream through one Lua script, which Redis runs
/// atomically: with any number of workers promoting, each job is promoted exactly once.
public struct RetryScheduler: Sendable {
    public var client: RedisClient
    public var key: String
    public var stream: String
    public var baseSeconds: Double

    public init(client: RedisClient, key: String, stream: String, baseSeconds: Double) {
        self.client = client
        self.key = key
        self.stream = stream
        self.baseSeconds = baseSeconds
    }

    /// base × 2^(attempt−1), ±20% jitter, at most an hour; never sooner than the provider's Retry-After.
    public func retryTime(after now: Date, attempt: Int, retryAfter: Double?) -> Date {
        let exponential = min(3600, baseSeconds * pow(2, Double(max(0, attempt - 1))))
        let jittered = exponential * Double.random(in: 0.8...1.2)
        return now.addingTimeInterval(max(jittered, retryAfter ?? 0))
    }

    /// Adds jobs for a later attempt. The stored job is the original JSON with `_attempt` set, so
    /// every field the scoring service sent is kept.
    public func schedule(_ jobs: [(raw: [UInt8], attempt: Int, at: Date)]) async throws {
        guard !jobs.isEmpty else { return }
        var commands: [[[UInt8]]] = []
        for job in jobs {
            var object: [String: JSONValue] = [:]
            if case .object(let parsed)? = try? JSONParser.parse(job.raw) { object = parsed }
            object["_attempt"] = .number(Double(job.attempt))
            let member = Array(JSONValue.object(object).serialized.utf8)
            let score = String(Int64(job.at.timeIntervalSince1970 * 1000))
            commands.append([Array("ZADD".utf8), Array(key.utf8), Array(score.utf8), Array(member)])
        }
        for reply in try await client.pipeline(commands) {
            if case .error(let message) = reply { throw RedisError.server(message, context: "ZADD \(key)") }
        }
    }

    static let promoteScript = RedisScript("""
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
        for _, member in ipairs(due) do
          redis.call('XADD', KEYS[2], '*', 'job', member)
          redis.call('ZREM', KEYS[1], member)
        end
        return #due
        """)

    /// Moves up to `limit` due jobs back onto the stream; returns how many moved.
    @discardableResult
    public func promoteDue(now: Date, limit: Int = 1000) async throws -> Int {
        let reply = try await Self.promoteScript.call(client, ["2", key, stream, String(Int64(now.timeIntervalSince1970 * 1000)), String(limit)])
        return reply.integer ?? 0
    }
}
