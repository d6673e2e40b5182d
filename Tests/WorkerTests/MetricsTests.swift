import ContactLog
import Conversations
import Foundation
import GatewayApp
import GatewayCore
import GatewayHTTP
@testable import GatewayMetrics
import Providers
import RedisQueue
import ServiceLifecycle
import Testing
import TestSupport
@testable import Worker

/// GET /metrics on a gateway built as `gateway run` builds it: jobs run through the worker, the
/// exposition scraped over real HTTP and parsed line by line, the counts compared with the log.
@Suite struct MetricsTests {
    /// A provider name with a double quote and a backslash: its label value must come back escaped.
    static let providerName = #"sandbox "blue"\lane"#

    @Test func theExpositionCountsWhatTheRunDid() async throws {
        var harness = try Harness()
        let (metricsToken, metricsHash) = APITokens.generate()
        let (scoringToken, scoringHash) = APITokens.generate()
        harness.configuration.apiTokensPath = harness.directory.appendingPathComponent("api-tokens.yml").path
        try "tokens:\n  - {name: prometheus, roles: [metrics], sha256: \(metricsHash)}\n  - {name: scoring, roles: [scoring], sha256: \(scoringHash)}\n"
            .write(toFile: harness.configuration.apiTokensPath, atomically: true, encoding: .utf8)
        try harness.writeProvider(Self.providerName, "type: sandbox\n")
        harness.configuration.httpPort = 0
        let client = CurlHTTPClient()
        defer { client.shutdown() }
        try await harness.servingApp(build: { try await GatewayApp.build(configuration: harness.configuration, logger: Harness.logger, metrics: GatewayMetrics(), anyFreePort: $0) }) { app, base in
            let run = UUID().uuidString.prefix(8)
            let sent = (1...3).map { "MET-\(run)-\($0)" }
            let unknown = "MET-\(run)-unknown"
            for id in sent { try await harness.enqueue(job(id)) }
            try await harness.enqueue(#"{"id": "\#(unknown)", "template": "no-such-template", "channels": ["sms"], "contact": {"id": "C-1", "phone": "+50688887777"}}"#)
            try await harness.enqueue("not json at all")
            for id in sent { #expect(try await harness.waitForOutcome(job: id).kind == .sent) }
            #expect(try await harness.waitForOutcome(job: unknown).kind == .invalid)
            // The same id again, after it was sent: a duplicate, acked and not sent.
            try await harness.enqueue(job(sent[0]))
            let settled = harness
            #expect(try await eventually { try await settled.events(job: sent[0]).contains { $0.kind == .duplicate } })
            #expect(try await eventually {
                let pending = try await settled.pendingCount()
                let dead = try await settled.deadLetters().count
                return pending == 0 && dead == 2   // both invalid jobs are dead-lettered
            })
            // Two jobs waiting for their time (far away, so the worker leaves them be).
            try await harness.redis.command(["ZADD", harness.configuration.scheduledKey, "4102444800000", "metrics-a", "4102444800000", "metrics-b"])

            let path = base + "/metrics"
            #expect(try await client.send(HTTPRequest(url: path, timeout: 120)).status == 401)
            #expect(try await client.send(HTTPRequest(url: path, headers: [("Authorization", "Bearer \(scoringToken)")], timeout: 120)).status == 403)
            let answer = try await client.send(HTTPRequest(url: path, headers: [("Authorization", "Bearer \(metricsToken)")], timeout: 120))
            #expect(answer.status == 200)
            #expect(answer.header("content-type") == "text/plain; version=0.0.4; charset=utf-8")
            let text = String(decoding: answer.body, as: UTF8.self)
            let exposition = try Exposition.parse(text)

            // Every metric of the catalog, with its TYPE and HELP; counters end in _total.
            for metric in Metric.catalog {
                let family = try #require(exposition.families[metric.name], "\(metric.name) missing from\n\(text)")
                #expect(family.type == metric.kind.rawValue, "\(metric.name)")
                #expect(family.help == metric.help, "\(metric.name)")
                #expect(!family.samples.isEmpty, "\(metric.name) has no samples")
                #expect((metric.kind == .counter) == metric.name.hasSuffix("_total"), "\(metric.name)")
                for sample in family.samples {
                    let names = Set(sample.labels.keys).subtracting(["le"])
                    #expect(names == Set(metric.labels), "\(sample.name) labels \(sample.labels)")
                }
            }

            // gateway_jobs_total is exactly the log's outcome events, by outcome, channel and reason.
            var expected: [[String: String]: Double] = [:]
            let log = try await harness.log()
            for event in try await log.events(EventFilter(limit: 10_000)).map(\.event)
            where event.kind.isTerminal || GatewayMetrics.countedDecisions.contains(event.kind) {
                expected[["outcome": event.kind.rawValue, "channel": event.channel?.rawValue ?? "none", "reason": event.reason ?? "none"], default: 0] += 1
            }
            let jobs = exposition.samples("gateway_jobs_total")
            #expect(Dictionary(jobs.map { ($0.labels, $0.value) }, uniquingKeysWith: +) == expected)
            #expect(jobs.filter { $0.labels["outcome"] == "sent" && $0.labels["channel"] == "sms" }.map(\.value).reduce(0, +) == 3)
            #expect(jobs.filter { $0.labels["outcome"] == "invalid" }.map(\.value).reduce(0, +) == 2, "unknown template and not JSON")
            #expect(jobs.filter { $0.labels["outcome"] == "duplicate" }.map(\.value).reduce(0, +) == 1)

            // The provider: three answers, accepted, under its name exactly (quote and backslash escaped in the text).
            #expect(text.contains(#"provider="sandbox \"blue\"\\lane""#))
            #expect(harness.outbox().count == 3)
            #expect(exposition.value("gateway_provider_answers_total", ["provider": Self.providerName, "channel": "sms", "class": "accepted"]) == 3)
            let failures = exposition.samples("gateway_provider_answers_total").filter { $0.labels["class"] != "accepted" }
            #expect(failures.count == 3 * Channel.allCases.count, "every class of every channel of the sandbox starts at 0")
            #expect(failures.allSatisfy { $0.value == 0 })
            let calls = try #require(exposition.value("gateway_provider_request_duration_seconds_count", ["provider": Self.providerName]))
            #expect(calls >= 1 && calls <= 3, "one observation per call; the 3 messages went in 1 to 3 calls")
            try exposition.checkHistogram("gateway_provider_request_duration_seconds", ["provider": Self.providerName])
            let appends = exposition.samples("gateway_contact_log_append_duration_seconds_count").map(\.value).reduce(0, +)
            #expect(appends >= 3, "at least the received, dispatching and outcome writes")
            for sample in exposition.samples("gateway_contact_log_append_duration_seconds_count") {
                try exposition.checkHistogram("gateway_contact_log_append_duration_seconds", sample.labels)
            }
            #expect(exposition.samples("gateway_contact_log_append_errors_total").allSatisfy { $0.value == 0 })

            // The queue, as Redis has it now.
            let streamLength = try #require(try await harness.redis.command(["XLEN", harness.configuration.stream]).integer)
            #expect(streamLength == 6)
            #expect(exposition.value("gateway_queue_stream_entries", [:]) == Double(streamLength))
            #expect(exposition.value("gateway_queue_waiting_entries", [:]) == 0)
            #expect(exposition.value("gateway_queue_pending_entries", [:]) == 0)
            #expect(exposition.value("gateway_queue_oldest_pending_age_seconds", [:]) == 0)
            #expect(exposition.value("gateway_scheduled_jobs", [:]) == 2)
            #expect(exposition.value("gateway_dead_letter_entries", [:]) == 2)
            #expect(exposition.value("gateway_queue_read_up", [:]) == 1)
            #expect(exposition.value("gateway_provider_breaker_state", ["provider": Self.providerName, "state": "closed"]) == 1)
            #expect(exposition.value("gateway_provider_breaker_state", ["provider": Self.providerName, "state": "open"]) == 0)
            #expect(exposition.value("gateway_provider_breaker_state", ["provider": Self.providerName, "state": "half_open"]) == 0)

            // Every metric the shipped Grafana dashboard queries is in the exposition.
            let queried = try Self.dashboardMetrics()
            #expect(queried.count >= 10)
            for name in queried {
                #expect(exposition.families[name] != nil, "docker/grafana-dashboard.json queries \(name), which GET /metrics does not expose")
            }
        }
    }

