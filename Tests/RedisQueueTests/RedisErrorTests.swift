import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import RedisQueue

/// Error replies carry Redis's code as a value the gateway matches on, never a message prefix.
@Suite struct RedisErrorTests {
    @Test func aRealServerAnswersWithTheCodesTheWorkerActsOn() async throws {
        let client = try TestRedis.client()
        let stream = TestRedis.unique("errors")
        try await client.command(["XGROUP", "CREATE", stream, "g", "0", "MKSTREAM"])
        await #expect { try await client.command(["XGROUP", "CREATE", stream, "g", "0", "MKSTREAM"]) } throws: { error in
            (error as? RedisError)?.serverCode == .busyGroup
        }
        await #expect { try await client.command(["XREADGROUP", "GROUP", "missing", "c", "STREAMS", stream, ">"]) } throws: { error in
            (error as? RedisError)?.serverCode == .noGroup
        }
        await #expect { try await client.command(["EVALSHA", String(repeating: "0", count: 40), "0"]) } throws: { error in
            (error as? RedisError)?.serverCode == .noScript
        }
        await #expect { try await client.command(["HGET", stream, "field"]) } throws: { error in
            (error as? RedisError)?.serverCode == .wrongType
        }
        // StreamConsumer treats an existing group as created.
        let consumer = StreamConsumer(client: client, stream: stream, group: "g", consumer: "c", deadLetterStream: stream + ":dead")
        try await consumer.ensureGroup()
        _ = try await client.command(["DEL", stream])
        await client.shutdown()
    }
}
