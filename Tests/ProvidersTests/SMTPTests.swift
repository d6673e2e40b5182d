import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import Providers

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

/// A fixture server written in Python (Debian's own python3 and packages), on a loopback port.
final class PythonFixture: @unchecked Sendable {
    // @unchecked: set up once in init; `process` is only killed in `stop`.
    let process: ChildProcess
    let port: Int

    /// Starts the script on a free port, trying another if the bind fails. Ports come from below
    /// Linux's ephemeral range (32768-60999), where the tests' own client sockets and port-0 servers live.
    init(script: String, arguments: (Int) -> [String]) throws {
        for _ in 0..<5 {
            let port = Int.random(in: 20_000..<32_000)
            // Never the test runner's own stderr: a server left behind would hold it open.
            let process = try ChildProcess("/usr/bin/python3", [fixtures.appendingPathComponent(script).path] + arguments(port),
                                           output: .captureStdoutOnly)
            if String(decoding: process.readSome(), as: UTF8.self).hasPrefix("ready") {
                self.process = process
                self.port = port
                return
            }
            process.wait()  // it could not start (the port was taken): try another
        }
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "\(script) did not start on five ports"])
    }

    func stop() {
        process.signal(SIGKILL)
        process.wait()
    }
}

/// A real SMTP server (aiosmtpd) on a loopback port, with a throwaway certificate for STARTTLS.
final class SMTPServer: @unchecked Sendable {
    // @unchecked: set up once in init, then only read.
    let directory: URL
    let fixture: PythonFixture
    let certificate: TestCertificate
    var port: Int { fixture.port }
    var cert: String { certificate.cert }
    var maildir: URL { directory.appendingPathComponent("mail") }

    init() throws {
        let certificate = try TestCertificate()
        self.certificate = certificate
        let directory = certificate.directory
        self.directory = directory
        fixture = try PythonFixture(script: "smtp_server.py") { port in
            [String(port), directory.appendingPathComponent("mail").path, certificate.cert, certificate.key, "gateway", "s3cret-pass"]
        }
    }

    func stop() { fixture.stop() }

    func messages() throws -> [(eml: String, envelope: [String: Any])] {
        let files = try FileManager.default.contentsOfDirectory(atPath: maildir.path).filter { $0.hasSuffix(".eml") }.sorted()
        return try files.map { file in
            let eml = try String(contentsOf: maildir.appendingPathComponent(file), encoding: .utf8)
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: maildir.appendingPathComponent(file.replacingOccurrences(of: ".eml", with: ".json")))) as? [String: Any] ?? [:]
            return (eml, json)
        }
    }
}

@Suite(.serialized) struct SMTPTests {
    func provider(_ server: SMTPServer, password: String = "s3cret-pass") -> SMTPProvider {
        SMTPProvider(name: "smtp", configuration: .init(url: "smtp://127.0.0.1:\(server.port)", fromEmail: "cobros@banco.example", fromName: "Banco Ñandú",
                                                        username: "gateway", password: password, caFile: server.cert,
                                                        listUnsubscribe: "<mailto:baja@banco.example>", timeout: 120), client: CurlHTTPClient())
    }

    func email(to: String) -> OutboundMessage {
        OutboundMessage(jobID: "J-1", contactID: "C-1", attempt: 1, channel: .email, to: to, subject: "Su pago de ₡12 500 vence mañana",
                        body: "Hola Ana:\r\n\nSu pago vence mañana.\n", html: "<p>Hola Ana:</p><p>Su pago vence mañana.</p>")
    }

    @Test func sendsAMultipartMessageOverSTARTTLSWithAuth() async throws {
        let server = try SMTPServer()
        defer { server.stop() }
        let results = await provider(server).send([email(to: "ana@example.com")])
        guard case .accepted(let id, _) = results[0] else {
            Issue.record("not accepted: \(results[0])")
            return
        }
        #expect(id.hasSuffix("@banco.example"))
        let saved = try server.messages()
        #expect(saved.count == 1)
        let (eml, envelope) = saved[0]
        #expect(envelope["tls"] as? Bool == true && envelope["authenticated"] as? Bool == true)
        #expect(envelope["mail_from"] as? String == "cobros@banco.example" && envelope["rcpt_tos"] as? [String] == ["ana@example.com"])
        #expect(eml.contains("Message-ID: <\(id)>"))
        #expect(eml.contains("List-Unsubscribe: <mailto:baja@banco.example>"))
        #expect(eml.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"))
        #expect(eml.contains("Content-Type: multipart/alternative; boundary="))
        // The subject and the display name are RFC 2047 encoded words that decode back exactly.
        let subject = try #require(eml.split(separator: "\r\n").first { $0.hasPrefix("Subject: ") })
        let words = subject.dropFirst("Subject: ".count).split(separator: " ")
        let decoded = words.map { word -> String in
            let inner = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            return String(decoding: Data(base64Encoded: String(inner)) ?? Data(), as: UTF8.self)
        }.joined()
        #expect(decoded == "Su pago de ₡12 500 vence mañana")
        #expect(eml.contains("From: =?UTF-8?B?"))
        // Both parts, base64, decode to the text and the HTML.
        let parts = eml.components(separatedBy: "Content-Transfer-Encoding: base64\r\n\r\n").dropFirst().map { part in
            String(decoding: Data(base64Encoded: part.components(separatedBy: "\r\n--").first!.replacingOccurrences(of: "\r\n", with: "")) ?? Data(), as: UTF8.self)
        }
        #expect(parts == ["Hola Ana:\r\n\nSu pago vence mañana.\n", "<p>Hola Ana:</p><p>Su pago vence mañana.</p>"])
    }

    @Test func classifiesSMTPAnswers() async throws {
        let server = try SMTPServer()
        defer { server.stop() }
        let unknown = await provider(server).send([email(to: "unknown@example.com")])
        let busy = await provider(server).send([email(to: "busy@example.com")])
        let badPassword = await provider(server, password: "wrong").send([email(to: "ana@example.com")])
        guard case .permanentFailure(code: Reason(stored: "smtp_550"), _) = unknown[0] else { Issue.record("\(unknown[0])"); return }
        guard case .retryableFailure(code: Reason(stored: "smtp_451"), _, _) = busy[0] else { Issue.record("\(busy[0])"); return }
        // The test server stalls after a refused AUTH (so curl times out): nothing may be accepted or delivered.
        if case .accepted = badPassword[0] { Issue.record("accepted with a wrong password") }
        // What curl reports when a server refuses the credentials outright is a permanent failure.
        guard case .permanentFailure(code: Reason(stored: "smtp_auth"), _) = SMTPProvider.classify(HTTPClientError(kind: .other, curlCode: 67, message: "Login denied")) else {
            Issue.record("login denied is not permanent")
            return
        }
        #expect(try server.messages().isEmpty)
    }
}
