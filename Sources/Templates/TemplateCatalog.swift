import Foundation
import GatewayCore
import Mustache

/// Everything that can go wrong turning a job into text. `code` is stable, `message` says what to fix.
public struct RenderError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Reason
    public var message: String
    public var description: String { "\(code): \(message)" }
}

/// A template file that failed to load, named by its path (with line and column where known).
public struct TemplateLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var message: String
    public var description: String { "\(file): \(message)" }
}

/// The parts a channel's message has, in the order a file lists them.
public enum MessagePart: String, Sendable, CaseIterable {
    case subject, text, html, title, body

    /// Parts a variant file of this channel must have. SMS files need no `--- body` line.
    public static func required(for channel: Channel) -> [MessagePart] {
        switch channel {
        case .sms: [.body]
        case .email: [.subject, .text, .html]
        case .push: [.title, .body]
        }
    }
}

/// One part of a variant file, parsed.
struct Part: Sendable {
    var name: MessagePart
    /// The file line the part's text starts on.
    var startLine: Int
    /// The part's text as written (lint maps HTML problems back to it).
    var source: String
    var template: MustacheTemplate
    /// The same part, flattened, when it is only text, variables and inline partials.
    var flat: FlatTemplate?
    var nodes: [TemplateNode]
    var partials: [String]
}

/// A partial as loaded: its path relative to templates/, its text (without the file's trailing
/// newline) and its tags.
struct PartialSource: Sendable {
    var file: String
    var text: String
    var nodes: [TemplateNode]
}

/// One file `templates/<template>/<channel>[.<tone>][.<locale>].mustache`.
struct Variant: Sendable {
    var channel: Channel
    var tone: String?
    var locale: String?
    /// Path relative to templates/, recorded in the contact log.
    var file: String
    var parts: [MessagePart: Part]
}

/// A rendered message, which file it came from, and (for SMS) what it costs.
public struct RenderedMessage: Sendable, Equatable {
    /// SMS text, e-mail plain-text part, or push body.
    public var body: String
    /// E-mail subject or push title.
    public var subject: String?
    /// E-mail HTML part (variables HTML-escaped).
    public var html: String?
    public var variant: String
    public var tone: String
    public var locale: String?
    public var sms: SMSInfo?
}

/// A template folder's content.
struct TemplateEntry: Sendable {
    var settings: TemplateSettings
    var variants: [Variant]
    /// sample.json's bytes, as read with the rest of the folder.
    var sample: Data?
}

/// The templates folder, parsed once. Immutable and Sendable: a reload builds a new catalog.
public struct TemplateCatalog: Sendable {
    public let directory: String
    public let tonePolicy: TonePolicy
    let templates: [String: TemplateEntry]
    /// The partials for HTML parts (variables escaped) and for text parts (nothing escaped):
    /// swift-mustache renders a partial as HTML whatever includes it, so each is registered twice.
    let library: MustacheLibrary
    let textLibrary: MustacheLibrary
    let checker: StrictChecker
    /// The partials as written, by name.
    let partials: [String: PartialSource]

    public var templateNames: [String] { templates.keys.sorted() }
    public func hasTemplate(_ name: String) -> Bool { templates[name] != nil }
    public func settings(of template: String) -> TemplateSettings? { templates[template]?.settings }

    /// Whether the template can produce a message for this channel at all.
    public func hasVariant(template: String, channel: Channel) -> Bool {
        templates[template]?.variants.contains { $0.channel == channel } ?? false
    }

    /// The variant files of a template, as paths relative to templates/.
    public func variantFiles(of template: String) -> [String] {
        templates[template]?.variants.map(\.file).sorted() ?? []
    }

    /// Loads every template under `directory`. A file that does not parse fails the whole load,
    /// naming the file, line and column: a half-loaded catalog would send some messages and not others.
    public init(directory: String) throws(TemplateLoadError) {
        try self.init(files: TemplateFiles.read(directory: directory))
    }

