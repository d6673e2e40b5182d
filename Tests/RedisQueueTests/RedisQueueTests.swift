import Foundation
import Testing
import TestSupport
@testable import RedisQueue

@Suite struct RedisClientTests {
    @Test func commandsPipelinesAndErrorReplies() async throws {
        let client = try TestRedis.client()
        let key = TestRedis.unique("kv")
        #expect(try await client.command(["SET", key, "uno"]) == .status("OK"))
        #expect(try await client.command(["GET", key]).string == "uno")
        let replies = try await client.pipeline([["INCR", key + ":n"], ["INCR", key + ":n"], ["LPUSH", key, "x"], ["GET", key + ":missing"]])
        #expect(replies[0] == .integer(1))
        #expect(replies[1] == .integer(2))
        guard case .error(let message) = replies[2] else {
            Issue.record("expected WRONGTYPE error, got \(replies[2])")
            return
        }
        #expect(message.hasPrefix("WRONGTYPE"))
        #expect(replies[3] == .null)
        await #expect(throws: RedisError.self) { try await client.command(["NOSUCHCOMMAND"]) }
        // The connection survives an error reply.
        #expect(try await client.command(["GET", key]).string == "uno")
        await client.shutdown()
    }

    @Test func argumentsAreBinarySafe() async throws {
        let client = try TestRedis.client()
        let key = TestRedis.unique("bin")
        let value: [UInt8] = [0, 1, 2, 0xFF, 0x0D, 0x0A, 0] + Array("ñandú 😀".utf8)
        try await client.command(bytes: [Array("SET".utf8), Array(key.utf8), value])
        #expect(try await client.command(["GET", key]) == .bulk(value))
        await client.shutdown()
    }

    @Test func reconnectsAfterTheServerDropsTheConnection() async throws {
        let client = try TestRedis.client()
        let id = try #require(try await client.command(["CLIENT", "ID"]).integer)
        let admin = try TestRedis.client()
        // Only this client: other tests run in parallel on the same server.
        let killed = try await admin.command(["CLIENT", "KILL", "ID", String(id)])
        #expect(killed.integer == 1)
        // The first command notices the broken connection and fails as a connection error...
        do {
            try await client.command(["PING"])
        } catch let error as RedisError {
            #expect(error.isConnectionError)
        }
        // ...and the next one reconnects.
        #expect(try await client.command(["PING"]) == .status("PONG"))
        await client.shutdown()
        await admin.shutdown()
    }

    @Test func connectionRefusedIsAConnectionError() async throws {
        let client = RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: 1, connectTimeout: 0.5))
        do {
            try await client.command(["PING"])
            Issue.record("PING to port 1 succeeded")
        } catch let error as RedisError {
            #expect(error.isConnectionError)
            #expect(error.message.contains("cannot connect to redis://127.0.0.1:1/0"))
        }
        await client.shutdown()
    }

    @Test func manyConcurrentCallersShareOneConnection() async throws {
        let client = try TestRedis.client()
        let key = TestRedis.unique("counter")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 { group.addTask { try await client.command(["INCR", key]) } }
            try await group.waitForAll()
        }
        #expect(try await client.command(["GET", key]).string == "200")
        await client.shutdown()
    }
}

@Suite struct StreamConsumerTests {
    func consumer(_ client: RedisClient, stream: String, name: String = "c1") -> StreamConsumer {
        StreamConsumer(client: client, stream: stream, group: "g", consumer: name, deadLetterStream: stream + ":dead")
    }

    @Test func groupReadAckAndPending() async throws {
        let client = try TestRedis.client()
        let stream = TestRedis.unique("jobs")
        // Entries written before the group exists are still delivered.
        try await client.command(["XADD", stream, "*", "job", "{\"n\":1}"])
        let c = consumer(client, stream: stream)
        try await c.ensureGroup()
        try await c.ensureGroup()  // idempotent
        try await client.command(["XADD", stream, "*", "job", "{\"n\":2}"])
        let batch = try await c.readNew(count: 10, blockMilliseconds: 100)
        #expect(batch.map { String(decoding: $0.fields["job"]!, as: UTF8.self) } == ["{\"n\":1}", "{\"n\":2}"])
        #expect(try await c.readNew(count: 10, blockMilliseconds: 50).isEmpty)
        // Unacked entries are this consumer's pending list, re-readable after a restart.
        #expect(try await c.readOwnPending(count: 10).map(\.id) == batch.map(\.id))
        try await c.ack([batch[0].id])
        #expect(try await c.readOwnPending(count: 10).map(\.id) == [batch[1].id])
        try await c.ack([batch[1].id])
        #expect(try await c.readOwnPending(count: 10).isEmpty)
        await client.shutdown()
    }

