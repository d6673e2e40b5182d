import Foundation
import GatewayCore

/// What compliance requires of every template: the `templates:` section of config/contact-rules.yml,
/// read with the rest of that file by `ContactRulesFile`.
public struct ComplianceRequirements: Sendable, Equatable {
    /// Each rendered SMS / e-mail must contain one of these words (case-insensitive).
    public var optOutKeywords: [Channel: [String]]
    /// Collection SMS and e-mail must include one of these partials (with or without a locale suffix).
    public var disclosurePartials: [String]

    public init(optOutKeywords: [Channel: [String]] = [:], disclosurePartials: [String] = []) {
        self.optOutKeywords = optOutKeywords
        self.disclosurePartials = disclosurePartials
    }
}

public struct LintFinding: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable {
        case error
        case warning
    }

    public var severity: Severity
    /// file, file:line or file:line:column, relative to the templates folder.
    public var location: String
    public var message: String

    public var description: String { "\(location): \(severity.rawValue): \(message)" }
}

/// `gateway templates lint`: everything that can be checked before a customer sees a message.
public enum TemplateLinter {
    public static func lint(directory: String, requirements: ComplianceRequirements, defaultLocale: String) -> [LintFinding] {
        let files: TemplateFiles
        do { files = try TemplateFiles.read(directory: directory) } catch {
            return [LintFinding(severity: .error, location: error.file, message: error.message)]
        }
        return lint(files: files, requirements: requirements, defaultLocale: defaultLocale)
    }

    /// Lints files already read (the hot reload lints the very bytes it then puts into service).
    public static func lint(files: TemplateFiles, requirements: ComplianceRequirements, defaultLocale: String) -> [LintFinding] {
        lintAndLoad(files: files, requirements: requirements, defaultLocale: defaultLocale).findings
    }

    /// The findings, and the catalog they were found in (nil when the files do not load): the
    /// store puts exactly the catalog lint checked into service.
    static func lintAndLoad(files: TemplateFiles, requirements: ComplianceRequirements, defaultLocale: String) -> (findings: [LintFinding], catalog: TemplateCatalog?) {
        var findings = syntaxFindings(files: files)
        guard findings.isEmpty else { return (findings, nil) }
        let catalog: TemplateCatalog
        do { catalog = try TemplateCatalog(files: files) } catch {
            return ([LintFinding(severity: .error, location: error.file, message: error.message)], nil)
        }
        for name in catalog.templateNames {
            findings += lint(template: name, catalog: catalog, requirements: requirements, defaultLocale: defaultLocale)
        }
        return (findings, catalog)
    }

    /// Every file parsed on its own, so all syntax errors are reported at once, not only the first.
    static func syntaxFindings(files: TemplateFiles) -> [LintFinding] {
        var findings: [LintFinding] = []
        func add(_ error: TemplateLoadError) {
            findings.append(LintFinding(severity: .error, location: error.file, message: error.message))
        }
        do { _ = try TonePolicyFile.load(files.data("tones.yml")) } catch { add(error) }
        for folder in files.folders where !folder.hasPrefix(".") {
            if folder != "_partials" {
                do { _ = try TemplateSettings.load(files.data("\(folder)/template.yml"), relative: "\(folder)/template.yml") } catch { add(error) }
            }
            for file in files.files(in: folder) where file.hasSuffix(".mustache") {
                let relative = "\(folder)/\(file)"
                do {
                    let text = try files.text(relative)
                    if folder == "_partials" {
                        _ = try TemplateCatalog.parse(text, relative: relative, startLine: 1, textMode: false)
                    } else {
                        let (channel, _, _) = try TemplateCatalog.nameParts(file, relative: relative)
                        _ = try TemplateCatalog.parts(of: text, channel: channel, relative: relative)
                    }
                } catch {
                    add(error)
                }
            }
        }
        return findings
    }

