import Foundation
import GatewayCore
import Hummingbird
import Templates

/// GET /templates and POST /templates/{name}/preview.
enum TemplatesAPI {
    static func list(_ store: TemplateStore) -> JSONValue {
        let catalog = store.current
        let status = store.currentStatus
        var reload: [String: JSONValue] = ["loaded_at": .string(formatTimestamp(status.loadedAt))]
        if let rejected = status.rejectedAt {
            reload["status"] = .string("edit_refused")
            reload["refused_at"] = .string(formatTimestamp(rejected))
            reload["errors"] = .array(status.rejectedErrors.map(JSONValue.string))
        } else {
            reload["status"] = .string("ok")
        }
        let templates: [JSONValue] = catalog.templateNames.map { name in
            let settings = catalog.settings(of: name) ?? TemplateSettings()
            var item: [String: JSONValue] = [
                "name": .string(name),
                "category": .string(settings.category.rawValue),
                "sms_encoding": .string(settings.smsEncoding.rawValue),
                "channels": .array(Channel.allCases.filter { catalog.hasVariant(template: name, channel: $0) }.map { .string($0.rawValue) }),
                "variants": .array(catalog.variantFiles(of: name).map(JSONValue.string)),
            ]
            if let description = settings.description { item["description"] = .string(description) }
            if let max = settings.maxSegments { item["max_segments"] = .number(Double(max)) }
            return .object(item)
        }
        let policy = catalog.tonePolicy
        return .object([
            "templates": .array(templates),
            "tones": .object(["default": .string(policy.defaultTone), "rules": .array(policy.rules.map { .object(["id": .string($0.id), "tone": .string($0.tone)]) })]),
            "reload": .object(reload),
        ])
    }

    static let previewFields: Set<String> = ["channel", "channels", "tone", "locale", "data", "job"]

    /// Body (all optional): {"channels": ["sms", "email"] or "channel": "sms", "tone": "firm",
    /// "locale": "en-US", "data": {...} or "job": {...}}. Without channels, every channel the
    /// template has; without a job, the template's sample.json with `data` if given.
    static func preview(name: String, body: [UInt8], store: TemplateStore, defaultLocale: String) -> Response {
        do {
            return JSONResponse.ok(try previews(name: name, body: body, catalog: store.current, defaultLocale: defaultLocale))
        } catch {
            return JSONResponse.error(error)
        }
    }

    static func previews(name: String, body: [UInt8], catalog: TemplateCatalog, defaultLocale: String) throws(APIError) -> JSONValue {
        guard catalog.hasTemplate(name) else {
            throw APIError(status: .notFound, code: "unknown_template", message: "no template \"\(name)\"; GET /templates lists them")
        }
        var request: [String: JSONValue] = [:]
        if !body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            request = try RequestJSON.object(body, example: #"{"channel": "sms", "tone": "firm"} (or send no body)"#)
        }
        if let unknown = request.keys.sorted().first(where: { !previewFields.contains($0) }) {
            throw .badRequest("unknown field \"\(unknown)\"; allowed: \(previewFields.sorted().joined(separator: ", "))")
        }
        func string(_ key: String) throws(APIError) -> String? {
            switch request[key] {
            case nil, .null?: return nil
            case .string(let text)?: return text
            case let other?: throw .badRequest("\(key) must be a string, got \(other.typeName)")
            }
        }
        var channels: [Channel] = []
        var names: [JSONValue] = []
        switch (request["channels"], request["channel"]) {
        case (.array(let list)?, nil): names = list
        case (nil, let single?): names = [single]
        case (nil, nil): channels = Channel.allCases.filter { catalog.hasVariant(template: name, channel: $0) }
        default: throw .badRequest("give channels as a list, or one channel, not both")
        }
        for value in names {
            guard case .string(let text) = value, let channel = Channel(rawValue: text) else {
                throw .badRequest("channels must be sms, email or push")
            }
            channels.append(channel)
        }
        let tone = try string("tone")
        let locale = try string("locale")
        var job: Job
        do {
            switch (request["job"], request["data"]) {
            case (let object?, nil):
                let bytes = Array((try? JSONEncoder().encode(object)) ?? Data())
                switch JobDecoder(maxJobBytes: 1 << 20).decode(bytes) {
                case .success(let decoded): job = decoded
                case .failure(let rejection): throw APIError(status: .badRequest, code: "bad_job", message: rejection.message)
                }
            case (nil, .object(let data)?):
                job = try TemplatePreview.sampleJob(catalog: catalog, template: name, data: data)
            case (nil, nil):
                job = try TemplatePreview.sampleJob(catalog: catalog, template: name)
            case (nil, let other?):
                throw APIError.badRequest("data must be an object, got \(other.typeName)")
            default:
                throw APIError.badRequest("give job or data, not both")
            }
        } catch let error as RenderError {
            throw APIError(status: .unprocessableContent, code: error.code.rawValue, message: error.message)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(status: .internalServerError, code: "internal", message: "\(error)")
        }
        var previews: [JSONValue] = []
        let encoder = JSONEncoder()
        for channel in channels {
            do {
                let preview = try TemplatePreview.render(catalog: catalog, job: job, template: name, channel: channel, tone: tone,
                                                         locale: locale, defaultLocale: defaultLocale)
                previews.append((try? JSONDecoder().decode(JSONValue.self, from: encoder.encode(preview))) ?? .null)
            } catch {
                previews.append(.object(["channel": .string(channel.rawValue),
                                         "error": .object(["code": .string(error.code.rawValue), "message": .string(error.message)])]))
            }
        }
        return .object(["template": .string(name), "previews": .array(previews)])
    }
}
