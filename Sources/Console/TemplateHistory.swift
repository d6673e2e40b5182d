import ContactLog
import Foundation
import GatewayCore
import GatewayHTTP
import Hummingbird
import Templates

/// A template file's history, read from its `template_changed` events: who changed it when, each
/// change as a line diff, and restoring the text from before a change (a new, linted, recorded save).
extension Console {
    func addTemplateHistoryPages(to routes: RouteCollection<BasicRequestContext>) {
        routes.get("templates/:name/:file/history", use: page([.marketing, .compliance]) { [self] request, context, visit in
            try await historyPage(request, visit, name: context.parameters.get("name") ?? "", file: context.parameters.get("file") ?? "")
        })
        routes.get("templates/:name/:file/history/:seq", use: page([.marketing, .compliance]) { [self] request, context, visit in
            try await changePage(request, visit, name: context.parameters.get("name") ?? "", file: context.parameters.get("file") ?? "",
                                 seq: context.parameters.get("seq") ?? "")
        })
        routes.post("templates/:name/:file/history/:seq/restore", use: action([.marketing]) { [self] request, context, visit, form in
            try await restore(request, visit, name: context.parameters.get("name") ?? "", file: context.parameters.get("file") ?? "",
                              seq: context.parameters.get("seq") ?? "", form: form)
        })
    }

    struct Change: Sendable {
        var sequence: Int64
        var at: Date
        var who: String
        var reason: String
        var before: String?
        var after: String?
        var hashBefore: String
        var hashAfter: String
    }

    /// The file's changes, newest first (at most 1000), recorded as a `log_read`.
    func changes(_ request: Request, _ visit: Visit, name: String, file: String) async throws -> [Change] {
        let filter = EventFilter(kinds: [.templateChanged], template: name, limit: 1000)
        let relative = "\(name)/\(file)"
        let events = try await store.events(filter).filter { $0.event.variant == relative }
        if let caller = visit.caller { try await LogAPI.recordRead(caller, request, filter: filter, rows: events.count, store: store) }
        return events.reversed().map { stored in
            let data: [String: JSONValue]
            if case .object(let object)? = try? JSONParser.parse(stored.event.rawData ?? []) { data = object } else { data = [:] }
            func text(_ key: String) -> String? { if case .string(let value)? = data[key] { value } else { nil } }
            return Change(sequence: stored.sequence, at: stored.event.at, who: text("who") ?? "?", reason: stored.event.reason ?? "",
                          before: text("text_before"), after: text("text_after"),
                          hashBefore: text("sha256_before") ?? "", hashAfter: text("sha256_after") ?? "")
        }
    }

    func historyPage(_ request: Request, _ visit: Visit, name: String, file: String) async throws -> Response {
        guard TemplateEditing.editable(name: name, file: file), templates.current.hasTemplate(name) else { return notFound(visit) }
        let list = try await changes(request, visit, name: name, file: file)
        let base = "/console/templates/\(HTML.component(name))/\(HTML.component(file))"
        let rows: [HTML] = list.map { change in
            """
            <tr><td>\(formatTimestamp(change.at))</td><td>\(change.who)</td>
            <td>\(change.reason == "console_revert" ? visit.t(.historyRestored) : visit.t(.historyEdited))<br><code class="hint">\(String(change.hashBefore.prefix(12))) → \(String(change.hashAfter.prefix(12)))</code></td>
            <td><a href="\(base)/history/\(String(change.sequence))">\(visit.t(.historyView))<span class="visually-hidden"> \(formatTimestamp(change.at))</span></a></td></tr>
            """
        }
        return Reply.html(Layout.page(visit, title: visit.t(.historyTitle, ["file": file]), backLink: (base, file), main: """
            <span class="hint">\(visit.t(.editorCaption, ["name": name]))</span>
            <h1 class="heading-l">\(visit.t(.historyTitle, ["file": file]))</h1>
            \(list.isEmpty ? "<p class=\"body\" id=\"history-empty\">\(visit.t(.historyEmpty))</p>" as HTML : """
                <div class="table-wrap"><table id="history"><thead><tr><th scope="col">\(visit.t(.historyWhen))</th><th scope="col">\(visit.t(.historyWho))</th>
                <th scope="col">\(visit.t(.historyChange))</th><th scope="col"><span class="visually-hidden">\(visit.t(.historyView))</span></th></tr></thead>
                <tbody>\(rows)</tbody></table></div>
                """)
            """), visit: visit)
    }

