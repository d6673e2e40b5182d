import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import Worker

@Suite struct TemplatesEndToEndTests {
    @Test func theToneFollowsSentimentAndTheLogSaysWhich() async throws {
        let harness = try Harness()
        let job = """
            {"id": "TONE-1", "template": "early-delinquency", "channels": ["email", "sms"],
             "contact": {"id": "C-T1", "name": "Luis Pérez", "email": "luis@example.com", "phone": "+525512345678", "locale": "es-MX"},
             "sentiment": {"label": "anxious", "score": -0.4}, "segment": "early",
             "data": {"amount_due": "1450", "currency": "MXN", "due_date": "2026-11-10", "days_past_due": 14, "pay_link": "https://pay.example/m"}}
            """
        let outcome = try await harness.running { _ in
            try await harness.enqueue(job)
            return try await harness.waitForOutcome(job: "TONE-1")
        }
        #expect(outcome.kind == .sent)
        #expect(outcome.channel == .email)
        #expect(outcome.tone == "empathetic")
        #expect(outcome.variant == "early-delinquency/email.empathetic.es.mustache")
        let dispatching = try #require(try await harness.events(job: "TONE-1").first { $0.kind == .dispatching })
        #expect(dispatching.detail?.contains("tone empathetic (rule distressed-customer)") == true)
        let facts = try JSONSerialization.jsonObject(with: Data((dispatching.data ?? "").utf8)) as? [String: Any]
        #expect(facts?["subject"] as? String == "Estamos para ayudarle con su pago de $1,450.00")
        #expect((facts?["html"] as? String)?.contains("<p>Hola Luis:</p>") == true)
        let line = try #require(harness.outbox().first)
        #expect(line["subject"] as? String == "Estamos para ayudarle con su pago de $1,450.00")
        #expect((line["body"] as? String)?.contains("Su pago de $1,450.00, que vencía el 10 de noviembre de 2026, tiene 14 días de atraso.") == true)
    }

    @Test func transactionalTemplatesAreTransactionalUnlessTheJobSaysOtherwise() async throws {
        let harness = try Harness()
        let job = """
            {"id": "RCPT-1", "template": "payment-received", "channel": "sms",
             "contact": {"id": "C-R1", "name": "Ana Mora", "phone": "+50688887777"}, "sentiment": "upset",
             "data": {"amount_paid": "125.50", "currency": "USD", "payment_date": "2026-11-24", "reference": "PAY-1"}}
            """
        try await harness.running { _ in
            try await harness.enqueue(job)
            _ = try await harness.waitForOutcome(job: "RCPT-1")
        }
        let dispatching = try #require(try await harness.events(job: "RCPT-1").first { $0.kind == .dispatching })
        #expect(dispatching.tone == "neutral")
        #expect(dispatching.detail?.contains("transactional; tone neutral (rule receipts-stay-neutral)") == true)
    }

    @Test func editsReachTheRunningWorkerAndBrokenEditsDoNot() async throws {
        var harness = try Harness()
        let templates = try harness.useTemplateCopy()
        let file = (templates as NSString).appendingPathComponent("due-today/sms.es.mustache")
        let original = try String(contentsOfFile: file, encoding: .utf8)
        let job: @Sendable (String) -> String = { id in
            """
            {"id": "\(id)", "template": "due-today", "channel": "sms", "contact": {"id": "C-\(id)", "name": "Ana Mora", "phone": "+50688887777"},
             "data": {"amount_due": "10", "currency": "USD", "due_date": "2026-11-24", "pay_link": "https://p.example"}}
            """
        }
        let harnessCopy = harness
        try await harness.running { gateway in
            let loadedAt = gateway.templates.currentStatus.loadedAt
            try original.replacingOccurrences(of: "Hola", with: "Buenos días").write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try await eventually { gateway.templates.currentStatus.loadedAt != loadedAt })
            try await harnessCopy.enqueue(job("EDIT-1"))
            #expect(try await harnessCopy.waitForOutcome(job: "EDIT-1").body?.hasPrefix("Buenos dias Ana") == true)

            try (original + "{{#broken}}").write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try await eventually { gateway.templates.currentStatus.rejectedAt != nil })
            try await harnessCopy.enqueue(job("EDIT-2"))
            #expect(try await harnessCopy.waitForOutcome(job: "EDIT-2").body?.hasPrefix("Buenos dias Ana") == true)
        }
    }

    @Test func anAmountTheCurrencyCannotHoldIsRefusedAndNamesGoOutAsCounted() async throws {
        let harness = try Harness()
        let job: @Sendable (String, String, String) -> String = { id, name, amount in
            """
            {"id": "\(id)", "template": "due-today", "channel": "sms", "contact": {"id": "C-\(id)", "name": "\(name)", "phone": "+50688887777"},
             "data": {"amount_due": "\(amount)", "currency": "USD", "due_date": "2026-11-24", "pay_link": "https://p.example"}}
            """
        }
        let (refused, sent) = try await harness.running { _ in
            try await harness.enqueue(job("MONEY-1", "Ana Mora", "99.999"))
            // The name as some systems store it: "e" + combining acute (U+0301).
            try await harness.enqueue(job("MONEY-2", "Jose\\u0301 Mora", "99.990"))
            return (try await harness.waitForOutcome(job: "MONEY-1"), try await harness.waitForOutcome(job: "MONEY-2"))
        }
        #expect(refused.kind == .invalid)
        #expect(refused.reason == "invalid_value")
        #expect(refused.detail == "data.amount_due 99.999 has 3 decimals; USD has 2 (used at due-today/sms.es.mustache:1:51)")
        let dead = try await harness.deadLetters()
        #expect(dead.count == 1)
        #expect(dead.first?["error_code"] == "invalid_value")
        #expect(dead.first?["error"]?.hasPrefix("data.amount_due 99.999 has 3 decimals; USD has 2") == true)

        // Sent in NFC ("José" with U+00E9, a GSM-7 letter), and the log holds exactly what was sent.
        #expect(sent.kind == .sent)
        let body = try #require(sent.body)
        #expect(body.hasPrefix("Hola Jos\u{E9}, hoy vence su pago de $99,99."))
        #expect(!body.unicodeScalars.contains("\u{301}"))
        let line = try #require(harness.outbox().first)
        #expect((line["body"] as? String).map { Array($0.unicodeScalars) } == Array(body.unicodeScalars))
    }

    @Test func aRenderingThatWouldCostMoreThanAllowedIsRefused() async throws {
        let harness = try Harness()
        let long = String(repeating: "https://pay.example/very/long/link/", count: 12)
        let outcome = try await harness.running { _ in
            try await harness.enqueue(job("LONG-1", data: #"{"amount_due": "1", "currency": "USD", "due_date": "2026-12-01", "pay_link": "\#(long)"}"#))
            return try await harness.waitForOutcome(job: "LONG-1")
        }
        #expect(outcome.kind == .invalid)
        #expect(outcome.reason == "sms_too_long")
        #expect(outcome.detail?.contains("the template allows 2 (max_segments in payment-reminder/template.yml)") == true)
        #expect(harness.outbox().isEmpty)
    }
}
