import Foundation
import GatewayCore
import Mustache

/// Everything that can go wrong turning a job into text. `code` is stable, `message` says what to fix.
public struct RenderError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var description: String { "\(code): \(message)" }
}

/// A template file that failed to load, named by its path.
public struct TemplateLoadError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var message: String
    public var description: String { "\(file): \(message)" }
}

/// One file `templates/<template>/<channel>[.<tone>][.<locale>].mustache`.
struct Variant: Sendable {
    var channel: Channel
    var tone: String?
    var locale: String?
    /// Path relative to templates/, recorded in the contact log.
    var file: String
    var template: MustacheTemplate
    var nodes: [TemplateNode]
}

/// The rendered message and which file it came from.
public struct RenderedMessage: Sendable, Equatable {
    public var body: String
    public var variant: String
    public var tone: String
    public var locale: String?
}

/// The templates folder, parsed once. Immutable and Sendable: a reload builds a new catalog.
public struct TemplateCatalog: Sendable {
    public let directory: String
    private let variants: [String: [Variant]]
    private let library: MustacheLibrary
    private let checker: StrictChecker

    public var templateNames: [String] { variants.keys.sorted() }

    public func hasTemplate(_ name: String) -> Bool { variants[name] != nil }

    public func channels(of template: String) -> Set<Channel> {
        Set(variants[template, default: []].map(\.channel))
    }

    /// Loads every template under `directory`. Any file that does not parse fails the whole load,
    /// naming the file, line and column: a half-loaded catalog would send some messages and not others.
    public init(directory: String) throws(TemplateLoadError) {
        self.directory = directory
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TemplateLoadError(file: directory, message: "templates folder not found")
        }
        let folders: [String]
        do {
            folders = try fm.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw TemplateLoadError(file: directory, message: "cannot list: \(error)")
        }
        var library = MustacheLibrary()
        var partials: [String: (file: String, nodes: [TemplateNode])] = [:]
        let partialsDir = (directory as NSString).appendingPathComponent("_partials")
        if fm.fileExists(atPath: partialsDir) {
            for file in ((try? fm.contentsOfDirectory(atPath: partialsDir)) ?? []).sorted() where file.hasSuffix(".mustache") {
                let relative = "_partials/\(file)"
                let (template, nodes) = try Self.parse(path: (partialsDir as NSString).appendingPathComponent(file), relative: relative, textMode: true)
                let name = String(file.dropLast(".mustache".count))
                library.register(template, named: name)
                partials[name] = (relative, nodes)
            }
        }
        var variants: [String: [Variant]] = [:]
        for folder in folders where !folder.hasPrefix("_") && !folder.hasPrefix(".") {
            let path = (directory as NSString).appendingPathComponent(folder)
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            guard JobDecoder.isTemplateName(folder) else {
                throw TemplateLoadError(file: folder, message: "template folder names may use only a-z, 0-9, '-' and '_'")
            }
            let files = ((try? fm.contentsOfDirectory(atPath: path)) ?? []).sorted()
            for file in files where file.hasSuffix(".mustache") {
                let relative = "\(folder)/\(file)"
                let parts = file.dropLast(".mustache".count).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                guard let channel = Channel(rawValue: parts[0]) else {
                    throw TemplateLoadError(file: relative, message: "file name must start with a channel (sms, email, push), like sms.es.mustache")
                }
                var tone: String?
                var locale: String?
                for part in parts.dropFirst() {
                    if Self.isLocale(part), locale == nil {
                        locale = part
                    } else if tone == nil, locale == nil, Self.isToneName(part) {
                        tone = part
                    } else {
                        throw TemplateLoadError(file: relative, message: "expected <channel>[.<tone>][.<locale>].mustache; \"\(part)\" is neither a tone (lower-case word of 4+ letters) nor a locale (like es or es-CR) in that place")
                    }
                }
                let (template, nodes) = try Self.parse(path: (path as NSString).appendingPathComponent(file), relative: relative, textMode: true)
                variants[folder, default: []].append(Variant(channel: channel, tone: tone, locale: locale, file: relative, template: template, nodes: nodes))
            }
        }
        self.variants = variants
        self.library = library
        self.checker = StrictChecker(partials: partials)
    }

    private static func parse(path: String, relative: String, textMode: Bool) throws(TemplateLoadError) -> (MustacheTemplate, [TemplateNode]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TemplateLoadError(file: relative, message: "cannot read file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TemplateLoadError(file: relative, message: "file is not UTF-8 text")
        }
        let nodes: [TemplateNode]
        do {
            nodes = try TagScanner.scan(text)
        } catch {
            throw TemplateLoadError(file: "\(relative):\(error.line):\(error.column)", message: error.message)
        }
        do {
            // Messages are plain text: nothing may be HTML-escaped in an SMS ("&amp;" would reach the phone).
            let source = textMode ? "{{% CONTENT_TYPE: TEXT}}" + text : text
            return (try MustacheTemplate(string: source), nodes)
        } catch {
            throw TemplateLoadError(file: relative, message: "does not parse: \(error)")
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
    /// default locale and its language, with no locale; then the same for neutral (files with no
    /// tone count as neutral).
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
        for t in tone == "neutral" ? ["neutral"] : [tone, "neutral"] {
            for l in locales {
                result.append((t, l))
                if t == "neutral" { result.append((nil, l)) }
            }
        }
        return result
    }

    static func language(of locale: String) -> String {
        String(locale.split(separator: "-").first ?? Substring(locale))
    }

    /// Whether the template can produce a message for this channel at all.
    public func hasVariant(template: String, channel: Channel) -> Bool {
        variants[template, default: []].contains { $0.channel == channel }
    }

    /// Renders the best variant for the channel, tone and locale. Fails, naming each variable and
    /// where it is used, if any variable would come out empty.
    public func render(template name: String, channel: Channel, tone: String, locale: String?, defaultLocale: String,
                       context: [String: Any]) throws(RenderError) -> RenderedMessage {
        guard let all = variants[name] else {
            throw RenderError(code: "unknown_template", message: "no template folder templates/\(name)/")
        }
        let forChannel = all.filter { $0.channel == channel }
        var chosen: Variant?
        for candidate in Self.candidates(tone: tone, locale: locale, defaultLocale: defaultLocale) {
            if let match = forChannel.first(where: { $0.tone == candidate.tone && $0.locale == candidate.locale }) {
                chosen = match
                break
            }
        }
        guard let variant = chosen ?? forChannel.first else {
            throw RenderError(code: "no_variant", message: "template \(name) has no \(channel.rawValue) variant")
        }
        let missing = checker.missing(in: variant.nodes, file: variant.file, context: context)
        if !missing.isEmpty {
            throw RenderError(code: "missing_variable",
                              message: "the job lacks " + missing.map(\.description).joined(separator: ", "))
        }
        let body = variant.template.render(context, library: library).trimmingSpaces()
        guard !body.isEmpty else {
            throw RenderError(code: "empty_message", message: "\(variant.file) rendered an empty message")
        }
        return RenderedMessage(body: body, variant: variant.file, tone: variant.tone ?? "neutral", locale: variant.locale)
    }
}
