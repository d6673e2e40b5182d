import Crypto
import Foundation
import RedisQueue

/// How many failed sign-ins the console allows (`console_sign_in_*` in config/gateway.yml).
public struct SignInLimit: Sendable, Equatable {
    /// Failed sign-ins from one client address within a window; the next is refused until it ends.
    public var perAddress: Int
    /// Failed sign-ins from every address together within a window (someone guessing from many
    /// addresses); over it, sign-in is closed to everyone until the window ends. Sessions already
    /// open are not affected.
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
/// all (`<prefix>all`), each living `windowSeconds` from its first failure (a fixed window: the
/// count starts again when the key expires). A successful sign-in is not counted.
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

    /// Why a sign-in from `address` may not be tried now; nil when it may.
    func refusal(address: String) async throws -> Refusal? {
        let keys = [addressKey(address), allKey]
        let replies = try await redis.pipeline([["GET", keys[0]], ["TTL", keys[0]], ["GET", keys[1]], ["TTL", keys[1]]])
        guard replies.count == 4 else { throw SessionError(message: "unexpected Redis reply to the sign-in counters: \(replies)") }
        for reply in replies { if let code = reply.errorCode { throw SessionError(message: "Redis refused to read the sign-in counters: \(code)") } }
        func count(_ index: Int) -> Int { replies[index].string.flatMap { Int($0) } ?? 0 }
        func wait(_ index: Int) -> Int { max(1, replies[index].integer.map { $0 < 0 ? limit.windowSeconds : $0 } ?? limit.windowSeconds) }
        if count(0) >= limit.perAddress { return Refusal(scope: .address, failures: count(0), retryAfter: wait(1)) }
        if count(2) >= limit.all { return Refusal(scope: .all, failures: count(2), retryAfter: wait(3)) }
        return nil
    }

    /// Counts a failed sign-in from `address`; returns the address's failures in this window.
    @discardableResult
    func failed(address: String) async throws -> Int {
        let window = String(limit.windowSeconds)
        let (mine, all) = (addressKey(address), allKey)
        // INCR then EXPIRE NX in one pipeline: the first failure starts the window, later ones do not extend it.
        let replies = try await redis.pipeline([["INCR", mine], ["EXPIRE", mine, window, "NX"], ["INCR", all], ["EXPIRE", all, window, "NX"]])
        guard replies.count == 4 else { throw SessionError(message: "unexpected Redis reply counting a failed sign-in: \(replies)") }
        for reply in replies { if let code = reply.errorCode { throw SessionError(message: "Redis refused to count a failed sign-in: \(code)") } }
        return replies[0].integer ?? 0
    }
}
