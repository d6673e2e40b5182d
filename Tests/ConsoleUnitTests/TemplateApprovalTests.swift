import Foundation
import Testing
import Worker

/// The console's keys in gateway.yml and the environment; four-eyes approval itself, over Redis and
/// a SQLite log, is in ConsoleTests' TemplateApprovalTests.
@Suite struct TemplateApprovalTests {
    @Test func theConsoleKeysAreReadFromGatewayYml() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-\(UUID().uuidString).yml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "template_approval: required\nconsole_sign_in_attempts: 5\nconsole_sign_in_window_seconds: 60\nconsole_trust_forwarded_for: true\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let configured = try GatewayConfiguration.load(path: path, environment: [:])
        #expect(configured.templateApprovalRequired)
        #expect(configured.consoleSignInAttempts == 5 && configured.consoleSignInWindowSeconds == 60 && configured.consoleTrustForwardedFor)
        #expect(configured.consoleSignInAttemptsAll == 200)
        let defaults = try GatewayConfiguration.load(path: nil, environment: [:])
        #expect(!defaults.templateApprovalRequired && defaults.consoleSignInAttempts == 10 && defaults.consoleSignInWindowSeconds == 900)
        #expect(throws: (any Error).self) { try GatewayConfiguration.load(path: nil, environment: ["GATEWAY_TEMPLATE_APPROVAL": "maybe"]) }
        #expect(throws: (any Error).self) { try GatewayConfiguration.load(path: nil, environment: ["GATEWAY_CONSOLE_SIGN_IN_ATTEMPTS": "0"]) }
    }
}
