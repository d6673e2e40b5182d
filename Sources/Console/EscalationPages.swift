import Conversations
import Foundation
import GatewayCore
import GatewayHTTP
import Hummingbird

/// Escalations: the queue (high priority first, then by due time), one page per escalation, and
/// resolving with a note. Agents work them; compliance reads them. Everything goes through
/// `EscalationDesk`, as the API and `gateway escalations` do.
extension Console {
    func addEscalationPages(to routes: RouteCollection<BasicRequestContext>) {
        routes.get("escalations", use: page([.agent, .compliance]) { [self] request, _, visit in try await escalationList(request, visit) })
        routes.get("escalations/:id", use: page([.agent, .compliance]) { [self] request, context, visit in
            try await escalationPage(visit, id: context.parameters.get("id") ?? "", done: request.uri.queryParameters.get("done") != nil)
        })
        routes.post("escalations/:id/resolve", use: action([.agent]) { [self] _, context, visit, form in
            try await resolveEscalation(visit, id: context.parameters.get("id") ?? "", form: form)
        })
    }

    var escalations: EscalationDesk { EscalationDesk(store: store) }

    /// The queue's order: high priority first, then the earliest due, then id.
    static func queueOrder(_ list: [Escalation]) -> [Escalation] {
        list.sorted { a, b in
            if a.status != b.status { return a.status == .open }
            if a.status == .resolved { return (a.resolvedAt ?? .distantPast) > (b.resolvedAt ?? .distantPast) }
            let ha = a.priority == "high", hb = b.priority == "high"
            if ha != hb { return ha }
            return (a.dueBy, a.id) < (b.dueBy, b.id)
        }
    }

