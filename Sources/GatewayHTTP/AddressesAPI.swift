import ContactLog
import Conversations
import Foundation
import GatewayCore
import Hummingbird

/// GET and DELETE /addresses/{address}/opt-outs (compliance; agents may read): the opt-outs a
/// reply set on a number or mailbox, for every contact at it, and lifting them when the reply was
/// misread or the customer consented again another way (the same as `gateway contacts address
/// ADDRESS --opt-in`). The number goes in the path as written in E.164 (`+15551234567`, or
/// `%2B15551234567`); an e-mail address in any case.
enum AddressesAPI {
    static func list(_ address: String, desk: AddressOptOuts) async throws -> Response {
        guard !address.trimmingCharacters(in: .whitespaces).isEmpty else { throw APIError.badRequest("the address is missing: /addresses/+15551234567/opt-outs") }
        let holds = try await desk.inForce(address, at: Date())
        return JSONResponse.ok(JSONValue.object(["address": .string(AddressOptOuts.normalized(address)), "opt_outs": .array(holds.map(EscalationsAPI.json))]))
    }

    /// DELETE ?by=compliance:ana&reason=...: both required; 404 when no reply's opt-out is in force.
    static func lift(_ address: String, request: Request, caller: Caller, desk: AddressOptOuts) async throws -> Response {
        let query = request.uri.queryParameters
        for (key, _) in query where !["by", "reason"].contains(String(key)) {
            throw APIError.badRequest("unknown parameter \"\(key)\"; known: by, reason")
        }
        guard let by = query.get("by").map({ String($0) }), OptOut.isName(by) else {
            throw APIError.badRequest("by is required, on one line: who lifts the opt-out, e.g. compliance:ana (consent given again on a call)")
        }
        guard let reason = query.get("reason").map({ String($0) }), !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw APIError.badRequest("reason is required: why the opt-out is lifted, in a few words (it is what compliance reads)")
        }
        do {
            let lifted = try await desk.lift(address, by: "\(by) via API token \(caller.name)", note: reason, at: Date())
            let marks = lifted.marks.map { mark in
                JSONValue.object(["contact_id": .string(mark.contactID), "channel": mark.channel.map { .string($0.rawValue) } ?? .null])
            }
            return JSONResponse.ok(JSONValue.object(["address": .string(AddressOptOuts.normalized(address)), "lifted": .array(lifted.holds.map(EscalationsAPI.json)),
                                                     "contact_opt_outs_lifted": .array(marks)]))
        } catch {
            let status: HTTPResponse.Status = switch error.code {
            case .badRequest: .badRequest
            case .notFound: .notFound
            case .conflict: .conflict
            case .storeError: .internalServerError
            }
            throw APIError(status: status, code: error.code.rawValue, message: error.message)
        }
    }
}
