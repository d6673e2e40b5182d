import Foundation
import GatewayCore

/// Where Redis is and how to talk to it, from a `redis://[:password@]host[:port][/db]` URL.
public struct RedisConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int
    public var connectTimeout: Double
    /// Upper bound for one command; blocking reads add their own block time on top.
    public var commandTimeout: Double
    /// Shown by CLIENT LIST, so operators can tell which worker holds which connection.
    public var clientName: String?

    public init(host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil,
                database: Int = 0, connectTimeout: Double = 2, commandTimeout: Double = 5) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }

    public init(url: String) throws {
        guard let components = URLComponents(string: url), components.scheme == "redis" else {
            throw RedisError(code: .configuration, message: "REDIS_URL must look like redis://[:password@]host[:port][/db], got \"\(LogMasking.url(url))\"")
        }
        self.init()
        if let host = components.host, !host.isEmpty { self.host = host }
        if let port = components.port { self.port = port }
        if let user = components.user, !user.isEmpty { username = user.removingPercentEncoding ?? user }
        if let password = components.password { self.password = password.removingPercentEncoding ?? password }
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !path.isEmpty {
            guard let db = Int(path), db >= 0 else {
                throw RedisError(code: .configuration, message: "the database in REDIS_URL must be a number, got \"\(path)\"")
            }
            database = db
        }
    }

    /// The URL without its password, for logs.
    public var redacted: String { "redis://\(host):\(port)/\(database)" }
}
