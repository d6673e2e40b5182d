import Conversations
import Foundation
import GatewayCore
import GatewayHTTP
import Hummingbird

/// The opt-out a reply set on a number or mailbox (every contact at it), from a contact's
/// timeline: read, and lifted with a reason, through the same code as `gateway contacts address
/// --opt-in` and `DELETE /addresses/{address}/opt-outs`.
extension Console {
    func addAddressOptOutPages(to routes: RouteCollection<BasicRequestContext>) {
        routes.get("contacts/:id/address-opt-out", use: page([.compliance]) { [self] request, context, visit in
            let query = request.uri.queryParameters
            return try await addressOptOutPage(visit, contact: context.parameters.get("id") ?? "", address: query.get("address").map { String($0) } ?? "",
                                               done: query.get("done") == "lifted")
        })
        routes.post("contacts/:id/address-opt-out", use: action([.compliance]) { [self] _, context, visit, form in
            try await liftAddressOptOut(visit, contact: context.parameters.get("id") ?? "", form: form)
        })
    }

    static func addressOptOutPath(contact: String, address: String) -> String {
        "/console/contacts/\(HTML.component(contact))/address-opt-out?address=\(HTML.component(address))"
    }

    func addressOptOutPage(_ visit: Visit, contact: String, address: String, done: Bool, errors: [FieldError] = [], reason: String = "",
                           status: HTTPResponse.Status = .ok) async throws -> Response {
        guard contact.count <= 200, !contact.isEmpty, !address.isEmpty, address.count <= 320 else {
            return Reply.html(Layout.message(visit, title: .badRequestTitle, text: visit.w(.addressMissing)), status: .badRequest, visit: visit)
        }
        let shown = AddressOptOuts.normalized(address)
        let holds = try await AddressOptOuts(store: store).inForce(shown, at: Date())
        let notice: HTML = done ? "<div class=\"notice notice-success\" role=\"status\">\(visit.w(.addressLifted))</div>" : .empty
        let items: [HTML] = holds.map { "<li><bdi>\($0.sentence)</bdi></li>" }
        let invalid = !errors.isEmpty
        let form: HTML = holds.isEmpty ? .empty : """
            <form method="post" action="/console/contacts/\(HTML.component(contact))/address-opt-out" novalidate>\(visit.csrfField)
            <input type="hidden" name="address" value="\(shown)">
            <div class="form-group\(invalid ? HTML(" form-group-error") : .empty)">
            <label class="label" for="reason">\(visit.w(.addressLiftReason))</label>
            <p class="hint" id="reason-hint">\(visit.w(.addressLiftHint))</p>
            \(Layout.fieldError(errors, "reason"))
            <textarea class="input\(invalid ? HTML(" input-error") : .empty)" id="reason" name="reason" rows="3" aria-describedby="reason-hint\(invalid ? HTML(" reason-error") : .empty)">\(reason)</textarea>
            </div>
            <button type="submit" class="button">\(visit.w(.addressLiftButton))</button>
            </form>
            """
        return Reply.html(Layout.page(visit, title: visit.w(.addressOptOutTitle, ["address": Show.visible(shown)]), errors: errors,
                                      backLink: ("/console/contacts/\(HTML.component(contact))", visit.w(.backToTimeline)), main: """
            \(notice)
            <h1 class="heading-l">\(visit.w(.addressOptOutTitle, ["address": ""]))<bdi class="mono">\(shown)</bdi></h1>
            <p class="body">\(visit.w(.addressOptOutLead))</p>
            \(holds.isEmpty ? "<p class=\"body\" id=\"address-opt-outs\">\(visit.w(.addressOptOutNone))</p>" as HTML : "<ul class=\"list\" id=\"address-opt-outs\">\(items)</ul>")
            \(form)
            """), status: status, visit: visit)
    }

    func liftAddressOptOut(_ visit: Visit, contact: String, form: Form) async throws -> Response {
        let address = (form["address"] ?? "").trimmingCharacters(in: .whitespaces)
        let reason = (form["reason"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        var errors: [FieldError] = []
        if reason.isEmpty { errors.append(FieldError(field: "reason", message: visit.w(.reasonMissing))) }
        if reason.count > 1000 { errors.append(FieldError(field: "reason", message: visit.w(.reasonTooLong))) }
        if errors.isEmpty, !address.isEmpty {
            do {
                _ = try await AddressOptOuts(store: store).lift(address, by: changedBy(visit), note: reason, at: Date())
                logger.notice("console address opt-out lifted", metadata: ["name": "\(visit.caller?.name ?? "-")"])
                return Reply.redirect(Self.addressOptOutPath(contact: contact, address: AddressOptOuts.normalized(address)) + "&done=lifted")
            } catch {
                // The log failing is the console's 500 (logged with a reference), not the form's mistake.
                if error.code == .storeError { throw error }
                let message: String = switch error.code {
                case .notFound: visit.w(.addressNothingToLift)
                case .conflict: visit.w(.addressChanged)
                case .badRequest, .storeError: error.message
                }
                errors.append(FieldError(field: "reason", message: message))
                let status: HTTPResponse.Status = error.code == .notFound ? .notFound : error.code == .conflict ? .conflict : .badRequest
                return try await addressOptOutPage(visit, contact: contact, address: address, done: false, errors: errors, reason: reason, status: status)
            }
        }
        return try await addressOptOutPage(visit, contact: contact, address: address, done: false, errors: errors, reason: reason, status: .badRequest)
    }
}
