import Foundation
import Hummingbird
import NIOCore
import Synchronization
import Testing
import TestSupport
@testable import Providers

/// The client hands libcurl at most as many requests per origin as it may open connections to it;
/// the rest wait in the client, in order, and a request that waited past its time limit is never sent.
@Suite struct CurlInFlightLimitTests {
    /// Answers `/work` after `delay` ms (from the query), counting the requests it is working on.
    final class Counter: Sendable {
        let state = Mutex((now: 0, most: 0, seen: 0))
        func enter() { state.withLock { $0.now += 1; $0.seen += 1; $0.most = max($0.most, $0.now) } }
        func leave() { state.withLock { $0.now -= 1 } }
    }

    static func router(_ counter: Counter) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/work") { request, _ -> Response in
            counter.enter()
            defer { counter.leave() }
            let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
            let delay = Int(request.uri.queryParameters["delay"].map(String.init) ?? "0") ?? 0
            try await Task.sleep(for: .milliseconds(delay))
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        return router
    }

    @Test func requestsOverTheLimitWaitTheirTurnAndEachGetsItsAnswer() async throws {
        let counter = Counter()
        let client = CurlHTTPClient(maxConnectionsPerHost: 3)
        defer { client.shutdown() }
        let answers = try await LoopbackServer.serve(Self.router(counter)) { base in
            await client.sendAll((0..<40).map { n in
                Providers.HTTPRequest(method: "POST", url: base + "/work?delay=10", body: Array("n=\(n)".utf8), timeout: 120)
            })
        }
        #expect(try answers.map { String(decoding: try $0.get().body, as: UTF8.self) } == (0..<40).map { "n=\($0)" })
        let state = counter.state.withLock { $0 }
        #expect(state.seen == 40)
        #expect(state.most <= 3)
    }

    @Test func oneSlowOriginDoesNotHoldUpAnother() async throws {
        let client = CurlHTTPClient(maxConnectionsPerHost: 1)
        defer { client.shutdown() }
        final class Order: Sendable { let names = Mutex<[String]>([]) }
        let order = Order()
        // The slow origin answers only once the other origin's request has been answered (or after
        // 60 s): a client that held "fast" behind "slow-1" would see slow-1 answered first. What is
        // checked is the order of the answers, not how long anything took.
        let slowRouter = Router()
        slowRouter.post("/work") { request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
            let deadline = ContinuousClock.now.advanced(by: .seconds(60))
            while !order.names.withLock({ $0.contains("fast") }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        try await LoopbackServer.serve(slowRouter) { slow in
            try await LoopbackServer.serve(Self.router(Counter())) { fast in
                await withTaskGroup(of: Void.self) { group in
                    for (name, url) in [("slow-1", slow + "/work"), ("slow-2", slow + "/work"), ("fast", fast + "/work")] {
                        group.addTask {
                            _ = try? await client.send(Providers.HTTPRequest(method: "POST", url: url, body: Array(name.utf8), timeout: 120)).status
                            order.names.withLock { $0.append(name) }
                        }
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                }
            }
        }
        // slow-2 waits for slow-1's connection; the other origin's request does not.
        let answered = order.names.withLock { $0 }
        #expect(answered.first == "fast", "\(answered)")
        #expect(answered.sorted() == ["fast", "slow-1", "slow-2"])
    }

    @Test func aRequestThatWaitedPastItsTimeLimitIsNotSent() async throws {
        let counter = Counter()
        let client = CurlHTTPClient(maxConnectionsPerHost: 1)
        defer { client.shutdown() }
        let answers = try await LoopbackServer.serve(Self.router(counter)) { base in
            await client.sendAll([
                Providers.HTTPRequest(method: "POST", url: base + "/work?delay=1000", body: Array("first".utf8), timeout: 120),
                Providers.HTTPRequest(method: "POST", url: base + "/work", body: Array("second".utf8), timeout: 0.3),
                Providers.HTTPRequest(method: "POST", url: base + "/work", body: Array("third".utf8), timeout: 0.3),
            ])
        }
        #expect(try answers[0].get().status == 200)
        for answer in answers.dropFirst() {
            guard case .failure(let error) = answer else {
                Issue.record("a request that waited past its time limit was sent")
                continue
            }
            // Certainly not received: a connect-kind failure, which the providers retry safely.
            #expect(error.kind == .connect)
            #expect(error.message.contains("not sent"))
        }
        #expect(counter.state.withLock { $0.seen } == 1)
    }
}
