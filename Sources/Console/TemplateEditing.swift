import ContactLog
import Crypto
import Foundation
import GatewayCore
import GatewayHTTP
import Templates

/// What the template editor does with an edit: lint it with the rest of the folder, render a preview
/// from it, or save it (atomically, recorded in the contact log as `template_changed`).
enum TemplateEditing {
    /// Files the editor opens: a template folder's variants, template.yml and sample.json.
    static func editable(name: String, file: String) -> Bool {
        func plain(_ part: String) -> Bool {
            !part.isEmpty && part.utf8.count <= 200 && !part.hasPrefix(".") && !part.hasPrefix("_") && !part.contains("/") && !part.contains("\\")
                && part.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F }
        }
        return plain(name) && plain(file) && (file.hasSuffix(".mustache") || file == "template.yml" || file == "sample.json")
    }

    /// Channel, tone and locale a variant's file name gives (`sms.empathetic.es.mustache`).
    static func variantParts(_ file: String) -> (channel: Channel?, tone: String?, locale: String?) {
        guard file.hasSuffix(".mustache") else { return (nil, nil, nil) }
        let parts = file.dropLast(".mustache".count).split(separator: ".").map(String.init)
        var tone: String?, locale: String?
        for part in parts.dropFirst() {
            if part.range(of: #"^[a-z]{2}(-[A-Z]{2})?$"#, options: .regularExpression) != nil { locale = part } else { tone = part }
        }
        return (parts.first.flatMap(Channel.init(rawValue:)), tone, locale)
    }

    /// Browsers send a textarea's lines with CRLF; the files use LF.
    static func normalize(_ source: String) -> String {
        source.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
    }

    static func sha256(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    /// The folder as it would be with `relative` holding `source`.
    static func replacing(_ files: TemplateFiles, _ relative: String, with source: String) -> TemplateFiles {
        var all = files.files
        all[relative] = Data(source.utf8)
        return TemplateFiles(directory: files.directory, files: all, folders: files.folders)
    }

    /// A lint finding placed in a file: the line it points at in `relative` (nil: elsewhere or no line).
    struct Placed: Sendable, Equatable, Encodable {
        var severity: String
        var location: String
        var line: Int?
        var message: String
    }

    static func place(_ findings: [LintFinding], in relative: String) -> [Placed] {
        findings.map { finding in
            var line: Int?
            if finding.location.hasPrefix(relative + ":") {
                let rest = finding.location.dropFirst(relative.count + 1)
                line = rest.split(separator: ":").first.flatMap { Int($0) }
            }
            return Placed(severity: finding.severity.rawValue, location: finding.location, line: line, message: finding.message)
        }
    }

    /// What the editor shows beside the source: the findings, and the preview or why there is none.
    struct Outcome: Sendable, Encodable {
        var findings: [Placed]
        var preview: Preview?
        var error: String?
        /// The template's SMS setting (unicode or gsm7-transliterate), for the page's note.
        var sms_encoding: String?
    }

    struct Choice: Sendable, Equatable {
        var channel: Channel
        var tone: String?
        var locale: String?
        /// Pasted job JSON (empty: the template's sample.json).
        var job: String
    }

    /// Lints the folder with the edit and renders it with `choice`.
    static func check(files: TemplateFiles, name: String, file: String, source: String, choice: Choice,
                      requirements: ComplianceRequirements, defaultLocale: String) -> Outcome {
        let relative = "\(name)/\(file)"
        let edited = replacing(files, relative, with: normalize(source))
        let findings = place(TemplateLinter.lint(files: edited, requirements: requirements, defaultLocale: defaultLocale), in: relative)
        let catalog: TemplateCatalog
        do { catalog = try TemplateCatalog(files: edited) } catch {
            return Outcome(findings: findings, preview: nil, error: error.description, sms_encoding: nil)
        }
        let encoding = catalog.settings(of: name)?.smsEncoding.rawValue
        let job: Job
        do {
            if choice.job.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                job = try TemplatePreview.sampleJob(catalog: catalog, template: name)
            } else {
                switch JobDecoder(maxJobBytes: 1 << 20).decode(Array(choice.job.utf8)) {
                case .success(let decoded): job = decoded
                case .failure(let rejection): return Outcome(findings: findings, preview: nil, error: "job: \(rejection.message)", sms_encoding: encoding)
                }
            }
            let preview = try TemplatePreview.render(catalog: catalog, job: job, template: name, channel: choice.channel, tone: choice.tone,
                                                     locale: choice.locale, defaultLocale: defaultLocale)
            return Outcome(findings: findings, preview: preview, error: nil, sms_encoding: encoding)
        } catch {
            return Outcome(findings: findings, preview: nil, error: error.message, sms_encoding: encoding)
        }
    }

    enum SaveResult: Sendable, Equatable {
        case saved(before: String, after: String, reload: TemplateStore.ReloadResult)
        /// With `template_approval: required`: kept as a pending change (its id), not in service.
        case proposed(id: String, after: String)
        /// Lint errors: nothing was written.
        case refused([Placed])
        /// The file changed on disk since the editor was opened (someone else saved): nothing was written.
        case conflict(current: String)
        /// The same bytes as on disk: nothing to save.
        case unchanged
        case missing
    }

    struct SaveError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

/// One save at a time in this process, from reading the file to renaming the new one into place.
actor SaveLock {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if busy { await withCheckedContinuation { waiters.append($0) } } else { busy = true }
        defer { if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() } }
        return try await body()
    }
}

