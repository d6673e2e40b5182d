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
            #expect(try await client.send(HTTPRequest(url: path)).status == 401)
            #expect(try await client.send(HTTPRequest(url: path, headers: [("Authorization", "Bearer \(scoringToken)")])).status == 403)
            let answer = try await client.send(HTTPRequest(url: path, headers: [("Authorization", "Bearer \(metricsToken)")]))
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

    /// A provider whose every property differs from the protocol's defaults.
    struct Unusual: MessageProvider {
        var name = "unusual"
        var channels: Set<Channel> = [.push]
        var requestTimeout = 7.5
        var unsubscribedCodes: Set<Reason> = [.twilioUnsubscribed]
        var deadTokenCodes: Set<Reason> = [.fcmUnregistered]
        var pushPlatform: PushPlatform? = .fcm
        var sendsInBulk = true
        func send(_ messages: [OutboundMessage]) async -> [DispatchResult] {
            messages.map { _ in .retryableFailure(code: .timeout, message: "slow", retryAfter: nil) }
        }
    }

    @Test func theMeteredProviderAnswersWhatItsProviderAnswers() async throws {
        let inner = Unusual()
        let metrics = GatewayMetrics()
        let metered = MeteredProvider(inner, metrics: metrics)
        #expect(metered.name == inner.name && metered.channels == inner.channels && metered.requestTimeout == inner.requestTimeout)
        #expect(metered.unsubscribedCodes == inner.unsubscribedCodes && metered.deadTokenCodes == inner.deadTokenCodes)
        #expect(metered.pushPlatform == inner.pushPlatform && metered.sendsInBulk == inner.sendsInBulk)
        let message = OutboundMessage(jobID: "J", contactID: "C", channel: .push, to: "token", body: "hola")
        #expect(await metered.send([message, message]) == [.retryableFailure(code: .timeout, message: "slow", retryAfter: nil),
                                                            .retryableFailure(code: .timeout, message: "slow", retryAfter: nil)])
        let exposition = try Exposition.parse(String(decoding: metrics.exposition(), as: UTF8.self))
        #expect(exposition.value("gateway_provider_answers_total", ["provider": "unusual", "channel": "push", "class": "retryable"]) == 2)
        #expect(exposition.value("gateway_provider_answers_total", ["provider": "unusual", "channel": "push", "class": "accepted"]) == 0)
        #expect(exposition.value("gateway_provider_request_duration_seconds_count", ["provider": "unusual"]) == 1)
    }

    @Test func aLabelTakesABoundedNumberOfValues() throws {
        let metrics = GatewayMetrics(maxValuesPerLabel: 2)
        let at = Date(timeIntervalSince1970: 1_796_000_500)
        for reason in ["twilio_1", "twilio_2", "twilio_3", "twilio_1", String(repeating: "x", count: 101)] {
            metrics.recorded(ContactEvent(jobID: "J", contactID: "C", kind: .failed, at: at, channel: .sms, reason: reason))
        }
        let exposition = try Exposition.parse(String(decoding: metrics.exposition(), as: UTF8.self))
        let reasons = Dictionary(exposition.samples("gateway_jobs_total").map { ($0.labels["reason"] ?? "?", $0.value) }, uniquingKeysWith: +)
        #expect(reasons == ["twilio_1": 2, "twilio_2": 1, "other": 2])
    }

    @Test func theParserReadsEscapesAndRefusesWhatPrometheusWould() throws {
        let good = """
            # HELP a_total Things, with a \\\\ backslash.
            # TYPE a_total counter
            a_total{l="x\\"y\\\\z\\nw",m=""} 2
            a_total{l="plain"} 1.5e3
            # TYPE h histogram
            h_bucket{le="0.5"} 1
            h_bucket{le="+Inf"} 2
            h_sum 0.75
            h_count 2
            # TYPE g gauge
            g NaN

            """
        let parsed = try Exposition.parse(good)
        #expect(parsed.families["a_total"]?.help == #"Things, with a \ backslash."#)
        #expect(parsed.value("a_total", ["l": "x\"y\\z\nw", "m": ""]) == 2)
        #expect(parsed.value("a_total", ["l": "plain"]) == 1500)
        #expect(parsed.value("h_count", [:]) == 2)
        #expect(parsed.value("g", [:])?.isNaN == true)
        try parsed.checkHistogram("h", [:])
        for bad in [
            "a_total 1\n",                                         // no TYPE before the sample
            "# TYPE a counter\na{l=\"x\"y\"} 1\n",                 // an unescaped quote
            "# TYPE a counter\na{l=\"x\\q\"} 1\n",                 // an escape the format does not have
            "# TYPE a counter\na{l=\"x\"} one\n",                  // not a number
            "# TYPE a counter\na{l=\"x\"} 1\na{l=\"x\"} 2\n",      // the same series twice
            "# TYPE a counter\n# TYPE a counter\na 1\n",           // two TYPE lines
            "# TYPE a summary-ish\na 1\n",                         // an unknown type
            "# TYPE 1a counter\n1a 1\n",                           // a bad metric name
            "# TYPE a counter\na{1l=\"x\"} 1\n",                   // a bad label name
        ] {
            #expect(throws: Exposition.Failure.self, "\(bad)") { try Exposition.parse(bad) }
        }
    }
}

/// The Prometheus text exposition format (0.0.4), read strictly: comments (`# HELP`, `# TYPE`),
/// samples `name{label="value",...} value`, label values with the three escapes the format has
/// (\\, \", \n). Every sample must follow its family's TYPE line; a series may appear once.
struct Exposition {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Family {
        var type: String
        var help: String?
        var samples: [Sample] = []
    }

    var families: [String: Family] = [:]

