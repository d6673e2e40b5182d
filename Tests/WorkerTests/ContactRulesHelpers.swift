import Foundation
import GatewayCore
@testable import Worker

// The same helpers as WorkerUnitTests' ContactRulesTests.swift (a test target cannot import another).

let shippedRules = try! ContactRulesFile.load(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path)

func at(_ text: String) -> Date { parseTimestamp(text)! }

func contactJob(phone: String? = "+573001234567", timezone: String? = nil, channels: [Channel] = [.sms], category: Category? = nil,
                expiresAt: Date? = nil, debt: String? = "LN-1", email: String? = "a@b.co") -> Job {
    Job(id: "J-\(UUID().uuidString.prefix(6))", template: "t", channels: channels,
        contact: .init(id: "C-1", phone: phone, email: email, push: .init(fcm: "tok"), timezone: timezone), debtID: debt,
        category: category, expiresAt: expiresAt)
}

/// Plan and resolve with every cap free.
func decide(_ job: Job, _ now: Date, optOuts: [OptOut] = [], rules: ContactRules = shippedRules) -> RuledDecision {
    let plan = RulesEngine.plan(job: job, now: now, rules: rules, optOuts: optOuts) { _ in nil }
    var caps: [Channel: CapResult] = [:]
    if let first = plan.allowedNow.first { caps[first] = .reserved }
    return RulesEngine.resolve(job: job, now: now, plan: plan, caps: caps, rules: rules)
}
