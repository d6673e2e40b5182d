import ContactLog
import Foundation
import GatewayCore
import GatewayHTTP
import Hummingbird

/// Compliance's pages about one contact: find it, read its timeline, and its opt-outs.
extension Console {
    /// The compliance and operator pages (contacts, opt-outs, escalations, reports, audit, status).
    func addCompliancePages(to routes: RouteCollection<BasicRequestContext>) {
        routes.get("contacts", use: page([.compliance]) { [self] request, _, visit in try await contactSearch(request, visit) })
        routes.get("contacts/:id", use: page([.compliance]) { [self] request, context, visit in
            try await timeline(request, visit, contact: context.parameters.get("id") ?? "")
        })
        routes.get("contacts/:id/opt-outs", use: page([.compliance]) { [self] request, context, visit in
            try await optOutsPage(visit, contact: context.parameters.get("id") ?? "", done: request.uri.queryParameters.get("done").map { String($0) })
        })
        routes.post("contacts/:id/opt-outs", use: action([.compliance]) { [self] _, context, visit, form in
            try await addOptOut(visit, contact: context.parameters.get("id") ?? "", form: form)
        })
        routes.post("contacts/:id/opt-outs/remove", use: action([.compliance]) { [self] _, context, visit, form in
            try await removeOptOut(visit, contact: context.parameters.get("id") ?? "", form: form)
        })
        addAddressOptOutPages(to: routes)
        addEscalationPages(to: routes)
        addReportPages(to: routes)
        addAuditPages(to: routes)
    }

    /// Events per timeline page.
    static let timelinePage = 200

    // MARK: - Search

    enum SearchKind: String, CaseIterable { case contact, debt, phone, email }