    /// The metric families docker/grafana-dashboard.json's queries name (a histogram's _bucket,
    /// _sum and _count are its family).
    static func dashboardMetrics() throws -> Set<String> {
        let data = try Data(contentsOf: repositoryRoot.appendingPathComponent("docker/grafana-dashboard.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        var names: Set<String> = []
        let pattern = try NSRegularExpression(pattern: "gateway_[a-z_]+")
        for panel in panels {
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                let expr = try #require(target["expr"] as? String, "a target without expr in \(panel["title"] ?? "?")")
                for match in pattern.matches(in: expr, range: NSRange(expr.startIndex..., in: expr)) {
                    var name = String(expr[Range(match.range, in: expr)!])
                    for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
                    names.insert(name)
                }
            }
        }
        return names
    }

    @Test func queueFiguresAreReadFromRedisAtMostOncePerMaxAge() async throws {
        let redis = try TestRedis.client()
        defer { Task { await redis.shutdown() } }
        let stream = TestRedis.unique("metrics-jobs")
        let keys = ScrapeFigures.Keys(stream: stream, group: "gateway", scheduled: stream + ":scheduled", deadLetters: stream + ":dead")
        try await redis.command(["XGROUP", "CREATE", stream, "gateway", "$", "MKSTREAM"])
        var ids: [String] = []
        for index in 1...3 { ids.append(try #require(try await redis.command(["XADD", stream, "*", "job", "\(index)"]).string)) }
        // A worker reads two of the three and acks neither.
        _ = try await redis.command(["XREADGROUP", "GROUP", "gateway", "stuck", "COUNT", "2", "STREAMS", stream, ">"])
        try await redis.command(["ZADD", keys.scheduled, "1", "a", "2", "b", "3", "c"])
        try await redis.command(["XADD", keys.deadLetters, "*", "reason", "not_json"])
        let enqueuedAt = Double(try #require(Int64(ids[0].prefix { $0 != "-" }))) / 1000
        let now = Date(timeIntervalSince1970: enqueuedAt + 42.5)

        let metrics = GatewayMetrics()
        let cached = ScrapeFigures(metrics: metrics, redis: redis, keys: keys, providers: ProviderRegistry(providers: []),
                                   maxAge: .seconds(3600), now: { now })
        var exposition = try Exposition.parse(String(decoding: await cached.exposition(), as: UTF8.self))
        #expect(exposition.value("gateway_queue_stream_entries", [:]) == 3)
        #expect(exposition.value("gateway_queue_waiting_entries", [:]) == 1)
        #expect(exposition.value("gateway_queue_pending_entries", [:]) == 2)
        let age = try #require(exposition.value("gateway_queue_oldest_pending_age_seconds", [:]))
        #expect(abs(age - 42.5) < 0.001)
        #expect(exposition.value("gateway_scheduled_jobs", [:]) == 3)
        #expect(exposition.value("gateway_dead_letter_entries", [:]) == 1)
        #expect(exposition.value("gateway_queue_read_up", [:]) == 1)

        // Within max age a scrape does not read Redis again: the new entry shows only on a figures
        // object whose max age is 0.
        try await redis.command(["XADD", stream, "*", "job", "4"])
        exposition = try Exposition.parse(String(decoding: await cached.exposition(), as: UTF8.self))
        #expect(exposition.value("gateway_queue_stream_entries", [:]) == 3)
        #expect(exposition.value("gateway_queue_waiting_entries", [:]) == 1)
        let fresh = ScrapeFigures(metrics: metrics, redis: redis, keys: keys, providers: ProviderRegistry(providers: []), maxAge: .zero, now: { now })
        exposition = try Exposition.parse(String(decoding: await fresh.exposition(), as: UTF8.self))
        #expect(exposition.value("gateway_queue_stream_entries", [:]) == 4)
        #expect(exposition.value("gateway_queue_waiting_entries", [:]) == 2)

        // A stream no job has reached yet, and no group: zeros, not an error.
        let empty = ScrapeFigures(metrics: GatewayMetrics(), redis: redis,
                                  keys: .init(stream: TestRedis.unique("none"), group: "gateway", scheduled: TestRedis.unique("none"), deadLetters: TestRedis.unique("none")),
                                  providers: ProviderRegistry(providers: []), maxAge: .zero)
        exposition = try Exposition.parse(String(decoding: await empty.exposition(), as: UTF8.self))
        for name in ["gateway_queue_stream_entries", "gateway_queue_waiting_entries", "gateway_queue_pending_entries", "gateway_scheduled_jobs"] {
            #expect(exposition.value(name, [:]) == 0, "\(name)")
        }
        #expect(exposition.value("gateway_queue_read_up", [:]) == 1)

        // Redis unreachable: the scrape still answers, and says the read failed.
        let nowhere = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:1"))
        defer { Task { await nowhere.shutdown() } }
        let down = ScrapeFigures(metrics: GatewayMetrics(), redis: nowhere, keys: keys, providers: ProviderRegistry(providers: []), maxAge: .zero)
        exposition = try Exposition.parse(String(decoding: await down.exposition(), as: UTF8.self))
        #expect(exposition.value("gateway_queue_read_up", [:]) == 0)
        #expect(exposition.families["gateway_queue_stream_entries"] == nil)
    }

    @Test func repliesIntentsAndEscalationsAreCountedAsTheLogRecordsThem() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let metrics = GatewayMetrics()
        let log = MeteredContactLog(try await ContactLogs.open(directory.appendingPathComponent("log.sqlite").path), metrics: metrics)
        let at = Date(timeIntervalSince1970: 1_796_000_500)
        #expect(try await log.append([ContactEvent(jobID: "J1", contactID: "C-7", kind: .sent, at: at, channel: .sms,
                                                   address: "+50688887777", debtID: "LN-1")]) == [true])
        func record(_ id: String, from: String, _ body: String, intents: [String]) async throws -> ReplyPlan? {
            let reply = InboundMessage(provider: "twilio", messageID: id, from: from, to: "+15005550006", body: body, at: at, raw: "{}")
            let reading = ReplyReading(language: "es", label: "upset", score: -0.5, intents: intents)
            return try await log.recordReply(reply) { ReplyPlanner.plan(message: reply, reading: reading, match: $0, policy: .standard) }
        }
        let disputed = try #require(try await record("SM-1", from: "+50688887777", "esa deuda no es mía, no me escriban más", intents: ["opt_out", "dispute"]))
        #expect(try await record("SM-1", from: "+50688887777", "esa deuda no es mía, no me escriban más", intents: ["opt_out", "dispute"]) == nil,
                "the same webhook again is not a second reply")
        #expect(try await record("SM-2", from: "+15550001111", "STOP", intents: ["opt_out"]) != nil)
        let escalation = try #require(disputed.escalations.first)
        _ = try await EscalationDesk(store: log).resolve(escalation.id, by: "agent:ana", note: "sent the validation notice", lift: false, at: at)

        let exposition = try Exposition.parse(String(decoding: metrics.exposition(), as: UTF8.self))
        #expect(exposition.value("gateway_replies_total", ["channel": "sms"]) == 2)
        #expect(exposition.value("gateway_replies_total", ["channel": "email"]) == 0)
        #expect(exposition.value("gateway_reply_intents_total", ["intent": "opt_out"]) == 2)
        #expect(exposition.value("gateway_reply_intents_total", ["intent": "dispute"]) == 1)
        #expect(exposition.value("gateway_reply_intents_total", ["intent": "lawyer"]) == 0)
        #expect(exposition.value("gateway_escalations_total", ["priority": escalation.priority]) == 1)
        #expect(exposition.samples("gateway_escalations_total").map(\.value).reduce(0, +) == 1)
        #expect(exposition.value("gateway_escalations_resolved_total", [:]) == 1)
        #expect(exposition.value("gateway_jobs_total", ["outcome": "sent", "channel": "sms", "reason": "none"]) == 1)
        #expect(exposition.value("gateway_contact_log_append_duration_seconds_count", ["operation": "record_reply"]) == 3)
        #expect(exposition.value("gateway_contact_log_append_duration_seconds_count", ["operation": "write_states"]) == 1)
        #expect(exposition.value("gateway_contact_log_append_errors_total", ["operation": "record_reply"]) == 0)
    }
}
