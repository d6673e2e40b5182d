import Foundation
import GatewayCore
import GatewayHTTP
import Hummingbird
import Templates

/// The tone policy page: templates/tones.yml's rules as a table, and "which tone and variant would
/// this customer get?" answered by the code the worker runs (`TonePolicy.tone(for:)` on the facts,
/// then `TemplateCatalog.chosenVariant`, the lookup `render` does). A GET form: works without
/// JavaScript, and an answer is a link that can be shared.
extension Console {
    func addTonePages(to routes: RouteCollection<BasicRequestContext>) {
        routes.get("tones", use: page([.marketing, .compliance]) { [self] request, _, visit in tonePage(request, visit) })
    }

    /// What the form asks, as typed (shown back in the fields).
    struct ToneQuestion: Sendable, Equatable {
        var sentiment = ""
        var score = ""
        var intents = ""
        var segment = ""
        var daysPastDue = ""
        var category = ""
        var template = ""
        var channel = ""
        var locale = ""

        init() {}

        init(_ query: [String: String]) {
            sentiment = query["sentiment"] ?? ""
            score = query["score"] ?? ""
            intents = query["intents"] ?? ""
            segment = query["segment"] ?? ""
            daysPastDue = query["days_past_due"] ?? ""
            category = query["category"] ?? ""
            template = query["template"] ?? ""
            channel = query["channel"] ?? ""
            locale = query["locale"] ?? ""
        }
    }

    /// The answer: the tone and the rule that chose it, and the file the worker would render.
    struct ToneAnswer: Sendable, Equatable {
        var tone: String
        var rule: String
        var category: Category
        var file: String
        var fileTone: String
        var fileLocale: String?
        var locale: String
    }

    /// Decides as the worker does, or says which fields are wrong.
    static func answer(_ question: ToneQuestion, catalog: TemplateCatalog, defaultLocale: String, visit: Visit)
        -> Result<ToneAnswer, ToneErrors> {
        var errors: [FieldError] = []
        func trimmed(_ text: String) -> String { text.trimmingCharacters(in: .whitespaces) }
        let label = trimmed(question.sentiment)
        if label.count > 100 { errors.append(FieldError(field: "sentiment", message: visit.m(.toneSentimentTooLong))) }
        var score: Double?
        if !trimmed(question.score).isEmpty {
            if let value = Double(trimmed(question.score).replacingOccurrences(of: ",", with: ".")), value.isFinite, (-1...1).contains(value) {
                score = value
            } else {
                errors.append(FieldError(field: "score", message: visit.m(.toneScoreInvalid)))
            }
        }
        let intents = question.intents.split(whereSeparator: { $0 == "," || $0 == " " }).map { $0.lowercased() }
        if intents.count > 20 || question.intents.count > 300 { errors.append(FieldError(field: "intents", message: visit.m(.toneIntentsInvalid))) }
        let segment = trimmed(question.segment)
        if segment.count > 100 { errors.append(FieldError(field: "segment", message: visit.m(.toneSegmentTooLong))) }
        var days: Int?
        if !trimmed(question.daysPastDue).isEmpty {
            if let value = Int(trimmed(question.daysPastDue)), abs(value) <= 100_000 { days = value } else {
                errors.append(FieldError(field: "days_past_due", message: visit.m(.toneDaysInvalid)))
            }
        }
        let template = trimmed(question.template)
        var settings: TemplateSettings?
        if template.isEmpty {
            errors.append(FieldError(field: "template", message: visit.m(.toneTemplateMissing)))
        } else if let found = catalog.settings(of: template) {
            settings = found
        } else {
            errors.append(FieldError(field: "template", message: visit.m(.toneTemplateUnknown, ["template": template])))
        }
        var category: Category?
        if question.category.isEmpty {
            category = settings?.category
        } else if let chosen = Category(rawValue: question.category) {
            category = chosen
        } else {
            errors.append(FieldError(field: "category", message: visit.m(.toneCategoryInvalid)))
        }
        let channel = Channel(rawValue: question.channel)
        if channel == nil { errors.append(FieldError(field: "channel", message: visit.m(.toneChannelMissing))) }
        let locale = trimmed(question.locale).isEmpty ? defaultLocale : trimmed(question.locale)
        if locale.count > 20 || locale.range(of: #"^[a-z]{2,3}(-[A-Z]{2}|-[0-9]{3})?$"#, options: .regularExpression) == nil {
            errors.append(FieldError(field: "locale", message: visit.m(.toneLocaleInvalid)))
        }
        if let channel, settings != nil, !catalog.hasVariant(template: template, channel: channel) {
            errors.append(FieldError(field: "channel", message: visit.m(.toneNoChannel, ["template": template, "channel": channel.rawValue])))
        }
        guard errors.isEmpty, let channel, let category else { return .failure(ToneErrors(errors: errors)) }
        // The worker's own decision: the policy on the job's facts, then the variant lookup of render.
        var facts = ToneFacts(sentimentLabel: label.isEmpty ? nil : label, sentimentScore: score, segment: segment.isEmpty ? nil : segment,
                              daysPastDue: days, category: category)
        facts.replyIntents = intents
        let (tone, rule) = catalog.tonePolicy.tone(for: facts)
        do {
            let chosen = try catalog.chosenVariant(template: template, channel: channel, tone: tone, locale: locale, defaultLocale: defaultLocale)
            return .success(ToneAnswer(tone: tone, rule: rule, category: category, file: chosen.file, fileTone: chosen.tone,
                                       fileLocale: chosen.locale, locale: locale))
        } catch {
            return .failure(ToneErrors(errors: [FieldError(field: "template", message: error.message)]))
        }
    }

