import ContactLog
import Foundation
import GatewayCore
import GatewayHTTP
import Hummingbird
import RedisQueue

/// What the status page reads, handed in by `gateway run` (the same sources as /ready and /metrics).
public struct ConsoleOperations: Sendable {
    public struct Queue: Sendable, Equatable {
        public var entries: Int
        /// Entries no worker has read yet; nil when Redis cannot tell.
        public var waiting: Int?
        public var pending: Int
        public var oldestPendingAge: Double
        public var scheduled: Int
        public var deadLetters: Int

        public init(entries: Int, waiting: Int?, pending: Int, oldestPendingAge: Double, scheduled: Int, deadLetters: Int) {
            self.entries = entries
            self.waiting = waiting
            self.pending = pending
            self.oldestPendingAge = oldestPendingAge
            self.scheduled = scheduled
            self.deadLetters = deadLetters
        }
    }

    public struct Provider: Sendable, Equatable {
        public var name: String
        public var channels: [String]
        /// closed, open or half_open (as the metric gateway_breaker_state names them).
        public var breaker: String
        public var openUntil: Date?

        public init(name: String, channels: [String], breaker: String, openUntil: Date?) {
            self.name = name
            self.channels = channels
            self.breaker = breaker
            self.openUntil = openUntil
        }
    }

    /// The checks GET /ready runs.
    public var readiness: Readiness?
    /// The queue's figures (what /metrics reads from Redis).
    public var queue: (@Sendable () async throws -> Queue)?
    /// Each provider's breaker in this process (what /metrics exports).
    public var providers: @Sendable () -> [Provider]
    /// Why the reply actions file on disk is not in service (its last edit was refused), or nil.
    public var replyActionsRefused: @Sendable () -> String?

    public init(readiness: Readiness? = nil, queue: (@Sendable () async throws -> Queue)? = nil,
                providers: @escaping @Sendable () -> [Provider] = { [] }, replyActionsRefused: @escaping @Sendable () -> String? = { nil }) {
        self.readiness = readiness
        self.queue = queue
        self.providers = providers
        self.replyActionsRefused = replyActionsRefused
    }
}

/// The last verify the console ran, kept in Redis so every gateway process shows the same one.
struct VerifyRecord: Codable, Equatable {
    var at: Double
    var by: String
    var checked: Int
    var head: String
    var anchor: String
    var anchorEvent: Int64?
    var problemSeq: Int64?
    var problemKind: String?
    var problemMessage: String?
    /// The log's last seq when verify began (to say how much was appended since).
    var lastSeq: Int64
}

/// Compliance's audit page (the chain's head and verify) and the operators' status page.
extension Console {
    func addAuditPages(to routes: RouteCollection<BasicRequestContext>) {
        routes.get("audit", use: page([.compliance]) { [self] _, _, visit in try await auditPage(visit) })
        routes.post("audit/verify", use: action([.compliance]) { [self] _, _, visit, _ in try await runVerify(visit) })
        routes.get("status", use: page([.metrics]) { [self] _, _, visit in await statusPage(visit) })
    }

    var verifyKey: String {
        let prefix = configuration.sessionKeyPrefix
        return (prefix.hasSuffix("session:") ? String(prefix.dropLast("session:".count)) : prefix) + "audit:last-verify"
    }

    func lastVerify() async throws -> VerifyRecord? {
        let reply = try await sessions.redis.command(["GET", verifyKey])
        guard case .bulk(let bytes) = reply else { return nil }
        return try? JSONDecoder().decode(VerifyRecord.self, from: Data(bytes))
    }

    func runVerify(_ visit: Visit) async throws -> Response {
        let last = try await store.lastSequence()
        let report = try await store.verifyChain()
        let record = VerifyRecord(at: Date().timeIntervalSince1970, by: visit.caller?.name ?? "?", checked: report.checked, head: report.head,
                                  anchor: report.anchor, anchorEvent: report.anchorEvent, problemSeq: report.problem?.seq,
                                  problemKind: report.problem?.kind.rawValue, problemMessage: report.problem?.message, lastSeq: last)
        let json = try JSONEncoder().encode(record)
        _ = try await sessions.redis.command(bytes: [Array("SET".utf8), Array(verifyKey.utf8), Array(json)])
        if let problem = report.problem {
            logger.error("console audit verify: the chain is broken", metadata: ["name": "\(record.by)", "seq": "\(problem.seq)", "problem": "\(problem.message)"])
        } else {
            logger.notice("console audit verify: ok", metadata: ["name": "\(record.by)", "checked": "\(report.checked)", "head": "\(report.head)"])
        }
        return Reply.redirect("/console/audit")
    }

