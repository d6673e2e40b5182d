import ContactLog
import Foundation
import GatewayCore
import RedisQueue
import Templates

/// What `GET /ready` checks: each part the gateway needs to do its work, asked a cheap question
/// with a deadline, so a hanging Redis or database makes the answer 503 instead of a hung probe.
/// `/health` says the process is up; `/ready` says it can take and deliver jobs now.
public struct Readiness: Sendable {
    /// One part and how to ask it: nil when it works, otherwise what is wrong (shown to anyone who
    /// can reach /ready: say what fails, never a secret; the text is masked like the log anyway).
    public struct Check: Sendable {
        public var name: String
        public var run: @Sendable () async -> String?

        public init(name: String, run: @escaping @Sendable () async -> String?) {
            self.name = name
            self.run = run
        }
    }

    public var checks: [Check]
    /// How long each check may take before it counts as failing.
    public var timeout: Duration

    public init(checks: [Check], timeout: Duration = .seconds(2)) {
        self.checks = checks
        self.timeout = timeout
    }

    /// The answer: ready when every check passed; each check's "ok" or what is wrong.
    public struct Report: Sendable, Equatable, Encodable {
        public var ready: Bool
        public var checks: [String: String]

        public init(ready: Bool, checks: [String: String]) {
            self.ready = ready
            self.checks = checks
        }
    }

    /// Runs every check at once, each bounded by `timeout`.
    public func evaluate() async -> Report {
        let timeout = self.timeout
        let results = await withTaskGroup(of: (String, String?).self) { group in
            for check in checks {
                group.addTask { (check.name, await Self.bounded(timeout, name: check.name, check.run)) }
            }
            var results: [String: String?] = [:]
            for await (name, problem) in group { results[name] = problem }
            return results
        }
        var report = Report(ready: true, checks: [:])
        for (name, problem) in results {
            if let problem {
                report.ready = false
                report.checks[name] = LogMasking.mask(problem)
            } else {
                report.checks[name] = "ok"
            }
        }
        return report
    }

    /// `work`'s answer, or a timeout problem when it has none within `timeout`. A check stuck in
    /// a call that cannot be cancelled (a hiredis or SQLite call on its own thread) is left to
    /// finish on its own: the answer does not wait for it.
    static func bounded(_ timeout: Duration, name: String, _ work: @escaping @Sendable () async -> String?) async -> String? {
        let once = FirstAnswer()
        return await withCheckedContinuation { continuation in
            once.start(continuation)
            let timer = Task {
                try? await Task.sleep(for: timeout)
                let (seconds, attoseconds) = timeout.components
                let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
                once.resume(milliseconds % 1000 == 0 ? "no answer within \(milliseconds / 1000) s" : "no answer within \(milliseconds) ms")
            }
            Task {
                let answer = await work()
                once.resume(answer)
                timer.cancel()
            }
        }
    }

    /// Resumes a continuation once, with whichever answer comes first.
    private final class FirstAnswer: @unchecked Sendable {
        // @unchecked: `continuation` is behind `lock`.
        private let lock = NSLock()
        private var continuation: CheckedContinuation<String?, Never>?

        func start(_ continuation: CheckedContinuation<String?, Never>) { lock.withLock { self.continuation = continuation } }

        func resume(_ answer: String?) {
            let waiting = lock.withLock { () -> CheckedContinuation<String?, Never>? in
                defer { continuation = nil }
                return continuation
            }
            waiting?.resume(returning: answer)
        }
    }
}

extension Readiness.Check {
    /// `run`, but never two at once: while an earlier run is still waiting (a hung Redis or
    /// database, past the timeout), the check fails at once instead of queueing another call
    /// behind it on the same connection, so frequent probes cannot pile up requests.
    public static func oneAtATime(name: String, _ run: @escaping @Sendable () async -> String?) -> Readiness.Check {
        let gate = InFlight()
        return Readiness.Check(name: name) {
            guard let started = gate.enter() else {
                return "the previous check has not been answered yet (asked \(gate.age) s ago)"
            }
            let answer = await run()
            gate.leave(started)
            return answer
        }
    }

    /// Redis answers PING (through `client`, the connection the API enqueues jobs on).
    public static func redis(_ client: RedisClient, timeout: Double = 2) -> Readiness.Check {
        oneAtATime(name: "redis") {
            do {
                let reply = try await client.command(["PING"], timeout: timeout)
                if case .status("PONG") = reply { return nil }
                return "unexpected answer to PING: \(reply)"
            } catch let error as RedisError {
                return "\(error) at \(client.configuration.host):\(client.configuration.port)"
            } catch {
                return "\(error)"
            }
        }
    }

    /// The contact log answers a read (one job's state: one index lookup). Not `lastSequence`: on a
    /// PostgreSQL log with several chains that waits for the chain heads, which a prune holds.
    public static func store(_ store: any LogReader) -> Readiness.Check {
        oneAtATime(name: "store") {
            do {
                _ = try await store.jobStates(["readiness-probe"])
                return nil
            } catch {
                return "the contact log does not answer a read: \(error)"
            }
        }
    }

    /// Templates are in service (loaded and linted); an edit on disk that was refused leaves the
    /// previous ones in service, so it does not make the gateway unready.
    public static func templates(_ templates: TemplateStore) -> Readiness.Check {
        Readiness.Check(name: "templates") {
            let catalog = templates.current
            if catalog.templateNames.isEmpty { return "no templates in service (templates directory \(templates.directory) has none)" }
            return nil
        }
    }
}

/// Whether a check is running, and since when.
private final class InFlight: @unchecked Sendable {
    // @unchecked: `since` is behind `lock`.
    private let lock = NSLock()
    private var since: Date?

    /// The start time if nothing was running (now it is), nil if a run is still going.
    func enter() -> Date? {
        lock.withLock {
            guard since == nil else { return nil }
            let now = Date()
            since = now
            return now
        }
    }

    func leave(_ started: Date) { lock.withLock { if since == started { since = nil } } }

    /// Whole seconds since the running check started.
    var age: Int { lock.withLock { since.map { Int(Date().timeIntervalSince($0)) } ?? 0 } }
}