    struct ToneErrors: Error, Sendable, Equatable {
        var errors: [FieldError]
    }

    func tonePage(_ request: Request, _ visit: Visit) -> Response {
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        let catalog = templates.current
        let asked = query["answer"] != nil
        var question = ToneQuestion(query)
        if !asked {
            // A first visit: the form starts from the first template, by SMS, in the default locale.
            question.template = catalog.templateNames.first ?? ""
            question.channel = Channel.sms.rawValue
        }
        var errors: [FieldError] = []
        var answer: ToneAnswer?
        if asked {
            switch Self.answer(question, catalog: catalog, defaultLocale: templates.defaultLocale, visit: visit) {
            case .success(let found): answer = found
            case .failure(let refusal): errors = refusal.errors
            }
        }
        let policy = catalog.tonePolicy
        let any: HTML = "<span class=\"hint\">\(visit.m(.toneAny))</span>"
        func list(_ values: [String]?) -> HTML { values.map { "\($0.joined(separator: ", "))" as HTML } ?? any }
        func range(_ min: String?, _ max: String?) -> HTML {
            switch (min, max) {
            case (nil, nil): any
            case (let min?, nil): "\(visit.m(.toneAtLeast, ["value": min]))"
            case (nil, let max?): "\(visit.m(.toneAtMost, ["value": max]))"
            case (let min?, let max?): "\(visit.m(.toneBetween, ["min": min, "max": max]))"
            }
        }
        func number(_ value: Double?) -> String? { value.map { $0 == $0.rounded() ? String(format: "%.1f", $0) : String($0) } }
        let rows: [HTML] = policy.rules.enumerated().map { index, rule in
            let chosen = answer?.rule == rule.id
            return """
                <tr id="rule-\(rule.id)"\(chosen ? HTML(" class=\"row-chosen\"") : .empty)><td>\(index + 1)</td><td><code>\(rule.id)</code>\(chosen ? "<br><strong class=\"tag\">\(visit.m(.toneDecided))</strong>" as HTML : .empty)</td>
                <td><strong>\(rule.tone)</strong></td><td>\(list(rule.sentimentLabels))</td>
                <td>\(range(number(rule.scoreMin), number(rule.scoreMax)))</td><td>\(list(rule.replyIntents))</td><td>\(list(rule.segments))</td>
                <td>\(range(rule.daysPastDueMin.map(String.init), rule.daysPastDueMax.map(String.init)))</td><td>\(list(rule.categories?.map(\.rawValue)))</td></tr>
                """
        }
        let defaultChosen = answer?.rule == "default"
        let defaultRow: HTML = """
            <tr id="rule-default"\(defaultChosen ? HTML(" class=\"row-chosen\"") : .empty)><td>—</td><td>\(visit.m(.toneDefaultRule))\(defaultChosen ? "<br><strong class=\"tag\">\(visit.m(.toneDecided))</strong>" as HTML : .empty)</td>
            <td><strong>\(policy.defaultTone)</strong></td><td colspan="6">\(visit.m(.toneDefaultWhen))</td></tr>
            """
        return Reply.html(Layout.page(visit, title: visit.m(.toneTitle), errors: errors, wide: true, main: """
            <h1 class="heading-l">\(visit.m(.toneTitle))</h1>
            <p class="body">\(visit.m(.toneLead))</p>
            \(answer.map { answerPanel(visit, $0) })
            <h2 class="heading-m">\(visit.m(.toneRulesTitle))</h2>
            <div class="table-wrap"><table id="tone-rules">
            <caption class="visually-hidden">\(visit.m(.toneRulesTitle))</caption>
            <thead><tr><th scope="col">#</th><th scope="col">\(visit.m(.toneColRule))</th><th scope="col">\(visit.m(.toneColTone))</th>
            <th scope="col">\(visit.m(.toneColSentiment))</th><th scope="col">\(visit.m(.toneColScore))</th><th scope="col">\(visit.m(.toneColIntents))</th>
            <th scope="col">\(visit.m(.toneColSegment))</th><th scope="col">\(visit.m(.toneColDays))</th><th scope="col">\(visit.m(.toneColCategory))</th></tr></thead>
            <tbody>\(rows)\(defaultRow)</tbody></table></div>
            \(toneForm(visit, question, catalog: catalog, errors: errors))
            """), status: errors.isEmpty ? .ok : .badRequest, visit: visit)
    }

