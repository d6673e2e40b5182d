internal import CCurl
import Foundation

/// An HTTP client on one libcurl multi handle, driven by its own thread. Many requests are in
/// flight at once on kept-alive connections (HTTP/2 multiplexed where the server speaks it);
/// callers simply `await send(_:)` from as many tasks as they like.
public final class CurlHTTPClient: Sendable {
    private let engine: Engine

    /// How long, in seconds, a kept-alive connection may sit idle and still be used again (libcurl's
    /// own default is 118 s). A server closes an idle connection after its own timeout, and a
    /// request written at the moment it does is lost on the way, possibly after the server read it:
    /// that ends as `possiblyDelivered`, never sent again. libcurl already checks a pooled
    /// connection before reusing it (a close that arrived earlier is seen and the connection
    /// dropped), so only that moment is at risk; staying under the servers' idle timeouts avoids it.
    /// Common ones: AWS ALB and GCP load balancers 60 s idle, Azure 4 min, nginx keepalive_timeout
    /// 75 s, Envoy 1 h; 25 s is under all of these. (Apache httpd's and Node's 5 s defaults are not
    /// covered; a provider behind one of those still races, rarely, once per idle connection.)
    public static let defaultMaxIdleSeconds = 25

    /// The idle age above which a kept-alive connection is not used again (`CURLOPT_MAXAGE_CONN`).
    public let maxIdleSeconds: Int

    /// The most an answer may hold, headers and body together, before the transfer is cut off (as a
    /// failure: after the whole request went out, `possiblyDelivered`). A provider's answer is a few
    /// kilobytes (Infobip's bulk answer a few hundred bytes a message); without a limit a
    /// broken or hostile endpoint streaming an endless answer would grow the worker's memory until
    /// the request's time limit, on each of its connections.
    public static let defaultMaxResponseBytes = 2 << 20

    public init(maxConnectionsPerHost: Int = 32, maxIdleSeconds: Int = CurlHTTPClient.defaultMaxIdleSeconds,
                maxResponseBytes: Int = CurlHTTPClient.defaultMaxResponseBytes) {
        CurlGlobal.initialize()
        self.maxIdleSeconds = max(1, maxIdleSeconds)
        engine = Engine(maxConnectionsPerHost: maxConnectionsPerHost, maxIdleSeconds: max(1, maxIdleSeconds),
                        maxResponseBytes: max(1, maxResponseBytes))
        let thread = Thread { [engine] in engine.loop() }
        thread.name = "curl multi"
        thread.start()
    }

    deinit {
        engine.stop()
    }

    public func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        let result: Result<HTTPResponse, HTTPClientError> = await withCheckedContinuation { continuation in
            engine.submit([(request, { @Sendable in continuation.resume(returning: $0) })])
        }
        return try result.get()
    }

    /// Many requests at once, all in flight together; the answers come back in request order.
    /// One suspension for the whole batch (not one task per request): the curl thread fills in the
    /// answers and resumes the caller when the last one is in.
    public func sendAll(_ requests: [HTTPRequest]) async -> [Result<HTTPResponse, HTTPClientError>] {
        guard !requests.isEmpty else { return [] }
        return await withCheckedContinuation { continuation in
            let batch = BatchAnswers(count: requests.count) { continuation.resume(returning: $0) }
            engine.submit(requests.enumerated().map { index, request in (request, { batch.set(index, $0) }) })
        }
    }

    /// Many requests at once, each answer handed to `each` (with the request's index) as soon as it
    /// arrives, on the curl thread; returns when every request has had its answer. One hand-over
    /// to the curl thread and one suspension for them all.
    public func sendAll(_ requests: [HTTPRequest], each: @escaping @Sendable (Int, Result<HTTPResponse, HTTPClientError>) -> Void) async {
        guard !requests.isEmpty else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let countdown = Countdown(requests.count) { continuation.resume() }
            engine.submit(requests.enumerated().map { index, request in
                (request, { answer in
                    each(index, answer)
                    countdown.tick()
                })
            })
        }
    }

    /// Scheme, host and port of a URL ("https://api.twilio.com:443" of "https://api.twilio.com:443/x").
    static func origin(of url: String) -> Substring {
        let bytes = url.utf8
        // Past "scheme://", up to the first "/", "?" or "#".
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")),
              bytes[colon...].starts(with: "://".utf8) else { return Substring(url) }
        let host = bytes.index(colon, offsetBy: 3)
        let end = bytes[host...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? bytes.endIndex
        return url[..<end]
    }

    /// Stops the thread; requests still in flight fail with a shutdown error.
    public func shutdown() {
        engine.stop()
    }
}

