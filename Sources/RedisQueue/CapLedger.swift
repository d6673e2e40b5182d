import Crypto
import Foundation
import GatewayCore

/// The frequency-cap ledger shared by every worker: one sorted set per key
/// (`gateway:caps:contact:C-1`, `...:debt:LN-77`), members are job ids, scores send times in ms.
/// Checking every cap and gap and reserving the slot is one Lua script, which Redis runs
/// atomically: two workers can never both take the last slot.
public struct CapLedger: Sendable {
    public let client: RedisClient
    public let prefix: String

    public init(client: RedisClient, prefix: String = "gateway:caps:") {
        self.client = client
        self.prefix = prefix
    }

    /// KEYS: the distinct ledger keys. ARGV: now_ms, member, reserve (1/0), then per check:
    /// key index (1-based), kind ("cap"/"gap"), limit, window or gap in ms, rule id.
    /// Returns {1} when every check passes (and the member was added to every key if reserving),
    /// else {0, rule_id, reopens_at_ms} for the check that opens last.
    static let script = """
        local now = tonumber(ARGV[1])
        local member = ARGV[2]
        local reserve = ARGV[3] == '1'
        local worst_rule, worst_at = nil, -1
        local longest = {}
        if reserve then
          -- This job's own earlier reservation (a check that was repeated after an interrupted
          -- batch) never counts against it.
          for k = 1, #KEYS do redis.call('ZREM', KEYS[k], member) end
        end
        local i = 4
        while i <= #ARGV do
          local key = KEYS[tonumber(ARGV[i])]
          local kind, limit, span, rule = ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), ARGV[i + 4]
          if (longest[key] or 0) < span then longest[key] = span end
          local reopens = nil
          if kind == 'cap' then
            local count = redis.call('ZCOUNT', key, '(' .. (now - span), '+inf')
            if count >= limit then
              local oldest = redis.call('ZRANGEBYSCORE', key, '(' .. (now - span), '+inf', 'WITHSCORES', 'LIMIT', count - limit, 1)
              reopens = tonumber(oldest[2]) + span
            end
          else
            local last = redis.call('ZREVRANGE', key, 0, 0, 'WITHSCORES')
            if #last > 0 and now - tonumber(last[2]) < span then reopens = tonumber(last[2]) + span end
          end
          if reopens and reopens > worst_at then worst_rule, worst_at = rule, reopens end
          i = i + 5
        end
        if worst_rule then return {0, worst_rule, worst_at} end
        if reserve then
          for key, span in pairs(longest) do
            redis.call('ZADD', key, now, member)
            redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
            redis.call('PEXPIRE', key, span)
          end
        end
        return {1}
        """

    static let scriptSHA: String = {
        // SHA-1 of the script, as EVALSHA names it.
        sha1Hex(Array(script.utf8))
    }()

    /// Checks every cap and gap and, if all pass and `reserve` is set, counts `member` (a job id) at `now`.
    public func check(_ checks: [CapCheck], member: String, now: Date, reserve: Bool = true) async throws -> CapResult {
        try await checkMany([(checks, member)], now: now, reserve: reserve)[0]
    }

    /// Several checks in one round trip (EVALSHA, pipelined; Redis runs them one after the
    /// other, each atomically, so it is the same as checking them in order).
    public func checkMany(_ items: [(checks: [CapCheck], member: String)], now: Date, reserve: Bool = true) async throws -> [CapResult] {
        var results = [CapResult?](repeating: nil, count: items.count)
        var commands: [[String]] = []
        var positions: [Int] = []
        for (position, item) in items.enumerated() {
            guard !item.checks.isEmpty else { results[position] = .reserved; continue }
            commands.append(arguments(item.checks, member: item.member, now: now, reserve: reserve))
            positions.append(position)
        }
        if !commands.isEmpty {
            var replies = try await client.pipeline(commands.map { ["EVALSHA", Self.scriptSHA] + $0 })
            // Redis restarted or flushed its script cache: run again, with the script, exactly the
            // commands it refused (another connection may have loaded it half-way through ours).
            let refused = replies.indices.filter { if case .error(let message) = replies[$0] { message.hasPrefix("NOSCRIPT") } else { false } }
            if !refused.isEmpty {
                let again = try await client.pipeline(refused.map { ["EVAL", Self.script] + commands[$0] })
                for (index, reply) in zip(refused, again) { replies[index] = reply }
            }
            for (reply, position) in zip(replies, positions) {
                results[position] = try Self.result(reply, checks: items[position].checks)
            }
        }
        return results.map { $0! }
    }

    func arguments(_ checks: [CapCheck], member: String, now: Date, reserve: Bool) -> [String] {
        var keys: [String] = []
        var args = [String(Int64(now.timeIntervalSince1970 * 1000)), member, reserve ? "1" : "0"]
        for check in checks {
            let key = prefix + check.key
            if !keys.contains(key) { keys.append(key) }
            let index = keys.firstIndex(of: key)! + 1
            switch check.limit {
            case .cap(let max, let window): args += [String(index), "cap", String(max), String(Int64(window * 1000)), check.ruleID]
            case .gap(let gap): args += [String(index), "gap", "0", String(Int64(gap * 1000)), check.ruleID]
            }
        }
        return [String(keys.count)] + keys + args
    }

    static func result(_ reply: RESPValue, checks: [CapCheck]) throws -> CapResult {
        if case .error(let message) = reply { throw RedisError(code: .server, message: message) }
        guard let parts = reply.array, let first = parts.first?.integer else {
            throw RedisError(code: .protocolError, message: "unexpected cap ledger reply \(reply)")
        }
        if first == 1 { return .reserved }
        guard parts.count == 3, let rule = parts[1].string, let at = parts[2].integer else {
            throw RedisError(code: .protocolError, message: "unexpected cap ledger reply \(reply)")
        }
        let sentence = checks.first { $0.ruleID == rule }?.description ?? rule
        return .blocked(ruleID: rule, reopensAt: Date(timeIntervalSince1970: Double(at) / 1000), sentence: sentence)
    }

    /// Takes a reservation back (the send failed, so it does not count).
    public func release(_ checks: [CapCheck], member: String) async throws {
        let keys = Set(checks.map { prefix + $0.key })
        guard !keys.isEmpty else { return }
        _ = try await client.pipeline(keys.sorted().map { ["ZREM", $0, member] })
    }
}

func sha1Hex(_ bytes: [UInt8]) -> String {
    Insecure.SHA1.hash(data: bytes).hexString
}
