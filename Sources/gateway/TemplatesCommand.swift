import ArgumentParser
import Foundation
import GatewayCore
import Templates
import Worker

struct TemplatesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "templates",
        abstract: "Marketing's tools: check every template, preview one.",
        subcommands: [Lint.self, PreviewCommand.self])

    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parse and render every template with its sample.json; report every problem with file:line:column.")

        @Argument(help: "The templates folder (default: templates from the gateway configuration).")
        var path: String?

        @OptionGroup var options: ConfigOptions

        @Option(help: "Compliance rules with the opt-out and disclosure requirements.")
        var rules: String = "config/contact-rules.yml"

        @Flag(help: "Treat warnings as errors.")
        var strict = false

        func run() throws {
            let configuration = try options.load()
            let directory = path ?? configuration.templatesDirectory
            let requirements: ComplianceRequirements
            do { requirements = try ContactRulesFile.templateRequirements(path: rules) } catch { throw ValidationError(error.message) }
            let findings = TemplateLinter.lint(directory: directory, requirements: requirements, defaultLocale: configuration.defaultLocale)
            for finding in findings { print(finding) }
            let errors = findings.filter { $0.severity == .error || strict }.count
            let warnings = findings.count - findings.filter { $0.severity == .error }.count
            if findings.isEmpty {
                print("\(directory): every template is fine")
            } else {
                print("\(findings.filter { $0.severity == .error }.count) error(s), \(warnings) warning(s)")
            }
            if errors > 0 { throw ExitCode(1) }
        }
    }

    struct PreviewCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "preview",
            abstract: "Render one template as a customer would get it, with its encoding, segments and length.")

        @Argument(help: "Template name (a folder under templates/).")
        var template: String

        @OptionGroup var options: ConfigOptions

        @Option(help: "sms, email or push.")
        var channel: String = "sms"

        @Option(help: "Tone (default: what tones.yml picks for the job).")
        var tone: String?

        @Option(help: "Locale, like es-CR (default: the job's).")
        var locale: String?

        @Option(help: "A JSON file: a whole job, or only its data object (default: the template's sample.json).")
        var data: String?

        @Flag(help: "Print JSON instead of text.")
        var json = false

        func run() throws {
            let configuration = try options.load()
            guard let channel = Channel(rawValue: channel) else { throw ValidationError("--channel must be sms, email or push") }
            let catalog: TemplateCatalog
            do { catalog = try TemplateCatalog(directory: configuration.templatesDirectory) } catch { throw ValidationError("\(error)") }
            do {
                var job = try TemplatePreview.sampleJob(catalog: catalog, template: template)
                if let data {
                    guard let bytes = FileManager.default.contents(atPath: data) else { throw ValidationError("cannot read \(data)") }
                    guard case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: bytes) else {
                        throw ValidationError("\(data) must hold a JSON object: a job, or its data")
                    }
                    if object["contact"] != nil {
                        switch JobDecoder(maxJobBytes: 1 << 20).decode(Array(bytes)) {
                        case .success(let decoded): job = decoded
                        case .failure(let rejection): throw ValidationError("\(data) is not a valid job: \(rejection.message)")
                        }
                    } else {
                        job.data = object
                    }
                }
                let preview = try TemplatePreview.render(catalog: catalog, job: job, template: template, channel: channel, tone: tone,
                                                         locale: locale, defaultLocale: configuration.defaultLocale)
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                    print(String(decoding: try encoder.encode(preview), as: UTF8.self))
                } else {
                    print(Self.text(preview))
                }
            } catch let error as RenderError {
                throw ValidationError(error.message)
            }
        }

        static func text(_ p: Preview) -> String {
            var lines = ["variant   \(p.variant)", "tone      \(p.tone) (\(p.tone_rule))", "locale    \(p.locale)"]
            func label(_ text: String) -> String { text.padding(toLength: 10, withPad: " ", startingAt: 0) }
            if let sms = p.sms {
                lines.append("encoding  \(sms.encoding), \(sms.segments) segment\(sms.segments == 1 ? "" : "s"), \(sms.characters) characters (\(sms.units) \(sms.encoding == "GSM-7" ? "septets" : "UTF-16 units"))")
            }
            if let bytes = p.push_payload_bytes { lines.append("payload   \(bytes) bytes (limit 4096)") }
            if let subject = p.subject { lines.append(label(p.channel == "push" ? "title" : "subject") + subject) }
            lines.append("")
            lines.append(p.body)
            if let html = p.html {
                lines.append("")
                lines.append("--- html")
                lines.append(html)
            }
            return lines.joined(separator: "\n")
        }
    }
}
