import Crypto
import Foundation
import RedisQueue

/// How many failed sign-ins the console allows (`console_sign_in_*` in config/gateway.yml).
public struct SignInLimit: Sendable, Equatable {
    /// Failed sign-ins from one client address within a window; the next is refused until it ends.
    public var perAddress: Int
    /// Failed sign-ins from every address together within a window (someone guessing from many
    /// addresses); over it, every wrong token is refused with 429 until the window ends, but a right
    /// one still signs in (closing sign-in to everyone would let anyone lock the users out).
    public var all: Int
    public var windowSeconds: Int
    public var keyPrefix: String

    public init(perAddress: Int = 10, all: Int = 200, windowSeconds: Int = 900, keyPrefix: String = "gateway:console:sign-in:") {
        self.perAddress = perAddress
        self.all = all
        self.windowSeconds = windowSeconds
        self.keyPrefix = keyPrefix
    }
}

/// Failed sign-ins counted in Redis, so every gateway process behind a load balancer shares the
/// counts: one counter per client address (`<prefix>address:<SHA-256 of the address>`) and one for
/// all (`<prefix>all`), each living `windowSeconds` from its first attempt (a fixed window: the
/// count starts again when the key expires). Each attempt is counted before its token is checked
/// and taken back when the token is right or the attempt is refused, so the counts are the failures
/// (and the attempts in flight).
struct SignInLimiter: Sendable {
    enum Scope: String, Sendable {
        case address, all
    }

    struct Refusal: Sendable, Equatable {
        var scope: Scope
        var failures: Int
        /// Seconds until the window ends (Retry-After).
        var retryAfter: Int
    }

    let redis: RedisClient
    let limit: SignInLimit

    func addressKey(_ address: String) -> String {
        limit.keyPrefix + "address:" + SHA256.hash(data: Data(address.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    var allKey: String { limit.keyPrefix + "all" }

    /// Counts this sign-in attempt before its token is looked at, so that attempts sent at once
    /// cannot all pass a check made before any of them is counted. Returns why it may not go on
    /// (it is then taken back: a refused attempt is not a failure), or the address's count with
    /// this attempt in it. `succeeded` takes a right token's attempt back.
    func attempt(address: String) async throws -> (refusal: Refusal?, count: Int) {
        let window = String(limit.windowSeconds)
        let (mine, all) = (addressKey(address), allKey)
        // INCR then EXPIRE NX: the first attempt starts the window, later ones do not extend it.
        let replies = try await redis.pipeline([["INCR", mine], ["EXPIRE", mine, window, "NX"], ["INCR", all], ["EXPIRE", all, window, "NX"],
                                                ["TTL", mine], ["TTL", all]])
        guard replies.count == 6 else { throw SessionError(message: "unexpected Redis reply to the sign-in counters: \(replies)") }
        for reply in replies { if let code = reply.errorCode { throw SessionError(message: "Redis refused the sign-in counters: \(code)") } }
        let (count, total) = (replies[0].integer ?? 0, replies[2].integer ?? 0)
        func wait(_ index: Int) -> Int { max(1, replies[index].integer.map { $0 < 0 ? limit.windowSeconds : $0 } ?? limit.windowSeconds) }
        var refusal: Refusal?
        if count > limit.perAddress {
            refusal = Refusal(scope: .address, failures: count - 1, retryAfter: wait(4))
        } else if total > limit.all {
            refusal = Refusal(scope: .all, failures: total - 1, retryAfter: wait(5))
        }
        if refusal != nil { try await takeBack(address: address) }
        return (refusal, count)
    }

    /// A right token: its attempt is not counted.
    func succeeded(address: String) async throws {
        try await takeBack(address: address)
    }

    private func takeBack(address: String) async throws {
        let replies = try await redis.pipeline([["DECR", addressKey(address)], ["DECR", allKey]])
        for reply in replies { if let code = reply.errorCode { throw SessionError(message: "Redis refused the sign-in counters: \(code)") } }
    }
}
