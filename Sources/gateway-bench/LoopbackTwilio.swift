import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The loopback Twilio of the benchmark: Twilio's Messages API on plain sockets, every kept-alive
/// connection served by two poll(2) threads, so the provider costs a few microseconds per request and
/// the gateway stays the thing measured (a Hummingbird fake took about 40 µs of CPU per request
/// here, a thread per connection about 22 µs).
///
/// It speaks the wire format the gateway's Twilio adapter uses: `POST
/// /2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic auth with the account SID and auth
/// token (401 with Twilio's error JSON otherwise), a form body with `To`, `From` and `Body`
/// (400 when one is missing), and `201 Created` with the message resource's `sid` and `status`.
/// Each accepted message is noted with its `To` number and the arrival time in ms since 1970.
final class LoopbackTwilio: @unchecked Sendable {
    // @unchecked: `arrivals`, `count` and `refused` are guarded by `lock`; the rest is immutable.
    private let lock = NSLock()
    /// The raw (still form-encoded) To of each accepted message, and when it arrived.
    private var arrivals: [([UInt8], Int64)] = []
    private var count = 0
    private var refused: [String] = []
    private let listener: Int32
    private let expectedRequestLine: [UInt8]
    private let authorization: [UInt8]
    let port: Int
    /// The auth token the gateways are given (as ${BENCH_TWILIO_AUTH_TOKEN}) and the fake checks.
    static let benchAuthToken = "bench-token"

    var received: Int { lock.withLock { count } }
    /// Requests answered with an error, with the reason: a benchmark with any is not valid.
    var refusals: [String] { lock.withLock { refused } }
    func take() -> [(String, Int64)] {
        let raw = lock.withLock { let a = arrivals; arrivals = []; return a }
        // "%2B5068..." → "+5068..." (decoded here, off the request path).
        return raw.map { to, at in (String(decoding: to, as: UTF8.self).replacingOccurrences(of: "%2B", with: "+"), at) }
    }

    init(accountSID: String, authToken: String) throws {
        expectedRequestLine = Array("POST /2010-04-01/Accounts/\(accountSID)/Messages.json HTTP/1.1".utf8)
        authorization = Array("Basic \(Data("\(accountSID):\(authToken)".utf8).base64EncodedString())".utf8)
        (listener, port) = try loopbackListener(backlog: 1024)
        _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
        for number in 1...Self.threads {
            let server = Thread { [self] in eventLoop() }
            server.name = "loopback twilio \(number)"
            server.start()
        }
    }

    /// One connection's unanswered bytes.
    private final class Connection {
        let fd: Int32
        var buffer: [UInt8] = []
        init(fd: Int32) { self.fd = fd; buffer.reserveCapacity(16 * 1024) }
    }

    /// Two threads, each accepting from the one listener: one alone kept the gateway waiting.
    static let threads = 2