    /// Builds the catalog from files already read: exactly these bytes, nothing read again.
    public init(files: TemplateFiles) throws(TemplateLoadError) {
        self.directory = files.directory
        tonePolicy = try TonePolicyFile.load(files.data("tones.yml"))
        var library = MustacheLibrary()
        var textLibrary = MustacheLibrary()
        var partialSources: [String: PartialSource] = [:]
        for file in files.files(in: "_partials") where file.hasSuffix(".mustache") {
            let relative = "_partials/\(file)"
            let text = try files.text(relative)
            // Partials are inserted as they are: a trailing newline in the file is not part of the sentence.
            let trimmed = text.hasSuffix("\n") ? String(text.dropLast()) : text
            let (template, nodes) = try Self.parse(trimmed, relative: relative, startLine: 1, textMode: false)
            let name = String(file.dropLast(".mustache".count))
            library.register(template, named: name)
            textLibrary.register(try Self.textPartial(trimmed, relative: relative), named: name)
            partialSources[name] = PartialSource(file: relative, text: trimmed, nodes: nodes)
        }
        var templates: [String: TemplateEntry] = [:]
        for folder in files.folders where !folder.hasPrefix("_") && !folder.hasPrefix(".") {
            guard JobDecoder.isTemplateName(folder) else {
                throw TemplateLoadError(file: folder, message: "template folder names may use only a-z, 0-9, '-' and '_'")
            }
            let settings = try TemplateSettings.load(files.data("\(folder)/template.yml"), relative: "\(folder)/template.yml")
            var variants: [Variant] = []
            for file in files.files(in: folder) where file.hasSuffix(".mustache") {
                let relative = "\(folder)/\(file)"
                let (channel, tone, locale) = try Self.nameParts(file, relative: relative)
                guard !variants.contains(where: { $0.channel == channel && $0.tone == tone && $0.locale == locale }) else {
                    throw TemplateLoadError(file: relative, message: "another file already covers \(channel.rawValue), tone \(tone ?? "neutral"), locale \(locale ?? "none") (a file without a tone is neutral)")
                }
                let text = try files.text(relative)
                let parts = try Self.parts(of: text, channel: channel, relative: relative, partials: partialSources)
                variants.append(Variant(channel: channel, tone: tone, locale: locale, file: relative, parts: parts))
            }
            templates[folder] = TemplateEntry(settings: settings, variants: variants, sample: files.data("\(folder)/sample.json"))
        }
        self.templates = templates
        self.library = library
        self.textLibrary = textLibrary
        self.checker = StrictChecker(partials: partialSources.mapValues { ($0.file, $0.nodes) })
        self.partials = partialSources
    }

    static func nameParts(_ file: String, relative: String) throws(TemplateLoadError) -> (Channel, String?, String?) {
        let parts = file.dropLast(".mustache".count).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let channel = Channel(rawValue: parts[0]) else {
            throw TemplateLoadError(file: relative, message: "file name must start with a channel (sms, email, push), like sms.es.mustache")
        }
        var tone: String?
        var locale: String?
        for part in parts.dropFirst() {
            if isLocale(part), locale == nil {
                locale = part
            } else if tone == nil, locale == nil, isToneName(part) {
                tone = part
            } else {
                throw TemplateLoadError(file: relative, message: "expected <channel>[.<tone>][.<locale>].mustache; \"\(part)\" is neither a tone (lower-case word of 4+ letters) nor a locale (like es or es-CR) in that place")
            }
        }
        return (channel, tone == "neutral" ? nil : tone, locale)
    }

