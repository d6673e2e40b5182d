import Crypto
import GatewayCore

/// A Lua script, run by its SHA-1 (EVALSHA) so its text is not sent and hashed on every call. The
/// text goes only to a Redis that does not have it (restarted, or its script cache flushed), and
/// then only with the calls it refused: another connection may have loaded it half-way through.
public struct RedisScript: Sendable {
    public let source: String
    public let sha: String

    public init(_ source: String) {
        self.source = source
        sha = Insecure.SHA1.hash(data: Array(source.utf8)).hexString
    }

    /// One call per argument list (the number of keys, the keys, then the arguments, as EVAL takes
    /// them), in one round trip; one reply each, error replies included.
    public func run(_ client: RedisClient, _ calls: [[[UInt8]]]) async throws -> [RESPValue] {
        var replies = try await client.pipeline(calls.map { [Array("EVALSHA".utf8), Array(sha.utf8)] + $0 })
        let refused = replies.indices.filter { replies[$0].errorCode == .noScript }
        if !refused.isEmpty {
            let again = try await client.pipeline(refused.map { [Array("EVAL".utf8), Array(source.utf8)] + calls[$0] })
            for (index, reply) in zip(refused, again) { replies[index] = reply }
        }
        return replies
    }

    public func run(_ client: RedisClient, _ calls: [[String]]) async throws -> [RESPValue] {
        try await run(client, calls.map { $0.map { Array($0.utf8) } })
    }

    /// One call; an error reply is thrown as `RedisError(.server)`.
    public func call(_ client: RedisClient, bytes arguments: [[UInt8]]) async throws -> RESPValue {
        let reply = try await run(client, [arguments])[0]
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    public func call(_ client: RedisClient, _ arguments: [String]) async throws -> RESPValue {
        try await call(client, bytes: arguments.map { Array($0.utf8) })
    }
}
