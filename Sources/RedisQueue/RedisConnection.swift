internal import CHiredis
import Foundation

/// One hiredis connection. Not thread-safe: it lives on one `IOThread` (see `RedisClient`).
/// Every hiredis call is in this file, and every failure becomes a `RedisError` here.
final class RedisConnection {
    private var context: UnsafeMutablePointer<redisContext>?
    let configuration: RedisConfiguration

    init(configuration: RedisConfiguration) throws {
        self.configuration = configuration
        let timeout = Self.timeval(seconds: configuration.connectTimeout)
        guard let context = redisConnectWithTimeout(configuration.host, Int32(configuration.port), timeout) else {
            throw RedisError(code: .io, message: "cannot allocate a redis context")
        }
        if context.pointee.err != 0 {
            let message = Self.errorString(context)
            redisFree(context)
            throw RedisError(code: .io, message: "cannot connect to \(configuration.redacted): \(message)")
        }
        self.context = context
        try setTimeout(configuration.commandTimeout)
        if let password = configuration.password {
            var auth = ["AUTH"]
            if let user = configuration.username { auth.append(user) }
            auth.append(password)
            if case .error(let message) = try execute([auth.map { Array($0.utf8) }])[0] {
                close()
                throw RedisError(code: .configuration, message: "AUTH failed: \(message)")
            }
        }
        if let name = configuration.clientName {
            // Client names may not contain spaces.
            let safe = String(name.map { $0 == " " ? "_" : $0 })
            if case .error(let message) = try execute([["CLIENT", "SETNAME", safe].map { Array($0.utf8) }])[0] {
                close()
                throw RedisError(code: .configuration, message: "CLIENT SETNAME failed: \(message)")
            }
        }
        if configuration.database != 0 {
            if case .error(let message) = try execute([["SELECT", String(configuration.database)].map { Array($0.utf8) }])[0] {
                close()
                throw RedisError(code: .configuration, message: "SELECT \(configuration.database) failed: \(message)")
            }
        }
    }

    deinit {
        close()
    }

    var isOpen: Bool { context != nil }

    func close() {
        if let context {
            redisFree(context)
            self.context = nil
        }
    }

    func setTimeout(_ seconds: Double) throws {
        guard let context else { throw RedisError(code: .closed, message: "connection is closed") }
        if redisSetTimeout(context, Self.timeval(seconds: seconds)) != REDIS_OK {
            throw RedisError(code: .io, message: "cannot set socket timeout")
        }
    }

    /// Sends all commands, then reads all replies (one round trip). An error reply is returned as
    /// `.error`; a broken connection throws and closes this connection.
    func execute(_ commands: [[[UInt8]]]) throws -> [RESPValue] {
        guard let context else { throw RedisError(code: .closed, message: "connection is closed") }
        for command in commands {
            let status = Self.withArgv(command) { argc, argv, lengths in
                redisAppendCommandArgv(context, argc, argv, lengths)
            }
            if status != REDIS_OK { throw fail("cannot queue command") }
        }
        var replies: [RESPValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            if redisGetReply(context, &raw) != REDIS_OK || raw == nil {
                throw fail("no reply")
            }
            let reply = raw!.assumingMemoryBound(to: redisReply.self)
            replies.append(Self.decode(reply))
            freeReplyObject(raw)
        }
        return replies
    }

    private func fail(_ what: String) -> RedisError {
        let message = context.map(Self.errorString) ?? "connection is closed"
        close()
        return RedisError(code: .io, message: "\(what): \(message)")
    }

    private static func decode(_ reply: UnsafeMutablePointer<redisReply>) -> RESPValue {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            return .bulk(bytes(r.str, r.len))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(r.str, r.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(r.str, r.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int(r.integer))
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ARRAY:
            var items: [RESPValue] = []
            items.reserveCapacity(r.elements)
            for i in 0..<r.elements {
                if let element = r.element[i] { items.append(decode(element)) } else { items.append(.null) }
            }
            return .array(items)
        default:
            return .error("unknown reply type \(r.type)")
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private static func timeval(seconds: Double) -> Glibc.timeval {
        let whole = Int(seconds)
        return Glibc.timeval(tv_sec: whole, tv_usec: Int((seconds - Double(whole)) * 1_000_000))
    }

    /// Lays the arguments out as hiredis wants them: an array of pointers and an array of lengths.
    /// Binary-safe: arguments may contain any byte, including NUL.
    private static func withArgv<R>(_ args: [[UInt8]], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R) -> R {
        let total = args.reduce(0) { $0 + $1.count }
        var storage = [UInt8]()
        storage.reserveCapacity(total + 1)
        var offsets: [Int] = []
        var lengths: [Int] = []
        for arg in args {
            offsets.append(storage.count)
            lengths.append(arg.count)
            storage.append(contentsOf: arg)
        }
        storage.append(0)
        return storage.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { base in
                var pointers: [UnsafePointer<CChar>?] = offsets.map { base + $0 }
                return pointers.withUnsafeMutableBufferPointer { argv in
                    lengths.withUnsafeBufferPointer { lens in
                        body(Int32(args.count), argv.baseAddress!, lens.baseAddress!)
                    }
                }
            }
        }
    }
}