    func contactSearch(_ request: Request, _ visit: Visit) async throws -> Response {
        let query = request.uri.queryParameters
        let kind = query.get("by").flatMap { SearchKind(rawValue: String($0)) } ?? .contact
        guard let raw = query.get("q").map({ String($0) }) else { return searchPage(visit, kind: kind, text: "") }
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return searchPage(visit, kind: kind, text: raw, errors: [FieldError(field: "q", message: visit.w(.searchMissing))], status: .badRequest) }
        if text.count > 200 { return searchPage(visit, kind: kind, text: raw, errors: [FieldError(field: "q", message: visit.w(.searchTooLong))], status: .badRequest) }
        // The events that name the debt (each job's arrival and sends) or the address (sends and
        // replies), at most 1,000 oldest first: enough to list the contacts it belongs to.
        var filter = EventFilter(limit: 1000)
        switch kind {
        case .contact: return Reply.redirect("/console/contacts/\(HTML.component(text))")
        case .debt:
            filter.debtID = text
            filter.kinds = [.received, .dispatching, .sent, .inbound]
        case .phone:
            filter.address = text.filter { !" -().".contains($0) }
            filter.kinds = [.dispatching, .sent, .inbound]
        case .email:
            filter.address = text
            filter.kinds = [.dispatching, .sent, .inbound]
        }
        filter.throughSeq = try await store.lastSequence()
        let events = try await store.events(filter)
        let caller = visit.caller!
        try await LogAPI.recordRead(caller, request, filter: filter, rows: events.count, store: store)
        var contacts: [String] = []
        for stored in events.reversed() {
            if let contact = stored.event.contactID, !contacts.contains(contact) { contacts.append(contact) }
        }
        if contacts.count == 1 { return Reply.redirect("/console/contacts/\(HTML.component(contacts[0]))") }
        let results: HTML
        if contacts.isEmpty {
            results = "<p class=\"body\" role=\"status\">\(visit.w(.searchNoMatch, ["query": text]))</p>"
        } else {
            let items: [HTML] = contacts.map { "<li><a href=\"/console/contacts/\(HTML.component($0))\">\(Show.text($0))</a></li>" }
            results = "<h2 class=\"heading-m\">\(visit.w(.searchMatches, ["query": text]))</h2><ul class=\"list\">\(items)</ul>"
        }
        return searchPage(visit, kind: kind, text: raw, results: results)
    }

    func searchPage(_ visit: Visit, kind: SearchKind, text: String, errors: [FieldError] = [], results: HTML = .empty,
                    status: HTTPResponse.Status = .ok) -> Response {
        let labels: [SearchKind: Word] = [.contact: .byContact, .debt: .byDebt, .phone: .byPhone, .email: .byEmail]
        let radios: [HTML] = SearchKind.allCases.map { option in
            """
            <div class="radio"><input type="radio" id="by-\(option.rawValue)" name="by" value="\(option.rawValue)"\(option == kind ? HTML(" checked") : .empty)>
            <label for="by-\(option.rawValue)">\(visit.w(labels[option]!))</label></div>
            """
        }
        let invalid = !errors.isEmpty
        return Reply.html(Layout.page(visit, title: visit.w(.contactsTitle), errors: errors, main: """
            <h1 class="heading-l">\(visit.w(.contactsTitle))</h1>
            <p class="body">\(visit.w(.contactsLead))</p>
            <form method="get" action="/console/contacts" novalidate>
            <div class="form-group\(invalid ? HTML(" form-group-error") : .empty)">
            <label class="label" for="q">\(visit.w(.searchLabel))</label>
            <p class="hint" id="q-hint">\(visit.w(.searchHint))</p>
            \(Layout.fieldError(errors, "q"))
            <input class="input\(invalid ? HTML(" input-error") : .empty)" id="q" name="q" type="text" value="\(text)" spellcheck="false" autocomplete="off" aria-describedby="q-hint\(invalid ? HTML(" q-error") : .empty)">
            </div>
            <fieldset class="form-group"><legend>\(visit.w(.searchBy))</legend><div class="radios-inline">\(radios)</div></fieldset>
            <button type="submit" class="button">\(visit.w(.searchButton))</button>
            </form>
            \(results)
            """), status: status, visit: visit)
    }

    // MARK: - Timeline

    func timeline(_ request: Request, _ visit: Visit, contact: String) async throws -> Response {
        guard contact.count <= 200, !contact.isEmpty else {
            return Reply.html(Layout.message(visit, title: .badRequestTitle, text: visit.w(.contactTooLong)), status: .badRequest, visit: visit)
        }
        var filter = EventFilter(contactID: contact, limit: Self.timelinePage + 1)
        if let cursor = request.uri.queryParameters.get("after") {
            guard let (after, through) = LogCursor.parse(String(cursor)) else {
                return Reply.html(Layout.message(visit, title: .badRequestTitle, text: visit.w(.badCursor)), status: .badRequest, visit: visit)
            }
            filter.afterSeq = after
            filter.throughSeq = through
        } else {
            filter.throughSeq = try await store.lastSequence()
        }
        var events = try await store.events(filter)
        let more = events.count > Self.timelinePage
        if more { events.removeLast(events.count - Self.timelinePage) }
        // The read is recorded exactly as the API records a timeline page (same function, same fields).
        try await LogAPI.recordRead(visit.caller!, request, filter: EventFilter(contactID: contact, limit: Self.timelinePage), rows: events.count, store: store)
        let zone = try await contactZone(contact, page: events, through: filter.throughSeq)
        let marks = try await store.optOuts([contact])[contact] ?? []
        // The pauses (of the contact or its debts) and blocks (of its addresses) that a reply set and that still hold.
        let now = Date()
        let debts = Set(events.compactMap(\.event.debtID)), addresses = Set(events.compactMap(\.event.address))
        let holds = try await store.states(StateQuery(kinds: [.hold], contactIDs: [contact], debtIDs: debts.sorted(), addresses: addresses.sorted(), activeOnly: true))
            .compactMap(\.hold).filter { $0.inForce(at: now) }
        let holdItems: [HTML] = holds.map { hold in
            guard hold.kind == .optOut, let address = hold.address else { return "<li><bdi>\(hold.sentence)</bdi></li>" }
            return "<li><bdi>\(hold.sentence)</bdi> <a href=\"\(Self.addressOptOutPath(contact: contact, address: address))\">\(visit.w(.addressOptOutLink))</a></li>"
        }
        let rows: [HTML] = events.map { eventRow($0, visit: visit, zone: zone) }
        let next: HTML = more ? events.last.map { last in
            "<p class=\"body\"><a href=\"/console/contacts/\(HTML.component(contact))?after=\(LogCursor.make(after: last.sequence, through: filter.throughSeq ?? last.sequence))\">\(visit.w(.timelineNext, ["count": String(Self.timelinePage)]))</a></p>"
        } ?? .empty : .empty
        let zoneNote: HTML = zone.map { "<p class=\"body hint\">\(visit.w(.timelineZone, ["zone": $0.identifier]))</p>" }
            ?? "<p class=\"body hint\">\(visit.w(.timelineNoZone))</p>"
        let title = visit.w(.timelineTitle, ["contact": Show.visible(contact)])
        return Reply.html(Layout.page(visit, title: title, backLink: ("/console/contacts", visit.w(.contactsTitle)), main: """
            <h1 class="heading-l">\(visit.w(.timelineTitle, ["contact": ""]))<bdi class="mono">\(contact)</bdi></h1>
            <p class="body">\(visit.w(.timelineLead))</p>
            \(zoneNote)
            <h2 class="heading-m">\(visit.w(.optOutsInForce))</h2>
            \(marks.isEmpty ? "<p class=\"body\">\(visit.w(.optOutsNone))</p>" as HTML : marksList(marks, visit: visit, zone: zone))
            <p class="body"><a href="/console/contacts/\(HTML.component(contact))/opt-outs">\(visit.w(.manageOptOuts))</a></p>
            \(holds.isEmpty ? HTML.empty : "<h2 class=\"heading-m\">\(visit.w(.holdsInForce))</h2><ul class=\"list\" id=\"holds\">\(holdItems)</ul>")
            \(events.isEmpty ? "<p class=\"body\">\(visit.w(.timelineEmpty))</p>" as HTML : """
                <ol class="timeline">\(rows)</ol>
                """)
            \(next)
            """), visit: visit)
    }

    /// The contact's time zone from its latest job on this page (else its latest job in the log
    /// up to the snapshot), when the job names a valid one.
    func contactZone(_ contact: String, page: [StoredEvent], through: Int64?) async throws -> TimeZone? {
        func zone(_ stored: StoredEvent) -> TimeZone? {
            guard let bytes = stored.event.arrivedJob,
                  let job = try? JSONParser.parse(bytes), case .string(let name)? = job["contact"]?["timezone"] else { return nil }
            return TimeZone(identifier: name)
        }
        if let found = page.reversed().lazy.compactMap(zone).first { return found }
        let received = try await store.events(EventFilter(contactID: contact, kinds: [.received, .dispatching], throughSeq: through, limit: 50))
        return received.reversed().lazy.compactMap(zone).first
    }

    func marksList(_ marks: [OptOut], visit: Visit, zone: TimeZone?) -> HTML {
        let items: [HTML] = marks.map { mark in
            let kind = visit.w(mark.kind == .doNotContact ? .kindDoNotContact : .kindOptOut)
            let channel = mark.channel?.rawValue ?? visit.w(.allChannels)
            return "<li><strong>\(kind)</strong> · \(channel) · \(Show.text(mark.setBy)) · \(Show.time(mark.setAt, zone: zone, visit: visit))\(mark.reason.map { " · \(Show.text($0))" as HTML })</li>"
        }
        return "<ul class=\"list\">\(items)</ul>"
    }

    func eventRow(_ stored: StoredEvent, visit: Visit, zone: TimeZone?) -> HTML {
        let event = stored.event
        var facts: [HTML] = []
        func fact(_ word: Word, _ value: HTML) { facts.append("<dt>\(visit.w(word))</dt><dd>\(value)</dd>") }
        if let job = event.jobID { fact(.eventJob, Show.code(job)) }
        if let channel = event.channel { fact(.eventChannel, "\(channel.rawValue)\(event.kind == .dispatching || event.attempt > 1 ? " · \(visit.w(.eventAttempt)) \(event.attempt)" : "")") }
        if let reason = event.reason { fact(.eventReason, Show.code(reason)) }
        if let provider = event.provider { fact(.eventProvider, Show.text(provider)) }
        if let id = event.providerMessageID { fact(.eventMessageID, Show.code(id)) }
        if let address = event.address, event.kind == .dispatching || event.kind == .inbound || event.kind == .sent { fact(.eventAddress, Show.code(address)) }
        if let variant = event.variant { fact(.eventTemplate, Show.code(variant)) }
        let data = event.kind == .received ? nil : event.rawData.flatMap { try? JSONParser.parse($0) }
        if let tone = event.tone {
            let rule = data?["tone_rule"]?.scalarText
            fact(.eventTone, "\(Show.text(tone))\(rule.map { " · \(visit.w(.eventToneRule)) \(Show.code($0))" as HTML })")
        }
        if event.kind == .dispatching, let encoding = data?["sms_encoding"]?.scalarText, let segments = data?["sms_segments"]?.scalarText {
            fact(.eventSMS, "\(visit.w(.eventSMSValue, ["encoding": encoding, "segments": segments]))")
        }
        if event.kind == .inbound, let data {
            let label = data["label"]?.scalarText ?? "?"
            let score = data["score"]?.scalarText ?? ""
            fact(.eventReplyRead, "<strong>\(label)</strong> \(score.isEmpty ? "" : "(\(score))")")
            let intents = data["intents"].flatMap { value -> [String]? in
                if case .array(let items) = value { return items.compactMap(\.scalarText) }
                return nil
            } ?? []
            fact(.eventIntents, intents.isEmpty ? "\(visit.w(.eventNoIntent))" : "\(intents.joined(separator: ", "))")
        }
        if event.kind == .escalation, case .string(let id)? = data?["escalation"] {
            fact(.eventEscalation, "<a href=\"/console/escalations/\(HTML.component(id))\">\(id)</a>")
        }
        if event.kind == .dispatching, case .string(let subject)? = data?["subject"] { fact(.eventSubject, Show.text(subject)) }
        var body: HTML = event.body.map { "<p class=\"label\">\(visit.w(.eventText))</p><pre class=\"sent-text\"><bdi>\($0)</bdi></pre>" } ?? .empty
        if event.kind == .dispatching, case .string(let html)? = data?["html"] {
            body = body + "<details><summary>\(visit.w(.eventHTML))</summary><pre class=\"sent-text\"><bdi>\(html)</bdi></pre></details>"
        }
        let tag: HTML = switch event.kind {
        case .sent: "<span class=\"tag\">\(event.kind.rawValue)</span>"
        case .suppressed, .failed, .invalid, .expired, .unknown, .optOut, .escalation: "<span class=\"tag tag-red\">\(event.kind.rawValue)</span>"
        default: "<span class=\"tag tag-grey\">\(event.kind.rawValue)</span>"
        }
        return """
            <li class="event" id="event-\(String(stored.sequence))"><div class="event-head">\(tag) \(Show.time(event.at, zone: zone, visit: visit))</div>
            \(event.detail.map { "<p class=\"body\"><bdi>\($0)</bdi></p>" as HTML })
            \(facts.isEmpty ? HTML.empty : "<dl class=\"facts\">\(facts)</dl>")
            \(body)</li>
            """
    }

    // MARK: - Opt-outs

    func optOutsPage(_ visit: Visit, contact: String, done: String?, errors: [FieldError] = [], form: Form? = nil,
                     status: HTTPResponse.Status = .ok) async throws -> Response {
        guard contact.count <= 200, !contact.isEmpty else {
            return Reply.html(Layout.message(visit, title: .badRequestTitle, text: visit.w(.contactTooLong)), status: .badRequest, visit: visit)
        }
        let marks = try await store.optOuts([contact])[contact] ?? []
        let base = "/console/contacts/\(HTML.component(contact))/opt-outs"
        let notice: HTML = switch done {
        case "added": "<div class=\"notice notice-success\" role=\"status\">\(visit.w(.markAdded))</div>"
        case "removed": "<div class=\"notice notice-success\" role=\"status\">\(visit.w(.markRemoved))</div>"
        default: .empty
        }
        let rows: [HTML] = marks.map { mark in
            let channel = mark.channel?.rawValue ?? "all"
            let field = "remove-reason-\(channel)"
            let invalid = errors.contains { $0.field == field }
            return """
                <tr><td>\(mark.channel?.rawValue ?? visit.w(.allChannels))</td><td>\(visit.w(mark.kind == .doNotContact ? .kindDoNotContact : .kindOptOut))</td>
                <td>\(Show.text(mark.setBy))</td><td>\(Show.time(mark.setAt, zone: nil, visit: visit))</td><td>\(mark.reason.map(Show.text) ?? .empty)</td>
                <td><form method="post" action="\(base)/remove" novalidate>\(visit.csrfField)
                <input type="hidden" name="channel" value="\(channel)">
                <div class="form-group\(invalid ? HTML(" form-group-error") : .empty)">
                <label class="label" for="\(field)">\(visit.w(.removeReasonLabel))</label>
                \(Layout.fieldError(errors, field))
                <input class="input\(invalid ? HTML(" input-error") : .empty)" id="\(field)" name="reason" type="text" value="\(invalid ? form?["reason"] ?? "" : "")"></div>
                <button type="submit" class="button button-secondary">\(visit.w(.removeButton))</button></form></td></tr>
                """
        }
        let chosenChannel = form?["channel"] ?? "all"
        let channelRadios: [HTML] = (["all"] + Channel.allCases.map(\.rawValue)).map { value in
            """
            <div class="radio"><input type="radio" id="channel-\(value)" name="channel" value="\(value)"\(value == chosenChannel ? HTML(" checked") : .empty)>
            <label for="channel-\(value)">\(value == "all" ? visit.w(.allChannels) : value)</label></div>
            """
        }
        let chosenKind = form?["kind"] ?? "opt_out"
        let kindRadios: [HTML] = [("opt_out", Word.kindOptOut), ("do_not_contact", Word.kindDoNotContact)].map { value, word in
            """
            <div class="radio"><input type="radio" id="kind-\(value)" name="kind" value="\(value)"\(value == chosenKind ? HTML(" checked") : .empty)>
            <label for="kind-\(value)">\(visit.w(word))</label></div>
            """
        }
        let reasonInvalid = errors.contains { $0.field == "reason" }
        let channelInvalid = errors.contains { $0.field == "channel-all" }
        let adding = form?["channel"] != nil && !errors.contains { $0.field.hasPrefix("remove-") }
        return Reply.html(Layout.page(visit, title: visit.w(.optOutsTitle, ["contact": Show.visible(contact)]), errors: errors,
                                      backLink: ("/console/contacts/\(HTML.component(contact))", visit.w(.backToTimeline)), main: """
            \(notice)
            <h1 class="heading-l">\(visit.w(.optOutsTitle, ["contact": ""]))<bdi class="mono">\(contact)</bdi></h1>
            <p class="body">\(visit.w(.optOutsLead))</p>
            <h2 class="heading-m">\(visit.w(.optOutsInForce))</h2>
            \(marks.isEmpty ? "<p class=\"body\">\(visit.w(.optOutsNone))</p>" as HTML : """
                <div class="table-wrap"><table><caption class="visually-hidden">\(visit.w(.optOutsInForce))</caption>
                <thead><tr><th scope="col">\(visit.w(.markChannel))</th><th scope="col">\(visit.w(.markKind))</th><th scope="col">\(visit.w(.markSetBy))</th>
                <th scope="col">\(visit.w(.markSetAt))</th><th scope="col">\(visit.w(.markReason))</th><th scope="col"><span class="visually-hidden">\(visit.w(.removeButton))</span></th></tr></thead>
                <tbody>\(rows)</tbody></table></div>
                """)
            <h2 class="heading-m">\(visit.w(.addTitle))</h2>
            <form method="post" action="\(base)" novalidate>\(visit.csrfField)
            <fieldset class="form-group\(channelInvalid ? HTML(" form-group-error") : .empty)"><legend>\(visit.w(.addChannelLegend))</legend>
            \(Layout.fieldError(errors, "channel-all"))<div class="radios-inline">\(channelRadios)</div></fieldset>
            <fieldset class="form-group"><legend>\(visit.w(.addKindLegend))</legend><div class="radios-inline">\(kindRadios)</div></fieldset>
            <div class="form-group\(reasonInvalid ? HTML(" form-group-error") : .empty)">
            <label class="label" for="reason">\(visit.w(.addReasonLabel))</label>
            <p class="hint" id="reason-hint">\(visit.w(.addReasonHint))</p>
            \(Layout.fieldError(errors, "reason"))
            <textarea class="input\(reasonInvalid ? HTML(" input-error") : .empty)" id="reason" name="reason" rows="3" aria-describedby="reason-hint\(reasonInvalid ? HTML(" reason-error") : .empty)">\(adding ? form?["reason"] ?? "" : "")</textarea>
            </div>
            <button type="submit" class="button">\(visit.w(.addButton))</button>
            </form>
            """), status: status, visit: visit)
    }

    /// Who a console change is recorded as: the signed-in token's name, and that it came from the console.
    func changedBy(_ visit: Visit) -> String { "\(visit.caller?.name ?? "?") via console" }

    func addOptOut(_ visit: Visit, contact: String, form: Form) async throws -> Response {
        var errors: [FieldError] = []
        let channelText = form["channel"] ?? ""
        var channel: Channel?
        if channelText != "all" {
            if let parsed = Channel(rawValue: channelText) { channel = parsed } else { errors.append(FieldError(field: "channel-all", message: visit.w(.channelInvalid))) }
        }
        let doNotContact = form["kind"] == "do_not_contact"
        if doNotContact && channel != nil { errors.append(FieldError(field: "channel-all", message: visit.w(.dncWithChannel))) }
        let reason = (form["reason"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if reason.isEmpty { errors.append(FieldError(field: "reason", message: visit.w(.reasonMissing))) }
        if reason.count > 1000 { errors.append(FieldError(field: "reason", message: visit.w(.reasonTooLong))) }
        if contact.count > 200 { errors.append(FieldError(field: "reason", message: visit.w(.contactTooLong))) }
        if errors.isEmpty {
            do {
                _ = try await OptOutChanges.set(contact: contact, channel: channel, doNotContact: doNotContact, by: changedBy(visit), reason: reason, at: Date(), store: store)
                logger.notice("console opt-out set", metadata: ["name": "\(visit.caller?.name ?? "-")", "channel": "\(channel?.rawValue ?? "all")"])
                return Reply.redirect("/console/contacts/\(HTML.component(contact))/opt-outs?done=added")
            } catch let refusal as OptOutChanges.Refusal {
                errors.append(FieldError(field: refusal.code == "dnc_with_channel" ? "channel-all" : "reason", message: refusal.message))
            }
        }
        return try await optOutsPage(visit, contact: contact, done: nil, errors: errors, form: form, status: .badRequest)
    }

    func removeOptOut(_ visit: Visit, contact: String, form: Form) async throws -> Response {
        let channelText = form["channel"] ?? ""
        var channel: Channel?
        if channelText != "all" {
            guard let parsed = Channel(rawValue: channelText) else {
                return try await optOutsPage(visit, contact: contact, done: nil, errors: [FieldError(field: "channel-all", message: visit.w(.channelInvalid))],
                                             status: .badRequest)
            }
            channel = parsed
        }
        let field = "remove-reason-\(channel?.rawValue ?? "all")"
        let reason = (form["reason"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        var errors: [FieldError] = []
        if reason.isEmpty { errors.append(FieldError(field: field, message: visit.w(.reasonMissing))) }
        if reason.count > 1000 { errors.append(FieldError(field: field, message: visit.w(.reasonTooLong))) }
        if errors.isEmpty {
            if try await OptOutChanges.remove(contact: contact, channel: channel, by: changedBy(visit), reason: reason, at: Date(), store: store) {
                logger.notice("console opt-out taken back", metadata: ["name": "\(visit.caller?.name ?? "-")", "channel": "\(channel?.rawValue ?? "all")"])
                return Reply.redirect("/console/contacts/\(HTML.component(contact))/opt-outs?done=removed")
            }
            errors.append(FieldError(field: "reason", message: visit.w(.noMarkToRemove)))
        }
        return try await optOutsPage(visit, contact: contact, done: nil, errors: errors, form: form, status: errors.first?.field == "reason" ? .notFound : .badRequest)
    }
}

extension HTML {
    static func + (left: HTML, right: HTML) -> HTML { "\(left)\(right)" }
}

/// How the compliance pages show values they did not write.
enum Show {
    /// Text as it is, isolated from the text around it (<bdi>): a U+202E in a contact id or a reply
    /// cannot reorder the page around it, and the exact characters stay.
    static func text(_ value: String) -> HTML { "<bdi>\(value)</bdi>" }

    static func code(_ value: String) -> HTML { "<bdi class=\"mono\">\(value)</bdi>" }

    /// For places that cannot hold markup (a page's <title>): the bidi and other invisible format
    /// characters written out as <U+202E>, so a title cannot be reversed either.
    static func visible(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            if scalar.properties.generalCategory == .format || scalar.properties.generalCategory == .control {
                out += "<U+\(String(format: "%04X", scalar.value))>"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func formatter(_ zone: TimeZone) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter
    }

    /// The time in the contact's zone (when known) and in UTC, with a machine-readable <time>.
    static func time(_ date: Date, zone: TimeZone?, visit: Visit) -> HTML {
        let machine = formatTimestamp(date)
        let utcText = machine.prefix(10) + " " + machine.dropFirst(11).prefix(8) + " UTC"
        guard let zone, zone.identifier != "UTC" else { return "<time datetime=\"\(machine)\">\(utcText)</time>" }
        let offset = zone.secondsFromGMT(for: date)
        let sign = offset < 0 ? "-" : "+"
        let local = formatter(zone).string(from: date) + String(format: " (UTC%@%02d:%02d)", sign, abs(offset) / 3600, abs(offset) % 3600 / 60)
        return "<time datetime=\"\(machine)\"><span class=\"local-time\">\(local)</span> · <span class=\"utc-time\">\(utcText)</span></time>"
    }
}

/// The timeline's paging: where the page ended and where the snapshot ends (the log's last event
/// when the first page was read), as the API's cursors are.
enum LogCursor {
    static func make(after: Int64, through: Int64) -> String { "\(after)-\(through)" }

    static func parse(_ text: String) -> (after: Int64, through: Int64)? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.count <= 19 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let after = Int64(parts[0]), let through = Int64(parts[1]), after <= through else { return nil }
        return (after, through)
    }
}
