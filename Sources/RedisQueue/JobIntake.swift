import Foundation

/// Puts jobs that arrive over HTTP on the same stream the scoring service XADDs to, once per job
/// id: marking the id and adding the entry is one Lua script, so a retried request can never
/// enqueue a job twice, and a failure can never mark an id without enqueueing it.
public struct JobIntake: Sendable {
    public let client: RedisClient
    public let stream: String
    /// Where accepted ids are remembered (`<prefix><job id>` → stream entry id).
    public let prefix: String
    /// How long an id is remembered: a resubmission within this time is recognised.
    public let rememberSeconds: Int

    public init(client: RedisClient, stream: String, prefix: String = "gateway:accepted:", rememberSeconds: Int = 7 * 86_400) {
        self.client = client
        self.stream = stream
        self.prefix = prefix
        self.rememberSeconds = rememberSeconds
    }

    public enum Result: Sendable, Equatable {
        case accepted(entryID: String)
        /// This job id was accepted before, as this stream entry.
        case duplicate(entryID: String)
    }

    /// KEYS[1] the id marker, KEYS[2] the stream. ARGV: seconds to remember, the job JSON.
    static let script = RedisScript("""
        local previous = redis.call('GET', KEYS[1])
        if previous then return {0, previous} end
        local id = redis.call('XADD', KEYS[2], '*', 'job', ARGV[2])
        redis.call('SET', KEYS[1], id, 'EX', tonumber(ARGV[1]))
        return {1, id}
        """)

    public func enqueue(jobID: String, json: [UInt8]) async throws -> Result {
        let reply = try await Self.script.call(client, bytes: [Array("2".utf8), Array((prefix + jobID).utf8),
                                                     Array(stream.utf8), Array(String(rememberSeconds).utf8), json])
        guard let parts = reply.array, parts.count == 2, let entry = parts[1].string else {
            throw RedisError(code: .protocolError, message: "unexpected reply to the intake script: \(reply)")
        }
        return parts[0].integer == 1 ? .accepted(entryID: entry) : .duplicate(entryID: entry)
    }
}
