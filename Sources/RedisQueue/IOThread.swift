import Foundation

/// A dedicated OS thread that runs blocking work (hiredis calls) one closure at a time, so that
/// blocking C calls never occupy Swift's cooperative thread pool. Callers `await` the result.
final class IOThread: @unchecked Sendable {
    // @unchecked: `queue` and `stopped` are only touched with `condition` locked.
    private let condition = NSCondition()
    private var queue: [() -> Void] = []
    private var stopped = false
    private var thread: Thread?

    init(name: String) {
        let thread = Thread { [self] in self.loop() }
        thread.name = name
        self.thread = thread
        thread.start()
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            if queue.isEmpty && stopped {
                condition.unlock()
                return
            }
            let work = queue.removeFirst()
            condition.unlock()
            work()
        }
    }

    /// Runs `body` on the thread and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            guard !stopped else {
                condition.unlock()
                continuation.resume(throwing: RedisError(code: .closed, message: "redis client is shut down"))
                return
            }
            queue.append {
                continuation.resume(with: Result { try body() })
            }
            condition.signal()
            condition.unlock()
        }
    }

    /// Finishes queued work, then ends the thread.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }
}