    /// Splits a variant file into its parts. A line `--- <part>` starts a part; an SMS file may
    /// be plain text. Each part must be there once; line numbers stay those of the file.
    static func parts(of text: String, channel: Channel, relative: String, partials: [String: PartialSource] = [:]) throws(TemplateLoadError) -> [MessagePart: Part] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let required = MessagePart.required(for: channel)
        var sections: [(name: MessagePart, startLine: Int, lines: [Substring])] = []
        for (index, line) in lines.enumerated() {
            if line.hasPrefix("--- ") || line == "---" {
                let name = line.dropFirst(3).trimmingCharacters(in: .whitespaces)
                guard let part = MessagePart(rawValue: name), required.contains(part) else {
                    throw TemplateLoadError(file: "\(relative):\(index + 1):1", message: "\"\(line)\" is not a part of a \(channel.rawValue) message; \(channel.rawValue) files have " + required.map { "--- \($0.rawValue)" }.joined(separator: ", "))
                }
                guard !sections.contains(where: { $0.name == part }) else {
                    throw TemplateLoadError(file: "\(relative):\(index + 1):1", message: "part \(name) appears twice")
                }
                sections.append((part, index + 2, []))
            } else if sections.isEmpty {
                if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                guard channel == .sms else {
                    throw TemplateLoadError(file: "\(relative):\(index + 1):1", message: "\(channel.rawValue) files start with a part line: " + required.map { "--- \($0.rawValue)" }.joined(separator: ", "))
                }
                sections.append((.body, index + 1, [line]))
            } else {
                sections[sections.count - 1].lines.append(line)
            }
        }
        var parts: [MessagePart: Part] = [:]
        for section in sections {
            let source = section.lines.joined(separator: "\n")
            let (template, nodes) = try parse(source, relative: relative, startLine: section.startLine, textMode: section.name != .html)
            parts[section.name] = Part(name: section.name, startLine: section.startLine, source: source, template: template,
                                       flat: FlatTemplate.make(source, html: section.name == .html, file: relative, nodes: nodes, partials: partials),
                                       nodes: nodes, partials: partialNames(nodes))
        }
        for part in required where parts[part] == nil {
            throw TemplateLoadError(file: relative, message: "part \(part.rawValue) is missing; \(channel.rawValue) files need " + required.map { "--- \($0.rawValue)" }.joined(separator: ", "))
        }
        return parts
    }

    static func parse(_ text: String, relative: String, startLine: Int, textMode: Bool) throws(TemplateLoadError) -> (MustacheTemplate, [TemplateNode]) {
        let nodes: [TemplateNode]
        do { nodes = try TagScanner.scan(text, startLine: startLine) } catch {
            throw TemplateLoadError(file: "\(relative):\(error.line):\(error.column)", message: error.message)
        }
        do {
            // Plain-text parts must never be HTML-escaped ("&amp;" would reach the phone); HTML parts are.
            let source = textMode ? "{{% CONTENT_TYPE: TEXT}}" + text : text
            return (try MustacheTemplate(string: source), nodes)
        } catch {
            throw TemplateLoadError(file: relative, message: "does not parse: \(error)")
        }
    }

    /// A partial for text parts. The pragma stands on a line of its own, which the parser drops
    /// whole, so the partial's first line is read exactly as in the HTML version.
    static func textPartial(_ text: String, relative: String) throws(TemplateLoadError) -> MustacheTemplate {
        do {
            return try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}\n" + text)
        } catch {
            throw TemplateLoadError(file: relative, message: "does not parse: \(error)")
        }
    }

    static func partialNames(_ nodes: [TemplateNode]) -> [String] {
        nodes.flatMap { node -> [String] in
            switch node {
            case .partial(let name, _, _): [name]
            case .section(_, _, let children, _, _): partialNames(children)
            case .variable: []
            }
        }
    }

    static func isLocale(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard let language = parts.first, (2...3).contains(language.count), language.allSatisfy({ $0.isASCII && $0.isLowercase }) else { return false }
        if parts.count == 1 { return true }
        guard parts.count == 2 else { return false }
        let region = parts[1]
        return (region.count == 2 && region.allSatisfy { $0.isASCII && $0.isUppercase }) || (region.count == 3 && region.allSatisfy(\.isNumber))
    }

    static func isToneName(_ text: String) -> Bool {
        text.count >= 4 && text.allSatisfy { $0.isASCII && ($0.isLowercase || $0 == "_") }
    }

    /// Variant files to try, best first: the tone in the contact's locale, in its language, in the
    /// default locale, in the default language, with no locale; then the same for neutral.
    static func candidates(tone: String, locale: String?, defaultLocale: String) -> [(tone: String?, locale: String?)] {
        var locales: [String?] = []
        func add(_ value: String?) {
            if !locales.contains(where: { $0 == value }) { locales.append(value) }
        }
        if let locale {
            add(locale)
            add(language(of: locale))
        }
        add(defaultLocale)
        add(language(of: defaultLocale))
        add(nil)
        var result: [(String?, String?)] = []
        for t in tone == "neutral" ? [nil] : [tone, nil] as [String?] {
            for l in locales { result.append((t, l)) }
        }
        return result
    }

    static func language(of locale: String) -> String {
        guard let dash = locale.utf8.firstIndex(of: UInt8(ascii: "-")) else { return locale }
        return String(locale[..<dash])
    }

    func variant(template name: String, channel: Channel, tone: String, locale: String?, defaultLocale: String) throws(RenderError) -> Variant {
        guard let entry = templates[name] else {
            throw RenderError(code: .unknownTemplate, message: "no template folder templates/\(name)/")
        }
        let forChannel = entry.variants.filter { $0.channel == channel }
        for candidate in Self.candidates(tone: tone, locale: locale, defaultLocale: defaultLocale) {
            if let match = forChannel.first(where: { $0.tone == candidate.tone && $0.locale == candidate.locale }) { return match }
        }
        guard let any = forChannel.first else {
            throw RenderError(code: .noVariant, message: "template \(name) has no \(channel.rawValue) variant")
        }
        return any
    }

    /// The variant file the worker renders for a channel, a tone and the contact's locale (the
    /// contact's, or `defaultLocale` when the job gives none): the choice `render` makes, with the
    /// tone and locale of the file chosen (a tone the template is not written in falls back to neutral).
    public func chosenVariant(template name: String, channel: Channel, tone: String, locale: String?,
                              defaultLocale: String) throws(RenderError) -> (file: String, tone: String, locale: String?) {
        let variant = try variant(template: name, channel: channel, tone: tone, locale: locale ?? defaultLocale, defaultLocale: defaultLocale)
        return (variant.file, variant.tone ?? "neutral", variant.locale)
    }

    /// Renders the best variant for the channel, tone and locale. Fails, naming each variable and
    /// where it is used, if any variable would come out empty; fails if an SMS is longer than the
    /// template's `max_segments` or a push payload is over 4 KB.
    public func render(template name: String, channel: Channel, tone: String, locale: String?, defaultLocale: String,
                       context: [String: Any]) throws(RenderError) -> RenderedMessage {
        let variant = try variant(template: name, channel: channel, tone: tone, locale: locale, defaultLocale: defaultLocale)
        return try render(variant, settings: templates[name]!.settings, template: name, context: context)
    }

    /// Renders a job: picks the variant for its tone and locale, then formats money and dates in the
    /// contact's locale when it speaks the variant's language, else in the variant's own locale (an
    /// English fallback never prints "1 de diciembre").
    public func render(template name: String, channel: Channel, tone: String, job: Job, category: Category,
                       defaultLocale: String) throws(RenderError) -> RenderedMessage {
        let contactLocale = job.contact.locale ?? defaultLocale
        let variant = try variant(template: name, channel: channel, tone: tone, locale: contactLocale, defaultLocale: defaultLocale)
        let locale = Self.formattingLocale(contact: contactLocale, variant: variant.locale, defaultLocale: defaultLocale)
        return try render(variant, settings: templates[name]!.settings, template: name,
                          context: RenderContext.make(for: job, locale: locale, category: category))
    }

    static func formattingLocale(contact: String, variant: String?, defaultLocale: String) -> String {
        let language = Self.language(of: variant ?? defaultLocale)
        if Self.language(of: contact) == language { return contact }
        if Self.language(of: defaultLocale) == language { return defaultLocale }
        return variant ?? language
    }

    func render(_ variant: Variant, settings: TemplateSettings, template name: String, context: [String: Any]) throws(RenderError) -> RenderedMessage {
        let channel = variant.channel
        // Every part is rendered and checked; a flat part is checked as it is rendered, the others
        // by the strict checker. Nothing is returned if any variable is missing.
        var missing: [MissingVariable] = []
        var rendered: [MessagePart: String] = [:]
        for part in MessagePart.allCases {
            guard let parsed = variant.parts[part] else { continue }
            if let (text, lacking) = parsed.flat?.render(context) {
                rendered[part] = text
                missing += lacking
            } else {
                missing += checker.missing(in: parsed.nodes, file: variant.file, context: context)
                rendered[part] = parsed.template.render(context, library: part == .html ? library : textLibrary)
            }
        }
        if !missing.isEmpty {
            // A money amount that is there but cannot be printed exactly is a wrong value, not a missing one.
            if let money = context["money"] as? MoneyHelper {
                for variable in missing where variable.name.hasPrefix("money.") {
                    if let problem = money.problem(named: String(variable.name.dropFirst("money.".count))) {
                        throw RenderError(code: .invalidValue, message: "\(problem) (used at \(variable.location))")
                    }
                }
            }
            throw RenderError(code: .missingVariable, message: "the job lacks " + missing.map(\.description).joined(separator: ", "))
        }
        func text(_ part: MessagePart) -> String? { rendered[part]?.trimmingSpaces() }
        var body = text(channel == .email ? .text : .body) ?? ""
        let subject = text(channel == .email ? .subject : .title)
        guard !body.isEmpty, subject.map({ !$0.isEmpty }) ?? true else {
            throw RenderError(code: .emptyMessage, message: "\(variant.file) rendered an empty \(channel == .email ? "text or subject" : "message")")
        }
        var sms: SMSInfo?
        if channel == .sms {
            // NFC first: a name written "Jose\u{301}" goes out as "José" (GSM-7), and the text
            // counted here is the text sent and logged.
            body = SMSEncoding.normalized(body)
            if settings.smsEncoding == .gsm7Transliterate { body = SMSEncoding.transliterate(body) }
            let info = SMSEncoding.analyze(body)
            if let limit = settings.maxSegments, info.segments > limit {
                throw RenderError(code: .smsTooLong, message: "\(variant.file) renders to \(info.segments) SMS segments (\(info.encoding.rawValue), \(info.units) \(info.encoding == .gsm7 ? "septets" : "UTF-16 units")); the template allows \(limit) (max_segments in \(name)/template.yml)")
            }
            sms = info
        }
        if channel == .push, let subject {
            let size = PushPayload.apnsSize(title: subject, body: body)
            if size > PushPayload.limit {
                throw RenderError(code: .pushTooLarge, message: "\(variant.file) renders to a \(size)-byte push payload; the limit is \(PushPayload.limit) bytes")
            }
        }
        return RenderedMessage(body: body, subject: subject, html: text(.html), variant: variant.file,
                               tone: variant.tone ?? "neutral", locale: variant.locale, sms: sms)
    }
}

/// Push payload sizing: APNs refuses payloads over 4096 bytes (FCM's limit is the same for data).
public enum PushPayload {
    public static let limit = 4096

    public static func apnsSize(title: String, body: String) -> Int {
        let payload: [String: Any] = ["aps": ["alert": ["title": title, "body": body], "sound": "default"]]
        return (try? JSONSerialization.data(withJSONObject: payload).count) ?? Int.max
    }
}
