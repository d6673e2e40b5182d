import ContactLog
import Foundation
import GatewayCore
import GatewayHTTP
import Hummingbird
import Templates

/// A template change saved in the console while `template_approval: required`: linted, recorded
/// as `template_change_proposed`, and kept until a compliance user approves it (then it is written
/// into service as any save) or rejects it. The file in service does not change meanwhile.
struct PendingChange: Sendable, Codable, Equatable {
    /// 43 base64url characters (the file's name in the pending folder).
    var id: String
    var template: String
    var file: String
    var proposedBy: String
    var proposerRoles: [String]
    /// Seconds since 1970.
    var proposedAt: Double
    /// console_edit, or console_revert when it restores an earlier text from the file's history.
    var reason: String
    /// The file as it was when the change was proposed: approval is refused if it is no longer so.
    var sha256Before: String
    var sha256After: String
    var textBefore: String
    var textAfter: String

    var relative: String { "\(template)/\(file)" }
}

/// Pending changes on disk, one JSON file each, in `templates/.pending/`: beside the files they
/// would change (a copy or backup of the templates folder carries them), kept across restarts and
/// independent of Redis, and never read by the template loader, which skips hidden entries, so no
/// worker can pick a pending text up. Each file is written whole to a temporary name, flushed and
/// renamed into place.
struct PendingChanges: Sendable {
    let directory: String

    init(templatesDirectory: String) {
        directory = (templatesDirectory as NSString).appendingPathComponent(".pending")
    }

    func path(_ id: String) -> String { (directory as NSString).appendingPathComponent("\(id).json") }

    /// Every pending change, oldest first. A file that cannot be read is skipped and named in `unreadable`.
    func list() -> (changes: [PendingChange], unreadable: [String]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return ([], []) }
        var changes: [PendingChange] = []
        var unreadable: [String] = []
        for name in names.sorted() where name.hasSuffix(".json") && !name.hasPrefix(".") {
            let id = String(name.dropLast(".json".count))
            if let change = find(id) { changes.append(change) } else { unreadable.append(name) }
        }
        return (changes.sorted { ($0.proposedAt, $0.id) < ($1.proposedAt, $1.id) }, unreadable)
    }

    func find(_ id: String) -> PendingChange? {
        guard SessionStore.wellFormed(id), let data = FileManager.default.contents(atPath: path(id)),
              let change = try? JSONDecoder().decode(PendingChange.self, from: data), change.id == id else { return nil }
        return change
    }

    /// Writes `change` under a temporary hidden name; `publish` renames it into place.
    func prepare(_ change: PendingChange, writer: (Data, String) throws -> Void) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let temporary = (directory as NSString).appendingPathComponent(".\(change.id).tmp")
        try writer(try encoder.encode(change), temporary)
        return temporary
    }

    func publish(_ temporary: String, id: String) throws {
        guard rename(temporary, path(id)) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw TemplateEditing.SaveError(message: "the pending change could not be stored: \(reason)")
        }
    }

    func remove(_ id: String) throws {
        guard SessionStore.wellFormed(id) else { return }
        if unlink(path(id)) != 0, errno != ENOENT {
            throw TemplateEditing.SaveError(message: "the pending change \(id) could not be removed: \(String(cString: strerror(errno)))")
        }
    }
}

extension Console {
    var pendingChanges: PendingChanges { PendingChanges(templatesDirectory: templates.directory) }

    enum ApprovalResult: Sendable, Equatable {
        case approved(after: String, reload: TemplateStore.ReloadResult)
        /// The proposer tried to approve their own change.
        case ownChange
        /// The file is no longer what the change was made on (someone saved or approved another change since).
        case stale
        /// The file already holds the proposed text (approved before a crash, or the same edit made
        /// another way): the pending change is dropped, nothing written.
        case alreadyInService
        /// Lint fails now (another file changed since): nothing written.
        case refused([TemplateEditing.Placed])
        case missing
    }