    func answerPanel(_ visit: Visit, _ answer: ToneAnswer) -> HTML {
        let rule: HTML = answer.rule == "default"
            ? "\(visit.m(.toneAnswerDefault))"
            : "\(visit.m(.toneAnswerRule)) <a href=\"#rule-\(answer.rule)\"><code>\(answer.rule)</code></a>"
        let fallback: HTML = answer.fileTone != answer.tone ? "<p class=\"body\">\(visit.m(.toneAnswerFallback, ["tone": answer.tone, "used": answer.fileTone]))</p>" : .empty
        return """
            <div class="notice notice-success" role="status" id="tone-answer">
            <h2 class="heading-m">\(visit.m(.toneAnswerTitle))</h2>
            <dl class="body"><dt class="label">\(visit.m(.toneColTone))</dt><dd id="answer-tone"><strong>\(answer.tone)</strong></dd>
            <dt class="label">\(visit.m(.toneAnswerDecidedBy))</dt><dd id="answer-rule">\(rule)</dd>
            <dt class="label">\(visit.m(.toneAnswerFile))</dt><dd><code id="answer-file">\(answer.file)</code></dd>
            <dt class="label">\(visit.m(.toneColCategory))</dt><dd>\(answer.category.rawValue) · \(visit.m(.toneAnswerLocale, ["locale": answer.locale]))</dd></dl>
            \(fallback)
            </div>
            """
    }