    func changePage(_ request: Request, _ visit: Visit, name: String, file: String, seq: String,
                    errors: [FieldError] = [], status: HTTPResponse.Status = .ok) async throws -> Response {
        guard TemplateEditing.editable(name: name, file: file), let sequence = Int64(seq),
              let change = try await changes(request, visit, name: name, file: file).first(where: { $0.sequence == sequence }) else { return notFound(visit) }
        let base = "/console/templates/\(HTML.component(name))/\(HTML.component(file))"
        let current = (try? TemplateFiles.read(directory: templates.directory))?.data("\(name)/\(file)").map(TemplateEditing.sha256) ?? ""
        let body: HTML
        if let before = change.before, let after = change.after {
            let lines: [HTML] = TemplateDiff.lines(from: before, to: after).map { line in
                switch line {
                case .same(let text): "<li class=\"diff-line\"><span class=\"visually-hidden\">\(visit.t(.diffSame)): </span>\(text)</li>"
                case .removed(let text): "<li class=\"diff-line diff-removed\"><del><span class=\"visually-hidden\">\(visit.t(.diffRemoved)): </span>\(text)</del></li>"
                case .added(let text): "<li class=\"diff-line diff-added\"><ins><span class=\"visually-hidden\">\(visit.t(.diffAdded)): </span>\(text)</ins></li>"
                }
            }
            let restore: HTML = visit.allows([.marketing]) ? """
                <form method="post" action="\(base)/history/\(String(change.sequence))/restore">\(visit.csrfField)
                <input type="hidden" name="base" value="\(current)">
                <p class="hint">\(visit.t(.restoreHint))</p>
                <button type="submit" class="button button-secondary" id="restore">\(visit.t(.restoreButton))</button></form>
                """ : .empty
            body = "<ol class=\"diff\" id=\"diff\">\(lines)</ol>\(restore)"
        } else {
            body = "<p class=\"body\">\(visit.t(.historyNoText))</p>"
        }
        return Reply.html(Layout.page(visit, title: visit.t(.changeTitle, ["file": file]), errors: errors,
                                      backLink: ("\(base)/history", visit.t(.historyTitle, ["file": file])), main: """
            <span class="hint">\(visit.t(.editorCaption, ["name": name]))</span>
            <h1 class="heading-l">\(visit.t(.changeTitle, ["file": file]))</h1>
            <p class="body">\(visit.t(.changeBy, ["who": change.who, "time": formatTimestamp(change.at)]))</p>
            \(body)
            """), status: status, visit: visit)
    }

    func restore(_ request: Request, _ visit: Visit, name: String, file: String, seq: String, form: Form) async throws -> Response {
        guard TemplateEditing.editable(name: name, file: file), let caller = visit.caller, let sequence = Int64(seq),
              let change = try await changes(request, visit, name: name, file: file).first(where: { $0.sequence == sequence }),
              let text = change.before else { return notFound(visit) }
        let result = try await saveTemplate(name: name, file: file, source: text, base: form["base"] ?? "", caller: caller, reason: "console_revert")
        switch result {
        case .saved, .unchanged:
            return Reply.redirect("/console/templates/\(HTML.component(name))/\(HTML.component(file))?restored=1")
        case .proposed(let id, _):
            // With template_approval: required, a restore waits for approval like any other change.
            return Reply.redirect("/console/approvals/\(id)")
        case .conflict:
            return try await changePage(request, visit, name: name, file: file, seq: seq,
                                        errors: [FieldError(field: "restore", message: visit.t(.conflictError))], status: .conflict)
        case .refused(let findings):
            let errors = findings.filter { $0.severity == "error" }.map { FieldError(field: "restore", message: "\($0.location): \($0.message)") }
            return try await changePage(request, visit, name: name, file: file, seq: seq, errors: errors, status: .unprocessableContent)
        case .missing:
            return notFound(visit)
        }
    }
}

/// A line diff (longest common subsequence; template files are small).
enum TemplateDiff {
    enum Line: Equatable {
        case same(String), removed(String), added(String)
    }

    static func lines(from before: String, to after: String) -> [Line] {
        let a = before.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = after.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard a.count * b.count <= 4_000_000 else { return a.map(Line.removed) + b.map(Line.added) }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var out: [Line] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                out.append(.same(a[i])); i += 1; j += 1
            } else if i < a.count, j == b.count || table[i + 1][j] >= table[i][j + 1] {
                out.append(.removed(a[i])); i += 1
            } else {
                out.append(.added(b[j])); j += 1
            }
        }
        return out
    }
}
