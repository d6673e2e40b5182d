import ContactLog
import Foundation
import GatewayCore
import Hummingbird

/// GET, POST and DELETE /contacts/{id}/opt-outs (role compliance). Who set or took back a mark
/// is recorded with it, next to the token that did it.
enum ContactsAPI {
    static func marks(_ marks: [OptOut]) -> JSONValue {
        .array(marks.map { mark in
            var item: [String: JSONValue] = [
                "channel": .string(mark.channel?.rawValue ?? "all"), "kind": .string(mark.kind.rawValue),
                "set_by": .string(mark.setBy), "set_at": .string(formatTimestamp(mark.setAt)),
            ]
            if let reason = mark.reason { item["reason"] = .string(reason) }
            return .object(item)
        })
    }

    static func list(contact: String, store: any LogReader) async throws -> Response {
        let marks = try await store.optOuts([contact])[contact] ?? []
        return JSONResponse.ok(JSONValue.object(["contact_id": .string(contact), "opt_outs": Self.marks(marks)]))
    }

    static let fields: Set<String> = ["channel", "by", "reason", "do_not_contact"]

    /// Body: {"by": "agent:maria", "channel": "sms" (omit for all), "reason": "...", "do_not_contact": false}.
    static func add(contact: String, body: [UInt8], store: any LogReader & LogAppender) async throws -> Response {
        do {
            let object = try RequestJSON.object(body, example: #"{"by": "agent:maria", "channel": "sms"}"#)
            if let unknown = object.keys.sorted().first(where: { !fields.contains($0) }) {
                throw APIError.badRequest("unknown field \"\(unknown)\"; allowed: \(fields.sorted().joined(separator: ", "))")
            }
            guard case .string(let by)? = object["by"], OptOut.isName(by) else {
                throw APIError.badRequest("by is required: who is making the change, e.g. agent:maria")
            }
            var channel: Channel?
            switch object["channel"] {
            case nil, .null?: break
            case .string(let name)?:
                guard let parsed = Channel(rawValue: name) else { throw APIError.badRequest("channel must be sms, email or push (omit it for all channels)") }
                channel = parsed
            default: throw APIError.badRequest("channel must be a string")
            }
            var reason: String?
            switch object["reason"] {
            case nil, .null?: break
            case .string(let text)?: reason = text
            default: throw APIError.badRequest("reason must be a string")
            }
            var doNotContact = false
            switch object["do_not_contact"] {
            case nil, .null?: break
            case .bool(let flag)?: doNotContact = flag
            default: throw APIError.badRequest("do_not_contact must be true or false")
            }
            let mark: OptOut
            do {
                mark = try await OptOutChanges.set(contact: contact, channel: channel, doNotContact: doNotContact, by: by, reason: reason, at: Date(), store: store)
            } catch let refusal as OptOutChanges.Refusal { throw APIError.badRequest(refusal.message) }
            return JSONResponse.ok(JSONValue.object(["contact_id": .string(contact), "opt_out": Self.marks([mark]).arrayFirst]), status: .created)
        } catch let error as APIError {
            return JSONResponse.error(error)
        }
    }
}

extension ContactsAPI {
    /// DELETE ?by=agent:maria&channel=sms&reason=...: takes a mark back (channel omitted: the
    /// all-channels mark). 404 when there is none.
    static func remove(contact: String, request: Request, caller: Caller, store: any LogReader & LogAppender) async throws(APIError) -> Response {
        let query = request.uri.queryParameters
        for (key, _) in query where !["by", "channel", "reason"].contains(String(key)) {
            throw APIError.badRequest("unknown parameter \"\(key)\"; known: by, channel, reason")
        }
        guard let by = query.get("by").map({ String($0) }), OptOut.isName(by) else {
            throw APIError.badRequest("by is required: who asked to take the opt-out back, e.g. agent:maria (the customer's own request)")
        }
        var channel: Channel?
        if let name = query.get("channel") {
            guard let parsed = Channel(rawValue: String(name)) else { throw APIError.badRequest("channel must be sms, email or push (omit it for the all-channels mark)") }
            channel = parsed
        }
        let reason = query.get("reason").map { String($0) }
        let removed: Bool
        do {
            removed = try await OptOutChanges.remove(contact: contact, channel: channel, by: "\(by) via API token \(caller.name)", reason: reason, at: Date(), store: store)
        } catch {
            throw APIError(status: .internalServerError, code: "store_error", message: "the contact log could not be written: \(error)")
        }
        guard removed else {
            throw APIError(status: .notFound, code: "no_opt_out", message: "contact \(contact) has no \(channel?.rawValue ?? "all-channels") opt-out to take back")
        }
        return JSONResponse.ok(JSONValue.object(["contact_id": .string(contact), "removed": .string(channel?.rawValue ?? "all")]))
    }
}

/// Setting and taking back opt-out and do-not-contact marks: the one code path the API and the
/// web console both use (the same checks, the same store calls, the same record of who).
public enum OptOutChanges {
    /// A change refused before anything was written; `code` is stable (`dnc_with_channel`,
    /// `contact_too_long`, `no_by`), `message` says what to fix.
    public struct Refusal: Error, Sendable, Equatable {
        public var code: String
        public var message: String
    }

    /// Sets (or replaces) a mark and records it in the log. `channel` nil: every channel.
    public static func set(contact: String, channel: Channel?, doNotContact: Bool, by: String, reason: String?, at: Date,
                           store: any LogAppender) async throws -> OptOut {
        guard OptOut.isName(by) else { throw Refusal(code: "no_by", message: "by is required, on one line: who is making the change, e.g. agent:maria") }
        if doNotContact && channel != nil { throw Refusal(code: "dnc_with_channel", message: "do_not_contact covers every channel; leave out channel") }
        guard contact.count <= 200 else { throw Refusal(code: "contact_too_long", message: "contact id is longer than 200 characters") }
        let mark = OptOut(contactID: contact, channel: channel, kind: doNotContact ? .doNotContact : .optOut, setBy: by, setAt: at, reason: reason)
        try await store.setOptOut(mark)
        return mark
    }

    /// Takes a mark back (channel nil: the all-channels mark), recording who and why; false when there was none.
    public static func remove(contact: String, channel: Channel?, by: String, reason: String?, at: Date, store: any LogAppender) async throws -> Bool {
        try await store.removeOptOut(contactID: contact, channel: channel, by: by, reason: reason, at: at)
    }
}

extension JSONValue {
    var arrayFirst: JSONValue {
        if case .array(let items) = self, let first = items.first { return first }
        return .null
    }
}
