import Foundation

/// Adds an entry to a stream once per id (the escalation stream): marking the id and adding the
/// entry is one Lua script, so a reply whose webhook comes twice publishes its escalation once, and
/// a failure never marks an id without adding its entry.
public struct StreamOnce: Sendable {
    public let client: RedisClient
    public let stream: String
    /// `<prefix><id>` → the stream entry id.
    public let prefix: String
    public let rememberSeconds: Int

    public init(client: RedisClient, stream: String, prefix: String, rememberSeconds: Int = 90 * 86_400) {
        self.client = client
        self.stream = stream
        self.prefix = prefix
        self.rememberSeconds = rememberSeconds
    }

    /// KEYS[1] the id marker, KEYS[2] the stream. ARGV: seconds to remember, then field, value, ...
    static let script = RedisScript("""
        local previous = redis.call('GET', KEYS[1])
        if previous then return {0, previous} end
        local id = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
        redis.call('SET', KEYS[1], id, 'EX', tonumber(ARGV[1]))
        return {1, id}
        """)

    /// True when the entry was added now, false when this id was published before.
    @discardableResult
    public func publish(id: String, fields: [(String, String)]) async throws -> Bool {
        let reply = try await Self.script.call(client, ["2", prefix + id, stream, String(rememberSeconds)] + fields.flatMap { [$0.0, $0.1] })
        guard let parts = reply.array, parts.count == 2 else {
            throw RedisError(code: .protocolError, message: "unexpected reply to the stream-once script: \(reply)")
        }
        return parts[0].integer == 1
    }
}