    func toneForm(_ visit: Visit, _ question: ToneQuestion, catalog: TemplateCatalog, errors: [FieldError]) -> HTML {
        func group(_ field: String, _ label: Term, _ hint: String?, _ control: (Bool) -> HTML) -> HTML {
            let invalid = errors.contains { $0.field == field }
            return """
                <div class="form-group\(invalid ? HTML(" form-group-error") : .empty)"><label class="label" for="\(field)">\(visit.m(label))</label>
                \(hint.map { "<p class=\"hint\" id=\"\(field)-hint\">\($0)</p>" as HTML })
                \(Layout.fieldError(errors, field))\(control(invalid))</div>
                """
        }
        func describedBy(_ field: String, hint: Bool, _ invalid: Bool) -> HTML {
            let ids = (hint ? ["\(field)-hint"] : []) + (invalid ? ["\(field)-error"] : [])
            return ids.isEmpty ? .empty : " aria-describedby=\"\(ids.joined(separator: " "))\""
        }
        func input(_ field: String, _ value: String, hint: Bool, mode: String = "text") -> (Bool) -> HTML {
            { invalid in
                "<input class=\"input\(invalid ? HTML(" input-error") : .empty)\" id=\"\(field)\" name=\"\(field)\" type=\"text\" inputmode=\"\(mode)\" value=\"\(value)\" spellcheck=\"false\" autocomplete=\"off\"\(describedBy(field, hint: hint, invalid))>"
            }
        }
        func select(_ field: String, _ options: [(String, String)], _ selected: String, hint: Bool = false) -> (Bool) -> HTML {
            { invalid in
                let items: [HTML] = options.map { "<option value=\"\($0.0)\"\($0.0 == selected ? HTML(" selected") : .empty)>\($0.1)</option>" }
                return "<select class=\"select\" id=\"\(field)\" name=\"\(field)\"\(describedBy(field, hint: hint, invalid))>\(items)</select>"
            }
        }
        let labels = Set(catalog.tonePolicy.rules.flatMap { $0.sentimentLabels ?? [] }).sorted().joined(separator: ", ")
        let segments = Set(catalog.tonePolicy.rules.flatMap { $0.segments ?? [] }).sorted().joined(separator: ", ")
        var locales = ["es-CR", "es-MX", "es-CO", "en-US"]
        if !locales.contains(templates.defaultLocale) { locales.insert(templates.defaultLocale, at: 0) }
        return """
            <h2 class="heading-m" id="ask">\(visit.m(.toneAskTitle))</h2>
            <form method="get" action="/console/tones" novalidate id="tone-form">
            <input type="hidden" name="answer" value="1">
            \(group("sentiment", .toneSentimentLabel, visit.m(.toneSentimentHint, ["labels": labels.isEmpty ? "—" : labels]), input("sentiment", question.sentiment, hint: true)))
            \(group("score", .toneScoreLabel, visit.m(.toneScoreHint), input("score", question.score, hint: true, mode: "decimal")))
            \(group("intents", .toneIntentsLabel, visit.m(.toneIntentsHint), input("intents", question.intents, hint: true)))
            \(group("segment", .toneSegmentLabel, visit.m(.toneSegmentHint, ["segments": segments.isEmpty ? "—" : segments]), input("segment", question.segment, hint: true)))
            \(group("days_past_due", .toneDaysLabel, visit.m(.toneDaysHint), input("days_past_due", question.daysPastDue, hint: true, mode: "numeric")))
            \(group("category", .toneCategoryLabel, nil, select("category", [("", visit.m(.toneCategoryTemplates)), ("collection", "collection"),
                                                                              ("transactional", "transactional"), ("reply", "reply")], question.category)))
            \(group("template", .toneTemplateLabel, nil, select("template", catalog.templateNames.map { ($0, $0) }, question.template)))
            \(group("channel", .toneChannelLabel, nil, select("channel", [("", visit.m(.toneChoose))] + Channel.allCases.map { ($0.rawValue, $0.rawValue) }, question.channel)))
            \(group("locale", .toneLocaleLabel, visit.m(.toneLocaleHint), select("locale", [("", visit.m(.toneLocaleDefault, ["locale": templates.defaultLocale]))] + locales.map { ($0, $0) }, question.locale, hint: true)))
            <button type="submit" class="button" id="tone-check">\(visit.m(.toneAskButton))</button>
            </form>
            """
    }
}
