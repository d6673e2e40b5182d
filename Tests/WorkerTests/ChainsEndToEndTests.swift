import ContactLog
import Foundation
import GatewayCore
import PostgresContactLog
import Testing
import TestSupport
@testable import Worker

/// Workers on a PostgreSQL log with several hash chains (`log_chains`) and signed checkpoints
/// (`checkpoint_key`), as a fleet would run them.
@Suite struct ChainsEndToEndTests {
    static func keyFile() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoint-\(UUID().uuidString)").path
        _ = try CheckpointKeys.create(at: path)
        return path
    }

    @Test(.enabled(if: TestPostgres.url != nil, "needs the PostgreSQL scripts/test starts"))
    func twoWorkersOnSeveralChainsSendEachJobOnceAndTheLogVerifiesWithItsCheckpoint() async throws {
        let url = try await TestPostgres.freshDatabase()
        let key = try Self.keyFile()
        var first = try Harness { $0.contactLogPath = url; $0.logChains = 4; $0.checkpointKeyPath = key }
        var second = try Harness { $0.contactLogPath = url; $0.logChains = 4 }
        second.configuration.stream = first.configuration.stream
        second.configuration.deadLetterStream = first.configuration.deadLetterStream
        second.configuration.scheduledKey = first.configuration.scheduledKey
        // Each worker keeps its own outbox; together they must hold every job once.
        first.configuration.capsPrefix = second.configuration.capsPrefix
        let (a, b) = (first, second)
        let checkpoint = try await a.running { gateway in
            try await b.running { other in
                #expect(other.checkpointer == nil)
                for n in 0..<40 { try await a.enqueue(job("CH-\(n)")) }
                #expect(try await eventually { a.outbox().count + b.outbox().count == 40 })
                #expect(try await eventually { try await a.pendingCount() == 0 })
                return try await #require(gateway.checkpointer).checkpoint()
            }
        }
        #expect(Set(checkpoint.heads.keys) == [0, 1, 2, 3, 4])
        #expect(Set((a.outbox() + b.outbox()).compactMap { $0["job_id"] as? String }).count == 40, "each job written to an outbox once")
        let log = try await a.log()
        let sent = try await log.events(EventFilter(kinds: [.sent], limit: 1000))
        #expect(sent.count == 40 && Set(sent.compactMap(\.event.jobID)).count == 40)
        let report = try await log.verifyChain()
        #expect(report.problem == nil)
        #expect(report.checked == 40 * 2 + 1)   // each job: dispatching (with the job as it came) and sent; one checkpoint
        #expect(report.checkpoints == 1)
        #expect(report.heads.count == 5)
    }

    /// The timer: checkpoints keep coming until the service is cancelled.
    @Test(.enabled(if: TestPostgres.url != nil, "needs the PostgreSQL scripts/test starts"))
    func theCheckpointerSignsOnItsTimer() async throws {
        let url = try await TestPostgres.freshDatabase()
        let store = try await PostgresContactLog(url: url, chains: 2)
        _ = try await store.append([ContactEvent(jobID: "J", contactID: "C", kind: .received, at: Date())])
        let checkpointer = Checkpointer(store: store, key: try CheckpointKeys.signingKey(file: try Self.keyFile()),
                                        interval: .milliseconds(50), logger: Harness.logger)
        let task = Task { try await checkpointer.run() }
        #expect(try await eventually { try await store.events(EventFilter(kinds: [.checkpoint])).count >= 2 })
        task.cancel()
        try await task.value
        let report = try await store.verifyChain()
        #expect(report.problem == nil && report.checkpoints >= 2)
    }

    @Test func aSQLiteLogRefusesACheckpointKey() async throws {
        let harness = try Harness { $0.checkpointKeyPath = try! Self.keyFile() }
        await #expect { _ = try await Gateway(configuration: harness.configuration, logger: Harness.logger) } throws: { error in
            "\(error)".contains("checkpoint_key needs the PostgreSQL contact log")
        }
    }
}
