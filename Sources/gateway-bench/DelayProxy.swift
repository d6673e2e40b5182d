import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP proxy that holds every chunk for half a round trip in each direction, the way
/// `tc netem delay` would on a link (this machine's kernel has no netem). The benchmark puts it
/// between the gateways and PostgreSQL to show what a network round trip does to the log's appends.
///
/// Each direction of each connection is two threads: one reads and stamps each chunk with the time
/// it may leave, one waits for that time and writes it; order is kept and bandwidth is not limited.
/// A chunk is held from when the read returned, so the proxy's own scheduling adds to the delay
/// (tens of microseconds here), never takes from it.
final class DelayProxy: Sendable {
    let port: Int
    private let listener: Int32
    private let target: sockaddr_in
    private let oneWayNanos: UInt64

    /// Listens on a free loopback port; every connection is forwarded to `targetPort` on 127.0.0.1.
    init(targetPort: Int, roundTripMilliseconds: Double) throws {
        oneWayNanos = UInt64(roundTripMilliseconds * 1_000_000 / 2)
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_addr.s_addr = inet_addr("127.0.0.1")
        target.sin_port = in_port_t(UInt16(targetPort).bigEndian)
        self.target = target
        signal(SIGPIPE, SIG_IGN)   // a write to a peer that reset is an error return, not the end of the benchmark
        (listener, port) = try loopbackListener(backlog: 256)
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var target = self.target
            let connected = upstream >= 0 && withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
            guard connected else {
                close(client)
                if upstream >= 0 { close(upstream) }
                continue
            }
            var yes: Int32 = 1
            for fd in [client, upstream] { setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size)) }
            let pair = SocketPair(client, upstream)
            DelayedPipe(from: client, to: upstream, delay: oneWayNanos, pair: pair).start()
            DelayedPipe(from: upstream, to: client, delay: oneWayNanos, pair: pair).start()
        }
    }
}

/// The two sockets of one proxied connection, closed when all four loops (a reader and a writer
/// per direction) are done, so no loop can touch a descriptor number the system gave out again.
private final class SocketPair: Sendable {
    private let open = Mutex(4)
    let fds: (Int32, Int32)
    init(_ a: Int32, _ b: Int32) { fds = (a, b) }

    /// One loop ended; after the last, both sockets are closed.
    func done() {
        let last = open.withLock { open in
            open -= 1
            return open == 0
        }
        if last { close(fds.0); close(fds.1) }
    }

    /// A write failed: the peer is gone, so both directions stop (their reads return at once).
    func abort() {
        shutdown(fds.0, Int32(SHUT_RDWR))
        shutdown(fds.1, Int32(SHUT_RDWR))
    }
}

/// One direction of a proxied connection: chunks read from `from` leave on `to` `delay` ns later.
private final class DelayedPipe: @unchecked Sendable {
    // @unchecked: `chunks`, `next` and `ended` are guarded by `condition` (an NSCondition, not a
    // Mutex: the writer waits on it for the reader's next chunk); the rest never changes.
    private let condition = NSCondition()
    private var chunks: [(due: UInt64, bytes: [UInt8])] = []
    private var next = 0
    private var ended = false
    private let from: Int32, to: Int32, delay: UInt64
    private let pair: SocketPair

    init(from: Int32, to: Int32, delay: UInt64, pair: SocketPair) {
        self.from = from
        self.to = to
        self.delay = delay
        self.pair = pair
    }

    func start() {
        Thread.detachNewThread { [self] in readLoop() }
        Thread.detachNewThread { [self] in writeLoop() }
    }

    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    private func readLoop() {
        defer { pair.done() }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            let due = Self.now() + delay
            condition.lock()
            if count > 0 { chunks.append((due, Array(buffer[0..<count]))) } else { ended = true }
            condition.signal()
            condition.unlock()
            if count <= 0 { return }
        }
    }

    private func writeLoop() {
        defer { pair.done() }
        while true {
            condition.lock()
            while next == chunks.count && !ended { condition.wait() }
            if next == chunks.count {
                condition.unlock()
                shutdown(to, Int32(SHUT_WR))   // the source said EOF: pass it on, after the data
                return
            }
            let chunk = chunks[next]
            next += 1
            if next > 1024 { chunks.removeFirst(next); next = 0 }
            condition.unlock()
            let now = Self.now()
            if chunk.due > now {
                let wait = chunk.due - now
                var time = timespec(tv_sec: Int(wait / 1_000_000_000), tv_nsec: Int(wait % 1_000_000_000))
                var left = timespec()
                while nanosleep(&time, &left) != 0 && errno == EINTR { time = left }
            }
            var offset = 0
            while offset < chunk.bytes.count {
                let written = chunk.bytes.withUnsafeBytes { write(to, $0.baseAddress! + offset, $0.count - offset) }
                if written < 0 && errno == EINTR { continue }
                if written <= 0 {
                    pair.abort()
                    return
                }
                offset += written
            }
        }
    }
}
