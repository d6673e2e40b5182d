import ContactLog
import Foundation
import GatewayCore
import Providers
import RedisQueue
#if canImport(Glibc)
import Glibc
#endif

/// `gateway-bench --floor`: what the parts of a job that no implementation can skip cost on this
/// machine, each measured alone, with none of the gateway's own logic (no decoding, rules, rendering
/// or bookkeeping). Their sum is a lower bound for a job's CPU, so it says which throughput two
/// cores can reach at all:
///
/// 1. the provider request: a minimal HTTP/1.1 client on raw sockets (no libcurl: a write and a read
///    per request, kept-alive connections, poll) against the same loopback Twilio, which is part of
///    the machine's load in the real benchmark too;
/// 2. the queue: XREADGROUP and XACK of the jobs in batches of 256 (Redis's CPU; the enqueueing,
///    like in the drain, is not counted);
/// 3. the caps: the cap ledger's script with the shipped caps (four checks over three keys per job),
///    128 jobs per call (Redis's CPU);
/// 4. the contact log: the two events a sent job writes (`dispatching` with the job as it arrived
///    and the text, `sent`), appended through `SQLiteContactLog` in batches of 256, hash chain
///    and indexes as in production (this process's CPU, the checkpoint thread included).
enum Floor {
    static func run(redisURL: String, work: URL, jobs: Int) async throws {
        print("the floor: each unavoidable part of a job alone, \(jobs) jobs each (CPU µs per job; two cores give 2,000,000 µs a second)")
        let http = try httpRequests(jobs)
        print(String(format: "1. provider request, raw sockets: client %.1f µs + loopback Twilio %.1f µs = %.1f µs (%.0f requests/s on 32 connections)",
                     http.client, http.server, http.client + http.server, http.rate))
        let curl = try await curlRequests(jobs)
        print(String(format: "   the same requests through libcurl (CurlHTTPClient, 4 batches of 256 in flight, as a worker sends): "
                     + "%.1f µs client and loopback Twilio together (%.0f requests/s)", curl.cpu, curl.rate))
        let redis = RedisClient(configuration: try RedisConfiguration(url: redisURL))
        defer { Task { await redis.shutdown() } }
        let factory = try JobFactory(templates: "templates")
        let queue = try await streamReads(redis, factory: factory, jobs: jobs)
        print(String(format: "2. queue, XREADGROUP + XACK in batches of 256: Redis %.1f µs", queue))
        let caps = try await capChecks(redis, jobs: jobs)
        print(String(format: "3. caps, the ledger script with the shipped four caps: Redis %.1f µs", caps))
        let log = try await contactLog(work: work, factory: factory, jobs: jobs)
        print(String(format: "4. contact log, two chained events per job through SQLiteContactLog: %.1f µs", log))
        let rest = queue + caps + log
        let cores = Double(MachineCPU.read().cores)
        for (name, request) in [("raw sockets", http.client + http.server), ("libcurl", curl.cpu)] {
            print(String(format: "sum with the request on %@: %.1f µs per job, so at most %.0f jobs/s on %.0f cores before the gateway decodes, decides or renders anything",
                         name, request + rest, cores * 1_000_000 / (request + rest), cores))
        }
    }

    /// This process's CPU seconds, as the benchmark reads every process's.
    static func processCPU() -> Double { ProcessStats.read(pid: getpid()).cpuSeconds }