    func samples(_ name: String) -> [Sample] {
        families[Self.family(of: name, in: families)]?.samples.filter { $0.name == name } ?? []
    }

    func value(_ name: String, _ labels: [String: String]) -> Double? {
        samples(name).first { $0.labels == labels }?.value
    }

    /// Buckets cumulative, +Inf equal to _count.
    func checkHistogram(_ name: String, _ labels: [String: String]) throws {
        let buckets = samples(name + "_bucket").filter { $0.labels.filter { $0.key != "le" } == labels }
            .map { (bound: $0.labels["le"] == "+Inf" ? Double.infinity : Double($0.labels["le"] ?? "") ?? .nan, count: $0.value) }
            .sorted { $0.bound < $1.bound }
        guard !buckets.isEmpty, buckets.last?.bound == .infinity else { throw Failure(description: "\(name)\(labels): no +Inf bucket") }
        for (lower, upper) in zip(buckets, buckets.dropFirst()) where upper.count < lower.count {
            throw Failure(description: "\(name)\(labels): bucket le=\(upper.bound) has \(upper.count) < \(lower.count) of le=\(lower.bound)")
        }
        guard value(name + "_count", labels) == buckets.last?.count, value(name + "_sum", labels) != nil else {
            throw Failure(description: "\(name)\(labels): _count is not the +Inf bucket, or no _sum")
        }
    }

    static func family(of sample: String, in families: [String: Family]) -> String {
        if families[sample] != nil { return sample }
        for suffix in ["_bucket", "_sum", "_count"] where sample.hasSuffix(suffix) {
            let base = String(sample.dropLast(suffix.count))
            if families[base]?.type == "histogram" { return base }
        }
        return sample
    }

    static func isName(_ text: Substring, colon: Bool) -> Bool {
        guard let first = text.first, first.isASCII, first.isLetter || first == "_" || (colon && first == ":") else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || (colon && $0 == ":")) }
    }

    static func parse(_ text: String) throws -> Exposition {
        var exposition = Exposition()
        var seen: Set<String> = []
        // HELP lines may come before their TYPE line.
        var pendingHelp: [String: String] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            func fail(_ why: String) -> Failure { Failure(description: "line \(index + 1): \(why): \(line)") }
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                guard parts.count >= 3, parts[0] == "#", parts[1] == "HELP" || parts[1] == "TYPE" else { continue }   // a plain comment
                let name = String(parts[2])
                guard isName(parts[2], colon: true) else { throw fail("bad metric name") }
                let rest = parts.count > 3 ? String(parts[3]) : ""
                if parts[1] == "TYPE" {
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(rest) else { throw fail("unknown type") }
                    guard exposition.families[name] == nil else { throw fail("a second TYPE line for \(name)") }
                    exposition.families[name] = Family(type: rest, help: pendingHelp[name])
                } else {
                    var help = ""
                    var chars = rest.makeIterator()
                    while let c = chars.next() {
                        if c == "\\" {
                            switch chars.next() {
                            case "\\": help.append("\\")
                            case "n": help.append("\n")
                            default: throw fail("bad escape in HELP")
                            }
                        } else {
                            help.append(c)
                        }
                    }
                    if exposition.families[name] != nil { exposition.families[name]?.help = help } else { pendingHelp[name] = help }
                }
                continue
            }
            // A sample.
            var rest = Substring(line)
            let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
            let name = rest[..<nameEnd]
            guard isName(name, colon: true) else { throw fail("bad metric name") }
            rest = rest[nameEnd...]
            var labels: [String: String] = [:]
            if rest.first == "{" {
                rest = rest.dropFirst()
                while rest.first != "}" {
                    guard let equals = rest.firstIndex(of: "=") else { throw fail("a label without =") }
                    let label = rest[..<equals]
                    guard isName(label, colon: false) else { throw fail("bad label name \(label)") }
                    rest = rest[rest.index(after: equals)...]
                    guard rest.first == "\"" else { throw fail("a label value must be quoted") }
                    rest = rest.dropFirst()
                    var value = ""
                    var closed = false
                    while let c = rest.first {
                        rest = rest.dropFirst()
                        if c == "\\" {
                            switch rest.first {
                            case "\\": value.append("\\")
                            case "\"": value.append("\"")
                            case "n": value.append("\n")
                            default: throw fail("bad escape in a label value")
                            }
                            rest = rest.dropFirst()
                        } else if c == "\"" {
                            closed = true
                            break
                        } else {
                            value.append(c)
                        }
                    }
                    guard closed else { throw fail("an unterminated label value") }
                    guard labels.updateValue(value, forKey: String(label)) == nil else { throw fail("label \(label) twice") }
                    if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" { throw fail("expected , or } after a label") }
                }
                rest = rest.dropFirst()
            }
            guard rest.first == " " else { throw fail("expected a space before the value") }
            let fields = rest.dropFirst().split(separator: " ")
            guard fields.count == 1 || fields.count == 2 else { throw fail("expected a value and an optional timestamp") }
            let valueText = String(fields[0])
            let value: Double
            switch valueText {
            case "+Inf": value = .infinity
            case "-Inf": value = -.infinity
            case "NaN": value = .nan
            default:
                // Prometheus reads values as Go's ParseFloat does: "nan" and "inf" in any case too.
                guard let number = Double(valueText) else { throw fail("not a number") }
                value = number
            }
            let family = family(of: String(name), in: exposition.families)
            guard exposition.families[family] != nil else { throw fail("a sample before its TYPE line") }
            let key = String(name) + "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\u{0}") + "}"
            guard seen.insert(key).inserted else { throw fail("the same series twice") }
            exposition.families[family]?.samples.append(Sample(name: String(name), labels: labels, value: value))
        }
        return exposition
    }
}
