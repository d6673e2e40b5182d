import Foundation

/// What keeps the worker from taking work right now, shared with `GET /ready`: each lane reports
/// the dependency that failed it (Redis, the contact log, the providers) and clears it when that
/// works again. Thread-safe; read it from anywhere.
public final class WorkerHealth: @unchecked Sendable {
    // @unchecked: all state is behind `lock`.
    public enum Component: String, Sendable, CaseIterable, Comparable {
        case redis, store, providers
        /// Provider answers held in memory that could not be recorded yet: no new work is taken.
        case outcomes

        public static func < (a: Component, b: Component) -> Bool { a.rawValue < b.rawValue }
    }

    /// A dependency that is failing: what went wrong, and since when.
    public struct Problem: Sendable, Equatable {
        public var message: String
        public var since: Date
    }

    private let lock = NSLock()
    private var problems: [Component: Problem] = [:]

    public init() {}

    /// Records that a dependency failed (keeping the time it first did) or, with nil, that it works.
    public func report(_ component: Component, _ message: String?, at now: Date = Date()) {
        lock.withLock {
            if let message {
                problems[component] = Problem(message: message, since: problems[component]?.since ?? now)
            } else {
                problems[component] = nil
            }
        }
    }

    /// The failing dependencies, by name.
    public var current: [Component: Problem] { lock.withLock { problems } }

    /// Whether nothing keeps the worker from taking work.
    public var isHealthy: Bool { lock.withLock { problems.isEmpty } }
}
