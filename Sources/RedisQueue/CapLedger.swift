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

    /// Checks (and reserves) for many jobs in one call, one job after the other, each as if it had
    /// its own call: a job sees the slots the jobs before it took.
    /// KEYS: the distinct ledger keys of all the jobs. ARGV: now_ms, reserve (1/0), then per job:
    /// member, number of checks, then per check: key index (1-based), kind ("cap"/"gap"), limit,
    /// window or gap in ms, rule id.
    /// Returns three values per job: 1, "", 0 when every check passes (and the member was added to
    /// each of its keys if reserving), else 0, rule_id, reopens_at_ms for the check that opens last.
    static let script = RedisScript("""
        local now = tonumber(ARGV[1])
        local reserve = ARGV[2] == '1'
        local out = {}
        local i = 3
        while i <= #ARGV do
          local member = ARGV[i]
          local first = i + 2
          local last = first + 5 * tonumber(ARGV[i + 1]) - 1
          local worst_rule, worst_at = nil, -1
          local longest = {}
          if reserve then
            -- This job's own earlier reservation (a check that was repeated after an interrupted
            -- batch) never counts against it.
            local cleared = {}
            for j = first, last, 5 do
              local key = KEYS[tonumber(ARGV[j])]
              if not cleared[key] then cleared[key] = true; redis.call('ZREM', key, member) end
            end
          end
          for j = first, last, 5 do
            local key = KEYS[tonumber(ARGV[j])]
            local kind, limit, span, rule = ARGV[j + 1], tonumber(ARGV[j + 2]), tonumber(ARGV[j + 3]), ARGV[j + 4]
            if (longest[key] or 0) < span then longest[key] = span end
            local reopens = nil
            if kind == 'cap' then
              local count = redis.call('ZCOUNT', key, '(' .. (now - span), '+inf')
              if count >= limit then
                local oldest = redis.call('ZRANGEBYSCORE', key, '(' .. (now - span), '+inf', 'WITHSCORES', 'LIMIT', count - limit, 1)
                reopens = tonumber(oldest[2]) + span
              end
            else
              local latest = redis.call('ZREVRANGE', key, 0, 0, 'WITHSCORES')
              if #latest > 0 and now - tonumber(latest[2]) < span then reopens = tonumber(latest[2]) + span end
            end
            if reopens and reopens > worst_at then worst_rule, worst_at = rule, reopens end
          end
          if worst_rule then
            out[#out + 1] = 0; out[#out + 1] = worst_rule; out[#out + 1] = worst_at
          else
            if reserve then
              for key, span in pairs(longest) do
                redis.call('ZADD', key, now, member)
                redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
                redis.call('PEXPIRE', key, span)
              end
            end
            out[#out + 1] = 1; out[#out + 1] = ''; out[#out + 1] = 0
          end
          i = last + 1
        end
        return out
        """)

    /// Checks every cap and gap and, if all pass and `reserve` is set, counts `member` (a job id) at `now`.
    public func check(_ checks: [CapCheck], member: String, now: Date, reserve: Bool = true) async throws -> CapResult {
        try await checkMany([(checks, member)], now: now, reserve: reserve)[0]
    }

    /// Jobs checked per script call: one call is atomic, so this bounds how long Redis is busy with
    /// it (about 20 µs a job) while the call still saves most of the per-call cost.
    static let jobsPerCall = 128

    /// Many jobs' checks, in order, in one round trip (one EVALSHA per `jobsPerCall` jobs,
    /// pipelined). The result is the same as checking them one by one.
    public func checkMany(_ items: [(checks: [CapCheck], member: String)], now: Date, reserve: Bool = true) async throws -> [CapResult] {
        // A job with no checks (no cap or gap applies) needs no call.
        var results: [CapResult?] = items.map { $0.checks.isEmpty ? .reserved : nil }
        let positions = items.indices.filter { !items[$0].checks.isEmpty }
        let chunks = stride(from: 0, to: positions.count, by: Self.jobsPerCall).map { Array(positions[$0..<min($0 + Self.jobsPerCall, positions.count)]) }
        guard !chunks.isEmpty else { return results.map { $0! } }
        let commands = chunks.map { chunk in arguments(chunk.map { items[$0] }, now: now, reserve: reserve) }
        let replies = try await Self.script.run(client, commands)
        for (reply, chunk) in zip(replies, chunks) {
            for (position, result) in zip(chunk, try Self.results(reply, checks: chunk.map { items[$0].checks })) {
                results[position] = result
            }
        }
        return results.map { $0! }
    }

    func arguments(_ items: [(checks: [CapCheck], member: String)], now: Date, reserve: Bool) -> [String] {
        var keys: [String] = []
        var keyIndex: [String: Int] = [:]
        var args = [String(Int64(now.timeIntervalSince1970 * 1000)), reserve ? "1" : "0"]
        args.reserveCapacity(2 + items.count * 12)
        for item in items {
            args.append(item.member)
            args.append(String(item.checks.count))
            for check in item.checks {
                let key = prefix + check.key
                let index: Int
                if let known = keyIndex[key] {
                    index = known
                } else {
                    keys.append(key)
                    index = keys.count
                    keyIndex[key] = index
                }
                switch check.limit {
                case .cap(let max, let window): args += [String(index), "cap", String(max), String(Int64(window * 1000)), check.ruleID]
                case .gap(let gap): args += [String(index), "gap", "0", String(Int64(gap * 1000)), check.ruleID]
                }
            }
        }
        return [String(keys.count)] + keys + args
    }

    /// One call's reply: three values per job.
    static func results(_ reply: RESPValue, checks: [[CapCheck]]) throws -> [CapResult] {
        if case .error(let message) = reply { throw RedisError(code: .server, message: message) }
        guard let parts = reply.array, parts.count == checks.count * 3 else {
            throw RedisError(code: .protocolError, message: "unexpected cap ledger reply \(reply)")
        }
        return try checks.enumerated().map { index, checks in
            guard let passed = parts[index * 3].integer else {
                throw RedisError(code: .protocolError, message: "unexpected cap ledger reply \(reply)")
            }
            if passed == 1 { return .reserved }
            guard let rule = parts[index * 3 + 1].string, let at = parts[index * 3 + 2].integer else {
                throw RedisError(code: .protocolError, message: "unexpected cap ledger reply \(reply)")
            }
            let sentence = checks.first { $0.ruleID == rule }?.description ?? rule
            return .blocked(ruleID: rule, reopensAt: Date(timeIntervalSince1970: Double(at) / 1000), sentence: sentence)
        }
    }

    /// Takes a reservation back (the send failed, so it does not count).
    public func release(_ checks: [CapCheck], member: String) async throws {
        let keys = Set(checks.map { prefix + $0.key })
        guard !keys.isEmpty else { return }
        _ = try await client.pipeline(keys.sorted().map { ["ZREM", $0, member] })
    }
}
