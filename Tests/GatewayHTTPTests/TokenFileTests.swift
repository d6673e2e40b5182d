import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import Worker
@testable import GatewayHTTP
@testable import Templates

/// A token revoked in the file is refused by the API at once.
@Suite struct TokenFileTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)")
    var path: String { directory.appendingPathComponent("api-tokens.yml").path }

    init() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Writes a file holding these people's tokens (with their roles) and returns their plain tokens.
    @discardableResult
    func write(_ people: [(String, String)]) throws -> [String: String] {
        var text = "tokens:\n"
        var plain: [String: String] = [:]
        for (name, role) in people {
            let (token, hash) = APITokens.generate()
            plain[name] = token
            text += "  - {name: \(name), roles: [\(role)], sha256: \(hash)}\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return plain
    }

    @Test func theAPIUsesTheFileAsItIsNow() async throws {
        let plain = try write([("luis", "marketing")])
        let file = try TokenFile(path: path, logger: Logger(label: "test"), checkInterval: .zero)
        let templates = try TemplateStore(
            directory: repositoryRoot.appendingPathComponent("templates").path,
            requirements: try ContactRulesFile.templateRequirements(path: repositoryRoot.appendingPathComponent("config/contact-rules.yml").path),
            defaultLocale: "es-CR")
        let app = Application(router: buildRouter(configuration: HTTPConfiguration(), templates: templates, store: try temporaryStore(), tokenFile: file))
        let path = self.path
        let revoke: @Sendable () throws -> Void = { try "tokens: []\n".write(toFile: path, atomically: true, encoding: .utf8) }
        try await app.test(.router) { client in
            try await client.execute(uri: "/templates", method: .get, headers: [.authorization: "Bearer \(plain["luis"]!)"]) { response in
                #expect(response.status == .ok)
            }
            try revoke()
            try await client.execute(uri: "/templates", method: .get, headers: [.authorization: "Bearer \(plain["luis"]!)"]) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }
}
