import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A loopback HTTP/1.1 provider on plain sockets, for what a framework server will not do: once
/// told to, it reads each request whole (headers and its Content-Length body) and then closes the
/// connection without a byte of answer, as a provider that fails right after taking a request
/// does; or, told to, answers with bytes that are no HTTP response, as a broken proxy might. Until
/// then it answers every POST 201 with a Twilio message resource (`sid`, `status`) and keeps the
/// connection alive, so a client has pooled connections that later die under it.
public final class DroppingProvider: @unchecked Sendable {
    // @unchecked: the mutable state is behind `lock`; the sockets are only closed through it.
    public struct Received: Sendable, Equatable {
        public var method: String
        public var path: String
        public var body: String
        /// Which accepted connection (1, 2...) the request came on.
        public var connection: Int
    }

    private let lock = NSLock()
    private var received: [Received] = []
    private var dropping = false
    private var garbage: [UInt8]?
    private var accepted = 0
    private var sockets: Set<Int32> = []
    private var stopped = false
    private let listener: Int32
    public let port: Int

    /// Listens on a free loopback port at once.
    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError("socket: errno \(errno)") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw ServerError("bind/listen on 127.0.0.1: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "dropping provider"
        thread.start()
    }

    public struct ServerError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    /// Every request read in full, in order.
    public var requests: [Received] { lock.withLock { received } }
    /// Connections accepted so far.
    public var connections: Int { lock.withLock { accepted } }
    /// From now on, close each connection after reading a request instead of answering it.
    public func dropAfterReading(_ drop: Bool = true) { lock.withLock { dropping = drop } }
    /// From now on, answer each request whole with these bytes and close the connection (nil: answer normally).
    public func answerWith(_ bytes: String?) { lock.withLock { garbage = bytes.map { Array($0.utf8) } } }

    /// Stops listening and closes every connection.
    public func stop() {
        // shutdown wakes the accept and reads blocked on these sockets; each thread closes its own.
        // Under the lock: a thread takes its socket out of the set (under the lock) before closing
        // it, so every descriptor shut down here is still this server's, not a number the process
        // has since given to another test's socket.
        lock.withLock {
            stopped = true
            for fd in sockets { _ = shutdown(fd, Int32(SHUT_RDWR)) }
            sockets.removeAll()
        }
        _ = shutdown(listener, Int32(SHUT_RDWR))
    }

    deinit { close(listener) }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                return
            }
            let number: Int? = lock.withLock {
                if stopped { return nil }
                accepted += 1
                sockets.insert(fd)
                return accepted
            }
            guard let number else {
                close(fd)
                return
            }
            let thread = Thread { [self] in serve(fd, connection: number) }
            thread.start()
        }
    }

    /// Reads requests off one connection until it closes (or this server closes it).
    private func serve(_ fd: Int32, connection: Int) {
        defer {
            lock.withLock { _ = sockets.remove(fd) }
            close(fd)
        }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        func fill() -> Bool {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { return false }
            buffer += chunk[0..<n]
            return true
        }
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            var headEnd: Int?
            while headEnd == nil {
                if let range = buffer.firstRange(of: separator) { headEnd = range.upperBound } else if !fill() { return }
            }
            let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
            let lines = head.split(separator: "\r\n")
            let start = lines.first?.split(separator: " ") ?? []
            var length = 0
            for line in lines.dropFirst() {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, parts[0].lowercased() == "content-length" {
                    length = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            while buffer.count < headEnd! + length {
                if !fill() { return }
            }
            let body = String(decoding: buffer[headEnd!..<(headEnd! + length)], as: UTF8.self)
            buffer.removeFirst(headEnd! + length)
            let (drop, answer, count): (Bool, [UInt8]?, Int) = lock.withLock {
                received.append(Received(method: start.first.map(String.init) ?? "", path: start.count > 1 ? String(start[1]) : "",
                                         body: body, connection: connection))
                return (dropping, garbage, received.count)
            }
            if drop { return }
            if let answer {
                _ = answer.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                return
            }
            let resource = #"{"sid":"SM\#(String(format: "%032x", count))","status":"queued"}"#
            let response = Array("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: \(resource.utf8.count)\r\n\r\n\(resource)".utf8)
            let sent = response.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent != response.count { return }
        }
    }
}
