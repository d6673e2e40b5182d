import ContactLog
import Foundation
import GatewayCore
import Logging
import PostgresContactLog

/// Opens the contact log `contact_log` names: a postgres:// URL (several workers on several
/// machines) or a SQLite file path (the embedded default).
public enum ContactLogs {
    public static func isPostgres(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    /// Whether there is a log to read (for commands that must not create an empty one).
    public static func exists(_ location: String) -> Bool {
        isPostgres(location) || FileManager.default.fileExists(atPath: location)
    }

    public static func open(_ location: String, logger: Logger = Logger(label: "contact-log")) async throws -> any ContactLogStore {
        if isPostgres(location) {
            do { return try await PostgresContactLog(url: location, logger: logger) } catch let error as ContactLogError {
                throw ConfigurationError(error.message)
            } catch {
                throw ConfigurationError("contact_log: cannot open the PostgreSQL contact log at \(redacted(location)): \(String(reflecting: error))")
            }
        }
        do { return try SQLiteContactLog(path: location) } catch {
            throw ConfigurationError("contact log \(location): \(error)")
        }
    }

    /// The URL without its password, for messages.
    public static func redacted(_ location: String) -> String {
        LogMasking.url(location)
    }
}
