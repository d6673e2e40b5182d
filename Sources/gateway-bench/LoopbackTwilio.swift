import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The loopback Twilio of the benchmark: Twilio's Messages API on plain sockets, one thread per
/// kept-alive connection, so the provider costs a few microseconds per request and the gateway
/// stays the thing measured (a Hummingbird fake took about 40 µs of CPU per request here).
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
        guard bound == 0, listen(listener, 1024) == 0 else { throw BenchError("bind/listen on 127.0.0.1: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = listener
        let acceptor = Thread { [self] in acceptLoop() }
        acceptor.name = "twilio accept"
        acceptor.start()
    }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            var yes: Int32 = 1
            setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
            let thread = Thread { [self] in serve(connection) }
            thread.stackSize = 256 * 1024
            thread.start()
        }
    }

    private static let headerEnd: [UInt8] = Array("\r\n\r\n".utf8)

    /// Reads requests off one connection until the peer closes it, answering each in turn.
    private func serve(_ connection: Int32) {
        defer { close(connection) }
        var buffer = [UInt8]()
        buffer.reserveCapacity(16 * 1024)
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            // Answer every complete request already buffered.
            while let end = buffer.firstRange(of: Self.headerEnd)?.upperBound {
                let head = buffer[..<end]
                guard let length = Self.contentLength(head) else {
                    respond(connection, status: "411 Length Required", body: #"{"code":20001,"message":"Content-Length is required","status":411}"#, refusal: "no Content-Length")
                    return
                }
                guard buffer.count >= end + length else { break }
                let answer = handle(head: head, body: buffer[end..<(end + length)])
                if !write(connection, answer) { return }
                buffer.removeSubrange(..<(end + length))
            }
            let n = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            buffer.append(contentsOf: chunk[..<n])
        }
    }

    private func handle(head: ArraySlice<UInt8>, body: ArraySlice<UInt8>) -> [UInt8] {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let lineEnd = head.firstIndex(of: 0x0D) ?? head.endIndex
        guard head[..<lineEnd].elementsEqual(expectedRequestLine) else {
            return response("404 Not Found", #"{"code":20404,"message":"The requested resource was not found","status":404}"#,
                            refusal: "unexpected request \(String(decoding: head[..<lineEnd], as: UTF8.self))")
        }
        guard Self.header("authorization", in: head).map({ $0.elementsEqual(authorization) }) == true else {
            return response("401 Unauthorized", #"{"code":20003,"message":"Authenticate","status":401}"#, refusal: "bad or missing Basic auth")
        }
        guard Self.header("content-type", in: head).map({ $0.starts(with: "application/x-www-form-urlencoded".utf8) }) == true else {
            return response("400 Bad Request", #"{"code":21000,"message":"form body expected","status":400}"#, refusal: "not a form body")
        }
        let to = Self.field("To", in: body)
        guard let to, Self.field("From", in: body) != nil, Self.field("Body", in: body) != nil else {
            return response("400 Bad Request", #"{"code":21604,"message":"A 'To', 'From' and 'Body' are required","status":400}"#, refusal: "To, From or Body missing")
        }
        let n = lock.withLock { () -> Int in
            arrivals.append((Array(to), now))
            count += 1
            return count
        }
        return response("201 Created", #"{"sid":"SM\#(String(n, radix: 16))","status":"queued"}"#, refusal: nil)
    }

    private func response(_ status: String, _ body: String, refusal: String?) -> [UInt8] {
        if let refusal { lock.withLock { refused.append(refusal) } }
        return Array("HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
    }

    private func respond(_ connection: Int32, status: String, body: String, refusal: String) {
        _ = write(connection, response(status, body, refusal: refusal))
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

    /// A header's value (case-insensitive name), without surrounding spaces.
    static func header(_ name: String, in head: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        let wanted = Array(name.utf8)
        var lineStart = head.startIndex
        while lineStart < head.endIndex {
            let lineEnd = head[lineStart...].firstIndex(of: 0x0D) ?? head.endIndex
            let line = head[lineStart..<lineEnd]
            if let colon = line.firstIndex(of: 0x3A), colon - line.startIndex == wanted.count,
               zip(line[..<colon], wanted).allSatisfy({ ($0 | 0x20) == $1 }) {
                var value = line[(colon + 1)...]
                while value.first == 0x20 { value = value.dropFirst() }
                while value.last == 0x20 { value = value.dropLast() }
                return value
            }
            lineStart = lineEnd + 2
        }
        return nil
    }

    static func contentLength(_ head: ArraySlice<UInt8>) -> Int? {
        header("content-length", in: head).flatMap { Int(String(decoding: $0, as: UTF8.self)) }
    }

    /// A form field's still-encoded value.
    static func field(_ name: String, in body: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        for pair in body.split(separator: UInt8(ascii: "&")) {
            guard let equals = pair.firstIndex(of: UInt8(ascii: "=")), pair[..<equals].elementsEqual(name.utf8) else { continue }
            return pair[(equals + 1)...]
        }
        return nil
    }
}
