import Foundation
import GatewayCore
import GatewayHTTP
import Hummingbird
import NIOCore
import Templates

/// Marketing's pages: the templates in service and their reload status, a template's files, and the
/// editor (source, live preview, SMS cost, lint beside the lines, save).
extension Console {
    func addTemplatePages(to routes: RouteCollection<BasicRequestContext>) {
        routes.get("templates", use: page([.marketing]) { [self] _, _, visit in templateList(visit) })
        routes.get("templates/:name", use: page([.marketing]) { [self] _, context, visit in
            templatePage(visit, name: context.parameters.get("name") ?? "")
        })
        routes.get("templates/:name/:file", use: page([.marketing]) { [self] request, context, visit in
            try editorPage(visit, name: context.parameters.get("name") ?? "", file: context.parameters.get("file") ?? "",
                           restored: request.uri.queryParameters.get("restored") != nil)
        })
        routes.post("templates/:name/:file", use: action([.marketing]) { [self] _, context, visit, form in
            try await editorPost(visit, name: context.parameters.get("name") ?? "", file: context.parameters.get("file") ?? "", form: form)
        })
        addTemplateHistoryPages(to: routes)
        // The editor's live preview (console.js): {file, source, channel, tone, locale, job} → findings and preview.
        routes.post("api/templates/:name/preview", use: api([.marketing]) { [self] request, context, _ in
            try await livePreview(request, name: context.parameters.get("name") ?? "")
        })
    }

    func templateList(_ visit: Visit) -> Response {
        let catalog = templates.current
        let status = templates.currentStatus
        let waiting = pending()
        let rows: [HTML] = catalog.templateNames.map { name in
            let settings = catalog.settings(of: name) ?? TemplateSettings()
            let count = waiting.filter { $0.template == name }.count
            let tag: HTML = count == 0 ? .empty
                : "<br><a href=\"/console/approvals\" class=\"tag tag-grey\" id=\"waiting-\(name)\">\(visit.m(.approvalTag, ["count": String(count)]))</a>"
            let channels = Channel.allCases.filter { catalog.hasVariant(template: name, channel: $0) }.map(\.rawValue).joined(separator: ", ")
            return """
                <tr><td><a href="/console/templates/\(HTML.component(name))">\(name)</a>\(settings.description.map { "<br><span class=\"hint\">\($0)</span>" as HTML })\(tag)</td>
                <td>\(settings.category.rawValue)</td><td>\(channels)</td><td>\(catalog.variantFiles(of: name).count)</td></tr>
                """
        }
        return Reply.html(Layout.page(visit, title: visit.t(.templatesTitle), main: """
            <h1 class="heading-l">\(visit.t(.templatesTitle))</h1>
            \(reloadStatus(visit, status))
            \(configuration.templateApproval ? "<p class=\"body\" id=\"approval-required\">\(visit.m(.approvalListNotice)) <a href=\"/console/approvals\">\(visit.m(.approvalsTitle))</a></p>" as HTML : .empty)
            <div class="table-wrap"><table>
            <caption class="visually-hidden">\(visit.t(.templatesTitle))</caption>
            <thead><tr><th scope="col">\(visit.t(.templatesName))</th><th scope="col">\(visit.t(.templatesCategory))</th>
            <th scope="col">\(visit.t(.templatesChannels))</th><th scope="col">\(visit.t(.templatesVariants))</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """), visit: visit)
    }

    /// In service since when, or the refused edit with its errors.
    func reloadStatus(_ visit: Visit, _ status: TemplateStore.Status) -> HTML {
        if let refused = status.rejectedAt {
            let errors: [HTML] = status.rejectedErrors.prefix(50).map { "<li><code>\($0)</code></li>" }
            return """
                <div class="notice notice-warning" role="status" id="reload-status"><h2 class="heading-s">\(visit.t(.templatesRefusedTitle, ["time": formatTimestamp(refused)]))</h2>
                <p class="body">\(visit.t(.templatesRefusedBody))</p><ul>\(errors)</ul></div>
                """
        }
        return "<div class=\"notice notice-success\" role=\"status\" id=\"reload-status\">\(visit.t(.templatesInService, ["time": formatTimestamp(status.loadedAt)]))</div>"
    }

