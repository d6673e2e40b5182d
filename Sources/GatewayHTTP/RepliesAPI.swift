import Foundation
import GatewayCore
import Hummingbird
import Replies

/// POST /replies/classify: what customers' replies ask and how they sound, with the reasons.
enum RepliesAPI {
    static let maxReplies = 1000
    static let maxTextCharacters = 5000
    static let example = #"{"text": "ya no me escriban", "lang": "es"} or {"replies": [{"text": "..."}]}"#

    /// Body {"text": "...", "lang": "es"} answers one result object; {"replies": [{"text", "lang"}, ...]}
    /// answers {"replies": [...]} in the same order. lang is optional (guessed from the words).
    static func classify(body: [UInt8], store: RepliesStore?) throws(APIError) -> Response {
        guard let store else {
            throw APIError(status: .serviceUnavailable, code: "no_lexicons",
                           message: "this gateway has no reply lexicons (the replies folder of its configuration, config/replies, is missing)")
        }
        let request = try RequestJSON.object(body, example: example)
        let lexicons = store.current(lookingEvery: 2)
        if let list = request["replies"] {
            if let other = request.keys.sorted().first(where: { $0 != "replies" }) {
                throw .badRequest("unknown field \"\(other)\" next to replies; send {\"replies\": [...]} or one {\"text\", \"lang\"}")
            }
            guard case .array(let items) = list else { throw .badRequest("replies must be a list of {\"text\", \"lang\"} objects, got \(list.typeName)") }
            guard items.count <= maxReplies else { throw .badRequest("at most \(maxReplies) replies per request; got \(items.count), send them in batches") }
            var results: [ReplyUnderstanding] = []
            for (index, item) in items.enumerated() {
                guard case .object(let fields) = item else { throw .badRequest("replies[\(index)] must be an object like {\"text\": \"...\"}, got \(item.typeName)") }
                results.append(try classify(fields, at: "replies[\(index)].", lexicons: lexicons))
            }
            return JSONResponse.ok(["replies": results])
        }
        return JSONResponse.ok(try classify(request, at: "", lexicons: lexicons))
    }

    static func classify(_ fields: [String: JSONValue], at place: String, lexicons: ReplyLexicons) throws(APIError) -> ReplyUnderstanding {
        if let unknown = fields.keys.sorted().first(where: { $0 != "text" && $0 != "lang" }) {
            throw .badRequest("unknown field \"\(place)\(unknown)\"; a reply has text and, optionally, lang")
        }
        guard case .string(let text)? = fields["text"] else {
            throw .badRequest("\(place)text is required, as a string; send \(example)")
        }
        guard text.count <= maxTextCharacters else { throw .badRequest("\(place)text is \(text.count) characters; at most \(maxTextCharacters)") }
        var language: String?
        switch fields["lang"] {
        case nil, .null?: language = nil
        case .string(let code)?: language = code
        case let other?: throw .badRequest("\(place)lang must be a string like \"es\" or \"en\", got \(other.typeName)")
        }
        do { return try lexicons.classify(text, language: language) } catch {
            throw APIError(status: .badRequest, code: error.code, message: "\(place)lang: \(error.message)")
        }
    }
}
