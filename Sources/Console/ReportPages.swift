import ContactLog
import Foundation
import GatewayCore
import GatewayHTTP
import Hummingbird
import NIOCore

/// Reports: the log's summary (what GET /reports/summary reads) as bar charts drawn on the server
/// (SVG, no script) with the same numbers in a table beside each, and each table as CSV.
extension Console {
    func addReportPages(to routes: RouteCollection<BasicRequestContext>) {
        routes.get("reports", use: page([.compliance]) { [self] request, _, visit in try await reportsPage(request, visit) })
        routes.get("reports/:view", use: page([.compliance]) { [self] request, context, visit in
            try await reportCSV(request, visit, file: context.parameters.get("view") ?? "")
        })
    }

    /// One table of a report: a label column, number columns, and which of them the chart draws
    /// (stacked when several).
    struct ReportTable: Equatable {
        var id: String
        var title: Word
        var labelColumn: Word
        /// Column headers as shown (outcome names, or words).
        var columns: [String]
        var rows: [(label: String, values: [Double])]
        /// Columns drawn in the chart, stacked.
        var charted: [Int]
        /// Numbers shown as percentages.
        var percent: Bool = false

        static func == (a: ReportTable, b: ReportTable) -> Bool {
            a.id == b.id && a.columns == b.columns && a.rows.map(\.label) == b.rows.map(\.label) && a.rows.map(\.values) == b.rows.map(\.values)
        }
    }

    static let reportViews = ["by-day", "by-channel", "by-segment", "by-reason", "providers", "held-back"]

    /// The six tables out of a summary. Held back: suppressed and expired jobs by the rule that
    /// held them (the reason code).
    static func reportTables(_ summary: LogSummary, language: Language) -> [ReportTable] {
        let none = Words.text(.noneValue, language)
        let outcomes = Array(Set(summary.rows.map(\.outcome))).sorted { order($0) < order($1) }
        func grouped(_ id: String, _ title: Word, _ column: Word, _ key: (LogSummary.Row) -> String?) -> ReportTable {
            var counts: [String: [Double]] = [:]
            for row in summary.rows {
                let label = key(row) ?? none
                var values = counts[label] ?? Array(repeating: 0, count: outcomes.count + 1)
                values[outcomes.firstIndex(of: row.outcome)!] += Double(row.count)
                values[outcomes.count] += Double(row.count)
                counts[label] = values
            }
            let rows = counts.keys.sorted().map { (label: $0, values: counts[$0]!) }
            return ReportTable(id: id, title: title, labelColumn: column, columns: outcomes + [Words.text(.colCount, language)], rows: rows,
                               charted: Array(outcomes.indices))
        }
        var tables = [
            grouped("by-day", .viewByDay, .colDay) { $0.day },
            grouped("by-channel", .viewByChannel, .colChannel) { $0.channel },
            grouped("by-segment", .viewBySegment, .colSegment) { $0.segment },
            grouped("by-reason", .viewByReason, .colReason) { $0.reason },
        ]
        let providers = summary.providers.sorted { $0.provider < $1.provider }.map { provider in
            (label: provider.provider, values: [Double(provider.sent), Double(provider.delivered), (provider.deliveryRate * 1000).rounded() / 10])
        }
        tables.append(ReportTable(id: "providers", title: .viewProviders, labelColumn: .colProvider,
                                  columns: [Words.text(.colSent, language), Words.text(.colDelivered, language), Words.text(.colRate, language)],
                                  rows: providers, charted: [2], percent: true))
        var held: [String: Double] = [:]
        for row in summary.rows where row.outcome == "suppressed" || row.outcome == "expired" { held[row.reason ?? none, default: 0] += Double(row.count) }
        tables.append(ReportTable(id: "held-back", title: .viewHeldBack, labelColumn: .colRule, columns: [Words.text(.colContacts, language)],
                                  rows: held.keys.sorted().map { (label: $0, values: [held[$0]!]) }, charted: [0]))
        return tables
    }

    /// Outcomes in a stable order: sent first, then what was held back or failed.
    static func order(_ outcome: String) -> Int {
        ["sent", "suppressed", "expired", "failed", "unknown", "invalid"].firstIndex(of: outcome) ?? 99
    }

    struct Period {
        var from: Date
        var to: Date
        var fromText: String
        var toText: String
    }

