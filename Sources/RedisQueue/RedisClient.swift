import Foundation

/// An async Redis client: one hiredis connection on its own thread. Commands from many tasks are
/// run one after another on that thread. A broken connection is reopened on the next command; the
/// caller decides how long to back off.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let thread: IOThread
    private let holder: ConnectionHolder

    /// @unchecked: `connection` is only read or written on `thread`.
    private final class ConnectionHolder: @unchecked Sendable {
        var connection: RedisConnection?
    }

    public init(configuration: RedisConfiguration) {
        self.configuration = configuration
        self.thread = IOThread(name: "redis \(configuration.host):\(configuration.port)")
        self.holder = ConnectionHolder()
    }

    deinit {
        thread.stop()
    }

    /// Runs the commands in one round trip and returns one reply each. `timeout` overrides the
    /// configured command timeout (blocking reads pass their block time plus a margin).
    public func pipeline(_ commands: [[[UInt8]]], timeout: Double? = nil) async throws -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        let holder = self.holder
        let configuration = self.configuration
        return try await thread.run {
            let connection: RedisConnection
            if let open = holder.connection, open.isOpen {
                connection = open
            } else {
                connection = try RedisConnection(configuration: configuration)
                holder.connection = connection
            }
            if let timeout {
                try connection.setTimeout(timeout)
                defer { try? connection.setTimeout(configuration.commandTimeout) }
                return try connection.execute(commands)
            }
            return try connection.execute(commands)
        }
    }

    public func pipeline(_ commands: [[String]], timeout: Double? = nil) async throws -> [RESPValue] {
        try await pipeline(commands.map { $0.map { Array($0.utf8) } }, timeout: timeout)
    }

    /// One command; an error reply is thrown as `RedisError(.server)`.
    @discardableResult
    public func command(_ args: [String], timeout: Double? = nil) async throws -> RESPValue {
        try await command(bytes: args.map { Array($0.utf8) }, timeout: timeout)
    }

    @discardableResult
    public func command(bytes args: [[UInt8]], timeout: Double? = nil) async throws -> RESPValue {
        let reply = try await pipeline([args], timeout: timeout)[0]
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    /// Closes the connection (after queued commands) and ends the thread.
    public func shutdown() async {
        let holder = self.holder
        _ = try? await thread.run { holder.connection?.close() }
        thread.stop()
    }
}