    func notFound(_ visit: Visit) -> Response {
        Reply.html(Layout.message(visit, title: .notFoundTitle, body: .notFoundBody), status: .notFound, visit: visit)
    }

    func templatePage(_ visit: Visit, name: String) -> Response {
        let catalog = templates.current
        guard TemplateEditing.editable(name: name, file: "template.yml"), let settings = catalog.settings(of: name),
              let files = try? TemplateFiles.read(directory: templates.directory) else { return notFound(visit) }
        let names = files.files.keys.filter { $0.hasPrefix(name + "/") }.map { String($0.dropFirst(name.count + 1)) }
            .filter { TemplateEditing.editable(name: name, file: $0) }.sorted()
        let waiting = pending(template: name)
        let rows: [HTML] = names.map { file in
            let parts = TemplateEditing.variantParts(file)
            let count = waiting.filter { $0.file == file }.count
            let tag: HTML = count == 0 ? .empty : "<br><span class=\"tag tag-grey\">\(visit.m(.approvalTag, ["count": String(count)]))</span>"
            return """
                <tr><td><code>\(file)</code>\(tag)</td><td>\(parts.channel?.rawValue ?? "—")</td><td>\(parts.channel == nil ? "—" : parts.tone ?? "neutral")</td>
                <td>\(parts.locale ?? "—")</td>
                <td><a href="/console/templates/\(HTML.component(name))/\(HTML.component(file))">\(visit.t(.templateEdit))<span class="visually-hidden"> \(file)</span></a></td></tr>
                """
        }
        return Reply.html(Layout.page(visit, title: name, backLink: ("/console/templates", visit.t(.templateAllTemplates)), main: """
            <span class="hint">\(visit.t(.templatesTitle))</span>
            <h1 class="heading-l">\(name)</h1>
            \(settings.description.map { "<p class=\"body\">\($0)</p>" as HTML })
            <p class="body hint">\(visit.t(.templateSettings, ["category": settings.category.rawValue, "encoding": settings.smsEncoding.rawValue]))</p>
            <h2 class="heading-m">\(visit.t(.templateFiles))</h2>
            <div class="table-wrap"><table><thead><tr><th scope="col">\(visit.t(.templateFile))</th><th scope="col">\(visit.t(.templateChannel))</th>
            <th scope="col">\(visit.t(.templateTone))</th><th scope="col">\(visit.t(.templateLanguage))</th><th scope="col"><span class="visually-hidden">\(visit.t(.templateEdit))</span></th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """), visit: visit)
    }

    // MARK: - The editor

    /// The preview settings a form (or the live preview's JSON) asks for, defaulting from the file name.
    func choice(name: String, file: String, channel: String?, tone: String?, locale: String?, job: String?) -> TemplateEditing.Choice {
        let parts = TemplateEditing.variantParts(file)
        let catalog = templates.current
        let fallbackChannel = parts.channel ?? Channel.allCases.first { catalog.hasVariant(template: name, channel: $0) } ?? .sms
        let defaultLocale: String? = parts.locale.map { language in
            if language.contains("-") { return language }
            if templates.defaultLocale.hasPrefix(language + "-") { return templates.defaultLocale }
            return localeOptions.first { $0.hasPrefix(language + "-") } ?? language
        }
        /// Not given: nil (use the default); given empty: .some(nil) (let the policy / the job decide).
        func given(_ value: String?) -> String?? {
            guard let value else { return .none }
            return value.isEmpty ? .some(nil) : .some(value)
        }
        return TemplateEditing.Choice(
            channel: channel.flatMap(Channel.init(rawValue:)) ?? fallbackChannel,
            tone: given(tone) ?? (parts.channel == nil ? nil : parts.tone ?? "neutral"),
            locale: given(locale) ?? defaultLocale,
            job: job ?? "")
    }

    var localeOptions: [String] {
        var options = ["es-CR", "es-MX", "es-CO", "en-US"]
        if !options.contains(templates.defaultLocale) { options.insert(templates.defaultLocale, at: 0) }
        return options
    }

    func toneOptions(name: String) -> [String] {
        let catalog = templates.current
        var tones = Set(catalog.tonePolicy.rules.map(\.tone) + [catalog.tonePolicy.defaultTone, "neutral"])
        tones.formUnion(catalog.settings(of: name)?.tones ?? [])
        return tones.sorted()
    }

