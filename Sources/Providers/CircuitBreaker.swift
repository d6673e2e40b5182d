import Foundation

/// Stops sending to a provider that keeps failing, and probes it to find out when it is back.
/// Closed: every request goes; the last `window` outcomes are kept. When at least `minimumRequests`
/// of them are in and the failure rate reaches `failureRate`, it opens: nothing goes for `openFor`.
/// Then half-open: one probe goes; its success closes the breaker, its failure opens it again.
/// Apart from that, a provider's own Retry-After holds it: nothing goes to it before then (no
/// failure, and no probe afterwards).
public final class CircuitBreaker: @unchecked Sendable {
    // @unchecked: all state is guarded by `lock`.
    public struct Settings: Sendable, Equatable {
        public var failureRate: Double
        public var minimumRequests: Int
        public var window: Int
        public var openFor: TimeInterval

        public init(failureRate: Double = 0.5, minimumRequests: Int = 10, window: Int = 20, openFor: TimeInterval = 30) {
            self.failureRate = failureRate
            self.minimumRequests = minimumRequests
            self.window = window
            self.openFor = openFor
        }
    }

    public enum State: Sendable, Equatable {
        case closed
        case open(until: Date)
        case halfOpen(probeInFlight: Bool)
    }

    public let settings: Settings
    private let lock = NSLock()
    private var state: State = .closed
    private var outcomes: [Bool] = []
    /// Until when the provider asked not to be called (its latest Retry-After).
    private var heldUntil: Date?

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    public var currentState: State { lock.withLock { state } }

    /// Whether a request may go now. In half-open, only the first caller gets the probe.
    public func allow(now: Date) -> Bool {
        lock.withLock {
            if let heldUntil, now < heldUntil { return false }
            switch state {
            case .closed:
                return true
            case .open(let until):
                guard now >= until else { return false }
                state = .halfOpen(probeInFlight: true)
                return true
            case .halfOpen(let probing):
                if probing { return false }
                state = .halfOpen(probeInFlight: true)
                return true
            }
        }
    }

    /// Records how a request that was allowed went. Returns when the breaker closes again if this
    /// outcome opened it (so other workers can be told), else nil.
    @discardableResult
    public func record(success: Bool, now: Date) -> Date? {
        lock.withLock {
            switch state {
            case .halfOpen:
                if success {
                    state = .closed
                    outcomes.removeAll()
                } else {
                    let until = now.addingTimeInterval(settings.openFor)
                    state = .open(until: until)
                    return until
                }
            case .open:
                break
            case .closed:
                outcomes.append(success)
                if outcomes.count > settings.window { outcomes.removeFirst(outcomes.count - settings.window) }
                let failures = outcomes.filter { !$0 }.count
                if outcomes.count >= settings.minimumRequests, Double(failures) / Double(outcomes.count) >= settings.failureRate {
                    let until = now.addingTimeInterval(settings.openFor)
                    state = .open(until: until)
                    outcomes.removeAll()
                    return until
                }
            }
            return nil
        }
    }

    /// The provider answered with a Retry-After: nothing goes to it before `until`. A later time
    /// extends the hold; an earlier one never shortens it.
    public func hold(until: Date) {
        lock.withLock {
            if heldUntil.map({ $0 < until }) ?? true { heldUntil = until }
        }
    }

    /// When the provider's Retry-After ends, if that is after `now`.
    public func held(now: Date) -> Date? {
        lock.withLock { heldUntil.flatMap { $0 > now ? $0 : nil } }
    }

    /// Another worker's breaker for the same provider opened until `until`: a closed breaker opens
    /// until then too, an open one stays open at least as long. One whose probe is out keeps it.
    public func adopt(openUntil until: Date, now: Date) {
        lock.withLock {
            guard until > now else { return }
            switch state {
            case .closed:
                state = .open(until: until)
                outcomes.removeAll()
            case .open(let current) where current < until:
                state = .open(until: until)
            case .open, .halfOpen:
                break
            }
        }
    }
}