    /// Keeps `change` as pending: the proposal file is prepared, the `template_change_proposed`
    /// event appended (if the log cannot record it, nothing is kept), then the file published.
    /// Runs inside `saveLock`, after lint passed.
    func propose(_ change: PendingChange) async throws -> TemplateEditing.SaveResult {
        let pending = pendingChanges
        let temporary = try pending.prepare(change) { data, path in
            let model = (templates.directory as NSString).appendingPathComponent(change.relative)
            try write(data, to: path, permissionsOf: model)
        }
        let data = JSONValue.object([
            "who": .string(change.proposedBy), "roles": .array(change.proposerRoles.map(JSONValue.string)),
            "file": .string(change.relative), "sha256_before": .string(change.sha256Before), "sha256_after": .string(change.sha256After),
            "via": .string("console"), "proposal": .string(change.id),
            "text_before": .string(change.textBefore), "text_after": .string(change.textAfter),
        ])
        let event = ContactEvent(jobID: nil, contactID: nil, kind: .templateChangeProposed, at: Date(timeIntervalSince1970: change.proposedAt),
                                 template: change.template, variant: change.relative, reason: change.reason,
                                 detail: "\(change.proposedBy) proposed a change to \(change.relative) (sha256 \(change.sha256Before.prefix(12)) → \(change.sha256After.prefix(12))), waiting for approval",
                                 data: data.serialized)
        do { _ = try await store.append([event]) } catch {
            unlink(temporary)
            throw TemplateEditing.SaveError(message: "the contact log could not record the proposed change, so it was not kept: \(error)")
        }
        do { try pending.publish(temporary, id: change.id) } catch {
            logger.error("template change proposal recorded but not stored", metadata: ["file": "\(change.relative)", "proposal": "\(change.id)", "error": "\(error)"])
            throw error
        }
        logger.notice("template change proposed through the console", metadata: [
            "file": "\(change.relative)", "who": "\(change.proposedBy)", "proposal": "\(change.id)",
            "sha256_before": "\(change.sha256Before)", "sha256_after": "\(change.sha256After)"])
        return .proposed(id: change.id, after: change.sha256After)
    }

    /// Approves a pending change: refused to its proposer, refused when the file changed since it
    /// was proposed or lint fails now; otherwise written into service exactly as a save is
    /// (`commit`), its `template_changed` event naming proposer and approver.
    /// `shown`: the SHA-256 of the text the approver's page showed; a proposal that is no longer
    /// that text (its file replaced since) is stale. A proposal whose texts do not match its own
    /// hashes (its file edited by hand) is refused as stale too: what is approved is what was shown,
    /// and what was shown is the file in service changed into the text recorded.
    func approve(id: String, caller: Caller, shown: String?) async throws -> ApprovalResult {
        try await saveLock.run { [self] in
            let pending = pendingChanges
            guard let change = pending.find(id) else { return .missing }
            guard change.proposedBy != caller.name else { return .ownChange }
            guard shown == change.sha256After,
                  TemplateEditing.sha256(Data(change.textAfter.utf8)) == change.sha256After,
                  TemplateEditing.sha256(Data(change.textBefore.utf8)) == change.sha256Before else {
                logger.warning("template change approval refused: the proposal is not the text that was shown, or does not match its hashes",
                               metadata: ["security": "template_approval", "proposal": "\(id)", "who": "\(caller.name)"])
                return .stale
            }
            let files: TemplateFiles
            do { files = try TemplateFiles.read(directory: templates.directory) } catch { throw TemplateEditing.SaveError(message: "\(error)") }
            guard let current = files.data(change.relative) else { return .stale }
            let hash = TemplateEditing.sha256(current)
            if hash == change.sha256After {
                try pending.remove(id)
                logger.notice("pending template change dropped: the file already holds it", metadata: ["file": "\(change.relative)", "proposal": "\(id)"])
                return .alreadyInService
            }
            guard hash == change.sha256Before else { return .stale }
            let edited = TemplateEditing.replacing(files, change.relative, with: change.textAfter)
            let findings = TemplateLinter.lint(files: edited, requirements: templates.requirements, defaultLocale: templates.defaultLocale)
            guard !findings.contains(where: { $0.severity == .error }) else { return .refused(TemplateEditing.place(findings, in: change.relative)) }
            let result = try await commit(change, current: current, approvedBy: caller)
            do { try pending.remove(id) } catch {
                // In service already; the leftover is shown as "already in service" and dropped on its next approval.
                logger.error("approved template change could not be removed from the pending folder", metadata: ["proposal": "\(id)", "error": "\(error)"])
            }
            guard case .saved(_, let after, let reload) = result else { return .stale }
            return .approved(after: after, reload: reload)
        }
    }

