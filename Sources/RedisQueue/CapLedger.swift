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
    /// member, number of checks, then per check: key index (1-based), kind ("cap", "gap" or
    /// "channels:<channel>"), limit, window or gap in ms, rule id.
    /// A channel cap's set holds "<channel>|<member>" (the channel a job was sent on), so the same
    /// script that counts messages counts the distinct channels used in the window, atomically.
    /// Returns four values per job: 1, "", 0, "" when every check passes (and the member was added
    /// to each of its keys if reserving), else 0, rule_id, reopens_at_ms for the check that opens
    /// last, and for a channel cap the channels used in the window with their last send
    /// ("sms=1796000000000,email=..."; "" for other checks).
    static let script = RedisScript("""
        local now = tonumber(ARGV[1])
        local reserve = ARGV[2] == '1'
        local out = {}
        local i = 3
        -- "sms|J-1" -> "sms", "J-1"
        local function split(m)
          local bar = string.find(m, '|', 1, true)
          if bar then return string.sub(m, 1, bar - 1), string.sub(m, bar + 1) end
          return m, m
        end
        while i <= #ARGV do
          local member = ARGV[i]
          local first = i + 2
          local last = first + 5 * tonumber(ARGV[i + 1]) - 1
          local worst_rule, worst_at, worst_used = nil, -1, ''
          local longest = {}
          local stored = {}
          if reserve then
            -- This job's own earlier reservation (a check that was repeated after an interrupted
            -- batch) never counts against it, whatever channel it was on.
            local cleared = {}
            for j = first, last, 5 do
              local key = KEYS[tonumber(ARGV[j])]
              if not cleared[key] then
                cleared[key] = true
                if string.sub(ARGV[j + 1], 1, 9) == 'channels:' then
                  for _, m in ipairs(redis.call('ZRANGE', key, 0, -1)) do
                    local _, job = split(m)
                    if job == member then redis.call('ZREM', key, m) end
                  end
                else
                  redis.call('ZREM', key, member)
                end
              end
            end
          end
          for j = first, last, 5 do
            local key = KEYS[tonumber(ARGV[j])]
            local kind, limit, span, rule = ARGV[j + 1], tonumber(ARGV[j + 2]), tonumber(ARGV[j + 3]), ARGV[j + 4]
            if (longest[key] or 0) < span then longest[key] = span end
            local reopens, used = nil, ''
            if kind == 'cap' then
              stored[key] = member
              local count = redis.call('ZCOUNT', key, '(' .. (now - span), '+inf')
              if count >= limit then
                local oldest = redis.call('ZRANGEBYSCORE', key, '(' .. (now - span), '+inf', 'WITHSCORES', 'LIMIT', count - limit, 1)
                reopens = tonumber(oldest[2]) + span
              end
            elseif kind == 'gap' then
              stored[key] = member
              local latest = redis.call('ZREVRANGE', key, 0, 0, 'WITHSCORES')
              if #latest > 0 and now - tonumber(latest[2]) < span then reopens = tonumber(latest[2]) + span end
            else
              -- At most `limit` distinct channels in the window: a channel already used passes;
              -- another waits until enough used channels have had no send for the whole window.
              local channel = string.sub(kind, 10)
              stored[key] = channel .. '|' .. member
              local entries = redis.call('ZRANGEBYSCORE', key, '(' .. (now - span), '+inf', 'WITHSCORES')
              local latest, names = {}, {}
              for e = 1, #entries, 2 do
                local c = split(entries[e])
                local at = tonumber(entries[e + 1])
                if not latest[c] then names[#names + 1] = c; latest[c] = at elseif latest[c] < at then latest[c] = at end
              end
              if not latest[channel] and #names >= limit then
                local ends = {}
                for _, c in ipairs(names) do ends[#ends + 1] = latest[c] + span end
                table.sort(ends)
                reopens = ends[#names - limit + 1]
                table.sort(names)
                local parts = {}
                for _, c in ipairs(names) do parts[#parts + 1] = c .. '=' .. string.format('%d', latest[c]) end
                used = table.concat(parts, ',')
              end
            end
            if reopens and reopens > worst_at then worst_rule, worst_at, worst_used = rule, reopens, used end
          end
          if worst_rule then
            out[#out + 1] = 0; out[#out + 1] = worst_rule; out[#out + 1] = worst_at; out[#out + 1] = worst_used
          else
            if reserve then
              for key, span in pairs(longest) do
                redis.call('ZADD', key, now, stored[key])
                redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
                redis.call('PEXPIRE', key, span)
              end
            end
            out[#out + 1] = 1; out[#out + 1] = ''; out[#out + 1] = 0; out[#out + 1] = ''
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
                // Keys are indexed before the prefix is added: one concatenation per distinct key.
                let index: Int
                if let known = keyIndex[check.key] {
                    index = known
                } else {
                    keys.append(prefix + check.key)
                    index = keys.count
                    keyIndex[check.key] = index
                }
                // One argument at a time: `+= [a, b, ...]` built a temporary array per check.
                args.append(String(index))
                switch check.limit {
                case .cap(let max, let window):
                    args.append("cap")
                    args.append(String(max))
                    args.append(String(Int64(window * 1000)))
                case .gap(let gap):
                    args.append("gap")
                    args.append("0")
                    args.append(String(Int64(gap * 1000)))
                case .channels(let max, let window, let channel):
                    args.append("channels:\(channel.rawValue)")
                    args.append(String(max))
                    args.append(String(Int64(window * 1000)))
                }
                args.append(check.ruleID)
            }
        }
        return [String(keys.count)] + keys + args
    }

    /// One call's reply: four values per job.
    static func results(_ reply: RESPValue, checks: [[CapCheck]]) throws -> [CapResult] {
        if case .error(let message) = reply { throw RedisError.server(message) }
        guard let parts = reply.array, parts.count == checks.count * 4 else {
            throw RedisError(code: .protocolError, message: "unexpected cap ledger reply \(reply)")
        }
        return try checks.enumerated().map { index, checks in
            guard let passed = parts[index * 4].integer else {
                throw RedisError(code: .protocolError, message: "unexpected cap ledger reply \(reply)")
            }
            if passed == 1 { return .reserved }
            guard let rule = parts[index * 4 + 1].string, let at = parts[index * 4 + 2].integer, let used = parts[index * 4 + 3].string else {
                throw RedisError(code: .protocolError, message: "unexpected cap ledger reply \(reply)")
            }
            let check = checks.first { $0.ruleID == rule }
            var sentence = check?.description ?? rule
            // A channel cap says which channel was used, and when: "...; sms used 2026-12-01".
            let uses = used.split(separator: ",").compactMap { part -> String? in
                let pair = part.split(separator: "=")
                guard pair.count == 2, let ms = Int64(pair[1]) else { return nil }
                let day = HoursPolicy.describeLocal(Date(timeIntervalSince1970: Double(ms) / 1000), zone: check?.timeZone ?? "UTC").prefix(10)
                return "\(pair[0]) used \(day)"
            }
            if !uses.isEmpty { sentence += "; " + uses.joined(separator: ", ") }
            return .blocked(ruleID: rule, reopensAt: Date(timeIntervalSince1970: Double(at) / 1000), sentence: sentence)
        }
    }

    /// The member a check stores: the job id, or for a channel cap "<channel>|<job id>".
    static func stored(_ check: CapCheck, member: String) -> String {
        if case .channels(_, _, let channel) = check.limit { return "\(channel.rawValue)|\(member)" }
        return member
    }

    /// Takes a reservation back (the send failed, so it does not count), channel caps included.
    public func release(_ checks: [CapCheck], member: String) async throws {
        var removals: [String: String] = [:]
        for check in checks { removals[prefix + check.key] = Self.stored(check, member: member) }
        guard !removals.isEmpty else { return }
        _ = try await client.pipeline(removals.sorted { $0.key < $1.key }.map { ["ZREM", $0.key, $0.value] })
    }
}
