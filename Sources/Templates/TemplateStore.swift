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
    private var fingerprint: Int
    private var status: Status

    /// Loads and lints the folder; any lint error refuses to start, with every finding.
    public init(directory: String, requirements: ComplianceRequirements, defaultLocale: String, now: Date = Date()) throws(TemplateLoadError) {
        self.directory = directory
        self.requirements = requirements
        self.defaultLocale = defaultLocale
        let errors = TemplateLinter.lint(directory: directory, requirements: requirements, defaultLocale: defaultLocale).filter { $0.severity == .error }
        if !errors.isEmpty {
            throw TemplateLoadError(file: directory, message: "templates do not pass lint:\n" + errors.map { "  \($0)" }.joined(separator: "\n"))
        }
        catalog = try TemplateCatalog(directory: directory)
        fingerprint = Self.fingerprint(of: directory)
        status = Status(loadedAt: now, rejectedAt: nil, rejectedErrors: [])
    }

    public var current: TemplateCatalog { lock.withLock { catalog } }
    public var currentStatus: Status { lock.withLock { status } }

    /// Looks at the files; if anything changed, lints and swaps in the new catalog, or keeps the
    /// one in service and records why the edit was refused.
    public func reloadIfChanged(now: Date = Date()) -> ReloadResult {
        let print = Self.fingerprint(of: directory)
        guard print != lock.withLock({ fingerprint }) else { return .unchanged }
        let errors = TemplateLinter.lint(directory: directory, requirements: requirements, defaultLocale: defaultLocale)
            .filter { $0.severity == .error }.map(\.description)
        var loaded: TemplateCatalog?
        var problems = errors
        if errors.isEmpty {
            do { loaded = try TemplateCatalog(directory: directory) } catch { problems = [error.description] }
        }
        return lock.withLock {
            fingerprint = print
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

    /// A hash of every file's path and bytes under the folder: any edit, however quick, changes it.
    static func fingerprint(of directory: String) -> Int {
        var hasher = Hasher()
        let fm = FileManager.default
        let files = ((fm.subpaths(atPath: directory)) ?? []).sorted()
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            hasher.combine(file)
            hasher.combine(fm.contents(atPath: path))
        }
        return hasher.finalize()
    }
}
