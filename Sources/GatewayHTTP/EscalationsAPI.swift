import ContactLog
import Conversations
import Foundation
import GatewayCore
import Hummingbird

/// Escalations for people (`agent` role; compliance may read them).
enum EscalationsAPI {
    static func list(_ request: Request, desk: EscalationDesk) async throws -> Response {
        let parameters = request.uri.queryParameters
        for (key, _) in parameters where !["status", "limit"].contains(String(key)) {
            throw APIError.badRequest("unknown parameter \"\(key)\" (known: status, limit)")
        }
        var status: Escalation.Status? = .open
        if let text = parameters.get("status") {
            switch text {
            case "open": status = .open
            case "resolved": status = .resolved
            case "all": status = nil
            default: throw APIError.badRequest("status must be open, resolved or all, got \"\(text)\"")
            }
        }
        var limit = 100
        if let text = parameters.get("limit") {
            guard let number = Int(text), (1...1000).contains(number) else { throw APIError.badRequest("limit must be a number from 1 to 1000, got \"\(text)\"") }
            limit = number
        }
        let escalations = try await desk.list(status: status, limit: limit)
        return JSONResponse.ok(JSONValue.object(["escalations": .array(escalations.map(\.json))]))
    }

    static func show(_ id: String, desk: EscalationDesk) async throws -> Response {
        do {
            let (escalation, holds) = try await desk.show(id)
            var value = escalation.json
            if case .object(var fields) = value {
                fields["hold_details"] = .array(holds.map(json))
                value = .object(fields)
            }
            return JSONResponse.ok(value)
        } catch {
            throw apiError(error)
        }
    }

    /// Body {"note": "...", "lift": true}; the resolver is the caller's token name.
    static func resolve(_ id: String, body: [UInt8], caller: Caller, desk: EscalationDesk) async throws -> Response {
        let example = #"{"note": "debt verified, letter sent", "lift": true}"#
        let request = try RequestJSON.object(body, example: example)
        if let unknown = request.keys.sorted().first(where: { $0 != "note" && $0 != "lift" }) {
            throw APIError.badRequest("unknown field \"\(unknown)\"; send \(example)")
        }
        guard case .string(let note)? = request["note"] else { throw APIError.badRequest("note is required, as a string: why it is resolved; send \(example)") }
        var lift = false
        switch request["lift"] {
        case nil: lift = false
        case .bool(let flag)?: lift = flag
        case let other?: throw APIError.badRequest("lift must be true or false, got \(other.typeName)")
        }
        do {
            let (escalation, lifted) = try await desk.resolve(id, by: caller.name, note: note, lift: lift, at: Date())
            var value = escalation.json
            if case .object(var fields) = value {
                fields["lifted"] = .array(lifted.map { .string($0.id) })
                value = .object(fields)
            }
            return JSONResponse.ok(value)
        } catch {
            throw apiError(error)
        }
    }

    static func apiError(_ failure: EscalationDesk.Failure) -> APIError {
        let status: HTTPResponse.Status = switch failure.code {
        case .notFound: .notFound
        case .alreadyResolved, .conflict: .conflict
        case .badRequest: .badRequest
        }
        return APIError(status: status, code: failure.code.rawValue, message: failure.message)
    }

    static func json(_ hold: Hold) -> JSONValue {
        .object([
            "id": .string(hold.id), "kind": .string(hold.kind.rawValue), "scope": .string(hold.scope.rawValue), "intent": .string(hold.intent),
            "in_force": .bool(hold.inForce(at: Date())), "sentence": .string(hold.sentence),
            "lifted_at": hold.liftedAt.map { .string(formatTimestamp($0)) } ?? .null, "lifted_by": hold.liftedBy.map(JSONValue.string) ?? .null,
        ])
    }
}