    /// Accepts and serves connections on this thread, with poll(2): under load each wake-up finds
    /// many connections ready, so a request costs a recv, a send and a share of one poll, not a
    /// thread wake-up of its own. (The gateway keeps a few dozen connections, so poll's walk over
    /// them is cheap; epoll is not in Swift's Glibc module.)
    private func eventLoop() {
        var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
        var connections: [Connection?] = [nil]
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 { if errno == EINTR { continue }; return }
            var closed: [Int] = []
            for index in fds.indices where fds[index].revents != 0 {
                guard let connection = connections[index] else {
                    while true {
                        let fd = accept(listener, nil, nil)
                        if fd < 0 { break }
                        var yes: Int32 = 1
                        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
                        fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
                        connections.append(Connection(fd: fd))
                    }
                    continue
                }
                let n = chunk.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 || !serve(connection, chunk[..<n]) { closed.append(index) }
            }
            for index in closed.reversed() {
                close(fds[index].fd)
                fds.remove(at: index)
                connections.remove(at: index)
            }
        }
    }

    /// Takes bytes read off a connection and answers every request they complete, all answers in
    /// one send. False when the connection must be closed.
    private func serve(_ connection: Connection, _ bytes: ArraySlice<UInt8>) -> Bool {
        connection.buffer.append(contentsOf: bytes)
        var out: [UInt8] = []
        var keep = true
        let consumed = connection.buffer.withUnsafeBufferPointer { buffer -> Int in
            var start = 0
            while keep, let end = Self.headerEnd(buffer, from: start) {
                let head = UnsafeBufferPointer(rebasing: buffer[start..<end])
                guard let length = Self.header(Self.contentLengthName, in: head).flatMap(Self.decimal) else {
                    response(status: "411 Length Required", #"{"code":20001,"message":"Content-Length is required","status":411}"#, refusal: "no Content-Length", into: &out)
                    keep = false
                    break
                }
                guard buffer.count >= end + length else { break }
                handle(head: head, body: UnsafeBufferPointer(rebasing: buffer[end..<(end + length)]), into: &out)
                start = end + length
            }
            return start
        }
        if consumed > 0 { connection.buffer.removeSubrange(..<consumed) }
        return write(connection.fd, out) && keep
    }

    /// Where the head that starts at `from` ends (after its blank line), if it is all there.
    static func headerEnd(_ buffer: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var index = from
        while index + 3 < buffer.count {
            if buffer[index + 3] == 0x0A, buffer[index + 2] == 0x0D, buffer[index + 1] == 0x0A, buffer[index] == 0x0D { return index + 4 }
            index += 1
        }
        return nil
    }

    private static let contentLengthName = Array("content-length".utf8)
    private static let authorizationName = Array("authorization".utf8)
    private static let contentTypeName = Array("content-type".utf8)
    private static let formType = Array("application/x-www-form-urlencoded".utf8)
    private static let toName = Array("To".utf8), fromName = Array("From".utf8), bodyName = Array("Body".utf8)

    private func handle(head: UnsafeBufferPointer<UInt8>, body: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let lineEnd = head.firstIndex(of: 0x0D) ?? head.endIndex
        guard Self.equal(UnsafeBufferPointer(rebasing: head[..<lineEnd]), expectedRequestLine) else {
            return response(status: "404 Not Found", #"{"code":20404,"message":"The requested resource was not found","status":404}"#,
                            refusal: "unexpected request \(String(decoding: head[..<lineEnd], as: UTF8.self))", into: &out)
        }
        guard let credentials = Self.header(Self.authorizationName, in: head), Self.equal(credentials, authorization) else {
            return response(status: "401 Unauthorized", #"{"code":20003,"message":"Authenticate","status":401}"#, refusal: "bad or missing Basic auth", into: &out)
        }
        guard let type = Self.header(Self.contentTypeName, in: head), type.starts(with: Self.formType) else {
            return response(status: "400 Bad Request", #"{"code":21000,"message":"form body expected","status":400}"#, refusal: "not a form body", into: &out)
        }
        guard let to = Self.field(Self.toName, in: body), Self.field(Self.fromName, in: body) != nil, Self.field(Self.bodyName, in: body) != nil else {
            return response(status: "400 Bad Request", #"{"code":21604,"message":"A 'To', 'From' and 'Body' are required","status":400}"#, refusal: "To, From or Body missing", into: &out)
        }
        let at = Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
        let n = lock.withLock { () -> Int in
            arrivals.append((Array(to), at))
            count += 1
            return count
        }
        response(status: "201 Created", #"{"sid":"SM\#(String(n, radix: 16))","status":"queued"}"#, refusal: nil, into: &out)
    }

    private func response(status: String, _ body: String, refusal: String?, into out: inout [UInt8]) {
        if let refusal { lock.withLock { refused.append(refusal) } }
        out += "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8
    }

    private func write(_ connection: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(connection, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ expected: [UInt8]) -> Bool {
        bytes.count == expected.count && bytes.elementsEqual(expected)
    }

    /// A header's value (`name` in lower case; matched case-insensitively), without surrounding spaces.
    static func header(_ name: [UInt8], in head: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        var lineStart = (head.firstIndex(of: 0x0A) ?? head.endIndex) + 1
        while lineStart < head.endIndex {
            var lineEnd = lineStart
            while lineEnd < head.endIndex, head[lineEnd] != 0x0D { lineEnd += 1 }
            if lineEnd - lineStart > name.count, head[lineStart + name.count] == 0x3A,
               name.indices.allSatisfy({ head[lineStart + $0] | 0x20 == name[$0] }) {
                var from = lineStart + name.count + 1, to = lineEnd
                while from < to, head[from] == 0x20 { from += 1 }
                while to > from, head[to - 1] == 0x20 { to -= 1 }
                return UnsafeBufferPointer(rebasing: head[from..<to])
            }
            lineStart = lineEnd + 2
        }
        return nil
    }

    static func decimal(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.count < 10 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    /// A form field's still-encoded value.
    static func field(_ name: [UInt8], in body: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        var start = body.startIndex
        while start < body.endIndex {
            var end = start
            while end < body.endIndex, body[end] != 0x26 { end += 1 }
            if end - start > name.count, body[start + name.count] == 0x3D,
               name.indices.allSatisfy({ body[start + $0] == name[$0] }) {
                return UnsafeBufferPointer(rebasing: body[(start + name.count + 1)..<end])
            }
            start = end + 1
        }
        return nil
    }
}

/// A TCP socket listening on a free port of 127.0.0.1 (the fake provider's, the delay proxy's).
func loopbackListener(backlog: Int32) throws -> (descriptor: Int32, port: Int) {
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard listener >= 0 else { throw BenchError("socket: errno \(errno)") }
    var yes: Int32 = 1
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(listener, backlog) == 0 else {
        close(listener)
        throw BenchError("bind/listen on 127.0.0.1: errno \(errno)")
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
    }
    return (listener, Int(UInt16(bigEndian: address.sin_port)))
}