    /// Turns a pending change down with a note: `template_change_rejected` is appended, then the
    /// pending file removed. False when there is no such change.
    func reject(id: String, caller: Caller, note: String) async throws -> Bool {
        try await saveLock.run { [self] in
            let pending = pendingChanges
            guard let change = pending.find(id) else { return false }
            let data = JSONValue.object([
                "who": .string(caller.name), "roles": .array(caller.roles.map(\.rawValue).sorted().map(JSONValue.string)),
                "proposed_by": .string(change.proposedBy), "proposal": .string(change.id), "file": .string(change.relative),
                "sha256_before": .string(change.sha256Before), "sha256_after": .string(change.sha256After),
                "text_after": .string(change.textAfter), "note": .string(note), "via": .string("console"),
            ])
            let event = ContactEvent(jobID: nil, contactID: nil, kind: .templateChangeRejected, at: Date(), template: change.template,
                                     variant: change.relative, reason: "console_rejected",
                                     detail: "\(caller.name) rejected \(change.proposedBy)'s change to \(change.relative): \(note)", data: data.serialized)
            _ = try await store.append([event])
            try pending.remove(id)
            logger.notice("template change rejected through the console", metadata: ["file": "\(change.relative)", "who": "\(caller.name)",
                                                                                       "proposed_by": "\(change.proposedBy)", "proposal": "\(id)"])
            return true
        }
    }

    /// The pending changes of a template (all when nil), for the lists' "waiting for approval".
    func pending(template: String? = nil) -> [PendingChange] {
        guard configuration.templateApproval else { return [] }
        let all = pendingChanges.list().changes
        return template.map { name in all.filter { $0.template == name } } ?? all
    }

    // MARK: - Pages

    func addApprovalPages(to routes: RouteCollection<BasicRequestContext>) {
        routes.get("approvals", use: page([.marketing, .compliance]) { [self] request, _, visit in
            approvalsPage(visit, done: request.uri.queryParameters.get("done").map { String($0) })
        })
        routes.get("approvals/:id", use: page([.marketing, .compliance]) { [self] _, context, visit in
            approvalPage(visit, id: context.parameters.get("id") ?? "")
        })
        routes.post("approvals/:id/approve", use: action([.compliance]) { [self] _, context, visit, form in
            try await approvePost(visit, id: context.parameters.get("id") ?? "", shown: form["shown"])
        })
        routes.post("approvals/:id/reject", use: action([.compliance]) { [self] _, context, visit, form in
            try await rejectPost(visit, id: context.parameters.get("id") ?? "", form: form)
        })
    }

    /// Whether the file is still what the change was made on (nil: the file is gone).
    func currentHash(_ change: PendingChange) -> String? {
        (try? TemplateFiles.read(directory: templates.directory))?.data(change.relative).map(TemplateEditing.sha256)
    }