    /// The period asked for (days, `to` not included); default: the 30 days up to and including today (UTC).
    func period(_ request: Request, _ visit: Visit) -> (Period?, [FieldError], fromText: String, toText: String) {
        let query = request.uri.queryParameters
        let today = Calendar.utc.startOfDay(for: Date())
        let defaultTo = today.addingTimeInterval(86_400)
        let fromText = query.get("from").map { String($0) } ?? Show.day(defaultTo.addingTimeInterval(-30 * 86_400))
        let toText = query.get("to").map { String($0) } ?? Show.day(defaultTo)
        var errors: [FieldError] = []
        let from = Show.parseDay(fromText), to = Show.parseDay(toText)
        if from == nil { errors.append(FieldError(field: "from", message: visit.w(.periodInvalid))) }
        if to == nil { errors.append(FieldError(field: "to", message: visit.w(.periodInvalid))) }
        if let from, let to {
            if from >= to { errors.append(FieldError(field: "from", message: visit.w(.periodOrder))) }
            else if to.timeIntervalSince(from) > 400 * 86_400 { errors.append(FieldError(field: "from", message: visit.w(.periodTooLong))) }
        }
        guard errors.isEmpty, let from, let to else { return (nil, errors, fromText, toText) }
        return (Period(from: from, to: to, fromText: fromText, toText: toText), [], fromText, toText)
    }

    func reportsPage(_ request: Request, _ visit: Visit) async throws -> Response {
        let (period, errors, fromText, toText) = period(request, visit)
        var body: [HTML] = []
        if let period {
            let summary = try await store.summary(from: period.from, to: period.to)
            // Recorded as the API records a summary read (same function).
            try await LogAPI.recordRead(visit.caller!, request, filter: EventFilter(), rows: summary.rows.count, store: store)
            let query = "from=\(HTML.component(period.fromText))&to=\(HTML.component(period.toText))"
            body = Self.reportTables(summary, language: visit.language).map { table in reportSection(table, visit: visit, query: query) }
        }
        let fromInvalid = errors.contains { $0.field == "from" }, toInvalid = errors.contains { $0.field == "to" }
        return Reply.html(Layout.page(visit, title: visit.w(.reportsTitle), errors: errors, main: """
            <h1 class="heading-l">\(visit.w(.reportsTitle))</h1>
            <p class="body">\(visit.w(.reportsLead))</p>
            <form method="get" action="/console/reports" class="inline-fields" novalidate>
            <div class="form-group\(fromInvalid ? HTML(" form-group-error") : .empty)"><label class="label" for="from">\(visit.w(.periodFrom))</label>
            \(Layout.fieldError(errors, "from"))<input class="input input-date" id="from" name="from" type="date" value="\(fromText)"></div>
            <div class="form-group\(toInvalid ? HTML(" form-group-error") : .empty)"><label class="label" for="to">\(visit.w(.periodTo))</label>
            \(Layout.fieldError(errors, "to"))<input class="input input-date" id="to" name="to" type="date" value="\(toText)"></div>
            <div class="form-group"><button type="submit" class="button">\(visit.w(.periodButton))</button></div>
            </form>
            \(body)
            """), status: errors.isEmpty ? .ok : .badRequest, visit: visit)
    }

    func number(_ value: Double, percent: Bool) -> String {
        percent ? String(format: "%.1f%%", value) : String(Int(value))
    }

    func reportSection(_ table: ReportTable, visit: Visit, query: String) -> HTML {
        let title = visit.w(table.title)
        let header: [HTML] = table.columns.map { "<th scope=\"col\" class=\"numeric\">\($0)</th>" }
        let rows: [HTML] = table.rows.map { row in
            let cells: [HTML] = row.values.map { "<td class=\"numeric\">\(number($0, percent: table.percent))</td>" }
            return "<tr><th scope=\"row\"><bdi>\(row.label)</bdi></th>\(cells)</tr>"
        }
        let content: HTML = table.rows.isEmpty ? "<p class=\"body\">\(visit.w(.noData))</p>" : """
            <div class="report">
            <figure class="chart">\(Chart.bars(table, label: visit.w(.chartLabel, ["title": title])))</figure>
            <div class="table-wrap"><table id="table-\(table.id)"><caption class="visually-hidden">\(title)</caption>
            <thead><tr><th scope="col">\(visit.w(table.labelColumn))</th>\(header)</tr></thead><tbody>\(rows)</tbody></table></div>
            </div>
            """
        return """
            <section class="report-section" id="\(table.id)" aria-labelledby="\(table.id)-title">
            <h2 class="heading-m" id="\(table.id)-title">\(title)</h2>
            \(content)
            <p class="body"><a href="/console/reports/\(table.id).csv?\(query)" download>\(visit.w(.downloadCSV))</a></p>
            </section>
            """
    }

