import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import Worker

/// The stream and its consumer group deleted under a running worker (a FLUSHDB, an operator's DEL):
/// Redis answers NOGROUP, and the worker creates the group again and goes on.
@Suite struct QueueRecoveryTests {
    @Test func aStreamDeletedUnderTheWorkerIsCreatedAgainAndItsNewJobsAreSent() async throws {
        let harness = try Harness()
        try await harness.running { _ in
            try await harness.enqueue(job("REC-1"))
            #expect(try await harness.waitForOutcome(job: "REC-1").kind == .sent)
            _ = try await harness.redis.command(["DEL", harness.configuration.stream])
            try await harness.enqueue(job("REC-2"))
            #expect(try await harness.waitForOutcome(job: "REC-2").kind == .sent)
        }
        let groups = try await harness.redis.command(["XINFO", "GROUPS", harness.configuration.stream])
        #expect(groups.array?.count == 1)
        #expect(harness.outbox().compactMap { $0["job_id"] as? String } == ["REC-1", "REC-2"])
    }
}