    @Test func reclaimsEntriesOfADeadConsumer() async throws {
        let client = try TestRedis.client()
        let stream = TestRedis.unique("jobs")
        let dead = consumer(client, stream: stream, name: "dead")
        try await dead.ensureGroup()
        try await client.command(["XADD", stream, "*", "job", "lost"])
        #expect(try await dead.readNew(count: 10, blockMilliseconds: 50).count == 1)
        let alive = consumer(client, stream: stream, name: "alive")
        // Not idle long enough yet.
        #expect(try await alive.claimIdle(minIdleMilliseconds: 60_000, count: 10).isEmpty)
        try await Task.sleep(for: .milliseconds(30))
        let claimed = try await alive.claimIdle(minIdleMilliseconds: 20, count: 10)
        #expect(claimed.map { String(decoding: $0.fields["job"]!, as: UTF8.self) } == ["lost"])
        #expect(try await alive.readOwnPending(count: 10).count == 1)
        #expect(try await dead.readOwnPending(count: 10).isEmpty)
        await client.shutdown()
    }

    /// A worker that died leaves its consumer names in the group. Once their entries were taken
    /// over and they have not read for long, they are removed; anyone with entries pending, anyone
    /// reading, and this worker's own lanes stay.
    @Test func removesConsumersThatDiedWithNothingPending() async throws {
        let client = try TestRedis.client()
        let stream = TestRedis.unique("jobs")
        let me = consumer(client, stream: stream, name: "me")
        try await me.ensureGroup()
        for n in 0..<3 { try await client.command(["XADD", stream, "*", "job", "\(n)"]) }
        // "dead" read an entry and died; its entry was taken over, so nothing is pending under it.
        let dead = consumer(client, stream: stream, name: "dead")
        #expect(try await dead.readNew(count: 1, blockMilliseconds: 50).count == 1)
        // "stuck" read one and still holds it; "lane" is this worker's other lane, idle too.
        let stuck = consumer(client, stream: stream, name: "stuck")
        #expect(try await stuck.readNew(count: 1, blockMilliseconds: 50).count == 1)
        let lane = consumer(client, stream: stream, name: "me#1")
        #expect(try await lane.readNew(count: 1, blockMilliseconds: 50).count == 1)
        try await lane.ack(try await lane.readOwnPending(count: 10).map(\.id))
        try await Task.sleep(for: .milliseconds(8000))
        _ = try await me.claimIdle(minIdleMilliseconds: 100_000, count: 10)
        let takenOver = try await me.claimIdle(minIdleMilliseconds: 100, count: 10)
        try await me.ack(takenOver.filter { $0.fields["job"] == Array("0".utf8) }.map(\.id))
        // "stuck"'s entry was taken over by me too, but put back: it still has it pending.
        try await client.command(["XCLAIM", stream, "g", "stuck", "0", takenOver.first { $0.fields["job"] == Array("1".utf8) }!.id])
        // "alive" has just read and acked an entry: nothing pending, but not idle.
        try await client.command(["XADD", stream, "*", "job", "3"])
        let alive = consumer(client, stream: stream, name: "alive")
        try await alive.ack(try await alive.readNew(count: 1, blockMilliseconds: 10).map(\.id))
        // Idle for 6 s or more: "dead" has been for 8 s; "alive" read a moment ago (6 s leaves room for a
        // loaded machine's pauses between these steps; CI saw one pause past 1 s).
        #expect(try await me.removeAbandonedConsumers(idleMilliseconds: 6000, keeping: ["me#1"]) == ["dead"])
        let names = try await client.command(["XINFO", "CONSUMERS", stream, "g"]).array?.compactMap { $0.array?[1].string }
        #expect(Set(names ?? []) == ["me", "me#1", "stuck", "alive"])
        // Not idle long enough: nothing removed. (This worker's own lane "me#1" is kept, as a worker
        // keeps its lanes: it has been idle since the start, which a stalled CI machine once made 60 s.)
        #expect(try await me.removeAbandonedConsumers(idleMilliseconds: 60_000, keeping: ["me#1"]).isEmpty)
        // The removal itself checks again: a consumer that got an entry since XINFO is kept.
        #expect(try await StreamConsumer.removeIfNothingPending.run(client, [["1", stream, "g", "stuck"]]) == [.integer(0)])
        #expect(try await StreamConsumer.removeIfNothingPending.run(client, [["1", stream, "g", "alive"]]) == [.integer(1)])
        await client.shutdown()
    }

    @Test func deadLettersKeepTheEntryAndTheReason() async throws {
        let client = try TestRedis.client()
        let stream = TestRedis.unique("jobs")
        let c = consumer(client, stream: stream)
        let entry = StreamEntry(id: "1-1", fields: ["job": Array("{bad".utf8)])
        try await c.deadLetter([.init(entry: entry, code: "not_json", reason: "job is not valid JSON")], at: "2026-11-24T00:00:00.000Z")
        let reply = try await client.command(["XRANGE", stream + ":dead", "-", "+"])
        let entries = try StreamConsumer.entries(reply.array ?? [])
        #expect(entries.count == 1)
        let fields = entries[0].fields.mapValues { String(decoding: $0, as: UTF8.self) }
        #expect(fields["job"] == "{bad")
        #expect(fields["error_code"] == "not_json")
        #expect(fields["error"] == "job is not valid JSON")
        #expect(fields["source_id"] == "1-1")
        #expect(fields["source_stream"] == stream)
        await client.shutdown()
    }
}
