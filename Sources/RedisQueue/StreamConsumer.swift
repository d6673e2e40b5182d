import Foundation

/// One entry of the jobs stream.
public struct StreamEntry: Sendable, Equatable {
    public var id: String
    public var fields: [String: [UInt8]]

    public init(id: String, fields: [String: [UInt8]]) {
        self.id = id
        self.fields = fields
    }
}

/// A consumer in a Redis stream consumer group: reads batches, acks them, reclaims the pending
/// entries of consumers that died, and writes refused entries to the dead-letter stream.
public struct StreamConsumer: Sendable {
    public let client: RedisClient
    public let stream: String
    public let group: String
    public let consumer: String
    public let deadLetterStream: String

    public init(client: RedisClient, stream: String, group: String, consumer: String, deadLetterStream: String) {
        self.client = client
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.deadLetterStream = deadLetterStream
    }

    /// Creates the group (and the stream) if missing. The group starts at the beginning of the
    /// stream, so jobs enqueued before the gateway first ran are not skipped.
    public func ensureGroup() async throws {
        do {
            try await client.command(["XGROUP", "CREATE", stream, group, "0", "MKSTREAM"])
        } catch let error as RedisError where error.serverCode == .busyGroup {
            // Already there.
        }
    }

    /// New entries for this consumer, waiting up to `blockMilliseconds` for the first one.
    public func readNew(count: Int, blockMilliseconds: Int) async throws -> [StreamEntry] {
        let reply = try await client.command(
            ["XREADGROUP", "GROUP", group, consumer, "COUNT", String(count), "BLOCK", String(blockMilliseconds), "STREAMS", stream, ">"],
            timeout: client.configuration.commandTimeout + Double(blockMilliseconds) / 1000)
        return try Self.entries(fromRead: reply)
    }

    /// Entries delivered to this consumer name earlier and never acked (a restart after a crash),
    /// with ids after `after`: pass the last id of the previous page to walk the whole list.
    public func readOwnPending(count: Int, after: String = "0") async throws -> [StreamEntry] {
        let reply = try await client.command(["XREADGROUP", "GROUP", group, consumer, "COUNT", String(count), "STREAMS", stream, after])
        return try Self.entries(fromRead: reply)
    }

    /// Takes over entries that other consumers left pending for longer than `minIdleMilliseconds`.
    public func claimIdle(minIdleMilliseconds: Int, count: Int) async throws -> [StreamEntry] {
        let reply = try await client.command(
            ["XAUTOCLAIM", stream, group, consumer, String(minIdleMilliseconds), "0-0", "COUNT", String(count)])
        guard let parts = reply.array, parts.count >= 2, let list = parts[1].array else {
            throw RedisError(code: .protocolError, message: "unexpected XAUTOCLAIM reply \(reply)")
        }
        return try Self.entries(list)
    }

    /// Leaves the group when nothing is pending under this consumer's name (a restart under another
    /// name would otherwise leave an idle consumer behind for good). Returns whether it left; with
    /// entries pending it stays, so XAUTOCLAIM or its own restart can finish them.
    @discardableResult
    public func leaveIfIdle() async throws -> Bool {
        try await Self.removeIfNothingPending.call(client, ["1", stream, group, consumer]).integer == 1
    }

