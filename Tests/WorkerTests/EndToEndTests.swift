import ContactLog
import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import RedisQueue
@testable import Worker

@Suite struct EndToEndTests {
    @Test func aJobGoesFromTheStreamToTheOutboxAndTheLog() async throws {
        let harness = try Harness()
        let outcome = try await harness.running { _ in
            try await harness.enqueue(job("E2E-1"))
            return try await harness.waitForOutcome(job: "E2E-1")
        }
        #expect(outcome.kind == .sent)
        #expect(outcome.provider == "sandbox")
        #expect(outcome.channel == .sms)
        #expect(outcome.variant == "payment-reminder/sms.es.mustache")
        #expect(outcome.tone == "neutral")
        #expect(outcome.address == "+50688887777")
        let text = "Hola Ana, le recordamos que su pago de $125,50 vence el 1 de diciembre de 2026. Pague en https://pay.example/x Mensaje de un gestor de cobro. Responda STOP para no recibir mas mensajes."
        #expect(outcome.body == text)
        let outbox = harness.outbox()
        #expect(outbox.count == 1)
        #expect(outbox.first?["body"] as? String == text)
        #expect(outbox.first?["message_id"] as? String == outcome.providerMessageID)
        #expect(try await harness.events(job: "E2E-1").map(\.kind) == [.dispatching, .sent])
        #expect(try await harness.pendingCount() == 0)
    }

    @Test(.enabled(if: TestPostgres.url != nil, "needs the PostgreSQL scripts/test starts"))
    func twoWorkersShareAPostgreSQLContactLog() async throws {
        let url = try await TestPostgres.freshDatabase()
        var first = try Harness { $0.contactLogPath = url }
        var second = try Harness { $0.contactLogPath = url }
        second.configuration.stream = first.configuration.stream
        second.configuration.deadLetterStream = first.configuration.deadLetterStream
        second.configuration.scheduledKey = first.configuration.scheduledKey
        // Each worker keeps its own outbox; together they must hold every job once.
        first.configuration.capsPrefix = second.configuration.capsPrefix
        let (a, b) = (first, second)
        try await a.running { _ in
            try await b.running { _ in
                for n in 0..<40 { try await a.enqueue(job("PG-\(n)")) }
                #expect(try await eventually { a.outbox().count + b.outbox().count == 40 })
                #expect(try await eventually { try await a.pendingCount() == 0 })
            }
        }
        #expect(Set((a.outbox() + b.outbox()).compactMap { $0["job_id"] as? String }).count == 40, "each job written to an outbox once")
        let log = try await a.log()
        let sent = try await log.events(EventFilter(kinds: [.sent], limit: 1000))
        #expect(sent.count == 40)
        #expect(Set(sent.compactMap(\.event.jobID)).count == 40)
        #expect(sent.allSatisfy { $0.event.debtID == "LN-77" && $0.event.segment == "early" })
        let report = try await log.verifyChain()
        #expect(report.problem == nil)
        #expect(report.checked == 40 * 2)   // each job: dispatching (with the job as it came) and sent
    }

    @Test func aCleanStopLeavesNoIdleConsumersBehind() async throws {
        let harness = try Harness()
        try await harness.running { _ in
            try await harness.enqueue(job("LEAVE-1"))
            _ = try await harness.waitForOutcome(job: "LEAVE-1")
            let consumers = try await harness.redis.command(["XINFO", "CONSUMERS", harness.configuration.stream, harness.configuration.group])
            #expect((consumers.array?.count ?? 0) == harness.configuration.concurrency)
        }
        let after = try await harness.redis.command(["XINFO", "CONSUMERS", harness.configuration.stream, harness.configuration.group])
        #expect(after.array?.isEmpty == true, "\(after)")
    }