private enum CurlGlobal {
    static let initialized: Bool = {
        // CURL_GLOBAL_ALL is a macro Swift cannot import: SSL (1) | WIN32 (2).
        curl_global_init(3) == CURLE_OK
    }()

    static func initialize() { _ = initialized }
}

/// The answers of one `sendAll`, filled in by the curl thread (or by `submit` refusing a request
/// after shutdown); the lock keeps that safe from either side.
private final class BatchAnswers: @unchecked Sendable {
    // @unchecked: `answers` and `remaining` are guarded by `lock`.
    private let lock = NSLock()
    private var answers: [Result<HTTPResponse, HTTPClientError>?]
    private var remaining: Int
    private let done: @Sendable ([Result<HTTPResponse, HTTPClientError>]) -> Void

    init(count: Int, done: @escaping @Sendable ([Result<HTTPResponse, HTTPClientError>]) -> Void) {
        answers = Array(repeating: nil, count: count)
        remaining = count
        self.done = done
    }

    func set(_ index: Int, _ answer: Result<HTTPResponse, HTTPClientError>) {
        lock.lock()
        answers[index] = answer
        remaining -= 1
        let finished = remaining == 0 ? answers.map { $0! } : nil
        lock.unlock()
        if let finished { done(finished) }
    }
}

/// Calls `done` once, when `tick` has been called `count` times (from any threads).
private final class Countdown: @unchecked Sendable {
    // @unchecked: `remaining` is guarded by `lock`.
    private let lock = NSLock()
    private var remaining: Int
    private let done: @Sendable () -> Void

    init(_ count: Int, done: @escaping @Sendable () -> Void) {
        remaining = count
        self.done = done
    }

    func tick() {
        lock.lock()
        remaining -= 1
        let finished = remaining == 0
        lock.unlock()
        if finished { done() }
    }
}

/// What decides which options a request sets on its handle. Options that vary within one shape
/// (URL, body, headers, timeouts) are set by every request; so a handle whose last request had the
/// same shape can be reused without `curl_easy_reset`, which is costly per request.
private struct HandleShape: Equatable {
    var method: String
    var caFile: String?
    var user: String?
    var password: String?
    var mail: Bool

    init(_ request: HTTPRequest) {
        method = request.method
        caFile = request.caFile
        user = request.basicAuth?.user
        password = request.basicAuth?.password
        mail = request.mail != nil
    }
}

/// Whether libcurl may send a request again by itself, within one call (`prereqCallback` asks).
/// libcurl 7.88 sends a request anew when (lib/transfer.c, Curl_retry_request): a reused
/// connection died before any byte of the answer (HTTP/1.1: the server closed it as the request
/// went out; HTTP/2: a read or write error on it), or an HTTP/2 stream was refused. Only the last is
/// safe: RFC 9113 §8.7 says a stream reset with REFUSED_STREAM, and every stream above a GOAWAY's
/// last-stream-id, was not processed, so the request can go again (libcurl reaches this on either:
/// nghttp2 closes a GOAWAY's unprocessed streams with REFUSED_STREAM). libcurl reports no error for
/// a refused stream (it logs at debug level only), while every other way a sending dies records
/// one (lib/cf-socket.c "Send failure"/"Recv failure", the TLS layer's, lib/http2.c "Failed
/// receiving HTTP2 data") in the transfer's error buffer. HTTP/1.1's closed-on-reuse records none,
/// hence the HTTP/2 condition. The connection's HTTP version cannot be read in the callback:
/// CURLINFO_HTTP_VERSION is 0 until a status line arrives (Curl_initinfo, Curl_http_statusline),
/// and a request is only sent again when none did; so "HTTP/2" here is the origin's last answer.
enum ResendPolicy {
    /// - Parameters:
    ///   - requestBytesSent: CURLINFO_REQUEST_SIZE, the request bytes this call already put out.
    ///   - multiplexedOrigin: the origin's last answer came over HTTP/2 (or 3).
    ///   - errorRecorded: libcurl wrote an error for this call (its error buffer is not empty).
    static func mayResend(requestBytesSent: Int, multiplexedOrigin: Bool, errorRecorded: Bool) -> Bool {
        // Nothing went out yet: this is the first sending, or a retry of one that never left.
        if requestBytesSent == 0 { return true }
        return multiplexedOrigin && !errorRecorded
    }
}