    func approvalsPage(_ visit: Visit, done: String?) -> Response {
        guard configuration.templateApproval else {
            return Reply.html(Layout.message(visit, title: .notFoundTitle, text: visit.m(.approvalOff)), status: .notFound, visit: visit)
        }
        let (changes, unreadable) = pendingChanges.list()
        let rows: [HTML] = changes.map { change in
            let hash = currentHash(change)
            let state: HTML = hash == change.sha256Before ? "<strong class=\"tag\">\(visit.m(.approvalWaiting))</strong>"
                : hash == change.sha256After ? "<strong class=\"tag tag-grey\">\(visit.m(.approvalInService))</strong>"
                : "<strong class=\"tag tag-red\">\(visit.m(.approvalStale))</strong>"
            return """
                <tr><td><code>\(change.relative)</code></td><td>\(change.proposedBy)</td><td>\(formatTimestamp(Date(timeIntervalSince1970: change.proposedAt)))</td>
                <td>\(state)</td><td><a href="/console/approvals/\(change.id)">\(visit.m(.approvalOpen))<span class="visually-hidden"> \(change.relative)</span></a></td></tr>
                """
        }
        let notice: HTML = switch done {
        case "approved"?: "<div class=\"notice notice-success\" role=\"status\" id=\"approval-status\">\(visit.m(.approvalApprovedNotice))</div>"
        case "rejected"?: "<div class=\"notice notice-success\" role=\"status\" id=\"approval-status\">\(visit.m(.approvalRejectedNotice))</div>"
        case "in-service"?: "<div class=\"notice\" role=\"status\" id=\"approval-status\">\(visit.m(.approvalAlreadyNotice))</div>"
        default: .empty
        }
        let broken: HTML = unreadable.isEmpty ? .empty
            : "<div class=\"notice notice-warning\" role=\"status\">\(visit.m(.approvalUnreadable, ["files": unreadable.joined(separator: ", ")]))</div>"
        return Reply.html(Layout.page(visit, title: visit.m(.approvalsTitle), main: """
            <h1 class="heading-l">\(visit.m(.approvalsTitle))</h1>
            \(notice)
            <p class="body">\(visit.m(.approvalsLead))</p>
            \(broken)
            \(changes.isEmpty ? "<p class=\"body\" id=\"approvals-empty\">\(visit.m(.approvalsNone))</p>" as HTML : """
                <div class="table-wrap"><table id="approvals"><thead><tr><th scope="col">\(visit.m(.approvalFile))</th><th scope="col">\(visit.m(.approvalProposedBy))</th>
                <th scope="col">\(visit.m(.approvalProposedAt))</th><th scope="col">\(visit.m(.approvalState))</th><th scope="col"><span class="visually-hidden">\(visit.m(.approvalOpen))</span></th></tr></thead>
                <tbody>\(rows)</tbody></table></div>
                """)
            """), visit: visit)
    }

