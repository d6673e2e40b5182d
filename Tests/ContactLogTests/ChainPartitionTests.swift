@testable import ContactLog
import Foundation
import GatewayCore
import PostgresContactLog
import Testing
import TestSupport

/// PostgreSQL's `log_chains`: batch appends spread over chains 1...N, each verified on its own;
/// everything the one head serialized (one outcome per job) still holds.
@Suite(.enabled(if: TestPostgres.url != nil, "needs PostgreSQL (TEST_POSTGRES_URL; scripts/test starts one)"))
struct ChainPartitionTests {
    /// Each event's seq and chain, in seq order.
    static func chains(_ log: PostgresContactLog) async throws -> [(seq: Int64, chain: Int)] {
        try await log.run(LogRead([], [.init("SELECT seq, chain FROM events ORDER BY seq") { rows, row in
            rows.append((try row.integer("seq") ?? 0, Int(try row.integer("chain") ?? -1)))
        }]))
    }

    /// Two store objects (two worker processes) appending at once, each from several tasks.
    static func fill(_ url: String, chains: Int, batches: Int = 12) async throws -> (PostgresContactLog, PostgresContactLog) {
        let one = try await PostgresContactLog(url: url, chains: chains)
        let two = try await PostgresContactLog(url: url, chains: chains)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (worker, log) in [one, two].enumerated() {
                for lane in 0..<3 {
                    group.addTask {
                        for batch in 0..<batches {
                            let id = "W\(worker)-\(lane)-\(batch)"
                            _ = try await log.append([event(id, .received), event(id, .dispatching), event(id, .sent)])
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        return (one, two)
    }

    @Test func appendsSpreadOverTheChainsAndEveryChainVerifies() async throws {
        let url = try await TestPostgres.freshDatabase()
        let (one, _) = try await Self.fill(url, chains: 4)
        let rows = try await Self.chains(one)
        #expect(rows.count == 2 * 3 * 12 * 3)
        let used = Set(rows.map(\.chain))
        #expect(used.isSubset(of: [1, 2, 3, 4]))
        #expect(used.count > 1, "six appenders at once on four free chains used only \(used)")
        let report = try await one.verifyChain()
        #expect(report.problem == nil)
        #expect(report.checked == rows.count)
        #expect(Set(report.heads.keys) == [0, 1, 2, 3, 4])
        #expect(report.heads[0] == EventChain.genesis)   // chain 0 took nothing: every append was a batch's
        // Receipts, replies and other single appends stay on chain 0, linked there.
        try await one.setOptOut(OptOut(contactID: "C-9", channel: .sms, kind: .optOut, setBy: "agent", setAt: Date()))
        #expect(try await one.lastSequence() == Int64(rows.count + 1))
        #expect(try await one.verifyChain().problem == nil)
    }

    @Test func theFirstBadEventOfAnyChainIsNamedWithItsChain() async throws {
        let url = try await TestPostgres.freshDatabase()
        let (one, _) = try await Self.fill(url, chains: 3, batches: 6)
        let rows = try await Self.chains(one)
        // An event in the middle of a chain other than 0: altered, then (on a copy) deleted.
        let chain = try #require(rows.first?.chain)
        let ofChain = rows.filter { $0.chain == chain }.map(\.seq)
        try #require(ofChain.count >= 6)
        let altered = ofChain[3]
        try await TestPostgres.run(url: url, ["ALTER TABLE events DISABLE TRIGGER USER",
                                              "UPDATE events SET body = 'Hola Ana, nada pendiente' WHERE seq = \(altered)",
                                              "ALTER TABLE events ENABLE TRIGGER USER"])
        var problem = try #require(try await one.verifyChain().problem)
        #expect(problem.seq == altered && problem.kind == .altered)
        #expect(problem.message == "chain \(chain): event \(altered) was altered: its contents no longer match its hash")

        let url2 = try await TestPostgres.freshDatabase()
        let (other, _) = try await Self.fill(url2, chains: 3, batches: 6)
        let rows2 = try await Self.chains(other)
        let chain2 = try #require(rows2.last?.chain)
        let ofChain2 = rows2.filter { $0.chain == chain2 }.map(\.seq)
        try #require(ofChain2.count >= 6)
        try await TestPostgres.run(url: url2, ["ALTER TABLE events DISABLE TRIGGER USER",
                                               "DELETE FROM events WHERE seq = \(ofChain2[2])",
                                               "ALTER TABLE events ENABLE TRIGGER USER"])
        problem = try #require(try await other.verifyChain().problem)
        // The next event of the same chain names the gap, whatever other chains wrote between them.
        #expect(problem.seq == ofChain2[3] && problem.kind == .brokenLink)
        #expect(problem.message.hasPrefix("chain \(chain2): event \(ofChain2[3]) does not follow the event before it"))
    }

    /// The one head serialized the outcome check; with chains, the advisory lock per job does.
    @Test func oneOutcomePerJobHoldsAcrossChains() async throws {
        let url = try await TestPostgres.freshDatabase()
        let logs = [try await PostgresContactLog(url: url, chains: 4), try await PostgresContactLog(url: url, chains: 4)]
        for round in 0..<5 {
            let job = "J-\(round)"
            _ = try await logs[0].append([event(job, .received), event(job, .dispatching)])
            let written = try await withThrowingTaskGroup(of: [Bool].self) { group in
                for task in 0..<8 {
                    group.addTask {
                        try await logs[task % 2].append([task % 2 == 0 ? event(job, .sent) : event(job, .failed), event(job, .dispatching, attempt: 2)])
                    }
                }
                return try await group.reduce(into: [[Bool]]()) { $0.append($1) }
            }
            #expect(written.filter { $0[0] }.count == 1, "round \(round): \(written)")
            #expect(written.filter { $0[1] }.count == 1, "round \(round): \(written)")
        }
        let report = try await logs[0].verifyChain()
        #expect(report.problem == nil)
        #expect(report.checked == 5 * 4)
    }

    @Test func pruneLeavesEveryChainItsAnchorAndPrunedEvent() async throws {
        let url = try await TestPostgres.freshDatabase()
        let log = try await PostgresContactLog(url: url, chains: 3)
        // Months 0-2 (before the cutoff) are written first, months 3-5 after: which concurrent append
        // takes the lowest seq is up to the scheduler, and prune cuts at the first event on or after
        // the cutoff, so an old event written after a new one is rightly kept.
        try await Self.appendByMonth(log, prefix: "M", before: 3, withSent: true)
        let before = try await Self.chains(log)
        let report = try await log.prune(before: parseTimestamp("2024-04-01T00:00:00Z")!, at: parseTimestamp("2026-05-01T00:00:00Z")!, by: "test")
        let through = try #require(report.throughSeq)
        let removedChains = Set(before.filter { $0.seq <= through }.map(\.chain))
        #expect(report.removed == before.filter { $0.seq <= through }.count)
        #expect(report.removed == 12, "the six jobs before the cutoff, two events each")
        let pruned = try await log.events(EventFilter(kinds: [.pruned]))
        #expect(pruned.count == removedChains.count)
        let verified = try await log.verifyChain()
        #expect(verified.problem == nil)
        // Deleting one chain's pruned event (the last of that chain, so no link breaks) unbacks its anchor.
        let after = try await Self.chains(log)
        let victim = try #require(pruned.last?.sequence)
        let victimChain = try #require(after.first { $0.seq == victim }?.chain)
        try #require(after.last { $0.chain == victimChain }?.seq == victim)
        try await TestPostgres.run(url: url, ["ALTER TABLE events DISABLE TRIGGER USER", "DELETE FROM events WHERE seq = \(victim)",
                                              "ALTER TABLE events ENABLE TRIGGER USER"])
        let problem = try #require(try await log.verifyChain().problem)
        #expect(problem.kind == .unbackedAnchor)
    }

    /// Twelve jobs a month apart in turn (months 0-5, twice), each appended on its own at once: the
    /// months before `before` first, then the rest, so the earlier months take the lower seqs.
    static func appendByMonth(_ log: PostgresContactLog, prefix: String, before: Int, withSent: Bool) async throws {
        let start = parseTimestamp("2024-01-10T12:00:00Z")!
        for months in [0..<before, before..<6] {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<12 where months.contains(n % 6) {
                    group.addTask {
                        var received = event("\(prefix)\(n)", .received)
                        received.at = start.addingTimeInterval(Double(n % 6) * 31 * 86_400)
                        var sent = event("\(prefix)\(n)", .sent)
                        sent.at = received.at.addingTimeInterval(60)
                        _ = try await log.append(withSent ? [received, sent] : [received])
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    /// Verify reads one snapshot: run while two processes append on every chain, it finds nothing.
    @Test func verifyWhileAppendsRunFindsNothing() async throws {
        let url = try await TestPostgres.freshDatabase()
        let (one, two) = try await Self.fill(url, chains: 4, batches: 2)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (worker, log) in [one, two].enumerated() {
                for lane in 0..<3 {
                    group.addTask {
                        for batch in 0..<15 {
                            let id = "V\(worker)-\(lane)-\(batch)"
                            _ = try await log.append([event(id, .received), event(id, .dispatching), event(id, .sent)])
                            try await log.setOptOut(OptOut(contactID: "C-\(batch % 3)", channel: .sms, kind: .optOut, setBy: "agent", setAt: Date()))
                        }
                    }
                }
            }
            group.addTask {
                for _ in 0..<10 {
                    let report = try await one.verifyChain()
                    #expect(report.problem == nil, "\(String(describing: report.problem))")
                }
            }
            try await group.waitForAll()
        }
        #expect(try await two.verifyChain().problem == nil)
    }

    /// After a prune, a bad event is named as what it is, not as an anchor the walk did not reach.
    @Test func afterAPruneAnAlteredEventIsNamedAsAltered() async throws {
        let url = try await TestPostgres.freshDatabase()
        let log = try await PostgresContactLog(url: url, chains: 3)
        // Months 0-1 (before the cutoff) first, as in the test above: had a later month's append
        // taken the lowest seq, prune would rightly remove nothing and there would be no anchor.
        try await Self.appendByMonth(log, prefix: "P", before: 2, withSent: false)
        #expect(try await log.prune(before: parseTimestamp("2024-03-01T00:00:00Z")!, at: Date(), by: "test").removed == 4)
        _ = try await log.append([event("NEW-1", .received), event("NEW-2", .received)])
        _ = try await log.checkpoint(signingKey: Curve25519SigningKey(), at: Date())
        #expect(try await log.verifyChain().problem == nil)
        let rows = try await Self.chains(log)
        let victim = try #require(rows.first)
        try await TestPostgres.run(url: url, ["ALTER TABLE events DISABLE TRIGGER USER",
                                              "UPDATE events SET detail = 'changed' WHERE seq = \(victim.seq)",
                                              "ALTER TABLE events ENABLE TRIGGER USER"])
        let problem = try #require(try await log.verifyChain().problem)
        #expect(problem.kind == .altered && problem.seq == victim.seq, "\(problem)")
    }

    @Test func aLogWithOneChainKeepsItsEventsWhenChainsAreAdded() async throws {
        let url = try await TestPostgres.freshDatabase()
        let single = try await PostgresContactLog(url: url)
        _ = try await single.append([event("OLD", .received), event("OLD", .sent)])
        #expect(try await single.verifyChain().heads.isEmpty)
        let spread = try await PostgresContactLog(url: url, chains: 2)
        _ = try await spread.append([event("NEW", .received), event("NEW", .sent)])
        // A process opened with the default still appends correctly beside it (chain 0, with job locks).
        _ = try await single.append([event("OLD2", .received), event("OLD2", .sent)])
        let rows = try await Self.chains(spread)
        #expect(rows.map(\.chain) == [0, 0, rows[2].chain, rows[2].chain, 0, 0])
        #expect(rows[2].chain != 0)
        let report = try await spread.verifyChain()
        #expect(report.problem == nil && report.checked == 6)
        #expect(Set(report.heads.keys) == [0, 1, 2])
        await #expect(throws: (any Error).self) { try await PostgresContactLog(url: url, chains: 0) }
        await #expect(throws: (any Error).self) { try await TestPostgres.run(url: url, ["DELETE FROM chain_heads"]) }
    }
}

/// Signed tree heads over the chains (`gateway audit checkpoint`).
@Suite(.enabled(if: TestPostgres.url != nil, "needs PostgreSQL (TEST_POSTGRES_URL; scripts/test starts one)"))
struct CheckpointStoreTests {
    let key = Curve25519SigningKey()

    @Test func aCheckpointNamesEveryChainsHeadAndVerifies() async throws {
        let url = try await TestPostgres.freshDatabase()
        let (one, _) = try await ChainPartitionTests.fill(url, chains: 3, batches: 4)
        let checkpoint = try await one.checkpoint(signingKey: key, at: Date())
        #expect(Set(checkpoint.heads.keys) == [0, 1, 2, 3])
        let (_, _) = try await ChainPartitionTests.fill(url, chains: 3, batches: 2)
        let second = try await one.checkpoint(signingKey: key, at: Date())
        let report = try await one.verifyChain()
        #expect(report.problem == nil)
        #expect(report.checkpoints == 2)
        #expect(report.checkpointKeys == [key.publicKey.rawRepresentation.base64EncodedString()])
        #expect(second.heads != checkpoint.heads)
        // The heads named are the chains' tips at that point: the verifier reached each of them.
        for (chain, head) in second.heads where chain != 0 { #expect(report.heads[chain] == head) }
    }

    /// A chain's tip cut off leaves a chain that verifies on its own (nothing links to the missing
    /// event); the checkpoint after it still names the cut event's hash, and verify says so.
    @Test func aTipCutBeforeACheckpointIsCaught() async throws {
        let url = try await TestPostgres.freshDatabase()
        let log = try await PostgresContactLog(url: url, chains: 2)
        _ = try await log.append([event("J1", .received), event("J1", .sent)])
        let rows = try await ChainPartitionTests.chains(log)
        let chain = try #require(rows.last?.chain)
        let tip = try #require(rows.last?.seq)
        let checkpoint = try await log.checkpoint(signingKey: key, at: Date())
        let cutSeq = try await log.lastSequence()
        #expect(try await log.verifyChain().problem == nil)
        // Delete the tip and set the chain's head back, as someone with write access could.
        try await TestPostgres.run(url: url, ["ALTER TABLE events DISABLE TRIGGER USER", "DELETE FROM events WHERE seq = \(tip)",
                                              "ALTER TABLE events ENABLE TRIGGER USER",
                                              "UPDATE chain_heads SET hash = (SELECT hash FROM events WHERE chain = \(chain) ORDER BY seq DESC LIMIT 1) WHERE chain = \(chain)"])
        let problem = try #require(try await log.verifyChain().problem)
        #expect(problem.kind == .checkpoint && problem.seq == cutSeq)
        #expect(problem.message.contains("as chain \(chain)'s head, but chain \(chain) reached"))
        #expect(checkpoint.heads[chain] != nil)
    }

    /// An event's inclusion proof holds on its own (JSON round trip, no database) and fails when
    /// the event, a later event of its chain or the key is not what was signed.
    @Test func anInclusionProofHoldsWithoutTheDatabaseAndNotWhenChanged() async throws {
        let url = try await TestPostgres.freshDatabase()
        let (log, _) = try await ChainPartitionTests.fill(url, chains: 3, batches: 3)
        let rows = try await ChainPartitionTests.chains(log)
        let target = rows[rows.count / 3]
        await #expect(throws: (any Error).self) { try await log.inclusionProof(seq: target.seq) }   // no checkpoint yet
        _ = try await log.checkpoint(signingKey: key, at: Date())
        let (_, _) = try await ChainPartitionTests.fill(url, chains: 3, batches: 1)   // events after it are not needed
        let proof = try InclusionProof(json: Array(try await log.inclusionProof(seq: target.seq).json.utf8))
        let trusted = key.publicKey.rawRepresentation.base64EncodedString()
        #expect(proof.problem(trustedKey: trusted) == nil)
        #expect(proof.chain == target.chain && proof.seq == target.seq)
        #expect(proof.following.count == rows.filter { $0.chain == target.chain && $0.seq > target.seq }.count)
        let kind = try #require(proof.columns.first { $0.0 == "kind" }?.1)
        #expect(["received", "dispatching", "sent"].contains(kind))
        #expect(proof.columns.count == EventChain.columns.count)
        var changed = proof
        changed.canonical[changed.canonical.count - 2] ^= 0x01
        #expect(changed.problem(trustedKey: trusted) != nil)
        if !proof.following.isEmpty {
            changed = proof
            changed.following.removeLast()
            #expect(changed.problem(trustedKey: trusted) != nil)
        }
        #expect(proof.problem(trustedKey: Curve25519SigningKey().publicKey.rawRepresentation.base64EncodedString())?.contains("not the trusted") == true)
    }

    @Test func aCheckpointSignedWithAnotherKeyIsReportedWithThatKey() async throws {
        let url = try await TestPostgres.freshDatabase()
        let log = try await PostgresContactLog(url: url, chains: 2)
        _ = try await log.append([event("J1", .received)])
        let intruder = Curve25519SigningKey()
        _ = try await log.checkpoint(signingKey: intruder, at: Date())
        let report = try await log.verifyChain()
        #expect(report.problem == nil)   // valid on its own: whose key it must be is for verify --public-key
        #expect(report.checkpointKeys == [intruder.publicKey.rawRepresentation.base64EncodedString()])
    }
}
