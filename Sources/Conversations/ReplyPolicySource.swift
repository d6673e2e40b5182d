import Foundation
import GatewayCore
import Logging

/// config/reply-actions.yml in service, read again when it changes: an edit that passes the same
/// checks as at start-up is in service within seconds on every process that reads it (the worker's
/// lanes for the mood's age and the payment-received template, the webhooks for pauses,
/// escalations and answers); one that does not is refused and logged, and the last good policy stays.
/// A file deleted while running also leaves the last good policy (at start-up a missing file means
/// the standard one). Thread-safe.
public final class ReplyPolicySource: @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `lock`.
    public let path: String
    /// How often `looked()` reads the file again at most.
    public let interval: TimeInterval
    private let lock = NSLock()
    private var policy: ReplyPolicy
    private var lastRead: Data?
    private var lastLook = Date.distantPast
    private var refusal: String?
    private let logger: Logger?
    /// Called with each policy put in service after start-up (the gateway warns of answer templates that do not exist).
    private let onReload: (@Sendable (ReplyPolicy) -> Void)?

    public enum ReloadResult: Sendable, Equatable {
        case unchanged, reloaded
        case refused(String)
    }

    public init(path: String, interval: TimeInterval = 2, logger: Logger? = nil, onReload: (@Sendable (ReplyPolicy) -> Void)? = nil) throws(ReplyActionsFile.Failure) {
        self.path = path
        self.interval = interval
        self.logger = logger
        self.onReload = onReload
        let data = try Self.read(path)
        lastRead = data
        policy = try Self.parse(data, path: path) ?? .standard
    }

    /// A policy that never changes (tests, and callers without a file).
    public init(fixed: ReplyPolicy) {
        path = ""
        interval = .infinity
        policy = fixed
        logger = nil
        onReload = nil
        lastLook = .distantFuture
    }

    public var current: ReplyPolicy { lock.withLock { policy } }

    /// Why the file on disk is not in service (the last edit was refused), or nil.
    public var refused: String? { lock.withLock { refusal } }

    /// The policy in service, having first looked at the file if the last look is older than `interval`.
    public func looked(now: Date = Date()) -> ReplyPolicy { current(lookingEvery: interval, now: now) }

    /// The same, with another interval.
    public func current(lookingEvery interval: TimeInterval, now: Date = Date()) -> ReplyPolicy {
        let due = lock.withLock {
            guard now.timeIntervalSince(lastLook) >= interval else { return false }
            lastLook = now
            return true
        }
        if due { reloadIfChanged() }
        return current
    }

    @discardableResult
    public func reloadIfChanged() -> ReloadResult {
        guard !path.isEmpty else { return .unchanged }
        let data: Data?
        do { data = try Self.read(path) } catch {
            // There but unreadable (permissions, a folder): refused like a wrong edit, once.
            let unchanged = lock.withLock { () -> Bool in
                if refusal == error.message { return true }
                refusal = error.message
                return false
            }
            if unchanged { return .unchanged }
            logger?.error("reply actions edit refused: the last good ones stay in service", metadata: ["problem": "\(error.message)"])
            return .refused(error.message)
        }
        // What was read before this look: the result is kept only if no other look saved a newer read meanwhile.
        let before: Data?? = lock.withLock { data != lastRead ? .some(lastRead) : .none }
        guard let before else { return .unchanged }
        func save(_ change: () -> Void) -> Bool {
            lock.withLock {
                guard lastRead == before else { return false }
                lastRead = data
                change()
                return true
            }
        }
        let result: ReloadResult
        do {
            if let parsed = try Self.parse(data, path: path) {
                guard save({ policy = parsed; refusal = nil }) else { return .unchanged }
                logger?.notice("reply actions reloaded", metadata: ["file": "\(path)"])
                onReload?(parsed)
                result = .reloaded
            } else {
                let message = "\(path) is missing: the reply actions in service stay until it is back"
                guard save({ refusal = message }) else { return .unchanged }
                result = .refused(message)
            }
        } catch {
            guard save({ refusal = error.message }) else { return .unchanged }
            result = .refused(error.message)
        }
        if case .refused(let message) = result {
            logger?.error("reply actions edit refused: the last good ones stay in service", metadata: ["problem": "\(message)"])
        }
        return result
    }

    /// The file's bytes; nil when there is none; a failure when it is there but cannot be read.
    static func read(_ path: String) throws(ReplyActionsFile.Failure) -> Data? {
        if let data = FileManager.default.contents(atPath: path) { return data }
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        throw ReplyActionsFile.Failure(message: "\(path): cannot be read (permissions, or not a file)")
    }

    /// nil when there is no file.
    static func parse(_ data: Data?, path: String) throws(ReplyActionsFile.Failure) -> ReplyPolicy? {
        guard let data else { return nil }
        guard let text = String(data: data, encoding: .utf8) else { throw ReplyActionsFile.Failure(message: "\(path): cannot read it as UTF-8 text") }
        return try ReplyActionsFile.parse(text, file: path)
    }
}
