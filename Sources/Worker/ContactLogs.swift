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

    /// `chains`: `log_chains`, how many hash chains a PostgreSQL log's batch appends spread over.
    public static func open(_ location: String, chains: Int = 1, logger: Logger = Logger(label: "contact-log")) async throws -> any ContactLogStore {
        if isPostgres(location) {
            do { return try await PostgresContactLog(url: location, chains: chains, logger: logger) } catch let error as ContactLogError {
                throw ConfigurationError(error.message)
            } catch {
                throw ConfigurationError("contact_log: cannot open the PostgreSQL contact log at \(redacted(location)): \(String(reflecting: error))")
            }
        }
        guard chains == 1 else {
            throw ConfigurationError("log_chains: \(chains) needs the PostgreSQL contact log; a SQLite file has one writer at a time and keeps one chain (remove log_chains or set it to 1)")
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