    static func threadCPU() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1_000_000_000
    }

    static let sid = "AC" + String(repeating: "1", count: 32)
    static let smsText = "Hola Ana, le recordamos que su pago de $125,50 vence el 1 de diciembre de 2026. Pague en https://pay.example/x Mensaje de un gestor de cobro. Responda STOP para no recibir mas mensajes."

    /// The form body of the n-th Twilio request.
    static func formBody(_ n: Int) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return "To=%2B\(50_680_000_000 + n)&From=%2B15005550006&Body=\(smsText.addingPercentEncoding(withAllowedCharacters: allowed) ?? smsText)"
    }

    /// `count` Twilio requests over 32 kept-alive connections, each answered before the next goes on
    /// that connection (as the gateway does). Returns CPU µs per request of this thread (the client)
    /// and of the rest of the process (the loopback Twilio's threads), and the rate.
    static func httpRequests(_ count: Int) throws -> (client: Double, server: Double, rate: Double) {
        let fake = try LoopbackTwilio(accountSID: sid, authToken: LoopbackTwilio.benchAuthToken)
        let credentials = Data("\(sid):\(LoopbackTwilio.benchAuthToken)".utf8).base64EncodedString()
        func request(_ n: Int) -> [UInt8] {
            let body = formBody(n)
            return Array(("POST /2010-04-01/Accounts/\(sid)/Messages.json HTTP/1.1\r\nHost: 127.0.0.1:\(fake.port)\r\n"
                + "Authorization: Basic \(credentials)\r\nAccept: */*\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n" + body).utf8)
        }
        let requests = (0..<count).map(request)
        var fds: [pollfd] = []
        for _ in 0..<32 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(fake.port).bigEndian)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard fd >= 0, connected == 0 else { throw BenchError("connect to the loopback Twilio: errno \(errno)") }
            var yes: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
            fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
        }
        defer { for entry in fds { close(entry.fd) } }
        var buffers = [[UInt8]](repeating: [], count: fds.count)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var next = 0, answered = 0
        func sendNext(_ index: Int) throws {
            guard next < count else { return }
            let bytes = requests[next]
            next += 1
            let sent = bytes.withUnsafeBytes { send(fds[index].fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent == bytes.count else { throw BenchError("send to the loopback Twilio: errno \(errno)") }
        }
        let processBefore = processCPU(), threadBefore = threadCPU(), started = Date()
        for index in fds.indices { try sendNext(index) }
        while answered < count {
            guard poll(&fds, nfds_t(fds.count), 10_000) > 0 else { throw BenchError("the loopback Twilio stopped answering") }
            for index in fds.indices where fds[index].revents != 0 {
                let n = chunk.withUnsafeMutableBytes { recv(fds[index].fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { throw BenchError("the loopback Twilio closed a connection") }
                buffers[index] += chunk[..<n]
                // Whole responses: a head, then Content-Length bytes.
                while let end = buffers[index].withUnsafeBufferPointer({ LoopbackTwilio.headerEnd($0, from: 0) }) {
                    let length = buffers[index].withUnsafeBufferPointer { buffer in
                        LoopbackTwilio.header(Array("content-length".utf8), in: UnsafeBufferPointer(rebasing: buffer[..<end])).flatMap(LoopbackTwilio.decimal)
                    } ?? 0
                    guard buffers[index].count >= end + length else { break }
                    guard buffers[index].starts(with: "HTTP/1.1 201".utf8) else {
                        throw BenchError("the loopback Twilio refused a request: \(String(decoding: buffers[index].prefix(end), as: UTF8.self))")
                    }
                    buffers[index].removeFirst(end + length)
                    answered += 1
                    try sendNext(index)
                }
            }
        }
        let seconds = Date().timeIntervalSince(started)
        let client = threadCPU() - threadBefore, all = processCPU() - processBefore
        guard fake.refusals.isEmpty, fake.received == count else { throw BenchError("the loopback Twilio refused requests: \(fake.refusals.prefix(1))") }
        return (client * 1_000_000 / Double(count), (all - client) * 1_000_000 / Double(count), Double(count) / seconds)
    }

    /// The same requests through the gateway's libcurl client: CPU µs per request of the whole
    /// process (client and loopback Twilio), and the rate.
    static func curlRequests(_ count: Int) async throws -> (cpu: Double, rate: Double) {
        let fake = try LoopbackTwilio(accountSID: sid, authToken: LoopbackTwilio.benchAuthToken)
        let client = CurlHTTPClient(maxConnectionsPerHost: 32)
        defer { client.shutdown() }
        let url = "http://127.0.0.1:\(fake.port)/2010-04-01/Accounts/\(sid)/Messages.json"
        let requests = (0..<count).map { n in
            HTTPRequest(method: "POST", url: url, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                        body: Array(formBody(n).utf8), basicAuth: (sid, LoopbackTwilio.benchAuthToken))
        }
        let batches = stride(from: 0, to: count, by: 256).map { Array(requests[$0..<min($0 + 256, count)]) }
        let before = processCPU(), started = Date()
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func add() {
                guard next < batches.count else { return }
                let batch = batches[next]
                next += 1
                group.addTask {
                    for answer in await client.sendAll(batch) {
                        guard case .success(let response) = answer, response.status == 201 else { throw BenchError("a request through libcurl failed: \(answer)") }
                    }
                }
            }
            for _ in 0..<4 { add() }
            while try await group.next() != nil { add() }
        }
        let seconds = Date().timeIntervalSince(started)
        return ((processCPU() - before) * 1_000_000 / Double(count), Double(count) / seconds)
    }

    /// Redis CPU µs per job to read the jobs through a consumer group and acknowledge them.
    static func streamReads(_ redis: RedisClient, factory: JobFactory, jobs: Int) async throws -> Double {
        let stream = "bench:floor:\(getpid()):jobs"
        for start in stride(from: 0, to: jobs, by: 2000) {
            _ = try await redis.pipeline((start..<min(start + 2000, jobs)).map { n in
                [Array("XADD".utf8), Array(stream.utf8), Array("*".utf8), Array("job".utf8), factory.job(n, run: "F")]
            })
        }
        _ = try await redis.command(["XGROUP", "CREATE", stream, "floor", "0"])
        let before = try await GatewayBench.redisCPU(redis)
        var read = 0
        while read < jobs {
            let reply = try await redis.command(["XREADGROUP", "GROUP", "floor", "c1", "COUNT", "256", "STREAMS", stream, ">"])
            guard case .array(let streams)? = Optional(reply), case .array(let pair)? = streams.first, pair.count == 2,
                  case .array(let entries) = pair[1], !entries.isEmpty else { throw BenchError("XREADGROUP returned \(reply)") }
            let ids = entries.compactMap { $0.array?.first?.string }
            _ = try await redis.command(["XACK", stream, "floor"] + ids)
            read += entries.count
        }
        let after = try await GatewayBench.redisCPU(redis)
        _ = try await redis.command(["DEL", stream])
        return (after - before) * 1_000_000 / Double(jobs)
    }

    /// Redis CPU µs per job for the cap ledger's check-and-reserve with the shipped collection caps
    /// (config/contact-rules.yml: 7 in 7 days per debt and per contact, 2 a day per contact, 1 SMS a
    /// day per contact), every job its own contact and debt, as in the benchmark.
    static func capChecks(_ redis: RedisClient, jobs: Int) async throws -> Double {
        let ledger = CapLedger(client: redis, prefix: "bench:floor:\(getpid()):caps:")
        let day: TimeInterval = 86_400
        func checks(_ n: Int) -> [CapCheck] {
            [
                CapCheck(key: "debt:LN-\(n)", ruleID: "debt-7-in-7-days", limit: .cap(max: 7, window: 7 * day), description: ""),
                CapCheck(key: "contact:C-\(n)", ruleID: "contact-7-in-7-days", limit: .cap(max: 7, window: 7 * day), description: ""),
                CapCheck(key: "contact:C-\(n)", ruleID: "contact-2-per-day", limit: .cap(max: 2, window: day), description: ""),
                CapCheck(key: "contact:C-\(n):sms", ruleID: "sms-1-per-day", limit: .cap(max: 1, window: day), description: ""),
            ]
        }
        let items = (0..<jobs).map { (checks: checks($0), member: "F-\($0)") }
        let before = try await GatewayBench.redisCPU(redis)
        for start in stride(from: 0, to: jobs, by: 256) {
            let results = try await ledger.checkMany(Array(items[start..<min(start + 256, jobs)]), now: Date())
            guard results.allSatisfy({ $0 == .reserved }) else { throw BenchError("a cap refused a fresh contact") }
        }
        let after = try await GatewayBench.redisCPU(redis)
        let keys = items.flatMap { item in item.checks.map { ledger.prefix + $0.key } }
        for start in stride(from: 0, to: keys.count, by: 1000) { _ = try await redis.command(["DEL"] + keys[start..<min(start + 1000, keys.count)]) }
        return (after - before) * 1_000_000 / Double(jobs)
    }

    /// CPU µs per job of this process to append a sent job's two events, 256 jobs a batch: the
    /// `dispatching` event carrying the job as it arrived in one transaction, `sent` in the next, as
    /// the worker does.
    static func contactLog(work: URL, factory: JobFactory, jobs: Int) async throws -> Double {
        let path = work.appendingPathComponent("floor-contact-log.sqlite").path
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let log = try SQLiteContactLog(path: path)
        let body = "Hola Ana, le recordamos que su pago de $125,50 vence el 1 de diciembre de 2026. Pague en https://pay.example/x Mensaje de un gestor de cobro. Responda STOP para no recibir mas mensajes."
        let jobTexts = (0..<jobs).map { String(decoding: factory.job($0, run: "F"), as: UTF8.self) }
        var building = 0.0
        let before = processCPU()
        for start in stride(from: 0, to: jobs, by: 256) {
            // Making the events is not the log's cost: it is measured on this thread and taken off.
            let buildStart = threadCPU()
            let now = Date()
            var claims: [ContactEvent] = [], outcomes: [ContactEvent] = []
            for n in start..<min(start + 256, jobs) {
                let (id, contact, debt, phone, stream) = ("F-\(n)", "C-F-\(n)", "LN-F-\(n)", JobFactory.phone(n), "1795524798359-\(n)")
                claims.append(ContactEvent(jobID: id, contactID: contact, kind: .dispatching, at: now, channel: .sms, template: "payment-reminder",
                                           tone: "neutral", variant: "payment-reminder/sms.es.mustache", provider: "twilio",
                                           detail: "sending through twilio; collection; tone neutral (policy default); sms allowed: Costa Rica: allows 00:00-24:00 Mon-Sun; now 06:53 Tue America/Costa_Rica (phone +506)",
                                           body: body, address: phone, streamID: stream,
                                           data: #"{"category":"collection","sms_encoding":"GSM-7","sms_segments":2,"tone_rule":"default"}"#,
                                           debtID: debt, segment: "early", job: Array(jobTexts[n].utf8)))
                outcomes.append(ContactEvent(jobID: id, contactID: contact, kind: .sent, at: now, channel: .sms, template: "payment-reminder",
                                             tone: "neutral", variant: "payment-reminder/sms.es.mustache", provider: "twilio",
                                             providerMessageID: "SM\(String(n, radix: 16))", reason: "provider_queued",
                                             detail: "accepted by twilio as SM\(String(n, radix: 16)) (queued)", body: body, address: phone,
                                             streamID: stream, debtID: debt, segment: "early"))
            }
            building += threadCPU() - buildStart
            guard try await log.append(claims).allSatisfy({ $0 }), try await log.append(outcomes).allSatisfy({ $0 }) else {
                throw BenchError("the contact log refused a fresh job's event")
            }
        }
        let after = processCPU()
        return (after - before - building) * 1_000_000 / Double(jobs)
    }
}
