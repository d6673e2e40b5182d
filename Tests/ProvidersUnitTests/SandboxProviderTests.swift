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
}