    static func lint(template name: String, catalog: TemplateCatalog, requirements: ComplianceRequirements, defaultLocale: String) -> [LintFinding] {
        var findings: [LintFinding] = []
        func error(_ location: String, _ message: String) { findings.append(LintFinding(severity: .error, location: location, message: message)) }
        func warning(_ location: String, _ message: String) { findings.append(LintFinding(severity: .warning, location: location, message: message)) }
        let entry = catalog.templates[name]!
        if entry.variants.isEmpty { error("\(name)/", "the template has no variant files") }

        // The sample job every variant is rendered with.
        guard let sample = entry.sample else {
            error("\(name)/sample.json", "missing: every template needs a sample.json (a realistic job) so it can be checked")
            return findings
        }
        let job: Job
        switch JobDecoder(maxJobBytes: 1 << 20).decode(Array(sample)) {
        case .success(let decoded): job = decoded
        case .failure(let rejection):
            error("\(name)/sample.json", "is not a valid job: \(rejection.message)")
            return findings
        }
        let category = job.category ?? entry.settings.category

        for variant in entry.variants {
            let locale = TemplateCatalog.formattingLocale(contact: job.contact.locale ?? defaultLocale, variant: variant.locale, defaultLocale: defaultLocale)
            let context = RenderContext.make(for: job, locale: locale, category: category)
            let rendered: RenderedMessage
            do {
                rendered = try catalog.render(variant, settings: entry.settings, template: name, context: context)
            } catch let failure where failure.code == .missingVariable {
                for part in MessagePart.allCases {
                    guard let parsed = variant.parts[part] else { continue }
                    for missing in catalog.checker.missing(in: parsed.nodes, file: variant.file, context: context) {
                        error(missing.location, "\(missing.name) is not in sample.json (or cannot be formatted from it); a job like the sample would be refused")
                    }
                }
                continue
            } catch let failure {
                error(variant.file, failure.message)
                continue
            }
            if let sms = rendered.sms, sms.encoding == .ucs2 {
                let characters = sms.nonGSMCharacters.map { character in
                    character.unicodeScalars.count == 1 ? "\"\(character)\""
                        : "\"\(character)\" (" + character.unicodeScalars.map { String(format: "U+%04X", $0.value) }.joined(separator: " ") + ")"
                }.joined(separator: " ")
                warning(variant.file, "SMS is UCS-2 (\(sms.segments) segment\(sms.segments == 1 ? " of up to 70" : "s of 67") UTF-16 units) because of \(characters); sms_encoding: gsm7-transliterate in template.yml would send it as GSM-7")
            }
            if let html = rendered.html, let part = variant.parts[.html] {
                // Positions in the template as written (a partial or a variable above a mistake
                // does not move it); the rendered positions only if the mapping cannot be made.
                if let problems = HTMLSourceMap.problems(source: part.source, startLine: part.startLine, file: variant.file,
                                                         partials: catalog.partials, context: context) {
                    for problem in problems { error(problem.location, "HTML: \(problem.message)") }
                } else {
                    for problem in HTMLCheck.problems(html, firstLine: part.startLine) {
                        error("\(variant.file):\(problem.line):\(problem.column)", "HTML: \(problem.message) (rendered position)")
                    }
                }
            }
            // Compliance: opt-out instruction, and the debt-collector disclosure for collection messages.
            if let keywords = requirements.optOutKeywords[variant.channel] {
                let texts = [rendered.body, rendered.html].compactMap { $0 }.map { $0.lowercased() }
                for (index, text) in texts.enumerated() where !keywords.contains(where: { text.contains($0.lowercased()) }) {
                    error(variant.file, "the \(index == 0 ? (variant.channel == .email ? "text part" : "message") : "HTML part") has no opt-out instruction (one of \(keywords.joined(separator: ", ")), from config/contact-rules.yml)")
                }
            }
            if category == .collection, variant.channel != .push, !requirements.disclosurePartials.isEmpty {
                let used = Set(variant.parts.values.flatMap(\.partials))
                let carries = used.contains { partial in
                    requirements.disclosurePartials.contains { partial == $0 || partial.hasPrefix($0 + ".") }
                }
                if !carries {
                    error(variant.file, "collection messages must include the debt-collector disclosure: one of the partials " + requirements.disclosurePartials.map { "{{> \($0)...}}" }.joined(separator: ", "))
                }
            }
        }

        // Tones the policy can choose for this template must have their files.
        for (tone, rule) in reachableTones(catalog.tonePolicy, category: category) where tone != "neutral" {
            if let declared = entry.settings.tones, !declared.contains(tone) { continue }
            for channel in Channel.allCases {
                let neutralLocales = Set(entry.variants.filter { $0.channel == channel && $0.tone == nil }.map(\.locale))
                for locale in neutralLocales.sorted(by: { ($0 ?? "") < ($1 ?? "") }) {
                    let covered = entry.variants.contains { $0.channel == channel && $0.tone == tone && ($0.locale == locale || ($0.locale.map { locale?.hasPrefix($0 + "-") ?? false } ?? false)) }
                    if !covered {
                        let file = "\(name)/\(channel.rawValue).\(tone)\(locale.map { ".\($0)" } ?? "").mustache"
                        error(file, "missing: tones.yml rule \(rule) can choose tone \(tone) for this template; add the file, or list the tones this template is written in under tones: in \(name)/template.yml (others fall back to neutral)")
                    }
                }
            }
        }
        return findings
    }

    /// Tones the policy can produce for a category, with the first rule that produces each. A rule
    /// whose only condition is the category (or that has none) catches everything after it.
    static func reachableTones(_ policy: TonePolicy, category: Category) -> [(String, String)] {
        var result: [(String, String)] = []
        func add(_ tone: String, _ rule: String) {
            if !result.contains(where: { $0.0 == tone }) { result.append((tone, rule)) }
        }
        for rule in policy.rules {
            if let categories = rule.categories, !categories.contains(category) { continue }
            add(rule.tone, rule.id)
            let catchAll = rule.sentimentLabels == nil && rule.scoreMin == nil && rule.scoreMax == nil && rule.segments == nil
                && rule.daysPastDueMin == nil && rule.daysPastDueMax == nil && rule.replyIntents == nil
            if catchAll { return result }
        }
        add(policy.defaultTone, "default")
        return result
    }
}