/// One request in flight: its easy handle, what has arrived so far, and who to tell.
private final class Transfer {
    let easy: UnsafeMutableRawPointer
    /// The handle's error buffer (CURLOPT_ERRORBUFFER, CURL_ERROR_SIZE bytes), kept with the handle.
    let errors: UnsafeMutablePointer<CChar>
    let shape: HandleShape
    /// The scheme, host and port this request goes to: what the in-flight limit counts by.
    let origin: Substring
    let completion: @Sendable (Result<HTTPResponse, HTTPClientError>) -> Void
    var headerList: UnsafeMutablePointer<curl_slist>?
    var recipientList: UnsafeMutablePointer<curl_slist>?
    /// What an upload (an SMTP message) reads from, and how far it got.
    var upload: [UInt8] = []
    var uploadOffset = 0
    /// The size of the request body.
    var bodyLength = 0
    /// libcurl was about to send the request again, after bytes of it had gone out, and was refused.
    var resendRefused = false
    /// The origin's last answer came over HTTP/2 or 3, when this request started (see `ResendPolicy`).
    var multiplexedOrigin = false
    var body: [UInt8] = []
    var headers: [(String, String)] = []
    /// Bytes of the answer (header lines and body) left before it is cut off; below 0 once it was.
    var answerRoom: Int

    init(easy: UnsafeMutableRawPointer, errors: UnsafeMutablePointer<CChar>, shape: HandleShape, origin: Substring,
         answerLimit: Int, completion: @escaping @Sendable (Result<HTTPResponse, HTTPClientError>) -> Void) {
        self.easy = easy
        self.errors = errors
        self.shape = shape
        self.origin = origin
        self.answerRoom = answerLimit
        self.completion = completion
    }

    /// Counts `length` bytes of the answer against its limit: false (and the transfer marked cut off) past it.
    func takeAnswer(_ length: Int) -> Bool {
        answerRoom -= length
        return answerRoom >= 0
    }
}

