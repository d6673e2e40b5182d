import Foundation

/// The reply lexicons in service, swapped whole when compliance's edits pass lint; an edit that
/// does not is refused, the last good set stays in service, and `currentStatus` says why.
/// Thread-safe; readers get an immutable `ReplyLexicons`.
public final class RepliesStore: @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `lock`.
    public struct Status: Sendable, Equatable {
        public var loadedAt: Date
        /// Set while the files on disk differ from what is in service because the last edit was refused.
        public var rejectedAt: Date?
        public var rejectedErrors: [String]
    }

    public enum ReloadResult: Sendable, Equatable {
        case unchanged
        case reloaded
        case rejected([String])
    }

    public let directory: String
    public let defaultLanguage: String
    private let lock = NSLock()
    private var lexicons: ReplyLexicons
    private var lastRead: [String: Data]
    private var status: Status
    /// The status to go back to when a folder that could not be read reads again unchanged.
    private var statusBeforeReadFailure: Status?

    /// Loads and lints the folder; any finding refuses to start, with every finding.
    public init(directory: String, defaultLanguage: String = "es", now: Date = Date()) throws(ReplyError) {
        self.directory = directory
        self.defaultLanguage = defaultLanguage
        let files = try ReplyLexiconFile.read(directory: directory)
        let (findings, loaded) = ReplyLexiconFile.lexicons(files: files, defaultLanguage: defaultLanguage)
        guard let loaded else {
            throw ReplyError(code: "lexicon_lint", message: "the reply lexicons in \(directory) do not pass lint:\n" + findings.map { "  \($0)" }.joined(separator: "\n"))
        }
        lexicons = loaded
        lastRead = files
        status = Status(loadedAt: now, rejectedAt: nil, rejectedErrors: [])
    }

    public var current: ReplyLexicons { lock.withLock { lexicons } }

    private var lastLook = Date.distantPast

    /// The lexicons in service, having first looked at the files if the last look is older than
    /// `interval` (the HTTP API reads them this way: an edit is in service within seconds, and a
    /// refused one leaves the last good set and its reasons in `currentStatus`).
    public func current(lookingEvery interval: TimeInterval, now: Date = Date()) -> ReplyLexicons {
        let due = lock.withLock {
            guard now.timeIntervalSince(lastLook) >= interval else { return false }
            lastLook = now
            return true
        }
        if due { reloadIfChanged(now: now) }
        return current
    }
    public var currentStatus: Status { lock.withLock { status } }

    /// Reads the folder; if anything changed, lints it and swaps in the new lexicons, or keeps the
    /// ones in service and records why the edit was refused. Lint checks the bytes that are loaded.
    @discardableResult
    public func reloadIfChanged(now: Date = Date()) -> ReloadResult {
        let files: [String: Data]
        do { files = try ReplyLexiconFile.read(directory: directory) } catch {
            let problems = [error.message]
            return lock.withLock {
                if statusBeforeReadFailure == nil { statusBeforeReadFailure = status }
                if status.rejectedErrors == problems { return .unchanged }
                status.rejectedAt = now
                status.rejectedErrors = problems
                return .rejected(problems)
            }
        }
        let same = lock.withLock {
            if let saved = statusBeforeReadFailure {
                status = saved
                statusBeforeReadFailure = nil
            }
            return files == lastRead
        }
        guard !same else { return .unchanged }
        let (findings, loaded) = ReplyLexiconFile.lexicons(files: files, defaultLanguage: defaultLanguage)
        return lock.withLock {
            lastRead = files
            if let loaded {
                lexicons = loaded
                status = Status(loadedAt: now, rejectedAt: nil, rejectedErrors: [])
                return .reloaded
            }
            let problems = findings.map(\.description)
            status.rejectedAt = now
            status.rejectedErrors = problems
            return .rejected(problems)
        }
    }
}
