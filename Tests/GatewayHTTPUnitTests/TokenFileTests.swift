import Foundation
import Logging
import Testing
@testable import GatewayHTTP

/// Adding or revoking an API token takes effect without a restart; a broken file changes nothing.
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

    @Test func changesApplyWithoutARestartAndABrokenFileChangesNothing() throws {
        let first = try write([("ana", "compliance"), ("luis", "marketing")])
        let file = try TokenFile(path: path, logger: Logger(label: "test"), checkInterval: .zero)
        #expect(file.current().caller(token: first["ana"]!)?.name == "ana")
        // Luis's token is revoked, Marta's added.
        let second = try write([("marta", "marketing")])
        #expect(file.current().caller(token: first["luis"]!) == nil)
        #expect(file.current().caller(token: first["ana"]!) == nil)
        #expect(file.current().caller(token: second["marta"]!)?.name == "marta")
        // A broken edit: logged, and the tokens read before stay.
        try "tokens:\n  - {name: x, roles: [nobody], sha256: 00}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(file.current().caller(token: second["marta"]!)?.name == "marta")
        let third = try write([("ana", "compliance")])
        #expect(file.current().caller(token: third["ana"]!)?.name == "ana")
        #expect(file.current().caller(token: second["marta"]!) == nil)
        // No file: no tokens.
        try FileManager.default.removeItem(atPath: path)
        #expect(file.current().entries.isEmpty)
    }

    @Test func aFileThatDoesNotLoadStopsTheStart() throws {
        try "tokens: {}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: TokenFileError.self) { try TokenFile(path: path, logger: Logger(label: "test")) }
    }
}