/// The state shared by callers and the curl thread.
/// @unchecked Sendable: `pending` and `stopping` are guarded by `lock`; `multi`, the epoll set and
/// `events` are only used by the curl thread; `wakeFD` is an eventfd, written from any thread.
private final class Engine: @unchecked Sendable {
    typealias Completion = @Sendable (Result<HTTPResponse, HTTPClientError>) -> Void
    /// What a request gets when the client stops before or while it is sent.
    static let shutDown = HTTPClientError(kind: .other, curlCode: -1, message: "HTTP client is shut down")
    private let lock = NSLock()
    private var pending: [(HTTPRequest, Completion)] = []
    private var stopping = false
    private let multi: UnsafeMutableRawPointer
    private let epollFD: Int32
    private let wakeFD: Int32
    /// The epoll set and libcurl's timer, shared with the C callbacks.
    private let events: UnsafeMutablePointer<gw_event_loop>
    // Curl-thread only:
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]
    /// Handles kept for reuse (with their kept-alive connections), each with the shape of its last request.
    private var idleHandles: [(handle: UnsafeMutableRawPointer, errors: UnsafeMutablePointer<CChar>, shape: HandleShape)] = []
    /// Per origin: requests handed to libcurl and not finished, requests waiting for one of those to
    /// finish, and whether the origin answers over HTTP/2 or 3 (many requests share a connection).
    private var origins: [Substring: Origin] = [:]
    private let maxConnectionsPerHost: Int
    private let maxIdleSeconds: Int
    private let maxResponseBytes: Int

    /// libcurl gets at most as many requests for an origin as it may open connections to it (a
    /// hundred times that once the origin multiplexes); the rest wait here, in order. Requests over
    /// the limit would wait in libcurl's own pending list, which it walks again whenever a
    /// connection frees up: with a worker's 1,024 requests in flight on 32 connections that cost
    /// about 28 µs a request, half of the whole client (`scripts/bench --floor`).
    private final class Origin {
        var inFlight = 0
        var waiting: [(request: HTTPRequest, completion: Completion, since: Int64)] = []
        var next = 0
        var multiplexed = false
    }

    init(maxConnectionsPerHost: Int, maxIdleSeconds: Int, maxResponseBytes: Int) {
        self.maxIdleSeconds = maxIdleSeconds
        self.maxResponseBytes = maxResponseBytes
        multi = curl_multi_init()
        epollFD = gw_epoll_open()
        wakeFD = gw_eventfd_open()
        precondition(epollFD >= 0 && wakeFD >= 0, "cannot create the HTTP client's epoll set: errno \(errno)")
        self.maxConnectionsPerHost = maxConnectionsPerHost
        _ = gw_epoll_add_reader(epollFD, wakeFD)
        events = .allocate(capacity: 1)
        events.initialize(to: gw_event_loop(multi: multi, epfd: epollFD, deadline: -1))
        _ = gw_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost)
        _ = gw_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConnectionsPerHost * 4)
        _ = gw_multi_use_epoll(events)
    }

    /// Hands requests to the curl thread, waking it once.
    func submit(_ requests: [(HTTPRequest, Completion)]) {
        lock.lock()
        if stopping {
            lock.unlock()
            for (_, completion) in requests {
                completion(.failure(Self.shutDown))
            }
            return
        }
        pending += requests
        lock.unlock()
        gw_eventfd_signal(wakeFD)
    }

    func stop() {
        lock.lock()
        stopping = true
        lock.unlock()
        gw_eventfd_signal(wakeFD)
    }

    func loop() {
        var fds = [Int32](repeating: 0, count: 256)
        var bits = [Int32](repeating: 0, count: 256)
        var running: Int32 = 0
        while true {
            lock.lock()
            let submitted = pending
            pending.removeAll(keepingCapacity: true)
            let stop = stopping
            lock.unlock()
            let now = gw_monotonic_ms()
            for (request, completion) in submitted { admit(request, completion: completion, since: now) }
            if stop {
                for origin in origins.values {
                    for waiting in origin.waiting[origin.next...] { waiting.completion(.failure(Self.shutDown)) }
                }
                origins.removeAll()
                for transfer in active.values {
                    curl_multi_remove_handle(multi, transfer.easy)
                    finish(transfer, .failure(Self.shutDown))
                }
                active.removeAll()
                for (handle, errors, _) in idleHandles {
                    curl_easy_cleanup(handle)
                    errors.deallocate()
                }
                idleHandles.removeAll()
                curl_multi_cleanup(multi)
                close(epollFD)
                close(wakeFD)
                events.deallocate()
                return
            }
            // Sleep until a socket is ready, libcurl's timer is due, or a request is submitted.
            let due = events.pointee.deadline
            let timeout: Int32 = due < 0 ? 1000 : Int32(clamping: max(0, due - gw_monotonic_ms()))
            let count = gw_epoll_wait(epollFD, &fds, &bits, Int32(fds.count), timeout)
            for index in 0..<max(0, Int(count)) {
                if fds[index] == wakeFD {
                    gw_eventfd_drain(wakeFD)
                } else {
                    curl_multi_socket_action(multi, fds[index], bits[index], &running)
                }
            }
            let timer = events.pointee.deadline
            if timer >= 0, timer <= gw_monotonic_ms() {
                // Cleared first: libcurl may set a new timer while it runs.
                events.pointee.deadline = -1
                curl_multi_socket_action(multi, gw_socket_timeout(), 0, &running)
            }
            collectFinished()
        }
    }

    /// Starts the request if its origin is under its in-flight limit, else queues it.
    private func admit(_ request: HTTPRequest, completion: @escaping Completion, since: Int64) {
        let origin = CurlHTTPClient.origin(of: request.url)
        let state = origins[origin] ?? { let fresh = Origin(); origins[origin] = fresh; return fresh }()
        if state.inFlight < limit(state) {
            state.inFlight += 1
            start(request, origin: origin, multiplexed: state.multiplexed, completion: completion, waited: 0)
        } else {
            state.waiting.append((request, completion, since))
        }
    }

    private func limit(_ origin: Origin) -> Int {
        origin.multiplexed ? maxConnectionsPerHost * 100 : maxConnectionsPerHost
    }

    /// A request of `origin` finished: the next ones waiting take its place. A request that waited
    /// longer than its time limit fails without being sent (so it is certainly not received).
    private func release(_ origin: Substring, multiplexed: Bool?) {
        guard let state = origins[origin] else { return }
        state.inFlight -= 1
        if let multiplexed { state.multiplexed = multiplexed }
        var starts: [(HTTPRequest, Completion, Int64)] = []
        var expired: [(Completion, Int64)] = []
        let now = gw_monotonic_ms()
        while state.inFlight < limit(state), state.next < state.waiting.count {
            let waiting = state.waiting[state.next]
            state.next += 1
            if now - waiting.since >= Int64(waiting.request.timeout * 1000) {
                expired.append((waiting.completion, now - waiting.since))
            } else {
                state.inFlight += 1
                starts.append((waiting.request, waiting.completion, now - waiting.since))
            }
        }
        if state.next == state.waiting.count {
            state.waiting.removeAll(keepingCapacity: true)
            state.next = 0
        } else if state.next > 1024, state.next * 2 > state.waiting.count {
            state.waiting.removeFirst(state.next)
            state.next = 0
        }
        if state.inFlight == 0, state.waiting.isEmpty, !state.multiplexed { origins[origin] = nil }
        for (completion, waited) in expired {
            completion(.failure(HTTPClientError(kind: .connect, curlCode: Int(CURLE_OPERATION_TIMEDOUT.rawValue),
                                                message: "not sent: no connection to \(origin) came free within the \(waited) ms time limit")))
        }
        for (request, completion, waited) in starts {
            start(request, origin: origin, multiplexed: state.multiplexed, completion: completion, waited: waited)
        }
    }

    /// Hands the request to libcurl; `waited` ms of its time limit were spent waiting for a connection.
    private func start(_ request: HTTPRequest, origin: Substring, multiplexed: Bool,
                       completion: @escaping @Sendable (Result<HTTPResponse, HTTPClientError>) -> Void, waited: Int64) {
        let easy: UnsafeMutableRawPointer
        let errors: UnsafeMutablePointer<CChar>
        let shape = HandleShape(request)
        // Same shape: the handle keeps the options the shape decides, and every option that varies
        // within a shape is set again below, so neither a reset nor setting those again is needed.
        // (Mail is always reset: its options vary more, and it is rare.)
        var sameShape = false
        if !shape.mail, let index = idleHandles.lastIndex(where: { $0.shape == shape }) {
            (easy, errors, _) = idleHandles.remove(at: index)
            sameShape = true
        } else if let (reused, buffer, _) = idleHandles.popLast() {
            curl_easy_reset(reused)
            easy = reused
            errors = buffer
        } else if let fresh = curl_easy_init() {
            easy = fresh
            errors = .allocate(capacity: Int(CURL_ERROR_SIZE))
            errors.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        } else {
            completion(.failure(HTTPClientError(kind: .other, curlCode: -1, message: "curl_easy_init failed")))
            release(origin, multiplexed: nil)
            return
        }
        let transfer = Transfer(easy: easy, errors: errors, shape: shape, origin: origin, answerLimit: maxResponseBytes, completion: completion)
        transfer.multiplexedOrigin = multiplexed
        let userdata = Unmanaged.passUnretained(transfer).toOpaque()
        var code = CURLE_OK
        func set(_ result: CURLcode) { if result != CURLE_OK, code == CURLE_OK { code = result } }
        set(gw_easy_setopt_string(easy, CURLOPT_URL, request.url))
        set(gw_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(1, Int(request.timeout * 1000) - Int(waited))))
        set(gw_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(request.connectTimeout * 1000)))
        set(gw_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, userdata))
        set(gw_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, userdata))
        if !sameShape {
            // Only the protocols the request is for: a mistyped URL must never read a file or talk to another service.
            set(gw_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, request.mail == nil ? "http,https" : "smtp,smtps"))
            if let ca = request.caFile { set(gw_easy_setopt_string(easy, CURLOPT_CAINFO, ca)) }
            set(gw_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
            set(gw_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS))
            set(gw_easy_setopt_long(easy, CURLOPT_PIPEWAIT, 1))
            // See `CurlHTTPClient.maxIdleSeconds`. (Kept with the handle, like every option here.)
            set(gw_easy_setopt_long(easy, CURLOPT_MAXAGE_CONN, maxIdleSeconds))
            // libcurl empties it as each request starts (curl_multi_add_handle); see `ResendPolicy`.
            set(gw_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errors)))
            set(gw_easy_setopt_write_function(easy, CURLOPT_WRITEFUNCTION, bodyCallback))
            set(gw_easy_setopt_write_function(easy, CURLOPT_HEADERFUNCTION, headerCallback))
        }
        if let mail = request.mail {
            set(gw_easy_setopt_string(easy, CURLOPT_MAIL_FROM, "<\(mail.from)>"))
            var recipients: UnsafeMutablePointer<curl_slist>?
            for recipient in mail.recipients { recipients = curl_slist_append(recipients, "<\(recipient)>") }
            transfer.recipientList = recipients
            set(gw_easy_setopt_slist(easy, CURLOPT_MAIL_RCPT, recipients))
            if mail.requireTLS { set(gw_easy_setopt_long(easy, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))) }
            transfer.upload = request.body
            transfer.bodyLength = request.body.count
            set(gw_easy_setopt_long(easy, CURLOPT_UPLOAD, 1))
            set(gw_easy_setopt_off_t(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.body.count)))
            set(gw_easy_setopt_read_function(easy, CURLOPT_READFUNCTION, readCallback))
            set(gw_easy_setopt_pointer(easy, CURLOPT_READDATA, userdata))
            if let auth = request.basicAuth {
                set(gw_easy_setopt_string(easy, CURLOPT_USERNAME, auth.user))
                set(gw_easy_setopt_string(easy, CURLOPT_PASSWORD, auth.password))
            }
            guard code == CURLE_OK else {
                finish(transfer, .failure(HTTPClientError(kind: .other, curlCode: Int(code.rawValue), message: "bad mail options: \(String(cString: curl_easy_strerror(code)))")))
                return
            }
            active[easy] = transfer
            curl_multi_add_handle(multi, easy)
            return
        }
        switch request.method {
        case _ where sameShape:
            break
        case "GET":
            set(gw_easy_setopt_long(easy, CURLOPT_HTTPGET, 1))
        case "POST":
            set(gw_easy_setopt_long(easy, CURLOPT_POST, 1))
        default:
            set(gw_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method))
        }
        if request.method != "GET" {
            transfer.bodyLength = request.body.count
            set(gw_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
            request.body.withUnsafeBytes { raw in
                // COPYPOSTFIELDS copies the bytes; an empty body still needs a valid pointer.
                let pointer = raw.baseAddress.map { UnsafeMutableRawPointer(mutating: $0) }
                var empty: UInt8 = 0
                set(gw_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, pointer ?? withUnsafeMutablePointer(to: &empty) { UnsafeMutableRawPointer($0) }))
            }
        }
        // When a kept-alive connection dies before the first byte of the answer, libcurl sends the
        // request again by itself, on another connection, up to five times: one call could reach a
        // provider several times. `prereqCallback` refuses every sending of the request after the
        // first that put bytes on the wire, and the caller learns it may have been received; except
        // after an HTTP/2 stream the server refused, which it did not process (see `ResendPolicy`).
        // (Reading the body through a callback whose rewind is refused does the same, but costs
        // libcurl a separate send for the body: 24-27 -> 31-36 µs of client CPU a request, measured
        // with 32 requests in flight on loopback, libcurl 7.88.)
        if !sameShape { set(gw_easy_setopt_prereq_function(easy, CURLOPT_PREREQFUNCTION, prereqCallback)) }
        set(gw_easy_setopt_pointer(easy, CURLOPT_PREREQDATA, userdata))
        if !sameShape, let auth = request.basicAuth {
            // CURLAUTH_BASIC is a macro Swift cannot import: 1 << 0.
            set(gw_easy_setopt_long(easy, CURLOPT_HTTPAUTH, 1))
            set(gw_easy_setopt_string(easy, CURLOPT_USERNAME, auth.user))
            set(gw_easy_setopt_string(easy, CURLOPT_PASSWORD, auth.password))
        }
        var list: UnsafeMutablePointer<curl_slist>?
        // Without this, libcurl sends "Expect: 100-continue" for larger bodies and waits a round trip.
        list = curl_slist_append(list, "Expect:")
        for (name, value) in request.headers { list = curl_slist_append(list, "\(name): \(value)") }
        transfer.headerList = list
        set(gw_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list))
        guard code == CURLE_OK else {
            finish(transfer, .failure(HTTPClientError(kind: .other, curlCode: Int(code.rawValue), message: "bad request options: \(String(cString: curl_easy_strerror(code)))")))
            return
        }
        active[easy] = transfer
        curl_multi_add_handle(multi, easy)
    }

    private func collectFinished() {
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                  let transfer = active.removeValue(forKey: easy) else { continue }
            let code = message.pointee.data.result
            curl_multi_remove_handle(multi, easy)
            if code == CURLE_OK {
                var status = 0
                _ = gw_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
                var connects = 0
                _ = gw_easy_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &connects)
                var version = 0
                _ = gw_easy_getinfo_long(easy, CURLINFO_HTTP_VERSION, &version)
                // CURL_HTTP_VERSION_* values: 1 = 1.0, 2 = 1.1, 3 = 2, 30 = 3.
                let httpVersion = switch version { case 1: "1.0"; case 3: "2"; case 30: "3"; default: "1.1" }
                finish(transfer, .success(HTTPResponse(status: status, headers: transfer.headers, body: transfer.body,
                                                       newConnections: connects, httpVersion: httpVersion)))
            } else {
                var reply = 0
                _ = gw_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &reply)
                let kind: HTTPClientError.Kind = switch code {
                // Out of time before the whole request went out (connecting, TLS, sending): it cannot
                // have been taken. After it: the provider may be acting on it (a slow answer), so it
                // is never sent again (a retry of a slow answer was a message sent twice).
                case CURLE_OPERATION_TIMEDOUT: Self.bodySent(transfer) ? .possiblyDelivered : .timeout
                case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .connect
                // libcurl was about to send the request again (the connection died before any answer)
                // and `prereqCallback` refused: bytes of it had gone out.
                case CURLE_ABORTED_BY_CALLBACK: transfer.resendRefused ? .possiblyDelivered : .other
                // No answer, or a cut one, after the whole body went out.
                case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM:
                    Self.bodySent(transfer) ? .possiblyDelivered : .other
                // Anything else after the whole HTTP request went out (an answer libcurl could not
                // read: "Received HTTP/0.9", a bad status line, headers too large, a body it could
                // not decode): the provider may have acted on it all the same. (A mail's failures
                // carry the SMTP server's reply code, which `SMTPProvider` reads first.)
                default: !transfer.shape.mail && Self.bodySent(transfer) ? .possiblyDelivered : .other
                }
                // libcurl's own words ("Received HTTP/0.9 when not allowed") say more than the code's name.
                var message = String(cString: curl_easy_strerror(code))
                if transfer.answerRoom < 0 {
                    message = "the answer was cut off: it was larger than \(maxResponseBytes) bytes"
                } else if transfer.errors.pointee != 0 {
                    message += ": " + String(cString: transfer.errors)
                }
                finish(transfer, .failure(HTTPClientError(kind: kind, curlCode: Int(code.rawValue), message: message, responseCode: reply)))
            }
        }
    }

    /// Whether the whole request body went out: for a mail, libcurl read all of it; over HTTP,
    /// libcurl counted all of it as sent.
    private static func bodySent(_ transfer: Transfer) -> Bool {
        guard transfer.bodyLength > 0 else { return false }
        if transfer.shape.mail { return transfer.uploadOffset == transfer.bodyLength }
        var sent: curl_off_t = 0
        guard gw_easy_getinfo_off_t(transfer.easy, CURLINFO_SIZE_UPLOAD_T, &sent) == CURLE_OK else { return false }
        return sent >= transfer.bodyLength
    }

    private func finish(_ transfer: Transfer, _ result: Result<HTTPResponse, HTTPClientError>) {
        if let list = transfer.headerList { curl_slist_free_all(list) }
        if let list = transfer.recipientList { curl_slist_free_all(list) }
        transfer.headerList = nil
        transfer.recipientList = nil
        idleHandles.append((transfer.easy, transfer.errors, transfer.shape))
        transfer.completion(result)
        // Its place goes to the next request waiting for the origin.
        var multiplexed: Bool?
        if case .success(let response) = result { multiplexed = response.httpVersion == "2" || response.httpVersion == "3" }
        release(transfer.origin, multiplexed: multiplexed)
    }
}

