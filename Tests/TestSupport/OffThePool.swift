import Foundation

/// Runs CPU-heavy synchronous test work on a thread of its own. Swift Testing runs tests in
/// parallel on Swift's cooperative pool, which has one thread per core (two on CI's machine); a
/// test that computes for a minute on one of them starves every async test beside it, whose fake
/// servers and clients need that pool, until their requests time out. Return the figures and
/// check them (#expect) back in the test: issues are only tied to a test from its own task.
public func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