    func editorPage(_ visit: Visit, name: String, file: String, restored: Bool = false) throws -> Response {
        guard TemplateEditing.editable(name: name, file: file), let files = try? TemplateFiles.read(directory: templates.directory),
              let data = files.data("\(name)/\(file)") else { return notFound(visit) }
        let source = String(decoding: data, as: UTF8.self)
        let choice = choice(name: name, file: file, channel: nil, tone: nil, locale: nil, job: nil)
        let outcome = TemplateEditing.check(files: files, name: name, file: file, source: source, choice: choice,
                                            requirements: templates.requirements, defaultLocale: templates.defaultLocale)
        var notice: HTML? = restored ? "<div class=\"notice notice-success\" role=\"status\" id=\"save-status\">\(visit.t(.restoredNotice))</div>" : nil
        let waiting = pending(template: name).filter { $0.file == file }
        if !waiting.isEmpty {
            let links: [HTML] = waiting.map { "<li><a href=\"/console/approvals/\($0.id)\">\(visit.m(.approvalBy, ["who": $0.proposedBy, "time": formatTimestamp(Date(timeIntervalSince1970: $0.proposedAt))]))</a></li>" }
            notice = "\(notice)<div class=\"notice notice-warning\" role=\"status\" id=\"pending-status\">\(visit.m(.approvalPendingForFile))<ul>\(links)</ul></div>"
        }
        return Reply.html(editor(visit, name: name, file: file, source: source, base: TemplateEditing.sha256(data), choice: choice,
                                 outcome: outcome, notice: notice), visit: visit)
    }

    func editorPost(_ visit: Visit, name: String, file: String, form: Form) async throws -> Response {
        guard TemplateEditing.editable(name: name, file: file), let caller = visit.caller,
              let files = try? TemplateFiles.read(directory: templates.directory), files.data("\(name)/\(file)") != nil else { return notFound(visit) }
        let source = form["source"] ?? ""
        let base = form["base"] ?? ""
        let choice = choice(name: name, file: file, channel: form["channel"], tone: form["tone"], locale: form["locale"], job: form["job"])
        let outcome = TemplateEditing.check(files: files, name: name, file: file, source: source, choice: choice,
                                            requirements: templates.requirements, defaultLocale: templates.defaultLocale)
        func again(errors: [FieldError] = [], notice: HTML? = nil, base newBase: String = base, status: HTTPResponse.Status = .ok) -> Response {
            Reply.html(editor(visit, name: name, file: file, source: TemplateEditing.normalize(source), base: newBase, choice: choice,
                              outcome: outcome, errors: errors, notice: notice), status: status, visit: visit)
        }
        guard form["intent"] == "save" else { return again() }
        guard !source.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || file == "template.yml" else {
            return again(errors: [FieldError(field: "source", message: visit.t(.sourceMissing))], status: .badRequest)
        }
        let result: TemplateEditing.SaveResult
        do { result = try await saveTemplate(name: name, file: file, source: source, base: base, caller: caller) } catch {
            return again(errors: [FieldError(field: "source", message: visit.t(.saveFailed, ["message": "\(error)"]))], status: .internalServerError)
        }
        switch result {
        case .saved(_, let after, let reload):
            // Post/redirect/get would lose the notice without a flash store; the page shows the saved state directly.
            var notice: HTML = "<div class=\"notice notice-success\" role=\"status\" id=\"save-status\">\(visit.t(.savedNotice, ["hash": after]))</div>"
            if case .rejected(let problems) = reload {
                let items: [HTML] = problems.prefix(20).map { "<li><code>\($0)</code></li>" }
                notice = "<div class=\"notice notice-warning\" role=\"status\" id=\"save-status\">\(visit.t(.savedReloadRefused))<ul>\(items)</ul></div>"
            }
            return again(notice: notice, base: after)
        case .proposed(let id, _):
            // Not in service: the editor keeps the proposed text, on the base still in service.
            return again(notice: """
                <div class="notice notice-success" role="status" id="save-status">\(visit.m(.approvalProposedNotice))
                <a href="/console/approvals/\(id)" id="proposal-link">\(visit.m(.approvalSeeChange))</a></div>
                """)
        case .unchanged:
            return again(notice: "<div class=\"notice\" role=\"status\" id=\"save-status\">\(visit.t(.unchangedNotice))</div>")
        case .conflict:
            return again(errors: [FieldError(field: "source", message: visit.t(.conflictError))], status: .conflict)
        case .missing:
            return notFound(visit)
        case .refused(let findings):
            let errors = findings.filter { $0.severity == "error" }.map { finding in
                FieldError(field: finding.line.map { "line-\($0)" } ?? "lint",
                           message: finding.line.map { visit.t(.findingOnLine, ["line": String($0), "message": finding.message]) } ?? "\(finding.location): \(finding.message)")
            }
            return again(errors: errors, status: .unprocessableContent)
        }
    }