extension Console {
    /// Lint, then put the change into service (`commit`), or with `template_approval: required`
    /// keep it as a pending change for a compliance user to approve (`propose`).
    /// `reason`: console_edit, or console_revert when a page of the file's history restored an earlier text.
    func saveTemplate(name: String, file: String, source: String, base: String, caller: Caller,
                      reason: String = "console_edit") async throws -> TemplateEditing.SaveResult {
        try await saveLock.run { [self] in
            let relative = "\(name)/\(file)"
            let files: TemplateFiles
            do { files = try TemplateFiles.read(directory: templates.directory) } catch { throw TemplateEditing.SaveError(message: "\(error)") }
            guard let current = files.data(relative) else { return .missing }
            let before = TemplateEditing.sha256(current)
            guard base == before else { return .conflict(current: before) }
            let text = TemplateEditing.normalize(source)
            let bytes = Data(text.utf8)
            guard bytes != current else { return .unchanged }
            let edited = TemplateEditing.replacing(files, relative, with: text)
            let findings = TemplateLinter.lint(files: edited, requirements: templates.requirements, defaultLocale: templates.defaultLocale)
            guard !findings.contains(where: { $0.severity == .error }) else { return .refused(TemplateEditing.place(findings, in: relative)) }
            let after = TemplateEditing.sha256(bytes)
            let change = PendingChange(id: SessionStore.randomToken(), template: name, file: file, proposedBy: caller.name,
                                       proposerRoles: caller.roles.map(\.rawValue).sorted(), proposedAt: Date().timeIntervalSince1970,
                                       reason: reason, sha256Before: before, sha256After: after,
                                       textBefore: String(decoding: current, as: UTF8.self), textAfter: text)
            // Four-eyes: the change waits, the file in service stays as it is.
            if configuration.templateApproval { return try await propose(change) }
            return try await commit(change, current: current, approvedBy: nil)
        }
    }

    /// Writes a linted change into service: the new text to a hidden temporary file in the same
    /// folder, the `template_changed` event appended (if the log cannot record it, nothing changes),
    /// then the temporary file renamed over the old one (a reader sees the old bytes or the new,
    /// never half). Runs inside `saveLock`, after the caller checked the file still has
    /// `change.sha256Before` and lint passed. `approvedBy`: the compliance user who approved it.
    func commit(_ change: PendingChange, current: Data, approvedBy: Caller?) async throws -> TemplateEditing.SaveResult {
        let (name, file, relative) = (change.template, change.file, change.relative)
        let (before, after) = (change.sha256Before, change.sha256After)
        let bytes = Data(change.textAfter.utf8)
        let folder = (templates.directory as NSString).appendingPathComponent(name)
        let target = (folder as NSString).appendingPathComponent(file)
        let temporary = (folder as NSString).appendingPathComponent(".\(file).console-\(SessionStore.randomToken().prefix(12)).tmp")
        try write(bytes, to: temporary, permissionsOf: target)
        var data: [String: JSONValue] = [
            "who": .string(change.proposedBy), "roles": .array(change.proposerRoles.map(JSONValue.string)),
            "file": .string(relative), "sha256_before": .string(before), "sha256_after": .string(after), "via": .string("console"),
            // The texts themselves (a few KB), so the file's history can show each change and restore an earlier text.
            "text_before": .string(String(decoding: current, as: UTF8.self)), "text_after": .string(change.textAfter),
        ]
        var detail = "\(change.proposedBy) changed \(relative) (sha256 \(before.prefix(12)) → \(after.prefix(12)))"
        if let approver = approvedBy {
            data["proposed_by"] = .string(change.proposedBy)
            data["proposed_at"] = .string(formatTimestamp(Date(timeIntervalSince1970: change.proposedAt)))
            data["proposal"] = .string(change.id)
            data["approved_by"] = .string(approver.name)
            data["approver_roles"] = .array(approver.roles.map(\.rawValue).sorted().map(JSONValue.string))
            detail += ", approved by \(approver.name)"
        }
        let event = ContactEvent(jobID: nil, contactID: nil, kind: .templateChanged, at: Date(), template: name, variant: relative,
                                 reason: change.reason, detail: detail, data: JSONValue.object(data).serialized)
        do { _ = try await store.append([event]) } catch {
            unlink(temporary)
            throw TemplateEditing.SaveError(message: "the contact log could not record the change, so it was not saved: \(error)")
        }
        guard rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            logger.error("template change recorded but the file could not be renamed into place", metadata: ["file": "\(relative)", "error": "\(reason)"])
            throw TemplateEditing.SaveError(message: "\(relative) could not be replaced: \(reason)")
        }
        logger.notice("template changed through the console", metadata: ["file": "\(relative)", "who": "\(change.proposedBy)",
                                                                           "approved_by": "\(approvedBy?.name ?? "-")",
                                                                           "sha256_before": "\(before)", "sha256_after": "\(after)"])
        // This process serves the new file at once; the other workers' reloaders see it within templates_reload_seconds.
        return .saved(before: before, after: after, reload: templates.reloadIfChanged())
    }

    /// Writes and flushes `bytes` to a new file with the permissions `model` has.
    func write(_ bytes: Data, to path: String, permissionsOf model: String) throws {
        let mode = (try? FileManager.default.attributesOfItem(atPath: model)[.posixPermissions] as? NSNumber)?.uint16Value ?? 0o644
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else { throw TemplateEditing.SaveError(message: "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var offset = 0
        let failure: String? = bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let written = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                offset += written
            }
            return fsync(fd) == 0 ? nil : String(cString: strerror(errno))
        }
        if let failure {
            unlink(path)
            throw TemplateEditing.SaveError(message: "cannot write \(path): \(failure)")
        }
    }
}