    func reportCSV(_ request: Request, _ visit: Visit, file: String) async throws -> Response {
        guard file.hasSuffix(".csv"), Self.reportViews.contains(String(file.dropLast(4))) else {
            return Reply.html(Layout.message(visit, title: .notFoundTitle, body: .notFoundBody), status: .notFound, visit: visit)
        }
        let (period, errors, _, _) = period(request, visit)
        guard let period else {
            return Reply.html(Layout.message(visit, title: .badRequestTitle, text: errors.map(\.message).joined(separator: ". ")), status: .badRequest, visit: visit)
        }
        let summary = try await store.summary(from: period.from, to: period.to)
        try await LogAPI.recordRead(visit.caller!, request, filter: EventFilter(), rows: summary.rows.count, store: store)
        let id = String(file.dropLast(4))
        let table = Self.reportTables(summary, language: visit.language).first { $0.id == id }!
        let csv = Self.csv(table, language: visit.language)
        return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8",
                                               .contentDisposition: "attachment; filename=\"report-\(id)-\(period.fromText)-\(period.toText).csv\""],
                        body: .init(byteBuffer: ByteBuffer(bytes: csv)))
    }

    /// The table as CSV (RFC 4180), each value guarded as the log's export guards it: a value a
    /// spreadsheet would run as a formula (= + - @) gets an apostrophe first.
    static func csv(_ table: ReportTable, language: Language) -> [UInt8] {
        var out = EventExport.csvRecord([Words.text(table.labelColumn, language)] + table.columns)
        for row in table.rows {
            out += EventExport.csvRecord([row.label] + row.values.map { table.percent ? String(format: "%.1f", $0) : String(Int($0)) })
        }
        return out
    }
}

/// Horizontal bar charts as SVG: one bar per table row, its width the row's charted numbers
/// (stacked), each part with its number in a <title> and as text at the bar's end.
enum Chart {
    static let colors = ["#00703c", "#d4351c", "#f47738", "#4c2c92", "#505a5f", "#1d70b8", "#b58840", "#912b88"]

    static func bars(_ table: Console.ReportTable, label: String) -> HTML {
        let rowHeight = 28, labelWidth = 170, width = 620, barArea = 380
        let totals = table.rows.map { row in table.charted.reduce(0) { $0 + row.values[$1] } }
        let maximum = table.percent ? 100 : max(totals.max() ?? 0, 1)
        var parts: [HTML] = []
        for (index, row) in table.rows.enumerated() {
            let y = index * rowHeight
            var x = Double(labelWidth)
            var segments: [HTML] = []
            for (position, column) in table.charted.enumerated() {
                let value = row.values[column]
                guard value > 0 else { continue }
                let w = Double(barArea) * value / maximum
                let number = table.percent ? String(format: "%.1f%%", value) : String(Int(value))
                segments.append("""
                    <rect x="\(String(format: "%.1f", x))" y="\(String(y + 4))" width="\(String(format: "%.1f", max(w, 1)))" height="18" fill="\(colors[position % colors.count])" data-value="\(number)"><title>\(row.label): \(table.columns[column]) \(number)</title></rect>
                    """)
                x += w
            }
            let total = table.percent ? String(format: "%.1f%%", totals[index]) : String(Int(totals[index]))
            let shown = row.label.count > 22 ? String(row.label.prefix(21)) + "…" : row.label
            parts.append("""
                <g class="bar" data-label="\(row.label)" data-total="\(total)"><text x="0" y="\(String(y + 18))" font-size="13" fill="#0b0c0c" unicode-bidi="isolate">\(shown)</text>\(segments)<text x="\(String(format: "%.1f", x + 6))" y="\(String(y + 18))" font-size="13" fill="#0b0c0c">\(total)</text></g>
                """)
        }
        let height = max(table.rows.count * rowHeight, rowHeight)
        let legend: [HTML] = table.charted.count > 1 ? table.charted.enumerated().map { position, column in
            "<li><svg width=\"12\" height=\"12\" aria-hidden=\"true\" focusable=\"false\"><rect width=\"12\" height=\"12\" fill=\"\(colors[position % colors.count])\"/></svg> \(table.columns[column])</li>"
        } : []
        return """
            <div class="chart-body"><svg class="bars" role="img" aria-label="\(label)" viewBox="0 0 \(String(width)) \(String(height))" width="100%" preserveAspectRatio="xMinYMin meet">\(parts)</svg></div>
            \(legend.isEmpty ? HTML.empty : "<ul class=\"chart-legend\">\(legend)</ul>")
            """
    }
}

extension Calendar {
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}

extension Show {
    static func day(_ date: Date) -> String { String(formatTimestamp(date).prefix(10)) }

    /// A day written 2026-11-01 (midnight UTC); nil for anything else.
    static func parseDay(_ text: String) -> Date? {
        guard text.utf8.count == 10, text.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) != nil,
              let date = parseDayOrInstant(text), day(date) == text else { return nil }
        return date
    }
}