private let bodyCallback: gw_write_callback = { data, size, count, userdata in
    let length = size * count
    guard let data, let userdata else { return length }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    // Returning less than `length` makes libcurl fail the transfer (CURLE_WRITE_ERROR).
    guard transfer.takeAnswer(length) else { return 0 }
    data.withMemoryRebound(to: UInt8.self, capacity: length) {
        transfer.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
    }
    return length
}

private let readCallback: gw_write_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    let room = size * count
    let left = transfer.upload.count - transfer.uploadOffset
    let n = min(room, left)
    if n > 0 {
        transfer.upload.withUnsafeBufferPointer { source in
            buffer.withMemoryRebound(to: UInt8.self, capacity: n) { target in
                target.update(from: source.baseAddress! + transfer.uploadOffset, count: n)
            }
        }
        transfer.uploadOffset += n
    }
    return n
}

/// libcurl is about to send the request on a connection. CURLINFO_REQUEST_SIZE counts the request
/// bytes this transfer already put on the wire (it starts at 0 for each transfer, and adds up over
/// libcurl's own resends): more than 0 means this would be a second sending, which is refused, and
/// libcurl fails the transfer instead (see `start`), unless `ResendPolicy` says it is a refused
/// HTTP/2 stream. A first try that got nothing out may go again.
private let prereqCallback: curl_prereq_callback = { userdata, _, _, _, _ in
    guard let userdata else { return CURL_PREREQFUNC_ABORT }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    var sent = 0
    guard gw_easy_getinfo_long(transfer.easy, CURLINFO_REQUEST_SIZE, &sent) == CURLE_OK,
          ResendPolicy.mayResend(requestBytesSent: sent, multiplexedOrigin: transfer.multiplexedOrigin,
                                 errorRecorded: transfer.errors.pointee != 0) else {
        transfer.resendRefused = true
        return CURL_PREREQFUNC_ABORT
    }
    return CURL_PREREQFUNC_OK
}

private let headerCallback: gw_write_callback = { data, size, count, userdata in
    let length = size * count
    guard let data, let userdata else { return length }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    guard transfer.takeAnswer(length) else { return 0 }
    // Parsed on the bytes: Foundation's trimming cost more than the rest of the response handling.
    let line = UnsafeBufferPointer(start: UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: length)
    if line.starts(with: "HTTP/".utf8) {
        // A new response (after a redirect or 100-continue): forget the previous headers.
        transfer.headers.removeAll()
    } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        var start = colon + 1, end = line.endIndex
        while start < end, isSpace(line[start]) { start += 1 }
        while end > start, isSpace(line[end - 1]) { end -= 1 }
        let name = String(decoding: line[..<colon].lazy.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        transfer.headers.append((name, String(decoding: line[start..<end], as: UTF8.self)))
    }
    return length
}
