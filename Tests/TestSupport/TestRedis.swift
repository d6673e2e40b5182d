import Foundation
import RedisQueue

/// The Redis that `scripts/test` starts on a loopback port of its own (TEST_REDIS_URL).
public enum TestRedis {
    public static var url: String {
        ProcessInfo.processInfo.environment["TEST_REDIS_URL"] ?? "redis://127.0.0.1:6379/0"
    }

    public static func client() throws -> RedisClient {
        RedisClient(configuration: try RedisConfiguration(url: url))
    }

    /// Key names no other test uses.
    public static func unique(_ prefix: String) -> String {
        "test:\(prefix):\(UUID().uuidString.prefix(8))"
    }
}

/// Polls `condition` until it holds. For something that must happen: the limit is only a safety
/// net against a test hanging for ever (a busy CI machine can be many times slower than a quiet
/// one), never a claim about speed; a test that needs "not yet" waits for an event instead (see
/// TestClock.set(_:thenWaitForReads:)).
public func eventually(_ seconds: Double = 180, _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