    @Test func smsGoesOutThroughTwilio() async throws {
        let fake = FakeTwilio()
        let harness = try Harness()
        let outcome = try await fake.serve { base in
            try harness.writeProvider("twilio", """
                type: twilio
                account_sid: \(fake.accountSID)
                auth_token: ${TEST_TWILIO_TOKEN}
                from: "+15005550006"
                base_url: \(base)
                status_callback: https://gw.example/webhooks/twilio/status
                """)
            return try await harness.running(environment: ["TEST_TWILIO_TOKEN": fake.authToken]) { _ in
                try await harness.enqueue(job("TW-1", locale: "en-US"))
                return try await harness.waitForOutcome(job: "TW-1")
            }
        }
        #expect(outcome.kind == .sent)
        #expect(outcome.provider == "twilio")
        let request = try #require(fake.requests.first)
        #expect(outcome.providerMessageID?.hasPrefix("SM") == true)
        #expect(request.form["Body"] == outcome.body)
        #expect(request.form["To"] == "+50688887777")
        #expect(request.form["StatusCallback"] == "https://gw.example/webhooks/twilio/status")
        #expect(outcome.body?.hasPrefix("Hi Ana") == true)
        #expect(harness.outbox().isEmpty)
    }

    @Test func badJobsGoToTheDeadLetterStreamAndTheWorkerKeepsGoing() async throws {
        let harness = try Harness { $0.maxJobBytes = 2048 }
        let bad: [(fields: [String], code: String)] = [
            (["job", "{not json"], "not_json"),
            (["job", #"{"template": "payment-reminder"}"#], "missing_field"),
            (["job", job("BAD-type").replacingOccurrences(of: #""channels": ["sms"]"#, with: #""channels": "sms""#)], "wrong_type"),
            (["job", job("BAD-phone", phone: "88887777")], "invalid_phone"),
            (["job", job("BAD-template").replacingOccurrences(of: "payment-reminder", with: "no-such-template")], "unknown_template"),
            (["job", job("BAD-big", extra: "\"note\": \"\(String(repeating: "x", count: 3000))\",")], "oversized"),
            (["payload", job("BAD-field")], "no_job_field"),
            (["job", job("BAD-var", data: #"{"currency": "USD", "due_date": "2026-12-01", "pay_link": "https://p"}"#)], "missing_variable"),
        ]
        let outcome = try await harness.running { _ in
            for entry in bad {
                try await harness.redis.command(["XADD", harness.configuration.stream, "*"] + entry.fields)
            }
            try await harness.enqueue(job("GOOD-after-bad"))
            return try await harness.waitForOutcome(job: "GOOD-after-bad")
        }
        #expect(outcome.kind == .sent)
        // Batches run concurrently (`concurrency`), so dead letters come in any order: match them by code.
        let dead = Dictionary(try await harness.deadLetters().map { ($0["error_code"] ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(dead.keys.sorted() == bad.map(\.code).sorted())
        #expect(dead.values.allSatisfy { ($0["error"] ?? "").count > 10 && $0["source_id"] != nil })
        #expect(dead["invalid_phone"]?["error"]?.contains("contact.phone must be E.164") == true)
        #expect(dead["missing_variable"]?["error"] == "the job lacks money.amount_due (used at payment-reminder/sms.es.mustache:1:59)")
        // The refused job is kept whole, so it can be fixed and enqueued again.
        #expect(dead["invalid_phone"]?["job"] == job("BAD-phone", phone: "88887777"))
        let invalid = try await harness.outcome(job: "BAD-var")
        #expect(invalid?.kind == .invalid)
        #expect(invalid?.reason == "missing_variable")
        #expect(try await harness.outcome(job: "BAD-phone")?.reason == "invalid_phone")
        #expect(harness.outbox().count == 1)
        #expect(try await harness.pendingCount() == 0)
    }

    @Test func theSameJobIdIsNeverSentTwice() async throws {
        let harness = try Harness()
        try await harness.running { _ in
            // Twice in one batch (enqueued before the worker reads)...
            try await harness.enqueue(job("DUP-1"))
            try await harness.enqueue(job("DUP-1"))
            _ = try await harness.waitForOutcome(job: "DUP-1")
            // ...and again later, in another batch.
            try await harness.enqueue(job("DUP-1"))
            try await harness.enqueue(job("DUP-2"))
            _ = try await harness.waitForOutcome(job: "DUP-2")
        }
        #expect(harness.outbox().filter { $0["job_id"] as? String == "DUP-1" }.count == 1)
        let kinds = try await harness.events(job: "DUP-1").map(\.kind)
        #expect(kinds.filter { $0 == .sent }.count == 1)
        #expect(kinds.filter { $0 == .duplicate }.count == 2)
        #expect(try await harness.pendingCount() == 0)
    }

    @Test func emailGoesOutThroughSendGrid() async throws {
        let fake = FakeSendGrid()
        let harness = try Harness()
        let outcome = try await fake.serve { base in
            try harness.writeProvider("sendgrid", "type: sendgrid\napi_key: ${TEST_SENDGRID_KEY}\nfrom_email: cobros@banco.example\nfrom_name: Banco Ejemplo\nbase_url: \(base)\ntimeout_seconds: 30\n")
            return try await harness.running(environment: ["TEST_SENDGRID_KEY": fake.apiKey]) { _ in
                try await harness.enqueue(job("SG-1").replacingOccurrences(of: #""channels": ["sms"]"#, with: #""channels": ["email"]"#)
                    .replacingOccurrences(of: #""locale": "es-CR""#, with: #""locale": "es-CR", "email": "ana@example.com""#))
                return try await harness.waitForOutcome(job: "SG-1")
            }
        }
        #expect(outcome.kind == .sent)
        #expect(outcome.provider == "sendgrid")
        #expect(outcome.providerMessageID?.hasPrefix("sg1-") == true)
        let body = try #require(fake.bodies.first)
        #expect(body["subject"] as? String == "Recordatorio: su pago de $125,50 vence el 1 de diciembre de 2026")
        #expect(((body["content"] as? [[String: String]])?.last?["value"])?.contains("<p>Hola Ana:</p>") == true)
    }

    @Test func retryableFailuresAreRetriedThroughTheScheduledSet() async throws {
        let fake = FakeTwilio()
        fake.enqueue(.serverError, .rateLimited(retryAfter: 0))
        let harness = try Harness()
        let outcome = try await fake.serve { base in
            try harness.writeTwilio(fake, base)
            return try await harness.running { _ in
                try await harness.enqueue(job("RETRY-1", extra: #""scoring_model": "v7","#))
                return try await harness.waitForOutcome(job: "RETRY-1")
            }
        }
        #expect(outcome.kind == .sent)
        #expect(outcome.attempt == 3)
        #expect(fake.requests.count == 3)
        let events = try await harness.events(job: "RETRY-1")
        #expect(events.map(\.kind) == [.dispatching, .retryScheduled, .dispatching, .retryScheduled, .dispatching, .sent])
        #expect(events[1].reason == "http_500")
        #expect(events[3].reason == "http_429")
        // The retried job kept every field the scoring service sent (its `dispatching` carries it as it came back).
        #expect(events[2].job.map { String(decoding: $0, as: UTF8.self) }?.contains("\"scoring_model\":\"v7\"") == true)
        #expect(events[2].attempt == 2)
        #expect(try await harness.redis.command(["ZCARD", harness.configuration.scheduledKey]) == .integer(0))
    }

    @Test func failoverToTheNextProviderThenTheBreakerStopsCallingTheFailingOne() async throws {
        let primary = FakeTwilio()
        primary.setDefault(.serverError)
        let backup = FakeTwilio()
        let harness = try Harness { $0.batchSize = 1 }
        try await primary.serve { primaryURL in
            try await backup.serve { backupURL in
                try harness.writeProvider("twilio-a", "type: twilio\npriority: 1\naccount_sid: \(primary.accountSID)\nauth_token: \(harness.secret("TWILIO_A_TOKEN", primary.authToken))\nfrom: \"+15005550006\"\nbase_url: \(primaryURL)\nbreaker_min_requests: 2\nbreaker_window: 2\nbreaker_open_seconds: 600\n")
                try harness.writeProvider("twilio-b", "type: twilio\npriority: 2\naccount_sid: \(backup.accountSID)\nauth_token: \(harness.secret("TWILIO_B_TOKEN", backup.authToken))\nfrom: \"+15005550007\"\nbase_url: \(backupURL)\n")
                try await harness.running { _ in
                    for n in 1...4 {
                        try await harness.enqueue(job("FO-\(n)"))
                        _ = try await harness.waitForOutcome(job: "FO-\(n)")
                    }
                }
            }
        }
        for n in 1...4 {
            let outcome = try await harness.outcome(job: "FO-\(n)")
            #expect(outcome?.kind == .sent && outcome?.provider == "twilio-b")
        }
        let first = try await harness.events(job: "FO-1")
        #expect(first.map(\.kind) == [.dispatching, .providerFailed, .sent])
        #expect(first[1].provider == "twilio-a" && first[1].reason == "http_500")
        // Two failures opened twilio-a's breaker: jobs 3 and 4 went straight to twilio-b.
        #expect(primary.requests.count == 2)
        #expect(backup.requests.count == 4)
        #expect(try await harness.events(job: "FO-4").map(\.kind) == [.dispatching, .sent])
        // And the other workers were told, until the breaker closes again (600 s).
        let key = harness.configuration.breakerPrefix + "twilio-a"
        let ttl = try await harness.redis.command(["PTTL", key]).integer ?? -1
        #expect(ttl > 500_000 && ttl <= 600_000)
        #expect(try await harness.redis.command(["GET", key]).string.flatMap { Int64($0) }.map { abs(Double($0) / 1000 - Date().timeIntervalSince1970 - 600) < 100 } == true)
    }

    @Test func aBreakerAnotherWorkerOpenedIsHonored() async throws {
        let primary = FakeTwilio()
        let backup = FakeTwilio()
        let harness = try Harness()
        // Another worker found twilio-a failing: its breaker is open for ten more minutes.
        let until = Int64((Date().timeIntervalSince1970 + 600) * 1000)
        try await harness.redis.command(["SET", harness.configuration.breakerPrefix + "twilio-a", String(until), "PX", "600000"])
        try await primary.serve { primaryURL in
            try await backup.serve { backupURL in
                try harness.writeProvider("twilio-a", "type: twilio\npriority: 1\naccount_sid: \(primary.accountSID)\nauth_token: \(harness.secret("TWILIO_A_TOKEN", primary.authToken))\nfrom: \"+15005550006\"\nbase_url: \(primaryURL)\n")
                try harness.writeProvider("twilio-b", "type: twilio\npriority: 2\naccount_sid: \(backup.accountSID)\nauth_token: \(harness.secret("TWILIO_B_TOKEN", backup.authToken))\nfrom: \"+15005550007\"\nbase_url: \(backupURL)\n")
                try await harness.running { _ in
                    try await harness.enqueue(job("SB-1"))
                    _ = try await harness.waitForOutcome(job: "SB-1")
                }
            }
        }
        let outcome = try await harness.outcome(job: "SB-1")
        #expect(outcome?.kind == .sent && outcome?.provider == "twilio-b")
        #expect(primary.requests.isEmpty)
        #expect(try await harness.events(job: "SB-1").map(\.kind) == [.dispatching, .sent])
    }

    @Test func theSharedRateLimitHoldsBackWhatExceedsIt() async throws {
        let fake = FakeTwilio()
        let harness = try Harness()
        let outcomes = try await fake.serve { base in
            try harness.writeProvider("twilio", "type: twilio\naccount_sid: \(fake.accountSID)\nauth_token: \(harness.secret("TWILIO_AUTH_TOKEN", fake.authToken))\nfrom: \"+15005550006\"\nbase_url: \(base)\nrate_per_second: 0.01\nburst: 2\n")
            return try await harness.running { _ in
                for n in 1...4 { try await harness.enqueue(job("RL-\(n)")) }
                var kinds: [EventKind] = []
                for n in 1...4 {
                    _ = try await eventually { try await harness.events(job: "RL-\(n)").contains { $0.kind == .sent || $0.kind == .retryScheduled } }
                    kinds.append(try await harness.events(job: "RL-\(n)").last?.kind ?? .received)
                }
                return kinds
            }
        }
        #expect(outcomes.filter { $0 == .sent }.count == 2)
        #expect(outcomes.filter { $0 == .retryScheduled }.count == 2)
        #expect(fake.requests.count == 2)
    }

    @Test func aPushTokenFCMUnregisteredIsDroppedAndNotUsedAgain() async throws {
        let google = FakeGoogle()
        let harness = try Harness()
        try await LoopbackServer.serve(google.router()) { base in
            let accountFile = harness.directory.appendingPathComponent("service-account.json").path
            let account: [String: String] = ["type": "service_account", "project_id": "bank-app", "private_key_id": "kid-1",
                                             "private_key": google.key.pkcs8PEMRepresentation,
                                             "client_email": "gateway@bank-app.iam.gserviceaccount.com", "token_uri": base + "/token"]
            try JSONSerialization.data(withJSONObject: account).write(to: URL(fileURLWithPath: accountFile))
            // 15 s: a token exchange and a send each get it, and claim_idle_ms (120 s) must cover 4 × both.
            try harness.writeProvider("fcm", "type: fcm\nservice_account_file: \(accountFile)\nbase_url: \(base)\ntimeout_seconds: 15\n")
            try harness.writeProvider("sandbox", "type: sandbox\noutbox: \(harness.configuration.outboxPath)\n")
            try await harness.running { _ in
                let pushJob: @Sendable (String, String) -> String = { id, channels in
                    job(id).replacingOccurrences(of: #""channels": ["sms"]"#, with: #""channels": \#(channels)"#)
                        .replacingOccurrences(of: #""locale": "es-CR""#, with: #""locale": "es-CR", "push": {"fcm": "dead-token-1"}"#)
                }
                try await harness.enqueue(pushJob("PUSH-1", #"["push"]"#))
                _ = try await harness.waitForOutcome(job: "PUSH-1")
                try await harness.enqueue(pushJob("PUSH-2", #"["push", "sms"]"#))
                _ = try await harness.waitForOutcome(job: "PUSH-2")
            }
        }
        #expect(try await harness.outcome(job: "PUSH-1")?.reason == "fcm_UNREGISTERED")
        let dropped = try await SQLiteContactLog(path: harness.configuration.contactLogPath).events(EventFilter(contactID: "C-PUSH-1", kinds: [.tokenDropped]))
        #expect(dropped.first?.event.address == "dead-token-1")
        // The second job, with the same dead token, skips push and goes by SMS (through the sandbox).
        let second = try await harness.outcome(job: "PUSH-2")
        #expect(second?.kind == .sent && second?.channel == .sms)
        #expect(google.sent.count == 1)
    }

    @Test func pushGoesToTheServiceOfEachTokenAndFailsOverFromFCMToAPNs() async throws {
        let apns = try FakeAPNs()
        let harness = try Harness()
        let iphone = String(repeating: "ab12", count: 16)
        let dead = "dead" + String(repeating: "0", count: 60)
        try await apns.serve { base in
            let keyFile = harness.directory.appendingPathComponent("AuthKey.p8").path
            try apns.key.pemRepresentation.write(toFile: keyFile, atomically: true, encoding: .utf8)
            try harness.writeProvider("apns", """
                type: apns
                priority: 2
                key_id: \(apns.keyID)
                team_id: \(apns.teamID)
                topic: \(apns.topic)
                private_key_file: \(keyFile)
                base_url: \(base)
                ca_file: \(apns.certificate.cert)
                timeout_seconds: 15
                """)
            // An FCM provider that cannot be reached: a job with both tokens fails over to APNs.
            let accountFile = harness.directory.appendingPathComponent("service-account.json").path
            let google = FakeGoogle()
            let account: [String: String] = ["project_id": "bank-app", "private_key": google.key.pkcs8PEMRepresentation,
                                             "client_email": "gateway@bank-app.iam.gserviceaccount.com", "token_uri": "http://127.0.0.1:1/token"]
            try JSONSerialization.data(withJSONObject: account).write(to: URL(fileURLWithPath: accountFile))
            try harness.writeProvider("fcm", "type: fcm\npriority: 1\nservice_account_file: \(accountFile)\nbase_url: http://127.0.0.1:1\n")
            try harness.writeProvider("sandbox", "type: sandbox\npriority: 3\noutbox: \(harness.configuration.outboxPath)\n")
            try await harness.running { _ in
                let pushJob: @Sendable (String, String, String) -> String = { id, channels, tokens in
                    job(id).replacingOccurrences(of: #""channels": ["sms"]"#, with: #""channels": \#(channels)"#)
                        .replacingOccurrences(of: #""locale": "es-CR""#, with: #""locale": "es-CR", "push": \#(tokens)"#)
                }
                try await harness.enqueue(pushJob("IOS-1", #"["push"]"#, #"{"apns": "\#(iphone)"}"#))
                try await harness.enqueue(pushJob("BOTH-1", #"["push"]"#, #"{"fcm": "fcm-token-1", "apns": "\#(iphone)"}"#))
                try await harness.enqueue(pushJob("IOS-DEAD", #"["push"]"#, #"{"apns": "\#(dead)"}"#))
                for id in ["IOS-1", "BOTH-1", "IOS-DEAD"] { _ = try await harness.waitForOutcome(job: id) }
                try await harness.enqueue(pushJob("IOS-DEAD-2", #"["push", "sms"]"#, #"{"apns": "\#(dead)"}"#))
                _ = try await harness.waitForOutcome(job: "IOS-DEAD-2")
            }
        }
        // An APNs-only job skips FCM (which cannot use its token) and goes to APNs.
        let ios = try #require(try await harness.outcome(job: "IOS-1"))
        #expect(ios.kind == .sent && ios.provider == "apns" && ios.address == iphone)
        #expect(!(try await harness.events(job: "IOS-1")).contains { $0.kind == .providerFailed })
        // FCM fails, so the same job goes to APNs with the APNs token.
        let both = try #require(try await harness.outcome(job: "BOTH-1"))
        #expect(both.kind == .sent && both.provider == "apns" && both.address == iphone)
        #expect(try await harness.events(job: "BOTH-1").contains { $0.kind == .providerFailed && $0.provider == "fcm" })
        #expect(apns.requests.filter { $0.payload["job_id"] as? String == "BOTH-1" }.count == 1)
        // APNs 410: the token is dropped, and the next job with it goes by SMS.
        #expect(try await harness.outcome(job: "IOS-DEAD")?.reason == "apns_Unregistered")
        let dropped = try await SQLiteContactLog(path: harness.configuration.contactLogPath).events(EventFilter(contactID: "C-IOS-DEAD", kinds: [.tokenDropped]))
        #expect(dropped.first?.event.address == dead)
        let second = try await harness.outcome(job: "IOS-DEAD-2")
        #expect(second?.kind == .sent && second?.channel == .sms)
    }

    @Test func retriesStopAtMaxAttempts() async throws {
        let fake = FakeTwilio()
        fake.setDefault(.serverError)
        let harness = try Harness { $0.maxAttempts = 2 }
        let outcome = try await fake.serve { base in
            try harness.writeTwilio(fake, base)
            return try await harness.running { _ in
                try await harness.enqueue(job("GIVEUP-1"))
                return try await harness.waitForOutcome(job: "GIVEUP-1")
            }
        }
        #expect(outcome.kind == .failed)
        #expect(outcome.attempt == 2)
        #expect(outcome.detail?.hasSuffix("gave up after 2 attempts") == true)
        #expect(fake.requests.count == 2)
    }

    @Test func permanentFailuresAreNotRetried() async throws {
        let fake = FakeTwilio()
        fake.enqueue(.error(status: 400, code: 21610, message: "Attempt to send to unsubscribed recipient"))
        let harness = try Harness()
        let outcome = try await fake.serve { base in
            try harness.writeTwilio(fake, base)
            return try await harness.running { _ in
                try await harness.enqueue(job("PERM-1"))
                return try await harness.waitForOutcome(job: "PERM-1")
            }
        }
        #expect(outcome.kind == .failed)
        #expect(outcome.reason == "twilio_21610")
        #expect(fake.requests.count == 1)
        // Twilio says the number unsubscribed (it replied STOP): an SMS opt-out is recorded, so the
        // next SMS to this contact is never attempted.
        let marks = try await SQLiteContactLog(path: harness.configuration.contactLogPath).optOuts(["C-PERM-1"])["C-PERM-1"] ?? []
        #expect(marks.map(\.channel) == [.sms])
        #expect(marks.first?.setBy == "provider:twilio")
        try await harness.running { _ in
            try await harness.enqueue(job("PERM-2").replacingOccurrences(of: "C-PERM-2", with: "C-PERM-1"))
            _ = try await harness.waitForOutcome(job: "PERM-2")
        }
        #expect(try await harness.outcome(job: "PERM-2")?.reason == "opted_out")
        #expect(fake.requests.count == 1)
    }

    @Test func aSendInterruptedByACrashIsNotRepeated() async throws {
        let harness = try Harness()
        // A previous worker wrote its claim and died before recording the result.
        let log = try SQLiteContactLog(path: harness.configuration.contactLogPath)
        _ = try await log.append([ContactEvent(jobID: "CRASH-1", contactID: "C-CRASH-1", kind: .dispatching, at: Date().addingTimeInterval(-3600),
                                               channel: .sms, provider: "sandbox", body: "Hola")])
        let outcome = try await harness.running { _ in
            try await harness.enqueue(job("CRASH-1"))
            return try await harness.waitForOutcome(job: "CRASH-1")
        }
        // Whether the provider took it is not known: `unknown`, never `failed` (not delivered).
        #expect(outcome.kind == .unknown)
        #expect(outcome.reason == "interrupted")
        #expect(harness.outbox().isEmpty)
    }

    @Test func aJobAnotherWorkerIsSendingNowIsLeftPendingNotFailed() async throws {
        // A claim counts as live for half of claim_idle_ms: an hour here, so a slow machine cannot age it.
        let harness = try Harness { $0.claimIdleMilliseconds = 7_200_000 }
        // Another worker claimed this job a moment ago and is still waiting for the provider.
        let log = try SQLiteContactLog(path: harness.configuration.contactLogPath)
        _ = try await log.append([ContactEvent(jobID: "BUSY-1", contactID: "C-BUSY-1", kind: .dispatching, at: Date(), channel: .sms, provider: "sandbox", body: "Hola")])
        try await harness.running { _ in
            try await harness.enqueue(job("BUSY-1"))
            try await harness.enqueue(job("BUSY-2"))
            _ = try await harness.waitForOutcome(job: "BUSY-2")
        }
        // Not sent a second time, not marked failed (that would hide the other worker's result)...
        #expect(try await harness.outcome(job: "BUSY-1") == nil)
        #expect(!harness.outbox().contains { $0["job_id"] as? String == "BUSY-1" })
        // ...and still pending, to be looked at again once that send has its outcome.
        #expect(try await harness.pendingCount() == 1)
        _ = try await log.append([ContactEvent(jobID: "BUSY-1", contactID: "C-BUSY-1", kind: .sent, at: Date(), channel: .sms, provider: "sandbox")])
        let consumer = StreamConsumer(client: harness.redis, stream: harness.configuration.stream, group: harness.configuration.group,
                                      consumer: "later", deadLetterStream: harness.configuration.deadLetterStream)
        let again = try await consumer.claimIdle(minIdleMilliseconds: 0, count: 10)
        let gateway = try await Gateway(configuration: harness.configuration, logger: Harness.logger)
        let summary = try await gateway.worker.processor.process(again)
        #expect(summary.duplicates == 1)
        #expect(try await harness.pendingCount() == 0)
        await gateway.shutdown()
    }

    @Test func aForgedAttemptNumberIsRefusedAndDoesNotBlockTheRealJob() async throws {
        let harness = try Harness()
        try await harness.running { _ in
            try await harness.enqueue(job("FORGED-1", extra: #""_attempt": 3,"#))
            try await harness.enqueue(job("FORGED-1"))
            _ = try await harness.waitForOutcome(job: "FORGED-1")
        }
        #expect(try await harness.outcome(job: "FORGED-1")?.kind == .sent)
        #expect(harness.outbox().count == 1)
        #expect(try await harness.deadLetters().map { $0["error_code"] } == ["bad_attempt"])
    }

    @Test func expiredJobsAndUnreachableChannelsAreRecordedNotSent() async throws {
        let harness = try Harness()
        // Only an SMS provider: e-mail cannot go out.
        try harness.writeProvider("twilio", "type: twilio\naccount_sid: AC\(String(repeating: "0", count: 32))\nauth_token: \(harness.secret("TWILIO_AUTH_TOKEN", "t"))\nfrom: \"+15005550006\"\nbase_url: http://127.0.0.1:1\n")
        try await harness.running { _ in
            try await harness.enqueue(job("EXP-1", extra: #""expires_at": "2020-01-01T00:00:00Z","#))
            try await harness.enqueue(job("NOCHAN-1").replacingOccurrences(of: #""channels": ["sms"]"#, with: #""channels": ["email"]"#)
                .replacingOccurrences(of: #""locale": "es-CR""#, with: #""locale": "es-CR", "email": "ana@example.com""#))
            _ = try await harness.waitForOutcome(job: "EXP-1")
            _ = try await harness.waitForOutcome(job: "NOCHAN-1")
        }
        #expect(try await harness.outcome(job: "EXP-1")?.kind == .expired)
        let suppressed = try await harness.outcome(job: "NOCHAN-1")
        #expect(suppressed?.kind == .suppressed)
        #expect(suppressed?.detail == "no requested channel can be used: email: no provider is configured for email [rule reachability]")
        #expect(harness.outbox().isEmpty)
    }

    @Test func entriesOfADeadConsumerAreTakenOver() async throws {
        let harness = try Harness { $0.claimIdleMilliseconds = 1000 }
        // Another worker read the job and died without acking it.
        let dead = StreamConsumer(client: harness.redis, stream: harness.configuration.stream, group: harness.configuration.group,
                                  consumer: "dead-worker", deadLetterStream: harness.configuration.deadLetterStream)
        try await dead.ensureGroup()
        try await harness.enqueue(job("ORPHAN-1"))
        #expect(try await dead.readNew(count: 10, blockMilliseconds: 100).count == 1)
        let outcome = try await harness.running { _ in try await harness.waitForOutcome(job: "ORPHAN-1") }
        #expect(outcome.kind == .sent)
        #expect(try await harness.pendingCount() == 0)
    }

    @Test func consumersLeftByDeadWorkersAreRemoved() async throws {
        let harness = try Harness()
        // A worker read and acked a job, then died without leaving the group.
        let dead = StreamConsumer(client: harness.redis, stream: harness.configuration.stream, group: harness.configuration.group,
                                  consumer: "dead-worker", deadLetterStream: harness.configuration.deadLetterStream)
        try await dead.ensureGroup()
        try await harness.enqueue(job("GONE-1"))
        try await dead.ack(try await dead.readNew(count: 10, blockMilliseconds: 100).map(\.id))
        @Sendable func names() async throws -> Set<String> {
            Set(try await harness.redis.command(["XINFO", "CONSUMERS", harness.configuration.stream, harness.configuration.group])
                .array?.compactMap { $0.array?[1].string } ?? [])
        }
        #expect(try await names().contains("dead-worker"))
        let consumer = harness.configuration.consumer
        let check: @Sendable (Gateway) async throws -> Void = { _ in
            let removed = try await eventually { try await !names().contains("dead-worker") }
            #expect(removed)
            // The worker's own lanes are still there.
            let left = try await names()
            #expect(left.contains(consumer))
        }
        try await harness.running(tune: { worker in
            worker.maintenanceInterval = .milliseconds(50)
            worker.consumerCleanupInterval = .milliseconds(100)
            worker.abandonedConsumerIdleMilliseconds = 300
        }, check)
    }

    @Test func theWorkerSurvivesLosingItsRedisConnection() async throws {
        let harness = try Harness()
        let outcome = try await harness.running { _ in
            try await harness.enqueue(job("OUTAGE-0"))
            _ = try await harness.waitForOutcome(job: "OUTAGE-0")
            let name = "gateway:\(harness.configuration.consumer)"
            let list = try await harness.redis.command(["CLIENT", "LIST"]).string ?? ""
            let ids = list.split(separator: "\n").filter { $0.contains("name=\(name) ") }.compactMap { line in
                line.split(separator: " ").first { $0.hasPrefix("id=") }.map { String($0.dropFirst(3)) }
            }
            #expect(!ids.isEmpty)
            for id in ids { try await harness.redis.command(["CLIENT", "KILL", "ID", id]) }
            try await harness.enqueue(job("OUTAGE-1"))
            return try await harness.waitForOutcome(job: "OUTAGE-1")
        }
        #expect(outcome.kind == .sent)
    }

    @Test func shutdownFinishesTheSendInFlight() async throws {
        let fake = FakeTwilio()
        fake.setDefault(.slow(seconds: 1))
        let harness = try Harness()
        try await fake.serve { base in
            try harness.writeTwilio(fake, base)
            try await harness.running { _ in
                try await harness.enqueue(job("INFLIGHT-1"))
                // Shut down while Twilio is still answering.
                #expect(try await eventually { fake.requests.count == 1 })
            }
        }
        // The worker waited for the answer, recorded it and acked before it stopped.
        #expect(try await harness.outcome(job: "INFLIGHT-1")?.kind == .sent)
        #expect(try await harness.pendingCount() == 0)
    }
}
