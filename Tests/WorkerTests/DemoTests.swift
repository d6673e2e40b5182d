import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import Worker

/// `scripts/run --demo` must show a newcomer at least one message sent, whatever the hour and the
/// day it is tried: its contacts span time zones, as a real portfolio does.
@Suite struct DemoTests {
    static func demoJobs() throws -> [String] {
        let process = try ChildProcess("/bin/bash", [repositoryRoot.appendingPathComponent("scripts/demo-jobs").path],
                                       output: .captureStdoutKeepStderr)
        let output = process.readToEnd()
        #expect(process.wait() == 0)
        return String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func someDemoJobMayBeSentAtEveryHourOfTheYear() throws {
        let decoder = JobDecoder()
        var renderable: [Job] = []
        var refused: [String] = []
        var valid = 0
        for line in try Self.demoJobs() {
            switch decoder.decode(Array(line.utf8)) {
            case .success(let job):
                valid += 1
                // One valid job lacks amount_due: the renderer refuses it (missing_variable).
                if line.contains("\"amount_due\"") { renderable.append(job) }
            case .failure(let rejection): refused.append(rejection.code.rawValue)
            }
        }
        // The demo shows refusals too: a phone that is not E.164, and a missing amount.
        #expect(refused == ["invalid_phone"])
        #expect(valid == 9 && renderable.count == 8)
        // Every hour and half hour of 2026 and 2027: daylight-saving changes, holidays and Sundays included.
        let rules = shippedRules
        var now = at("2026-01-01T00:00:00Z")
        var closed: [String] = []
        while now < at("2028-01-01T00:00:00Z") {
            let sendable = renderable.contains { job in
                job.channels.contains { rules.hours.allows(now, location: rules.locate(job), channel: $0) }
            }
            if !sendable { closed.append(formatTimestamp(now)) }
            now = now.addingTimeInterval(1800)
        }
        #expect(closed.isEmpty, "no demo job may be sent at \(closed.count) moments, e.g. \(closed.prefix(5))")
        // The whole decision agrees at a few of those moments, and at night some jobs wait.
        for moment in ["2026-12-06T09:30:00Z", "2026-12-25T12:00:00Z", "2027-03-14T08:00:00Z", "2027-07-04T23:30:00Z"] {
            #expect(renderable.contains { if case .send = decide($0, at(moment)) { true } else { false } }, "\(moment)")
        }
        let atNight = at("2026-12-01T09:00:00Z")  // 03:00 in Costa Rica and Mexico City, 04:00 in New York
        #expect(renderable.contains { if case .defer = decide($0, atNight) { true } else { false } })
    }
}
