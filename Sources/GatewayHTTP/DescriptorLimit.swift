#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open files (RLIMIT_NOFILE). Every HTTP connection, database and Redis
/// connection and template read takes one; many systems start processes at a soft limit of 1,024
/// while allowing far more. `gateway run` raises the soft limit to the hard one at start-up.
public enum DescriptorLimit {
    public struct Outcome: Sendable, Equatable {
        /// The soft limit found, and the one in force now.
        public var before: UInt64
        public var now: UInt64
        /// The ceiling the soft limit may be raised to without privileges.
        public var hard: UInt64
        /// Why it could not be raised, when it could not.
        public var failure: String?
    }

    /// The most raised to when the hard limit is "unlimited" (the kernel refuses infinity here).
    static let unlimitedCeiling: UInt64 = 1 << 20

    /// Raises the soft limit to the hard limit (at most 1,048,576); reports what it found and did.
    public static func raiseToHardLimit() -> Outcome {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else {
            let reason = String(cString: strerror(errno))
            return Outcome(before: 0, now: 0, hard: 0, failure: "getrlimit: \(reason)")
        }
        let before = UInt64(limit.rlim_cur)
        let hard = UInt64(limit.rlim_max)
        let target = limit.rlim_max == unlimited ? max(before, unlimitedCeiling) : hard
        guard target > before else { return Outcome(before: before, now: before, hard: hard, failure: nil) }
        limit.rlim_cur = rlim_t(target)
        guard setrlimit(resource, &limit) == 0 else {
            let reason = String(cString: strerror(errno))
            return Outcome(before: before, now: before, hard: hard, failure: "setrlimit: \(reason)")
        }
        return Outcome(before: before, now: target, hard: hard, failure: nil)
    }

    #if canImport(Glibc)
    private static var resource: __rlimit_resource_t { __rlimit_resource_t(RLIMIT_NOFILE.rawValue) }
    /// RLIM_INFINITY, all ones (Swift cannot import glibc's macro for it).
    private static let unlimited = rlim_t.max
    #else
    private static var resource: Int32 { RLIMIT_NOFILE }
    private static let unlimited = RLIM_INFINITY
    #endif
}

extension ConnectionLimits {
    /// Descriptors kept for everything but client connections: the contact log, Redis, provider
    /// connections, template and token files.
    public static let reservedDescriptors = 256

    /// These limits with `maxConnections` lowered, if needed, so that connections alone cannot
    /// use up `descriptorLimit` (at least 16 connections stay allowed).
    public func fitting(descriptorLimit: UInt64) -> ConnectionLimits {
        var fitted = self
        let room = Int(clamping: descriptorLimit) - Self.reservedDescriptors
        fitted.maxConnections = max(16, min(maxConnections, room))
        return fitted
    }
}