    func livePreview(_ request: Request, name: String) async throws -> Response {
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: Console.maxFormBytes) } catch {
            return Reply.jsonError(.contentTooLarge, "request_too_large", "the request body may be at most 1 MiB")
        }
        let object: [String: JSONValue]
        do {
            guard case .object(let parsed) = try JSONParser.parse(Array(buffer: body)) else {
                return Reply.jsonError(.badRequest, "wrong_type", "send a JSON object {file, source, channel, tone, locale, job}")
            }
            object = parsed
        } catch {
            return Reply.jsonError(.badRequest, "not_json", "the body is not valid UTF-8 JSON: \(error)")
        }
        let allowed: Set<String> = ["file", "source", "channel", "tone", "locale", "job"]
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            return Reply.jsonError(.badRequest, "bad_request", "unknown field \"\(unknown)\"; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
        var strings: [String: String] = [:]
        for (key, value) in object {
            switch value {
            case .string(let text): strings[key] = text
            case .null: continue
            default: return Reply.jsonError(.badRequest, "bad_request", "\(key) must be a string, got \(value.typeName)")
            }
        }
        guard let file = strings["file"], let source = strings["source"], TemplateEditing.editable(name: name, file: file),
              let files = try? TemplateFiles.read(directory: templates.directory), files.data("\(name)/\(file)") != nil else {
            return Reply.jsonError(.notFound, "unknown_file", "no template file \(name)/\(strings["file"] ?? "(file missing)")")
        }
        let choice = choice(name: name, file: file, channel: strings["channel"], tone: strings["tone"], locale: strings["locale"], job: strings["job"])
        let outcome = TemplateEditing.check(files: files, name: name, file: file, source: source, choice: choice,
                                            requirements: templates.requirements, defaultLocale: templates.defaultLocale)
        let data = (try? JSONEncoder.stable().encode(outcome)) ?? Data("{}".utf8)
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func editor(_ visit: Visit, name: String, file: String, source: String, base: String, choice: TemplateEditing.Choice,
                outcome: TemplateEditing.Outcome, errors: [FieldError] = [], notice: HTML? = nil) -> HTML {
        let path = "/console/templates/\(HTML.component(name))/\(HTML.component(file))"
        let sourceError = errors.contains { $0.field == "source" }
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).count
        func option(_ value: String, _ label: String, selected: Bool) -> HTML {
            "<option value=\"\(value)\"\(selected ? HTML(" selected") : .empty)>\(label)</option>"
        }
        let channels: [HTML] = Channel.allCases.map { option($0.rawValue, $0.rawValue, selected: $0 == choice.channel) }
        let tones: [HTML] = [option("", visit.t(.toneByPolicy), selected: choice.tone == nil)]
            + toneOptions(name: name).map { option($0, $0, selected: $0 == choice.tone) }
        let locales: [HTML] = [option("", visit.t(.localeFromJob), selected: choice.locale == nil)]
            + localeOptions.map { option($0, $0, selected: $0 == choice.locale) }
        let messages: [(String, Phrase)] = [("updating", .previewUpdating), ("error", .previewError), ("forcing", .smsForcing), ("none", .smsNoneForcing),
                                            ("clean", .lintClean), ("line", .lintLine), ("other", .lintOther), ("transliterate", .smsTransliterate),
                                            ("encoding", .smsEncoding), ("characters", .smsCharacters), ("units", .smsUnits), ("segments", .smsSegments),
                                            ("meter", .smsMeterTitle), ("variant", .previewVariant), ("tone", .previewToneUsed), ("locale", .previewLocaleUsed),
                                            ("subject", .previewSubject), ("body", .previewBody), ("html", .previewHTML), ("push", .previewPushBytes)]
        let phrases: [HTML] = messages.map { "<span data-phrase=\"\($0.0)\">\(visit.t($0.1))</span>" }
        return Layout.page(visit, title: visit.t(.editorTitle, ["file": file]), errors: errors,
                           backLink: ("/console/templates/\(HTML.component(name))", name), wide: true, main: """
            <span class="hint">\(visit.t(.editorCaption, ["name": name]))</span>
            <h1 class="heading-l">\(visit.t(.editorTitle, ["file": file]))</h1>
            <p class="body"><a href="\(path)/history" id="history-link">\(visit.t(.historyLink))</a></p>
            \(notice)
            <div class="editor">
            <div>
            <form method="post" action="\(path)" id="editor-form" novalidate data-preview-url="/console/api/templates/\(HTML.component(name))/preview" data-file="\(file)">
            \(visit.csrfField)
            <input type="hidden" name="base" value="\(base)">
            <div class="form-group\(sourceError ? HTML(" form-group-error") : .empty)">
            <label class="label" for="source">\(visit.t(.sourceLabel))</label>
            <p class="hint" id="source-hint">\(visit.t(.sourceHint))</p>
            \(Layout.fieldError(errors, "source"))
            <textarea class="textarea\(sourceError ? HTML(" textarea-error") : .empty)" id="source" name="source" rows="\(min(max(lines + 2, 8), 40))" spellcheck="false" aria-describedby="source-hint">\(source)</textarea>
            </div>
            <fieldset><legend>\(visit.t(.previewWith))</legend>
            <div class="inline-fields">
            <div class="form-group"><label class="label" for="channel">\(visit.t(.channelLabel))</label><select class="select" id="channel" name="channel">\(channels)</select></div>
            <div class="form-group"><label class="label" for="tone">\(visit.t(.toneLabel))</label><select class="select" id="tone" name="tone">\(tones)</select></div>
            <div class="form-group"><label class="label" for="locale">\(visit.t(.localeLabel))</label><select class="select" id="locale" name="locale">\(locales)</select></div>
            </div>
            <details\(choice.job.isEmpty ? .empty : HTML(" open"))><summary>\(visit.t(.jobLabel))</summary>
            <div class="form-group"><p class="hint" id="job-hint">\(visit.t(.jobHint))</p>
            <textarea class="textarea" id="job" name="job" rows="8" spellcheck="false" aria-describedby="job-hint">\(choice.job)</textarea></div></details>
            </fieldset>
            <button type="submit" class="button" name="intent" value="save" id="save">\(visit.t(.saveButton))</button>
            <button type="submit" class="button button-secondary" name="intent" value="preview" id="preview-button">\(visit.t(.previewButton))</button>
            </form>
            <h2 class="heading-m" id="lint">\(visit.t(.lintTitle))</h2>
            <div id="lint-results">\(lintListing(visit, source: source, findings: outcome.findings))</div>
            </div>
            <div>
            <h2 class="heading-m">\(visit.t(.previewTitle))</h2>
            <div id="preview" aria-live="polite">\(previewPanel(visit, outcome))</div>
            <div hidden id="phrases">\(phrases)</div>
            </div>
            </div>
            """)
    }

    /// The source with line numbers and each finding under the line it points at; findings
    /// elsewhere (other files, the whole template) listed first.
    func lintListing(_ visit: Visit, source: String, findings: [TemplateEditing.Placed]) -> HTML {
        guard !findings.isEmpty else { return "<p class=\"body\" id=\"lint-clean\">\(visit.t(.lintClean))</p>" }
        func item(_ finding: TemplateEditing.Placed) -> HTML {
            "<div class=\"finding\(finding.severity == "warning" ? HTML(" finding-warning") : .empty)\"><strong>\(finding.severity)</strong>: \(finding.message)</div>"
        }
        let other = findings.filter { $0.line == nil }
        var html: HTML = .empty
        if !other.isEmpty {
            let items: [HTML] = other.map { "<li class=\"finding\(($0.severity == "warning" ? HTML(" finding-warning") : .empty))\"><code>\($0.location)</code>: \($0.message)</li>" }
            html = "<h3 class=\"heading-s\" id=\"lint-other\">\(visit.t(.lintOther))</h3><ul class=\"findings\" id=\"lint-other-list\">\(items)</ul>"
        }
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        let placed = Dictionary(grouping: findings.filter { $0.line != nil }, by: { $0.line! })
        guard !placed.isEmpty else { return html }
        let rows: [HTML] = lines.enumerated().compactMap { index, line in
            let number = index + 1
            let here = placed[number] ?? []
            // Only the lines with findings and one line either side, so long files stay readable.
            guard !here.isEmpty || placed[number - 1] != nil || placed[number + 1] != nil else { return nil }
            return """
                <li class="source-line\(here.isEmpty ? .empty : HTML(" source-line-error"))" id="line-\(number)" tabindex="-1"><span class="number">\(number)</span><span class="text">\(String(line))</span>\(here.map(item))</li>
                """
        }
        return "\(html)<ol class=\"source-lines\">\(rows)</ol>"
    }

    func previewPanel(_ visit: Visit, _ outcome: TemplateEditing.Outcome) -> HTML {
        guard let preview = outcome.preview else {
            return "<p class=\"error-message\" id=\"preview-error\">\(visit.t(.previewError, ["message": outcome.error ?? ""]))</p>"
        }
        var html: HTML = """
            <dl class="body"><dt class="label">\(visit.t(.previewVariant))</dt><dd><code id="preview-variant">\(preview.variant)</code></dd>
            <dt class="label">\(visit.t(.previewToneUsed))</dt><dd>\(preview.tone) (\(preview.tone_rule))</dd>
            <dt class="label">\(visit.t(.previewLocaleUsed))</dt><dd>\(preview.locale)</dd></dl>
            """
        if let subject = preview.subject { html = "\(html)<h3 class=\"heading-s\">\(visit.t(.previewSubject))</h3><p class=\"preview-text\">\(subject)</p>" }
        html = "\(html)<h3 class=\"heading-s\">\(visit.t(.previewBody))</h3><p class=\"preview-text\" id=\"preview-body\">\(highlighted(preview.body, preview.sms?.non_gsm_characters ?? []))</p>"
        if let sms = preview.sms {
            let forcing: HTML = sms.non_gsm_characters.isEmpty ? "\(visit.t(.smsNoneForcing))"
                : "\(visit.t(.smsForcing)) \(sms.non_gsm_characters.map { "<mark>\($0)</mark> " as HTML })"
            html = """
                \(html)<div class="sms-meter" id="sms-meter"><h3 class="heading-s">\(visit.t(.smsMeterTitle))</h3>
                <p class="body">\(visit.t(.smsEncoding)): <strong id="sms-encoding">\(sms.encoding)</strong> ·
                \(visit.t(.smsSegments)): <strong id="sms-segments">\(sms.segments)</strong> ·
                \(visit.t(.smsCharacters)): <strong id="sms-characters">\(sms.characters)</strong> ·
                \(visit.t(.smsUnits)): <span id="sms-units">\(sms.units)</span></p>
                <p class="body sms-chars" id="sms-forcing">\(forcing)</p>
                \(outcome.sms_encoding == "gsm7-transliterate" ? "<p class=\"hint\">\(visit.t(.smsTransliterate))</p>" as HTML : .empty)</div>
                """
        }
        if let bytes = preview.push_payload_bytes { html = "\(html)<p class=\"body\">\(visit.t(.previewPushBytes, ["bytes": String(bytes)]))</p>" }
        if let source = preview.html { html = "\(html)<h3 class=\"heading-s\">\(visit.t(.previewHTML))</h3><pre>\(source)</pre>" }
        return html
    }

    /// The text with the characters that force UCS-2 marked.
    func highlighted(_ text: String, _ characters: [String]) -> HTML {
        guard !characters.isEmpty else { return "\(text)" }
        let marked = Set(characters)
        var out: [HTML] = []
        var run = ""
        for character in text {
            if marked.contains(String(character)) {
                out.append("\(run)<mark>\(String(character))</mark>")
                run = ""
            } else {
                run.append(character)
            }
        }
        out.append("\(run)")
        return "\(out)"
    }
}