    func auditPage(_ visit: Visit) async throws -> Response {
        let record = try await lastVerify()
        let now = try await store.lastSequence()
        let result: HTML
        if let record {
            let at = Date(timeIntervalSince1970: record.at)
            let anchor: HTML = record.anchorEvent.map { "<p class=\"body\">\(visit.w(.auditAnchor, ["anchor": record.anchor, "seq": String($0)]))</p>" }
                ?? "<p class=\"body\">\(visit.w(.auditGenesis))</p>"
            let verdict: HTML
            if let seq = record.problemSeq {
                verdict = """
                    <div class="notice notice-warning" role="alert"><h2 class="heading-m">\(visit.w(.auditBroken))</h2>
                    <p class="body">\(visit.w(.auditFirstBad, ["seq": String(seq), "kind": record.problemKind ?? "?", "message": record.problemMessage ?? ""]))</p></div>
                    """
            } else {
                verdict = "<div class=\"notice notice-success\" role=\"status\"><h2 class=\"heading-m\">\(visit.w(.auditOK))</h2></div>"
            }
            result = """
                \(verdict)
                <dl class="facts">
                <dt>\(visit.w(.auditLastVerify))</dt><dd>\(visit.w(.auditBy, ["name": record.by, "time": formatTimestamp(at)])) · \(visit.w(.auditChecked, ["count": String(record.checked)]))</dd>
                <dt>\(visit.w(.auditHead))</dt><dd><code class="hash">\(record.head)</code>\(now > record.lastSeq ? " <span class=\"hint\">\(visit.w(.auditSince, ["count": String(now - record.lastSeq)]))</span>" as HTML : .empty)</dd>
                </dl>
                \(anchor)
                <p class="body hint">\(visit.w(.auditKeepHead))</p>
                """
        } else {
            result = "<p class=\"body\">\(visit.w(.auditNever))</p>"
        }
        return Reply.html(Layout.page(visit, title: visit.w(.auditTitle), main: """
            <h1 class="heading-l">\(visit.w(.auditTitle))</h1>
            <p class="body">\(visit.w(.auditLead))</p>
            \(result)
            <form method="post" action="/console/audit/verify">\(visit.csrfField)
            <button type="submit" class="button">\(visit.w(.auditVerifyButton))</button></form>
            """), visit: visit)
    }

