/// A Redis failure. `.io` and `.closed` mean the connection is gone (it is reopened on next use);
/// `.server` is an error reply (the connection is fine); `.protocolError` is a reply of an unexpected shape.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        case io
        case closed
        case server
        case protocolError
        case configuration
    }

    public var code: Code
    public var message: String
    /// For `.server`: the error code Redis put first in its reply.
    public var serverCode: ServerCode?

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// An error reply from the server, with its code read once, here; `context` says which command.
    public static func server(_ message: String, context: String? = nil) -> RedisError {
        var error = RedisError(code: .server, message: context.map { "\($0): \(message)" } ?? message)
        error.serverCode = ServerCode(message)
        return error
    }

    public var isConnectionError: Bool { code == .io || code == .closed }
    public var description: String { "redis \(code): \(message)" }
}

extension RedisError {
    /// The code that starts a Redis error reply ("NOGROUP No such key 'jobs' or consumer group..."):
    /// the ones the gateway acts on by name, and the rest as Redis wrote them.
    public enum ServerCode: Sendable, Equatable {
        /// The stream or its consumer group does not exist (deleted under a running worker).
        case noGroup
        /// XGROUP CREATE of a group that exists.
        case busyGroup
        /// EVALSHA of a script the server does not hold (restarted, or SCRIPT FLUSH).
        case noScript
        /// A key holds another type than the command needs.
        case wrongType
        /// The server is a read-only replica.
        case readOnly
        /// The server is loading its data set.
        case loading
        /// maxmemory reached under a noeviction policy.
        case outOfMemory
        /// `ERR` and any other code.
        case other(String)

        public init(_ message: String) {
            let code = message.prefix { $0 != " " }
            switch code {
            case "NOGROUP": self = .noGroup
            case "BUSYGROUP": self = .busyGroup
            case "NOSCRIPT": self = .noScript
            case "WRONGTYPE": self = .wrongType
            case "READONLY": self = .readOnly
            case "LOADING": self = .loading
            case "OOM": self = .outOfMemory
            default: self = .other(String(code))
            }
        }
    }
}

/// A reply, decoded out of hiredis' redisReply.
public enum RESPValue: Sendable, Equatable {
    case bulk([UInt8])
    case status(String)
    case integer(Int)
    case array([RESPValue])
    case null
    case error(String)

    /// The error code of an error reply; nil for any other reply.
    public var errorCode: RedisError.ServerCode? {
        if case .error(let message) = self { RedisError.ServerCode(message) } else { nil }
    }

    public var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        case .integer(let value): String(value)
        default: nil
        }
    }

    public var array: [RESPValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    public var integer: Int? {
        switch self {
        case .integer(let value): value
        case .bulk: string.flatMap { Int($0) }
        default: nil
        }
    }
}
