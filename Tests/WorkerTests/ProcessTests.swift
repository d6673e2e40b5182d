import ContactLog
import Foundation
import GatewayCore
import GRDB
import Providers
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The built `gateway` executable, as an operator runs it.
@Suite struct GatewayProcessTests {
    var binary: String { repositoryRoot.appendingPathComponent(".build/debug/gateway").path }

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = try ChildProcess(binary, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
        let data = process.readToEnd()
        return (process.wait(), String(decoding: data, as: UTF8.self))
    }

    func writeConfig(_ harness: Harness, extra: String = "", httpPort: Int = 0) throws -> String {
        let c = harness.configuration
        let path = harness.directory.appendingPathComponent("gateway.yml").path
        try """
            redis_url: \(c.redisURL)
            stream: \(c.stream)
            dead_letter_stream: \(c.deadLetterStream)
            scheduled_key: \(c.scheduledKey)
            consumer: \(c.consumer)
            block_ms: 100
            http_port: \(httpPort)
            contact_log: \(c.contactLogPath)
            outbox: \(c.outboxPath)
            templates: \(c.templatesDirectory)
            providers: \(c.providersDirectory)
            contact_rules: \(c.contactRulesPath)
            \(extra)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A loopback port below the ephemeral range (32768-60999, where clients bind) that nothing
    /// holds now: a random one could be the test Redis's or PostgreSQL's (scripts/test picks
    /// theirs from the same range), and the gateway would then fail to start.
    static func freePort() throws -> Int {
        for _ in 0..<100 {
            let port = Int.random(in: 20_000..<32_000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { continue }
            defer { _ = Glibc.close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if bound == 0 { return port }
        }
        throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "no free loopback port in 20000-31999"])
    }

    @Test func sigtermDrainsAndExitsZeroThenLogShowsTheAttempt() async throws {
        let harness = try Harness()
        let port = try Self.freePort()
        let tokensFile = harness.directory.appendingPathComponent("api-tokens.yml").path
        let config = try writeConfig(harness, extra: "api_tokens: \(tokensFile)", httpPort: port)
        let made = try run(["tokens", "new", "--config", config, "--name", "compliance-ana", "--role", "compliance"])
        #expect(made.status == 0, "\(made.output)")
        let token = try #require(made.output.split(separator: " ").last.map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) })
        #expect(token.hasPrefix("gw_"))
        let file = try String(contentsOfFile: tokensFile, encoding: .utf8)
        #expect(!file.contains(token) && file.contains("roles: [compliance]"))
        #expect(try run(["tokens", "new", "--config", config, "--name", "compliance-ana", "--role", "compliance"]).output.contains("already has a token named compliance-ana"))
        let process = try ChildProcess(binary, ["run", "--config", config])
        // A check that throws must not leave the gateway running after the test.
        defer { if process.isRunning { process.signal(SIGKILL); process.wait() } }
        try await harness.enqueue(job("PROC-1"))
        #expect(try await eventually { harness.outbox().count == 1 })
        #expect(try await eventually { try await harness.pendingCount() == 0 })
        // The HTTP server starts beside the worker, not before it: wait for it to answer.
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        #expect(try await eventually { (try? await http.send(HTTPRequest(url: "http://127.0.0.1:\(port)/health", timeout: 120)))?.status == 200 })
        let health = try await http.send(HTTPRequest(url: "http://127.0.0.1:\(port)/health", timeout: 120))
        #expect(health.status == 200)
        #expect(String(decoding: health.body, as: UTF8.self) == #"{"status":"ok"}"#)
        let anonymous = try await CurlHTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)/contacts/C-PROC-1/timeline", timeout: 120))
        #expect(anonymous.status == 401)
        let timeline = try await CurlHTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)/contacts/C-PROC-1/timeline",
                                                                   headers: [("Authorization", "Bearer \(token)")], timeout: 120))
        #expect(timeline.status == 200)
        #expect(String(decoding: timeline.body, as: UTF8.self).contains(#""kind":"sent""#))
        process.signal(SIGTERM)
        let output = String(decoding: process.readToEnd(), as: UTF8.self)
        #expect(process.wait() == 0, "\(output)")
        #expect(output.contains("worker stopped"))

        let log = try run(["log", "--config", config, "--contact", "C-PROC-1"])
        #expect(log.status == 0)
        #expect(log.output.contains("sent"))
        #expect(log.output.contains("job=PROC-1"))
        #expect(log.output.contains("text: Hola Ana,"))
        let json = try run(["log", "--config", config, "--job", "PROC-1", "--all", "--json"])
        let kinds = json.output.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["kind"] as? String
        }
        #expect(kinds == ["dispatching", "sent"])
    }

    @Test func logFiltersExportsAndAuditFromTheCommandLine() async throws {
        let harness = try Harness()
        let config = try writeConfig(harness)
        let store = try SQLiteContactLog(path: harness.configuration.contactLogPath)
        let old = parseTimestamp("2020-03-15T12:00:00Z")!
        var events: [ContactEvent] = []
        for n in 0..<30 {
            let at = n < 10 ? old : parseTimestamp("2026-11-0\(n % 9 + 1)T15:00:00Z")!
            events.append(ContactEvent(jobID: "L\(n)", contactID: "C-\(n % 3)", kind: .received, at: at, debtID: "LN-\(n % 2)"))
            events.append(ContactEvent(jobID: "L\(n)", contactID: "C-\(n % 3)", kind: n % 5 == 0 ? .suppressed : .sent, at: at,
                                       channel: .sms, template: "payment-reminder", reason: n % 5 == 0 ? "opted_out" : nil,
                                       body: "Hola, \"Ana\"\n=cuota", debtID: "LN-\(n % 2)"))
        }
        _ = try await store.append(events)

        let suppressed = try run(["log", "--config", config, "--debt", "LN-0", "--outcome", "suppressed", "--format", "json"])
        #expect(suppressed.status == 0)
        let lines = suppressed.output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.map { $0["job_id"] as? String } == ["L0", "L10", "L20"])
        #expect(lines.allSatisfy { $0["debt_id"] as? String == "LN-0" && $0["kind"] as? String == "suppressed" })

        let csv = try run(["log", "--config", config, "--from", "2026-11-01", "--to", "2026-11-03", "--format", "csv"])
        let rows = csv.output.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(rows.first?.hasPrefix("seq,at,kind,job_id,contact_id,debt_id") == true)
        // Jobs 18 and 27 fall on the 1st, 10, 19 and 28 on the 2nd... only outcomes are shown: 5 jobs.
        #expect(rows.count == 1 + 5 * 1)
        #expect(csv.output.contains("\"'Hola, \"\"Ana\"\"\n=cuota\"") == false)  // the body does not start with a formula character
        #expect(csv.output.contains("\"Hola, \"\"Ana\"\"\n=cuota\""))

        let timeline = try run(["log", "--config", config, "--contact", "C-1", "--timeline", "--limit", "4"])
        #expect(timeline.output.components(separatedBy: "job=").count - 1 == 4)
        #expect(try run(["log", "--config", config, "--timeline"]).output.contains("--timeline needs --contact ID"))
        #expect(try run(["log", "--config", config, "--outcome", "delivered"]).output.contains("--outcome delivered is not an event kind"))
        #expect(try run(["log", "--config", config, "--from", "yesterday"]).output.contains("--from must be a day like 2026-11-01"))

        let verified = try run(["audit", "verify", "--config", config])
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("ok: 60 events verified"))
        let pruned = try run(["audit", "prune", "--config", config])
        #expect(pruned.status == 0, "\(pruned.output)")
        #expect(pruned.output.contains("removed 20 events"))
        #expect(try run(["audit", "verify", "--config", config]).output.contains("ok: 41 events verified"))

        let queue = try GRDB.DatabaseQueue(path: harness.configuration.contactLogPath)
        try await queue.write { db in
            try db.execute(sql: "DROP TRIGGER events_no_update; UPDATE events SET body = 'Hola' WHERE job_id = 'L12' AND kind = 'sent'")
        }
        let tampered = try run(["audit", "verify", "--config", config])
        #expect(tampered.status == 1)
        #expect(tampered.output.contains("TAMPERED: event") && tampered.output.contains("was altered"))
    }

    @Test func configurationMistakesAreExplainedAtStartUp() throws {
        let harness = try Harness()
        let unknownKey = try writeConfig(harness, extra: "batch_sise: 10")
        let first = try run(["run", "--config", unknownKey])
        #expect(first.status != 0)
        #expect(first.output.contains("unknown key \"batch_sise\""), "\(first.output)")

        let good = try writeConfig(harness)
        try harness.writeProvider("twilio", "type: twilio\naccount_sid: AC\(String(repeating: "0", count: 32))\nauth_token: ${NOT_SET_ANYWHERE_TOKEN}\nfrom: \"+15005550006\"\n")
        let second = try run(["run", "--config", good])
        #expect(second.status != 0)
        #expect(second.output.contains("refers to ${NOT_SET_ANYWHERE_TOKEN}, but the environment variable NOT_SET_ANYWHERE_TOKEN is not set"), "\(second.output)")

        let slowProvider = try writeConfig(harness, extra: "claim_idle_ms: 10000")
        try harness.writeProvider("twilio", "type: twilio\naccount_sid: AC\(String(repeating: "0", count: 32))\nauth_token: ${SLOW_TWILIO_TOKEN}\nfrom: \"+15005550006\"\ntimeout_seconds: 5\n")
        let third = try run(["run", "--config", slowProvider], environment: ["SLOW_TWILIO_TOKEN": "t"])
        #expect(third.status != 0)
        #expect(third.output.contains("claim_idle_ms (10000) must be at least 4 × the longest provider timeout (5.0 s)"), "\(third.output)")

        let badRedis = try run(["run", "--config", good], environment: ["REDIS_URL": "http://nope"])
        #expect(badRedis.status != 0)
        #expect(badRedis.output.contains("REDIS_URL must look like redis://"), "\(badRedis.output)")
    }

    @Test func templatesLintAndPreviewFromTheCommandLine() throws {
        let templates = repositoryRoot.appendingPathComponent("templates").path
        let rules = repositoryRoot.appendingPathComponent("config/contact-rules.yml").path
        let clean = try run(["templates", "lint", templates, "--rules", rules])
        #expect(clean.status == 0, "\(clean.output)")
        #expect(clean.output.contains("every template is fine"))

        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: templates, toPath: copy)
        try "Hi {{contact.first_name}}, pay {{money.amount_due}}".write(toFile: copy + "/due-today/sms.en.mustache", atomically: true, encoding: .utf8)
        let broken = try run(["templates", "lint", copy, "--rules", rules])
        #expect(broken.status == 1)
        #expect(broken.output.contains("due-today/sms.en.mustache: error: the message has no opt-out instruction"), "\(broken.output)")
        #expect(broken.output.contains("2 error(s), 0 warning(s)"), "\(broken.output)")

        let preview = try run(["templates", "preview", "late-delinquency", "--channel", "sms", "--locale", "en-US",
                               "--config", repositoryRoot.appendingPathComponent("config/gateway.yml").path],
                              environment: ["GATEWAY_TEMPLATES": templates])
        #expect(preview.status == 0, "\(preview.output)")
        #expect(preview.output.contains("variant   late-delinquency/sms.firm.en.mustache"))
        #expect(preview.output.contains("tone      firm (late-stage)"))
        #expect(preview.output.contains("encoding  GSM-7, 2 segments"))
        #expect(preview.output.contains("Ana, your account is 65 days past due with a balance of $480.00."))
    }

    @Test func contactsAndRulesFromTheCommandLine() async throws {
        let harness = try Harness { $0.contactRulesPath = shippedRulesPath }
        let config = try writeConfig(harness)
        let optOut = try run(["contacts", "opt-out", "C-CLI", "--channel", "email", "--by", "agent:maria", "--reason", "asked by phone", "--config", config])
        #expect(optOut.status == 0, "\(optOut.output)")
        #expect(optOut.output.contains("C-CLI: opted out (email) by agent:maria"))
        let missingBy = try run(["contacts", "opt-out", "C-CLI", "--config", config])
        #expect(missingBy.status != 0)

        let jobFile = harness.directory.appendingPathComponent("job.json").path
        try #"{"id": "CLI-1", "template": "early-delinquency", "channels": ["email", "sms"], "contact": {"id": "C-CLI", "phone": "+573001234567", "email": "a@b.co"}, "debt_id": "LN-1", "data": {"amount_due": "1", "currency": "COP", "due_date": "2026-11-10", "pay_link": "https://p"}}"#
            .write(toFile: jobFile, atomically: true, encoding: .utf8)
        let saturdayNight = try run(["rules", "check", jobFile, "--at", "2026-12-05T21:14:00-05:00", "--config", config])
        #expect(saturdayNight.status == 0, "\(saturdayNight.output)")
        #expect(saturdayNight.output.contains("email     opted out (email) by agent:maria"))
        #expect(saturdayNight.output.contains("decision  deferred to 2026-12-07 07:00 America/Bogota: Colombia allows 07:00-19:00 Mon-Fri, 08:00-15:00 Sat; never Sundays or holidays; now 21:14 Sat"))
        let monday = try run(["rules", "check", jobFile, "--at", "2026-12-07T09:00:00-05:00", "--config", config])
        #expect(monday.output.contains("caps ok: debt-7-in-7-days, contact-7-in-7-days, contact-2-per-day, sms-1-per-day"), "\(monday.output)")
        #expect(monday.output.contains("decision  send now on sms"))

        // A push token a provider declared dead makes push unreachable, as it does for the worker.
        try await SQLiteContactLog(path: harness.configuration.contactLogPath).dropPushToken("dead-cli", contactID: "C-CLI", provider: "fcm",
                                                                                            reason: "fcm_UNREGISTERED", at: Date())
        let pushFile = harness.directory.appendingPathComponent("push.json").path
        try #"{"id": "CLI-2", "template": "early-delinquency", "channels": ["push", "sms"], "contact": {"id": "C-CLI", "phone": "+573001234567", "push": {"fcm": "dead-cli"}}, "debt_id": "LN-2", "data": {"amount_due": "1", "currency": "COP", "due_date": "2026-11-10", "pay_link": "https://p"}}"#
            .write(toFile: pushFile, atomically: true, encoding: .utf8)
        let deadToken = try run(["rules", "check", pushFile, "--at", "2026-12-07T09:00:00-05:00", "--config", config])
        #expect(deadToken.output.contains("push      unreachable: the push token was unregistered by the provider"), "\(deadToken.output)")
        #expect(deadToken.output.contains("decision  send now on sms"))

        let optIn = try run(["contacts", "opt-in", "C-CLI", "--channel", "email", "--by", "agent:jose", "--config", config])
        #expect(optIn.status == 0)
        let log = try run(["log", "--contact", "C-CLI", "--config", config])
        #expect(log.output.contains("opt_out") && log.output.contains("opt_in"), "\(log.output)")
        let show = try run(["contacts", "show", "C-CLI", "--config", config])
        #expect(show.output.contains("C-CLI: no opt-out in force"))
        #expect(show.output.contains("opt_in  opt-out (email) taken back by agent:jose"))
    }

    /// `rules check` explains a fixed line's sms as the worker does: unreachable, with the reason, then the next channel.
    @Test func rulesCheckSaysAFixedLineCannotTakeTheSMS() throws {
        let harness = try Harness()
        let config = try writeConfig(harness)
        let jobFile = harness.directory.appendingPathComponent("landline.json").path
        try #"{"id": "CLI-3", "template": "payment-reminder", "channels": ["sms", "email"], "contact": {"id": "C-CLI-3", "phone": "+50622223333", "email": "a@b.co"}, "data": {"amount_due": "1", "currency": "USD", "due_date": "2026-12-01", "pay_link": "https://p"}}"#
            .write(toFile: jobFile, atomically: true, encoding: .utf8)
        let check = try run(["rules", "check", jobFile, "--at", "2026-12-07T15:00:00Z", "--config", config])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("sms       unreachable: contact.phone +50622223333 is a fixed line (Costa Rica numbers starting 22 after +506 are landlines); SMS needs a mobile"), "\(check.output)")
        #expect(check.output.contains("decision  send now on email"), "\(check.output)")
    }
}
