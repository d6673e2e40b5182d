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

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var isConnectionError: Bool { code == .io || code == .closed }
    public var description: String { "redis \(code): \(message)" }
}

/// A reply, decoded out of hiredis' redisReply.
public enum RESPValue: Sendable, Equatable {
    case bulk([UInt8])
    case status(String)
    case integer(Int)
    case array([RESPValue])
    case null
    case error(String)

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
