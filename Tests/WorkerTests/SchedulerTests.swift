import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import RedisQueue
@testable import Worker

@Suite struct SchedulerTests {
    @Test func dueJobsArePromotedExactlyOnceWhateverTheNumberOfPromoters() async throws {
        let stream = TestRedis.unique("jobs")
        let key = stream + ":scheduled"
        let promoters = try (0..<4).map { _ in RetryScheduler(client: try TestRedis.client(), key: key, stream: stream, baseSeconds: 1) }
        let now = Date()
        let jobs = (0..<300).map { n in (raw: Array(#"{"id": "P-\#(n)"}"#.utf8), attempt: 1, at: now.addingTimeInterval(n < 200 ? -1 : 3600)) }
        try await promoters[0].schedule(jobs)
        let moved = try await withThrowingTaskGroup(of: Int.self) { group in
            for promoter in promoters {
                group.addTask {
                    var total = 0
                    for _ in 0..<10 { total += try await promoter.promoteDue(now: now, limit: 25) }
                    return total
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(moved == 200)
        let client = promoters[0].client
        #expect(try await client.command(["XLEN", stream]) == .integer(200))
        #expect(try await client.command(["ZCARD", key]) == .integer(100))
        // Every promoted job is there once, with the attempt it was scheduled for.
        let entries = try StreamConsumer.entries(try await client.command(["XRANGE", stream, "-", "+"]).array ?? [])
        let ids = entries.compactMap { String(decoding: $0.fields["job"] ?? [], as: UTF8.self) }
        #expect(Set(ids).count == 200)
        #expect(ids.allSatisfy { $0.contains("\"_attempt\":1") })
    }
}
