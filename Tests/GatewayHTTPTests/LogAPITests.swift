import ContactLog
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RedisQueue
import Testing
import Worker
import TestSupport
@testable import GatewayHTTP
@testable import Templates

@Suite struct LogAPITests {
    let auth = TestTokens()
    let templates = try! TemplateStore(
        directory: repositoryRoot.appendingPathComponent("templates").path,
        requirements: try! ContactRulesFile.templateRequirements(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path),
        defaultLocale: "es-CR")

    func withApp(store: any ContactLogStore, intake: JobIntake? = nil, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templates, store: store,
                                                  tokens: auth.tokens, intake: intake))
        try await app.test(.router, body)
    }

    static func json(_ buffer: ByteBuffer) -> [String: Any] { TemplatesAPITests.json(buffer) }

    /// `count` jobs, each received then sent (or suppressed every fourth), a minute apart from 2026-11-01.
    static func fill(_ store: any ContactLogStore, count: Int) async throws {
        let start = parseTimestamp("2026-11-01T12:00:00Z")!
        var events: [ContactEvent] = []
        for n in 0..<count {
            let at = start.addingTimeInterval(Double(n) * 60)
            events.append(ContactEvent(jobID: "J\(n)", contactID: "C-\(n % 5)", kind: .received, at: at, debtID: "LN-\(n % 2)", segment: "early"))
            if n % 4 == 3 {
                events.append(ContactEvent(jobID: "J\(n)", contactID: "C-\(n % 5)", kind: .suppressed, at: at, template: "payment-reminder",
                                           reason: "opted_out", detail: "opted out", debtID: "LN-\(n % 2)", segment: "early"))
            } else {
                events.append(ContactEvent(jobID: "J\(n)", contactID: "C-\(n % 5)", kind: .sent, at: at, channel: .sms, template: "payment-reminder",
                                           tone: "neutral", provider: n % 2 == 0 ? "twilio" : "infobip", providerMessageID: "M\(n)", body: "Hola \(n)",
                                           debtID: "LN-\(n % 2)", segment: "early"))
            }
        }
        _ = try await store.append(events)
    }

    @Test func everyRoleAgainstEveryEndpoint() async throws {
        let store = try temporaryStore()
        try await store.setOptOut(OptOut(contactID: "C-1", channel: .sms, kind: .optOut, setBy: "t", setAt: Date()))
        let job = #"{"id": "R-1", "template": "payment-reminder", "channels": ["sms"], "contact": {"id": "C-1", "phone": "+50688887777"}, "data": {}}"#
        let endpoints: [(HTTPRequest.Method, String, String?, Role)] = [
            (.get, "/templates", nil, .marketing),
            (.post, "/templates/payment-reminder/preview", "{}", .marketing),
            (.get, "/contacts/C-1/opt-outs", nil, .compliance),
            (.post, "/contacts/C-1/opt-outs", #"{"by": "t"}"#, .compliance),
            (.delete, "/contacts/C-1/opt-outs?by=t", nil, .compliance),
            (.get, "/contacts/C-1/timeline", nil, .compliance),
            (.get, "/log", nil, .compliance),
            (.get, "/log/export.csv", nil, .compliance),
            (.get, "/reports/summary", nil, .compliance),
            (.post, "/jobs", job, .scoring),
        ]
        let callers: [(String, HTTPFields, Set<Role>?)] = [
            ("no token", [:], nil),
            ("a wrong token", [.authorization: "Bearer gw_not-a-real-token"], nil),
            ("basic auth", [.authorization: "Basic YWRtaW46YWRtaW4="], nil),
            ("scoring", auth.scoring, [.scoring]),
            ("compliance", auth.compliance, [.compliance]),
            ("marketing", auth.marketing, [.marketing]),
            ("admin", auth.headers("ops-admin"), [.admin]),
        ]
        try await withApp(store: store) { client in
            for (method, uri, body, role) in endpoints {
                for (who, headers, roles) in callers {
                    try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
                        let expected: HTTPResponse.Status? = roles == nil ? .unauthorized
                            : (roles!.contains(role) || roles!.contains(.admin)) ? nil : .forbidden
                        if let expected {
                            #expect(response.status == expected, "\(who) → \(method) \(uri)")
                            if expected == .unauthorized { #expect(response.headers[.wwwAuthenticate] == "Bearer") }
                        } else {
                            #expect(response.status != .unauthorized && response.status != .forbidden, "\(who) → \(method) \(uri)")
                        }
                    }
                }
            }
            // Health and the provider webhooks need no token (the webhooks are signed instead).
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func withoutATokensFileEveryProtectedEndpointSaysHowToMakeOne() async throws {
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templates, store: try temporaryStore()))
        try await app.test(.router) { client in
            try await client.execute(uri: "/log", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains("gateway tokens new"))
            }
        }
    }

    @Test func pagesFollowTheCursorAndEveryReadIsRecorded() async throws {
        let store = try temporaryStore()
        try await Self.fill(store, count: 250)
        try await withApp(store: store) { client in
            var cursor: String?
            var seen: [String] = []
            var pages = 0
            repeat {
                let uri = "/log?outcome=sent&limit=100" + (cursor.map { "&cursor=\($0)" } ?? "")
                cursor = try await client.execute(uri: uri, method: .get, headers: auth.compliance) { response in
                    #expect(response.status == .ok)
                    let body = Self.json(response.body)
                    seen += (body["events"] as? [[String: Any]] ?? []).compactMap { $0["job_id"] as? String }
                    return body["next_cursor"] as? String
                }
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 2)
            #expect(seen.count == 188)                       // 250 jobs, every fourth suppressed
            #expect(Set(seen).count == 188)
            // Filters narrow.
            try await client.execute(uri: "/log?debt=LN-1&outcome=suppressed&from=2026-11-01T12:00:00Z&to=2026-11-01T13:00:00Z",
                                     method: .get, headers: auth.compliance) { response in
                let jobs = (Self.json(response.body)["events"] as? [[String: Any]] ?? []).compactMap { $0["job_id"] as? String }
                #expect(jobs == ["J3", "J7", "J11", "J15", "J19", "J23", "J27", "J31", "J35", "J39", "J43", "J47", "J51", "J55", "J59"])
            }
            try await client.execute(uri: "/contacts/C-2/timeline?limit=4", method: .get, headers: auth.compliance) { response in
                let events = Self.json(response.body)["events"] as? [[String: Any]] ?? []
                #expect(events.map { $0["kind"] as? String } == ["received", "sent", "received", "suppressed"])   // J2, J7
                #expect(events.allSatisfy { $0["contact_id"] as? String == "C-2" })
            }
        }
        let reads = try await store.events(EventFilter(kinds: [.logRead])).map(\.event)
        #expect(reads.count == 4)
        #expect(reads.allSatisfy { $0.data?.contains(#""who":"compliance-ana""#) == true })
        #expect(reads[0].detail == "compliance-ana (compliance) read /log?outcome=sent&limit=100: 100 events")
        #expect(reads[3].contactID == "C-2")
        #expect(try await store.verifyChain().problem == nil)
    }

    /// Every page appends a `log_read` event (which a timeline and the whole log match), and workers
    /// keep appending: a cursor pages through the log as it was at the first page, then ends.
    @Test func pagingEndsWithExactlyTheEventsThatExistedAtTheFirstPage() async throws {
        let store = try temporaryStore()
        try await Self.fill(store, count: 10)        // 20 events; C-2 has J2 and J7's four
        try await withApp(store: store) { client in
            for (path, selection) in [("/log?limit=1", EventFilter()), ("/contacts/C-2/timeline?limit=1", EventFilter(contactID: "C-2"))] {
                let expected = try await store.events(selection).map(\.sequence)
                #expect(expected.count >= 4)
                var cursor: String?
                var seen: [Int] = []
                var pages = 0
                repeat {
                    let uri = path + (cursor.map { "&cursor=\($0)" } ?? "")
                    cursor = try await client.execute(uri: uri, method: .get, headers: auth.compliance) { response in
                        #expect(response.status == .ok)
                        let body = Self.json(response.body)
                        seen += (body["events"] as? [[String: Any]] ?? []).compactMap { $0["seq"] as? Int }
                        return body["next_cursor"] as? String
                    }
                    pages += 1
                    // Meanwhile a worker writes an event that the selection matches.
                    _ = try await store.append([ContactEvent(jobID: "LATE-\(path.count)-\(pages)", contactID: "C-2", kind: .received, at: Date())])
                } while cursor != nil && pages < 100
                #expect(pages == expected.count, "\(path)")
                #expect(seen == expected.map(Int.init), "\(path)")
            }
            // A cursor is checked as strictly as before: not a number pair, or a snapshot that ends before the page.
            for bad in ["5-", "-5", "9-3", "1-2-3", "+1", "1.5"] {
                try await client.execute(uri: "/log?limit=1&cursor=\(bad)", method: .get, headers: auth.compliance) { response in
                    #expect(response.status == .badRequest, "\(bad)")
                }
            }
        }
        #expect(try await store.verifyChain().problem == nil)
    }

    @Test func malformedQueriesAreAnswered400WithTheReason() async throws {
        let store = try temporaryStore()
        let cases: [(String, String)] = [
            ("/log?colour=red", "unknown parameter \"colour\""),
            ("/log?channel=fax", "channel must be sms, email or push, not \"fax\""),
            ("/log?outcome=delivered", "outcome \"delivered\" is not an event kind"),
            ("/log?from=yesterday", "from must be a day like 2026-11-01"),
            ("/log?from=2026-11-02&to=2026-11-01", "from must be before to"),
            ("/log?limit=0", "limit must be a whole number from 1 to 1000"),
            ("/log?limit=5000", "limit must be a whole number from 1 to 1000"),
            ("/log?cursor=abc", "cursor must be the next_cursor of a previous page"),
            ("/log?contact=a&contact=b", "contact may be given once"),
            ("/log?contact=", "contact is empty"),
            ("/log/export.csv?limit=5", "unknown parameter \"limit\""),
            ("/contacts/C-1/timeline?channel=sms", "unknown parameter \"channel\""),
            ("/reports/summary?from=2025-01-01&to=2026-11-01", "a summary covers at most 400 days"),
            ("/reports/summary?day=1", "unknown parameter \"day\""),
        ]
        try await withApp(store: store) { client in
            for (uri, message) in cases {
                try await client.execute(uri: uri, method: .get, headers: auth.compliance) { response in
                    #expect(response.status == .badRequest, "\(uri)")
                    let text = (Self.json(response.body)["error"] as? [String: Any])?["message"] as? String ?? ""
                    #expect(text.contains(message), "\(uri): \(text)")
                }
            }
        }
        #expect(try await store.events(EventFilter(kinds: [.logRead])).isEmpty)   // refused reads read nothing
    }

    @Test func theExportStreamsEveryMatchingRow() async throws {
        let store = try temporaryStore()
        try await Self.fill(store, count: 1500)
        try await withApp(store: store) { client in
            try await client.execute(uri: "/log/export.csv?outcome=sent,suppressed", method: .get, headers: auth.compliance) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
                let rows = String(buffer: response.body).components(separatedBy: "\r\n").filter { !$0.isEmpty }
                #expect(rows.count == 1 + 1500)
                #expect(rows[0] == EventExport.fields.joined(separator: ","))
                #expect(rows[1].hasPrefix("2,2026-11-01T12:00:00.000Z,sent,J0,C-0,LN-0,early,1,sms,payment-reminder,,neutral,twilio,M0,,,Hola 0"))
            }
        }
        let read = try await store.events(EventFilter(kinds: [.logRead])).first?.event
        #expect(read?.detail == "compliance-ana (compliance) read /log/export.csv?outcome=sent,suppressed: export started")
    }

    @Test func aLargeExportIsReadAPageAtATime() async throws {
        let store = PageCountingStore(try temporaryStore())
        try await Self.fill(store, count: 12_000)
        try await withApp(store: store) { client in
            try await client.execute(uri: "/log/export.csv", method: .get, headers: auth.compliance) { response in
                #expect(response.status == .ok)
                // The header, 24,000 events, and the log_read this very export recorded first.
                #expect(String(buffer: response.body).components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 1 + 24_001)
            }
        }
        // Never more than one page of 1,000 held at once.
        #expect(store.largestPage == 1000)
        #expect(store.reads >= 24)
    }

    @Test func theSummaryCountsOutcomesAndDeliveryPerProvider() async throws {
        let store = try temporaryStore()
        try await Self.fill(store, count: 8)
        for id in ["M0", "M2", "M1"] {
            _ = try await store.appendReceipt(Receipt(provider: id == "M1" ? "infobip" : "twilio", messageID: id, status: .delivered,
                                                      providerStatus: "delivered", at: parseTimestamp("2026-11-01T13:00:00Z")!, raw: "{}"))
        }
        try await withApp(store: store) { client in
            try await client.execute(uri: "/reports/summary?from=2026-11-01&to=2026-11-02", method: .get, headers: auth.compliance) { response in
                #expect(response.status == .ok)
                let body = Self.json(response.body)
                let rows = body["rows"] as? [[String: Any]] ?? []
                let sent = rows.first { $0["outcome"] as? String == "sent" }
                #expect(sent?["count"] as? Int == 6 && sent?["channel"] as? String == "sms" && sent?["tone"] as? String == "neutral")
                let suppressed = rows.first { $0["outcome"] as? String == "suppressed" }
                #expect(suppressed?["count"] as? Int == 2 && suppressed?["reason"] as? String == "opted_out" && suppressed?["segment"] as? String == "early")
                let providers = body["providers"] as? [[String: Any]] ?? []
                #expect(providers.map { $0["provider"] as? String } == ["infobip", "twilio"])
                // Even jobs go through twilio (J0 J2 J4 J6), odd through infobip (J1 J5).
                #expect(providers[0]["sent"] as? Int == 2 && providers[0]["delivered"] as? Int == 1)
                #expect(providers[1]["sent"] as? Int == 4 && providers[1]["delivered"] as? Int == 2)
                #expect(providers[1]["delivery_rate"] as? Double == 0.5)
            }
        }
    }

    @Test func jobsArePostedOnceAndMistakesExplained() async throws {
        let redis = try TestRedis.client()
        let stream = TestRedis.unique("api-jobs")
        let intake = JobIntake(client: redis, stream: stream, prefix: stream + ":accepted:")
        let job = #"{"id": "API-1", "template": "payment-reminder", "channels": ["sms"], "contact": {"id": "C-1", "phone": "+50688887777"}, "data": {}}"#
        try await withApp(store: try temporaryStore(), intake: intake) { client in
            let first = try await client.execute(uri: "/jobs", method: .post, headers: auth.scoring, body: ByteBuffer(string: job)) { response in
                #expect(response.status == .accepted)
                let body = Self.json(response.body)
                #expect(body["job_id"] as? String == "API-1" && body["status"] as? String == "accepted")
                return body["stream_id"] as? String
            }
            try await client.execute(uri: "/jobs", method: .post, headers: auth.scoring, body: ByteBuffer(string: job)) { response in
                #expect(response.status == .ok)
                let body = Self.json(response.body)
                #expect(body["status"] as? String == "duplicate" && body["stream_id"] as? String == first)
            }
            let bad: [(String, String)] = [
                ("{", "not_json"),
                (#"{"id": "API-2", "template": "payment-reminder", "channels": ["sms"], "contact": {"id": "C-1", "phone": "8888"}, "data": {}}"#, "invalid_phone"),
                (#"{"id": "API-3", "template": "payment-reminder", "channels": ["fax"], "contact": {"id": "C-1"}, "data": {}}"#, "invalid_value"),
            ]
            for (body, code) in bad {
                try await client.execute(uri: "/jobs", method: .post, headers: auth.scoring, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .badRequest)
                    let error = Self.json(response.body)["error"] as? [String: Any]
                    #expect(error?["code"] as? String == code, "\(body)")
                    #expect((error?["message"] as? String)?.isEmpty == false)
                }
            }
        }
        let entries = try await redis.command(["XLEN", stream]).integer
        #expect(entries == 1)
        await redis.shutdown()
    }
}

/// The real SQLite store, noting how many events each read returned (what an export holds at once).
final class PageCountingStore: ForwardingContactLog, @unchecked Sendable {
    // @unchecked: the counters are behind `lock`.
    let base: SQLiteContactLog
    var inner: any ContactLogStore { base }
    private let lock = NSLock()
    private var largest = 0
    private var count = 0
    var largestPage: Int { lock.withLock { largest } }
    var reads: Int { lock.withLock { count } }

    init(_ base: SQLiteContactLog) { self.base = base }

    func events(_ filter: EventFilter) async throws -> [StoredEvent] {
        let page = try await base.events(filter)
        lock.withLock { largest = max(largest, page.count); count += 1 }
        return page
    }
}
