import Foundation
import GatewayCore

/// The templates in service, swapped whole when marketing's edits pass lint. Thread-safe; readers
/// get an immutable `TemplateCatalog`, so a batch never sees half of an edit.
public final class TemplateStore: @unchecked Sendable {
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
    public let requirements: ComplianceRequirements
    public let defaultLocale: String
    private let lock = NSLock()
    private var catalog: TemplateCatalog
    /// The files as last read (in service, or refused): a reload that reads the same bytes is a no-op.
    private var lastRead: TemplateFiles
    private var status: Status
    /// The status to go back to when a folder that could not be read reads again unchanged.
    private var statusBeforeReadFailure: Status?
    /// Runs between linting a snapshot and building the catalog from it (tests change files here:
    /// whatever lands on disk then must not reach service unchecked).
    let afterLint: (@Sendable () -> Void)?

    /// Loads and lints the folder; any lint error refuses to start, with every finding.
    public convenience init(directory: String, requirements: ComplianceRequirements, defaultLocale: String, now: Date = Date()) throws(TemplateLoadError) {
        try self.init(directory: directory, requirements: requirements, defaultLocale: defaultLocale, now: now, afterLint: nil)
    }

    init(directory: String, requirements: ComplianceRequirements, defaultLocale: String, now: Date = Date(),
         afterLint: (@Sendable () -> Void)?) throws(TemplateLoadError) {
        self.directory = directory
        self.requirements = requirements
        self.defaultLocale = defaultLocale
        self.afterLint = afterLint
        let files = try TemplateFiles.read(directory: directory)
        let (findings, checked) = TemplateLinter.lintAndLoad(files: files, requirements: requirements, defaultLocale: defaultLocale)
        let errors = findings.filter { $0.severity == .error }
        guard errors.isEmpty, let checked else {
            throw TemplateLoadError(file: directory, message: "templates do not pass lint:\n" + errors.map { "  \($0)" }.joined(separator: "\n"))
        }
        afterLint?()
        catalog = checked
        lastRead = files
        status = Status(loadedAt: now, rejectedAt: nil, rejectedErrors: [])
    }

    public var current: TemplateCatalog { lock.withLock { catalog } }
    public var currentStatus: Status { lock.withLock { status } }

    /// Looks at the files; if anything changed, lints and swaps in the new catalog, or keeps the
    /// one in service and records why the edit was refused. The folder is read once: lint checks
    /// that snapshot and the catalog is built from the same bytes, so an edit landing meanwhile
    /// waits for the next look instead of going into service unchecked.
    public func reloadIfChanged(now: Date = Date()) -> ReloadResult {
        let files: TemplateFiles
        do { files = try TemplateFiles.read(directory: directory) } catch {
            let problems = [error.description]
            return lock.withLock {
                // Unreadable: nothing is swapped; reported once until the folder reads differently.
                if statusBeforeReadFailure == nil { statusBeforeReadFailure = status }
                if status.rejectedErrors == problems { return .unchanged }
                status.rejectedAt = now
                status.rejectedErrors = problems
                return .rejected(problems)
            }
        }
        let same = lock.withLock {
            // Readable again: the status is what it was before the read failed.
            if let saved = statusBeforeReadFailure {
                status = saved
                statusBeforeReadFailure = nil
            }
            return files == lastRead
        }
        guard !same else { return .unchanged }
        // The catalog lint checked is the one that goes into service: nothing is read or built again.
        let (findings, checked) = TemplateLinter.lintAndLoad(files: files, requirements: requirements, defaultLocale: defaultLocale)
        let problems = findings.filter { $0.severity == .error }.map(\.description)
        let loaded = problems.isEmpty ? checked : nil
        if loaded != nil { afterLint?() }
        return lock.withLock {
            lastRead = files
            if let loaded {
                catalog = loaded
                status = Status(loadedAt: now, rejectedAt: nil, rejectedErrors: [])
                return .reloaded
            }
            status.rejectedAt = now
            status.rejectedErrors = problems
            return .rejected(problems)
        }
    }
}
