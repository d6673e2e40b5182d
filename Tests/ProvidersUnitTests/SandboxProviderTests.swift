import Foundation
import GatewayCore
import Testing
@testable import Providers

func message(_ n: Int = 1, to: String = "+50688887777", body: String = "Hola Ana, pague USD 125.50 en https://pay.example/x?a=1&b=2. Responda STOP. ñ€😀") -> OutboundMessage {
    OutboundMessage(jobID: "J\(n)", contactID: "C\(n)", channel: .sms, to: to, body: body)
}

@Suite struct SandboxProviderTests {
    @Test func writesOneJSONLinePerMessage() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-\(UUID().uuidString)/outbox.jsonl").path
        let sandbox = try SandboxProvider(outboxPath: path)
        let results = await sandbox.send([message(1), message(2, body: "line\nbreak \"quoted\"")])
        #expect(results.count == 2)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let second = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as! [String: Any]
        #expect(second["body"] as? String == "line\nbreak \"quoted\"")
        #expect(second["job_id"] as? String == "J2")
        #expect(second["to"] as? String == "+50688887777")
        guard case .accepted(let id, _) = results[1] else {
            Issue.record("not accepted")
            return
        }
        #expect(second["message_id"] as? String == id)
    }

    /// Two workers (two providers, each with its own lock, as two processes have) writing one outbox
    /// at once: every line arrives whole, none written over another.
    @Test func twoWritersOnOneOutboxLoseNothing() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-\(UUID().uuidString)/outbox.jsonl").path
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let writers = [try SandboxProvider(outboxPath: path), try SandboxProvider(outboxPath: path)]
        await withTaskGroup(of: Void.self) { group in
            for batch in 0..<40 {
                group.addTask { _ = await writers[batch % 2].send((0..<25).map { message(batch * 25 + $0) }) }
            }
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let jobs = lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }.compactMap { $0["job_id"] as? String }
        #expect(lines.count == 1000 && Set(jobs).count == 1000)
    }
}