    func statusPage(_ visit: Visit) async -> Response {
        var sections: [HTML] = []
        if let readiness = operations.readiness {
            let report = await readiness.evaluate()
            let rows: [HTML] = report.checks.keys.sorted().map { name in
                let value = report.checks[name] ?? ""
                return "<tr><th scope=\"row\">\(name)</th><td>\(value == "ok" ? "<span class=\"tag\">ok</span>" as HTML : "<span class=\"tag tag-red\">\(value)</span>")</td></tr>"
            }
            sections.append("""
                <div class="notice \(report.ready ? HTML("notice-success") : HTML("notice-warning"))" role="status">\(visit.w(report.ready ? .statusReady : .statusNotReady))</div>
                <div class="table-wrap"><table><thead><tr><th scope="col">\(visit.w(.statusCheck))</th><th scope="col">\(visit.w(.statusResult))</th></tr></thead>
                <tbody>\(rows)</tbody></table></div>
                """)
        }
        if let queue = operations.queue {
            var body: HTML
            do {
                let figures = try await queue()
                let rows: [(Word, String)] = [
                    (.queueEntries, String(figures.entries)), (.queueWaiting, figures.waiting.map(String.init) ?? "?"),
                    (.queuePending, String(figures.pending)), (.queueOldest, String(format: "%.1f", figures.oldestPendingAge)),
                    (.queueScheduled, String(figures.scheduled)), (.queueDead, String(figures.deadLetters)),
                ]
                let cells: [HTML] = rows.map { "<tr><th scope=\"row\">\(visit.w($0.0))</th><td class=\"numeric\">\($0.1)</td></tr>" }
                body = "<div class=\"table-wrap\"><table id=\"queue\"><tbody>\(cells)</tbody></table></div>"
            } catch {
                body = "<p class=\"body notice notice-warning\">\(visit.w(.statusQueueUnknown, ["problem": LogMasking.mask("\(error)")]))</p>"
            }
            sections.append("<h2 class=\"heading-m\">\(visit.w(.statusQueue))</h2>\(body)")
        }
        let providers = operations.providers()
        let providerRows: [HTML] = providers.map { provider in
            let state: HTML = switch provider.breaker {
            case "closed": "<span class=\"tag\">\(visit.w(.breakerClosed))</span>"
            case "open": "<span class=\"tag tag-red\">\(visit.w(.breakerOpen, ["time": provider.openUntil.map(formatTimestamp) ?? "?"]))</span>"
            default: "<span class=\"tag tag-grey\">\(visit.w(.breakerHalfOpen))</span>"
            }
            return "<tr><th scope=\"row\">\(provider.name)</th><td>\(provider.channels.joined(separator: ", "))</td><td>\(state)</td></tr>"
        }
        sections.append("<h2 class=\"heading-m\">\(visit.w(.statusProviders))</h2>" + (providers.isEmpty ? "<p class=\"body\">\(visit.w(.statusNoProviders))</p>" as HTML : """
            <div class="table-wrap"><table id="providers"><thead><tr><th scope="col">\(visit.w(.providerName))</th><th scope="col">\(visit.w(.providerChannel))</th>
            <th scope="col">\(visit.w(.providerBreaker))</th></tr></thead><tbody>\(providerRows)</tbody></table></div>
            """))
        let status = templates.currentStatus
        var templateNotes: [HTML] = ["<p class=\"body\">\(visit.w(.templatesLoadedAt, ["count": String(templates.current.templateNames.count), "time": formatTimestamp(status.loadedAt)]))</p>"]
        if let refused = status.rejectedAt {
            let errors: [HTML] = status.rejectedErrors.prefix(20).map { "<li><code>\($0)</code></li>" }
            templateNotes.append("<div class=\"notice notice-warning\" role=\"status\"><p class=\"body\">\(visit.w(.templatesRefusedAt, ["time": formatTimestamp(refused)]))</p><ul>\(errors)</ul></div>")
        }
        sections.append("<h2 class=\"heading-m\">\(visit.w(.statusTemplates))</h2>\(templateNotes)")
        let replyActions: HTML = operations.replyActionsRefused().map {
            "<div class=\"notice notice-warning\" role=\"status\"><p class=\"body\">\(visit.w(.replyActionsRefused))</p><ul><li><code>\($0)</code></li></ul></div>"
        } ?? "<p class=\"body\">\(visit.w(.replyActionsInService))</p>"
        sections.append("<h2 class=\"heading-m\">\(visit.w(.statusReplyActions))</h2>\(replyActions)")
        return Reply.html(Layout.page(visit, title: visit.w(.statusTitle), main: """
            <h1 class="heading-l">\(visit.w(.statusTitle))</h1>
            <p class="body">\(visit.w(.statusLead))</p>
            \(sections)
            """), visit: visit)
    }
}

extension Assets {
    /// The compliance and operator pages' styles (appended to console.css).
    static let complianceCSS = #"""
        .list { margin: 0 0 20px; padding-left: 20px; }
        .radios-inline { display: flex; flex-wrap: wrap; gap: 10px 25px; }
        .radio, .checkbox { display: flex; align-items: center; gap: 8px; min-height: 40px; }
        .radio input, .checkbox input { width: 24px; height: 24px; margin: 0; }
        .timeline { list-style: none; padding: 0; margin: 0 0 30px; border-left: 4px solid #b1b4b6; }
        .event { padding: 10px 0 10px 20px; border-bottom: 1px solid #e0e0e0; }
        .event-head { font-weight: 700; margin-bottom: 5px; }
        .event .body { margin-bottom: 10px; }
        .facts { display: grid; grid-template-columns: minmax(8em, max-content) minmax(0, 1fr); gap: 4px 15px; margin: 0 0 15px; }
        .facts dt { font-weight: 700; }
        .facts dd { margin: 0; word-break: break-word; }
        .sent-text { white-space: pre-wrap; word-break: break-word; border-left: 5px solid #1d70b8; }
        .utc-time { color: #505a5f; }
        .tabs { list-style: none; display: flex; flex-wrap: wrap; gap: 0 20px; padding: 0; margin: 0 0 20px; }
        .tabs a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
        .numeric { text-align: right; font-variant-numeric: tabular-nums; }
        .report { display: grid; gap: 20px; grid-template-columns: 1fr; }
        @media (min-width: 60em) { .report { grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); } }
        .chart { margin: 0; }
        .bars { display: block; max-width: 100%; height: auto; }
        .chart-legend { list-style: none; display: flex; flex-wrap: wrap; gap: 5px 15px; padding: 0; font-size: 1rem; }
        .input-date { max-width: 12em; }
        .hash { word-break: break-all; }
        """#
}
