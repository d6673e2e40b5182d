import Foundation
import GatewayCore

/// What marketing sees before a customer does: one variant rendered, with what it costs.
public struct Preview: Sendable, Equatable, Encodable {
    public struct SMS: Sendable, Equatable, Encodable {
        public var encoding: String
        public var segments: Int
        public var units: Int
        public var characters: Int
        public var non_gsm_characters: [String]
    }

    public var template: String
    public var channel: String
    public var tone: String
    /// The tones.yml rule that chose the tone ("default", or "requested" when the caller named it).
    public var tone_rule: String
    public var locale: String
    public var variant: String
    public var subject: String?
    public var body: String
    public var html: String?
    public var sms: SMS?
    public var push_payload_bytes: Int?
}

public enum TemplatePreview {
    /// The job a preview renders: the template's sample.json, with `data` replaced when given.
    public static func sampleJob(catalog: TemplateCatalog, template: String, data: [String: JSONValue]? = nil) throws(RenderError) -> Job {
        guard let entry = catalog.templates[template] else {
            throw RenderError(code: .unknownTemplate, message: "no template folder templates/\(template)/")
        }
        guard let bytes = entry.sample else {
            throw RenderError(code: .noSample, message: "templates/\(template)/sample.json is missing")
        }
        switch JobDecoder(maxJobBytes: 1 << 20).decode(Array(bytes)) {
        case .success(var job):
            if let data { job.data = data }
            return job
        case .failure(let rejection):
            throw RenderError(code: .badSample, message: "templates/\(template)/sample.json: \(rejection.message)")
        }
    }

    /// Renders `job` as the worker would, or with the tone and locale the caller names.
    public static func render(catalog: TemplateCatalog, job: Job, template: String, channel: Channel, tone: String?, locale: String?,
                              defaultLocale: String, now: Date = Date()) throws(RenderError) -> Preview {
        guard let settings = catalog.settings(of: template) else {
            throw RenderError(code: .unknownTemplate, message: "no template folder templates/\(template)/")
        }
        let category = job.category ?? settings.category
        let chosen = catalog.tonePolicy.tone(for: ToneFacts(job: job, category: category, now: now))
        let tone = tone ?? chosen.tone
        var job = job
        if let locale { job.contact.locale = locale }
        let locale = job.contact.locale ?? defaultLocale
        let rendered = try catalog.render(template: template, channel: channel, tone: tone, job: job, category: category,
                                          defaultLocale: defaultLocale)
        return Preview(
            template: template, channel: channel.rawValue, tone: rendered.tone, tone_rule: tone == chosen.tone ? chosen.rule : "requested",
            locale: locale, variant: rendered.variant, subject: rendered.subject, body: rendered.body, html: rendered.html,
            sms: rendered.sms.map {
                Preview.SMS(encoding: $0.encoding.rawValue, segments: $0.segments, units: $0.units, characters: rendered.body.count,
                            non_gsm_characters: $0.nonGSMCharacters.map(String.init))
            },
            push_payload_bytes: channel == .push ? PushPayload.apnsSize(title: rendered.subject ?? "", body: rendered.body) : nil)
    }
}
