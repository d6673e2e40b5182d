import Foundation
import Hummingbird
import NIOCore
import Testing
import TestSupport
@testable import Providers

/// The client reuses easy handles (and their kept-alive connections) without resetting them when
/// the next request has the same shape; nothing of one request may leak into the next.
@Suite struct CurlHandleReuseTests {
    /// Echoes what arrived: method, Authorization, X-Tag, body.
    static func echoRouter() -> Router<BasicRequestContext> {
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let echo: [String: String] = [
                "method": request.method.rawValue,
                "authorization": request.headers[.authorization] ?? "-",
                "tag": request.headers[.init("X-Tag")!] ?? "-",
                "body": body,
            ]
            let data = try JSONSerialization.data(withJSONObject: echo, options: .sortedKeys)
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.post("/echo", use: handler)
        router.get("/echo", use: handler)
        router.put("/echo", use: handler)
        return router
    }

    static func echo(_ result: Result<Providers.HTTPResponse, HTTPClientError>) throws -> [String: String] {
        let response = try result.get()
        return try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String])
    }

    @Test func nothingLeaksFromOneRequestIntoTheNext() async throws {
        let client = CurlHTTPClient(maxConnectionsPerHost: 1)
        defer { client.shutdown() }
        let answers = try await LoopbackServer.serve(Self.echoRouter()) { base in
            var answers: [[String: String]] = []
            let requests = [
                Providers.HTTPRequest(method: "POST", url: base + "/echo", headers: [("X-Tag", "first")], body: Array("a=1".utf8), basicAuth: ("AC1", "secret"), timeout: 120),
                // Another shape: no auth, GET, no tag; the handle is reset.
                Providers.HTTPRequest(method: "GET", url: base + "/echo", timeout: 120),
                // The first shape again, other header and body; the handle is reused as it is.
                Providers.HTTPRequest(method: "POST", url: base + "/echo", headers: [("X-Tag", "third")], body: Array("b=2".utf8), basicAuth: ("AC1", "secret"), timeout: 120),
                Providers.HTTPRequest(method: "POST", url: base + "/echo", body: Array("c=3".utf8), basicAuth: ("AC1", "secret"), timeout: 120),
                // Same method, other credentials.
                Providers.HTTPRequest(method: "POST", url: base + "/echo", body: Array("d=4".utf8), basicAuth: ("AC2", "other"), timeout: 120),
                Providers.HTTPRequest(method: "PUT", url: base + "/echo", body: [], timeout: 120),
            ]
            for request in requests { answers.append(try Self.echo(await client.sendAll([request])[0])) }
            return answers
        }
        let basic1 = "Basic " + Data("AC1:secret".utf8).base64EncodedString()
        let basic2 = "Basic " + Data("AC2:other".utf8).base64EncodedString()
        #expect(answers[0] == ["method": "POST", "authorization": basic1, "tag": "first", "body": "a=1"])
        #expect(answers[1] == ["method": "GET", "authorization": "-", "tag": "-", "body": ""])
        #expect(answers[2] == ["method": "POST", "authorization": basic1, "tag": "third", "body": "b=2"])
        #expect(answers[3] == ["method": "POST", "authorization": basic1, "tag": "-", "body": "c=3"])
        #expect(answers[4] == ["method": "POST", "authorization": basic2, "tag": "-", "body": "d=4"])
        #expect(answers[5] == ["method": "PUT", "authorization": "-", "tag": "-", "body": ""])
    }

    @Test func manyRequestsAtOnceEachGetTheirOwnAnswer() async throws {
        let client = CurlHTTPClient(maxConnectionsPerHost: 4)
        defer { client.shutdown() }
        let answers = try await LoopbackServer.serve(Self.echoRouter()) { base in
            var all: [Result<Providers.HTTPResponse, HTTPClientError>] = []
            // Three rounds, so handles and connections are reused between them.
            for round in 0..<3 {
                all += await client.sendAll((0..<50).map { n in
                    Providers.HTTPRequest(method: "POST", url: base + "/echo", headers: [("X-Tag", "\(round)-\(n)")], body: Array("n=\(round)-\(n)".utf8), timeout: 120)
                })
            }
            return try all.map(Self.echo)
        }
        #expect(answers.count == 150)
        for (index, answer) in answers.enumerated() {
            let round = index / 50, n = index % 50
            #expect(answer["tag"] == "\(round)-\(n)" && answer["body"] == "n=\(round)-\(n)")
        }
    }
}
