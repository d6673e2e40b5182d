import Crypto
import Foundation
import GatewayCore
import GatewayHTTP
import Providers
import RedisQueue

/// A signed-in console user, as kept in Redis. Every gateway process behind a load balancer reads
/// the same record, so a session works on any of them and signing out ends it everywhere at once.
public struct ConsoleSession: Sendable, Equatable, Codable {
    /// The token entry's name and roles when the session began (the roles in force are read from
    /// the tokens file on every request: a revoked token ends its sessions, a changed role applies).
    public var name: String
    public var roles: [String]
    /// SHA-256 (hex) of the token signed in with, to find its entry in the tokens file.
    public var tokenSHA256: String
    /// The per-session CSRF token every form carries back.
    public var csrf: String
    public var createdAt: Double
}

public struct SessionError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Sessions in Redis under `<prefix><SHA-256 of the session id>` with a TTL of the idle limit,
/// renewed on every request. Only the hash of the id is stored, so reading Redis does not give
/// anyone a usable cookie.
public struct SessionStore: Sendable {
    public let redis: RedisClient
    public let prefix: String
    public let idleSeconds: Int

    public init(redis: RedisClient, prefix: String = "gateway:console:session:", idleSeconds: Int) {
        self.redis = redis
        self.prefix = prefix
        self.idleSeconds = idleSeconds
    }

    /// 32 random bytes from the system's generator, base64url without padding (43 characters).
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64URL.encode((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// A cookie value shaped like an id: 43 base64url characters. Anything else is not looked up.
    static func wellFormed(_ id: String) -> Bool {
        id.utf8.count == 43 && id.utf8.allSatisfy { byte in
            (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x5F
        }
    }

    func key(_ id: String) -> String { prefix + SHA256.hash(data: Data(id.utf8)).map { String(format: "%02x", $0) }.joined() }

    /// Starts a session for `caller`; returns its id (the cookie's value) and the record.
    public func create(caller: Caller, tokenSHA256: String, now: Date = Date()) async throws -> (id: String, session: ConsoleSession) {
        let id = Self.randomToken()
        let session = ConsoleSession(name: caller.name, roles: caller.roles.map(\.rawValue).sorted(), tokenSHA256: tokenSHA256,
                                     csrf: Self.randomToken(), createdAt: now.timeIntervalSince1970)
        let json = try JSONEncoder().encode(session)
        let reply = try await redis.command(bytes: [Array("SET".utf8), Array(key(id).utf8), Array(json), Array("EX".utf8),
                                                    Array(String(idleSeconds).utf8), Array("NX".utf8)])
        guard reply.string == "OK" else { throw SessionError(message: "Redis did not store the console session: \(reply)") }
        return (id, session)
    }

    /// The session with this id, its idle time restarted; nil when there is none (expired, signed
    /// out, never existed, or not shaped like an id).
    public func find(id: String) async throws -> ConsoleSession? {
        guard Self.wellFormed(id) else { return nil }
        let key = key(id)
        let replies = try await redis.pipeline([["GET", key], ["EXPIRE", key, String(idleSeconds)]])
        guard replies.count == 2 else { throw SessionError(message: "unexpected Redis reply to GET/EXPIRE: \(replies)") }
        if let code = replies[0].errorCode { throw SessionError(message: "Redis refused GET of a console session: \(code)") }
        guard case .bulk(let bytes) = replies[0] else { return nil }
        guard let session = try? JSONDecoder().decode(ConsoleSession.self, from: Data(bytes)) else {
            // Not ours (or from an incompatible version): treat as signed out, and remove it.
            _ = try await redis.command(["DEL", key])
            return nil
        }
        return session
    }

    /// Ends the session at once, for every gateway process.
    public func delete(id: String) async throws {
        guard Self.wellFormed(id) else { return }
        _ = try await redis.command(["DEL", key(id)])
    }

    /// Seconds the session has left (-2: none), for tests and diagnostics.
    public func ttl(id: String) async throws -> Int {
        try await redis.command(["TTL", key(id)]).integer ?? -2
    }
}

extension APITokens {
    /// The caller whose entry has this token hash, with the roles the file gives it now.
    func caller(sha256 hex: String) -> Caller? {
        guard let entry = entries.first(where: { $0.sha256.map { String(format: "%02x", $0) }.joined() == hex }) else { return nil }
        return Caller(name: entry.name, roles: entry.roles)
    }
}

enum CSRF {
    /// Constant-time comparison of a presented token with the expected one.
    static func matches(_ presented: String?, _ expected: String) -> Bool {
        guard let presented, !expected.isEmpty else { return false }
        return ConstantTime.equal(Array(presented.utf8), Array(expected.utf8))
    }
}