    func escalationList(_ request: Request, _ visit: Visit) async throws -> Response {
        let shown = request.uri.queryParameters.get("status").map { String($0) } ?? "open"
        let status: Escalation.Status? = switch shown { case "resolved": .resolved; case "all": nil; default: .open }
        let list = Self.queueOrder(try await escalations.list(status: status, limit: 1000))
        let now = Date()
        let tabs: [HTML] = [("open", Word.showOpen), ("resolved", .showResolved), ("all", .showAll)].map { value, word in
            let current = (status?.rawValue ?? "all") == value
            return "<li><a href=\"/console/escalations?status=\(value)\"\(current ? HTML(" aria-current=\"page\"") : .empty)>\(visit.w(word))</a></li>"
        }
        let rows: [HTML] = list.map { escalation in
            let overdue = escalation.status == .open && escalation.dueBy < now
            return """
                <tr><td><a href="/console/escalations/\(HTML.component(escalation.id))">\(escalation.id)</a></td>
                <td>\(escalation.contactID.map(Show.code) ?? .empty)</td><td>\(escalation.intents.joined(separator: ", "))</td>
                <td>\(priorityTag(escalation, visit))</td>
                <td>\(Show.time(escalation.dueBy, zone: nil, visit: visit))\(overdue ? " <span class=\"tag tag-red\">\(visit.w(.escOverdue))</span>" as HTML : .empty)</td>
                <td>\(visit.w(escalation.status == .open ? .statusOpen : .statusResolved))</td></tr>
                """
        }
        return Reply.html(Layout.page(visit, title: visit.w(.escalationsTitle), main: """
            <h1 class="heading-l">\(visit.w(.escalationsTitle))</h1>
            <p class="body">\(visit.w(.escalationsLead))</p>
            <nav aria-label="\(visit.w(.escStatus))"><ul class="tabs">\(tabs)</ul></nav>
            \(list.isEmpty ? "<p class=\"body\">\(visit.w(.escalationsNone))</p>" as HTML : """
                <div class="table-wrap"><table><caption class="visually-hidden">\(visit.w(.escalationsTitle))</caption>
                <thead><tr><th scope="col">\(visit.w(.escId))</th><th scope="col">\(visit.w(.escContact))</th><th scope="col">\(visit.w(.escIntents))</th>
                <th scope="col">\(visit.w(.escPriority))</th><th scope="col">\(visit.w(.escDue))</th><th scope="col">\(visit.w(.escStatus))</th></tr></thead>
                <tbody>\(rows)</tbody></table></div>
                """)
            """), visit: visit)
    }

    func priorityTag(_ escalation: Escalation, _ visit: Visit) -> HTML {
        escalation.priority == "high" ? "<span class=\"tag tag-red\">\(visit.w(.priorityHigh))</span>"
            : escalation.priority == "normal" ? "<span class=\"tag tag-grey\">\(visit.w(.priorityNormal))</span>" : "\(escalation.priority)"
    }

    func escalationPage(_ visit: Visit, id: String, errors: [FieldError] = [], note: String = "", done: Bool = false,
                        status: HTTPResponse.Status = .ok) async throws -> Response {
        let result: Result<(escalation: Escalation, holds: [Hold]), EscalationDesk.Failure>
        do { result = .success(try await escalations.show(id)) } catch { result = .failure(error) }
        let found: (escalation: Escalation, holds: [Hold])
        switch result {
        case .success(let value): found = value
        case .failure(let failure) where failure.code == .notFound:
            return Reply.html(Layout.message(visit, title: .notFoundTitle, text: visit.w(.escNotFound, ["id": Show.visible(id)])), status: .notFound, visit: visit)
        case .failure(let failure): throw failure
        }
        let escalation = found.escalation
        let now = Date()
        var facts: [HTML] = []
        func fact(_ word: Word, _ value: HTML) { facts.append("<dt>\(visit.w(word))</dt><dd>\(value)</dd>") }
        if let contact = escalation.contactID {
            fact(.escContact, visit.allows([.compliance]) ? "<a href=\"/console/contacts/\(HTML.component(contact))\">\(Show.code(contact))</a>" : Show.code(contact))
        }
        fact(.escIntents, "\(escalation.intents.joined(separator: ", "))")
        fact(.escPriority, priorityTag(escalation, visit))
        fact(.escDue, Show.time(escalation.dueBy, zone: nil, visit: visit)
            + (escalation.status == .open && escalation.dueBy < now ? " <span class=\"tag tag-red\">\(visit.w(.escOverdue))</span>" as HTML : .empty))
        fact(.escReceived, Show.time(escalation.receivedAt, zone: nil, visit: visit))
        fact(.escChannel, "\(escalation.channel.rawValue)")
        fact(.escAddress, Show.code(escalation.address))
        fact(.escLabel, "\(escalation.label) (\(String(format: "%.2f", escalation.score)))")
        let holds: [HTML] = found.holds.map { hold in
            let inForce = hold.inForce(at: now)
            return "<li><bdi>\(hold.sentence)</bdi> <span class=\"tag\(inForce ? HTML(" tag-red") : HTML(" tag-grey"))\">\(visit.w(inForce ? .escHoldInForce : .escHoldLifted))</span></li>"
        }
        let resolution: HTML
        if escalation.status == .resolved {
            resolution = """
                <div class="notice notice-success" role="status"><p class="body">\(visit.w(.escResolvedBy, ["name": escalation.resolvedBy ?? "?", "time": escalation.resolvedAt.map(formatTimestamp) ?? "?"]))</p>
                <p class="body"><strong>\(visit.w(.escNote)):</strong> <bdi>\(escalation.resolutionNote ?? "")</bdi></p></div>
                """
        } else if visit.allows([.agent]) {
            let invalid = !errors.isEmpty
            resolution = """
                <h2 class="heading-m">\(visit.w(.resolveTitle))</h2>
                <form method="post" action="/console/escalations/\(HTML.component(escalation.id))/resolve" novalidate>\(visit.csrfField)
                <div class="form-group\(invalid ? HTML(" form-group-error") : .empty)">
                <label class="label" for="note">\(visit.w(.resolveNoteLabel))</label>
                <p class="hint" id="note-hint">\(visit.w(.resolveNoteHint))</p>
                \(Layout.fieldError(errors, "note"))
                <textarea class="input\(invalid ? HTML(" input-error") : .empty)" id="note" name="note" rows="4" aria-describedby="note-hint\(invalid ? HTML(" note-error") : .empty)">\(note)</textarea>
                </div>
                <div class="form-group"><div class="checkbox"><input type="checkbox" id="lift" name="lift" value="yes">
                <label for="lift">\(visit.w(.resolveLift))</label></div></div>
                <button type="submit" class="button">\(visit.w(.resolveButton))</button>
                </form>
                """
        } else {
            resolution = "<p class=\"body hint\">\(visit.w(.resolveOnlyAgents))</p>"
        }
        return Reply.html(Layout.page(visit, title: visit.w(.escTitle, ["id": Show.visible(escalation.id)]), errors: errors,
                                      backLink: ("/console/escalations", visit.w(.escalationsTitle)), main: """
            \(done ? "<div class=\"notice notice-success\" role=\"status\">\(visit.w(.resolveDone))</div>" as HTML : .empty)
            <h1 class="heading-l">\(visit.w(.escTitle, ["id": escalation.id]))</h1>
            <h2 class="heading-m">\(visit.w(.escReply))</h2>
            <pre class="sent-text"><bdi>\(escalation.replyText)</bdi></pre>
            <dl class="facts">\(facts)</dl>
            \(holds.isEmpty ? HTML.empty : "<h2 class=\"heading-m\">\(visit.w(.escHolds))</h2><ul class=\"list\">\(holds)</ul>")
            \(resolution)
            """), status: status, visit: visit)
    }

    func resolveEscalation(_ visit: Visit, id: String, form: Form) async throws -> Response {
        let note = (form["note"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !note.isEmpty else {
            return try await escalationPage(visit, id: id, errors: [FieldError(field: "note", message: visit.w(.resolveNoteMissing))], status: .badRequest)
        }
        do {
            _ = try await escalations.resolve(id, by: visit.caller?.name ?? "?", note: note, lift: form["lift"] == "yes", at: Date())
            logger.notice("console escalation resolved", metadata: ["name": "\(visit.caller?.name ?? "-")", "escalation": "\(id)"])
            return Reply.redirect("/console/escalations/\(HTML.component(id))?done=1")
        } catch {
            let status: HTTPResponse.Status = switch error.code {
            case .notFound: .notFound
            case .alreadyResolved, .conflict: .conflict
            case .badRequest: .badRequest
            }
            // The desk's own words: already resolved (by whom, when), a note too long, a lost race.
            return try await escalationPage(visit, id: id, errors: [FieldError(field: "note", message: error.message)], note: form["note"] ?? "", status: status)
        }
    }
}