    /// Removes other consumers of the group that have nothing pending and have not read for
    /// `idleMilliseconds`: the names a worker that died (rather than stopping cleanly) left behind.
    /// Their entries were taken over already (XAUTOCLAIM, after claim_idle_ms); a name that comes
    /// back simply reads again under it. Names in `keeping` (this worker's other lanes) stay.
    /// Returns the names removed.
    public func removeAbandonedConsumers(idleMilliseconds: Int, keeping: Set<String> = []) async throws -> [String] {
        let reply = try await client.command(["XINFO", "CONSUMERS", stream, group])
        guard let consumers = reply.array else { throw RedisError(code: .protocolError, message: "unexpected XINFO CONSUMERS reply \(reply)") }
        var candidates: [String] = []
        for entry in consumers {
            guard let fields = entry.array else { continue }
            var info: [String: RESPValue] = [:]
            for index in stride(from: 0, to: fields.count - 1, by: 2) {
                if let name = fields[index].string { info[name] = fields[index + 1] }
            }
            guard let name = info["name"]?.string, name != consumer, !keeping.contains(name), info["pending"]?.integer == 0,
                  let idle = info["idle"]?.integer, idle >= idleMilliseconds else { continue }
            candidates.append(name)
        }
        guard !candidates.isEmpty else { return [] }
        // Checked again and removed in one step: an entry read in between must never be dropped
        // with its consumer's pending list.
        let replies = try await Self.removeIfNothingPending.run(client, candidates.map { ["1", stream, group, $0] })
        return zip(candidates, replies).compactMap { name, reply in reply.integer == 1 ? name : nil }
    }

    static let removeIfNothingPending = RedisScript("""
        local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
        if #pending > 0 then return 0 end
        redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
        return 1
        """)

    /// Acknowledges entries: they leave the pending list for good.
    public func ack(_ ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        try await client.command(["XACK", stream, group] + ids)
    }

    /// A refused entry and why.
    public struct DeadLetter: Sendable {
        public var entry: StreamEntry
        public var code: String
        public var reason: String
        public init(entry: StreamEntry, code: String, reason: String) {
            self.entry = entry
            self.code = code
            self.reason = reason
        }
    }

    /// Copies refused entries, with their reason, to the dead-letter stream (one round trip).
    public func deadLetter(_ letters: [DeadLetter], at time: String) async throws {
        guard !letters.isEmpty else { return }
        let commands: [[[UInt8]]] = letters.map { letter in
            var command: [[UInt8]] = ["XADD", deadLetterStream, "*"].map { Array($0.utf8) }
            for (field, value) in letter.entry.fields.sorted(by: { $0.key < $1.key }) {
                command.append(Array(field.utf8))
                command.append(value)
            }
            for (field, value) in [("error_code", letter.code), ("error", letter.reason), ("source_id", letter.entry.id),
                                   ("source_stream", stream), ("consumer", consumer), ("failed_at", time)] {
                command.append(Array(field.utf8))
                command.append(Array(value.utf8))
            }
            return command
        }
        for reply in try await client.pipeline(commands) {
            if case .error(let message) = reply { throw RedisError.server(message, context: "XADD \(deadLetterStream)") }
        }
    }

    static func entries(fromRead reply: RESPValue) throws -> [StreamEntry] {
        if reply == .null { return [] }
        guard let streams = reply.array else {
            throw RedisError(code: .protocolError, message: "unexpected XREADGROUP reply \(reply)")
        }
        var result: [StreamEntry] = []
        for stream in streams {
            guard let pair = stream.array, pair.count == 2, let list = pair[1].array else {
                throw RedisError(code: .protocolError, message: "unexpected XREADGROUP stream reply \(stream)")
            }
            result += try entries(list)
        }
        return result
    }

    static func entries(_ list: [RESPValue]) throws -> [StreamEntry] {
        var result: [StreamEntry] = []
        result.reserveCapacity(list.count)
        for item in list {
            guard let pair = item.array, pair.count == 2, let id = pair[0].string else {
                throw RedisError(code: .protocolError, message: "unexpected stream entry \(item)")
            }
            var fields: [String: [UInt8]] = [:]
            // A pending entry that was deleted from the stream comes back with nil fields.
            if let flat = pair[1].array {
                var index = 0
                while index + 1 < flat.count {
                    if let key = flat[index].string, case .bulk(let value) = flat[index + 1] { fields[key] = value }
                    index += 2
                }
            }
            result.append(StreamEntry(id: id, fields: fields))
        }
        return result
    }
}