    func approvalPage(_ visit: Visit, id: String, errors: [FieldError] = [], note: String = "", status: HTTPResponse.Status = .ok) -> Response {
        guard configuration.templateApproval, let change = pendingChanges.find(id) else { return notFound(visit) }
        let hash = currentHash(change)
        let lines: [HTML] = TemplateDiff.lines(from: change.textBefore, to: change.textAfter).map { line in
            switch line {
            case .same(let text): "<li class=\"diff-line\"><span class=\"visually-hidden\">\(visit.t(.diffSame)): </span>\(text)</li>"
            case .removed(let text): "<li class=\"diff-line diff-removed\"><del><span class=\"visually-hidden\">\(visit.t(.diffRemoved)): </span>\(text)</del></li>"
            case .added(let text): "<li class=\"diff-line diff-added\"><ins><span class=\"visually-hidden\">\(visit.t(.diffAdded)): </span>\(text)</ins></li>"
            }
        }
        var state: HTML = .empty
        if hash != change.sha256Before {
            state = "<div class=\"notice notice-warning\" role=\"status\" id=\"approval-stale\">\(visit.m(hash == change.sha256After ? .approvalInServiceBody : .approvalStaleBody))</div>"
        }
        let decide: HTML
        if !visit.allows([.compliance]) {
            decide = "<p class=\"body\" id=\"approval-wait\">\(visit.m(.approvalWaitForCompliance))</p>"
        } else {
            let own = visit.caller?.name == change.proposedBy
            let noteError = errors.contains { $0.field == "note" }
            let base = "/console/approvals/\(change.id)"
            decide = """
                \(own ? "<p class=\"body\" id=\"approval-own\">\(visit.m(.approvalOwnHint))</p>" as HTML : """
                    <form method="post" action="\(base)/approve">\(visit.csrfField)<input type="hidden" name="shown" value="\(change.sha256After)">
                    <p class="hint">\(visit.m(.approvalApproveHint))</p>
                    <button type="submit" class="button" id="approve">\(visit.m(.approvalApproveButton))</button></form>
                    """)
                <form method="post" action="\(base)/reject" novalidate>\(visit.csrfField)
                <div class="form-group\(noteError ? HTML(" form-group-error") : .empty)">
                <label class="label" for="note">\(visit.m(.approvalNoteLabel))</label>
                <p class="hint" id="note-hint">\(visit.m(.approvalNoteHint))</p>
                \(Layout.fieldError(errors, "note"))
                <textarea class="textarea\(noteError ? HTML(" textarea-error") : .empty)" id="note" name="note" rows="3" aria-describedby="note-hint\(noteError ? HTML(" note-error") : .empty)">\(note)</textarea></div>
                <button type="submit" class="button button-secondary" id="reject">\(visit.m(.approvalRejectButton))</button></form>
                """
        }
        return Reply.html(Layout.page(visit, title: visit.m(.approvalTitle, ["file": change.relative]), errors: errors,
                                      backLink: ("/console/approvals", visit.m(.approvalsTitle)), main: """
            <h1 class="heading-l">\(visit.m(.approvalTitle, ["file": change.relative]))</h1>
            <p class="body">\(visit.m(.approvalBy, ["who": change.proposedBy, "time": formatTimestamp(Date(timeIntervalSince1970: change.proposedAt))]))</p>
            \(state)
            <ol class="diff" id="diff">\(lines)</ol>
            \(decide)
            """), status: status, visit: visit)
    }

    func approvePost(_ visit: Visit, id: String, shown: String?) async throws -> Response {
        guard configuration.templateApproval, let caller = visit.caller else { return notFound(visit) }
        switch try await approve(id: id, caller: caller, shown: shown) {
        case .approved:
            return Reply.redirect("/console/approvals?done=approved")
        case .alreadyInService:
            return Reply.redirect("/console/approvals?done=in-service")
        case .ownChange:
            return approvalPage(visit, id: id, errors: [FieldError(field: "approve", message: visit.m(.approvalOwnError))], status: .forbidden)
        case .stale:
            return approvalPage(visit, id: id, errors: [FieldError(field: "approval-stale", message: visit.m(.approvalStaleError))], status: .conflict)
        case .refused(let findings):
            let errors = findings.filter { $0.severity == "error" }.map { FieldError(field: "diff", message: "\($0.location): \($0.message)") }
            return approvalPage(visit, id: id, errors: errors, status: .unprocessableContent)
        case .missing:
            return notFound(visit)
        }
    }

    func rejectPost(_ visit: Visit, id: String, form: Form) async throws -> Response {
        guard configuration.templateApproval, let caller = visit.caller else { return notFound(visit) }
        let note = (form["note"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !note.isEmpty else {
            return approvalPage(visit, id: id, errors: [FieldError(field: "note", message: visit.m(.approvalNoteMissing))], status: .badRequest)
        }
        guard note.count <= 2000 else {
            return approvalPage(visit, id: id, errors: [FieldError(field: "note", message: visit.m(.approvalNoteTooLong))], note: note, status: .badRequest)
        }
        guard try await reject(id: id, caller: caller, note: note) else { return notFound(visit) }
        return Reply.redirect("/console/approvals?done=rejected")
    }
}
