import ContactLog
import Foundation
import GatewayCore
import RedisQueue
import Worker

// The throughput benchmark `scripts/bench` runs (README, Performance). One process plays the
// scoring service (XADDs realistic SMS jobs) and Twilio (a loopback Messages API that notes when
// each message arrives); the gateway under test runs as separate `gateway run` processes with a
// SQLite contact log, the shipped templates and contact rules with caps and allowed hours in force.
//
//   gateway-bench --gateway .build/release/gateway --redis redis://127.0.0.1:PORT/0 --work DIR
//       [--jobs 200000] [--steady-rate 5000] [--steady-seconds 10] [--workers 1] [--batch-size N] [--concurrency N]
//       [--store sqlite|postgres --postgres URL [--pg-delay-ms MS] [--log-chains N]]
//   gateway-bench --floor --redis URL --work DIR [--jobs N]   (Floor.swift)

struct Options {
    var gateway = ".build/release/gateway"
    var redis = "redis://127.0.0.1:6379/0"
    var work = "var/bench"
    var jobs = 200_000
    var steadyRate = 5000
    var steadySeconds = 10
    var workers = 1
    var templates = "templates"
    /// Worker settings to try (gateway.yml batch_size and concurrency); nil keeps the gateway's defaults.
    var batchSize: Int?
    var concurrency: Int?
    /// Measure what the unavoidable parts of a job cost alone (Floor) instead of running gateways.
    var floor = false
    /// The contact log the gateways share: a SQLite file in the run's folder, or the PostgreSQL
    /// database at `postgres` (scripts/bench starts a throwaway one for `--store postgres`).
    var store = "sqlite"
    var postgres: String?
    /// A round trip added between the gateways and PostgreSQL by a loopback DelayProxy, in ms.
    var pgDelayMilliseconds = 0.0
    /// gateway.yml `log_chains`: how many hash chains the PostgreSQL log's batch appends spread over.
    var logChains: Int?

    init(_ arguments: [String]) throws {
        var index = 1
        func value() throws -> String {
            index += 1
            guard index < arguments.count else { throw BenchError("\(arguments[index - 1]) needs a value") }
            return arguments[index]
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--gateway": gateway = try value()
            case "--redis": redis = try value()
            case "--work": work = try value()
            case "--templates": templates = try value()
            case "--jobs": jobs = try Int(value()) ?? { throw BenchError("--jobs must be a number") }()
            case "--steady-rate": steadyRate = try Int(value()) ?? { throw BenchError("--steady-rate must be a number") }()
            case "--steady-seconds": steadySeconds = try Int(value()) ?? { throw BenchError("--steady-seconds must be a number") }()
            case "--workers": workers = try Int(value()) ?? { throw BenchError("--workers must be a number") }()
            case "--batch-size": batchSize = try Int(value()) ?? { throw BenchError("--batch-size must be a number") }()
            case "--concurrency": concurrency = try Int(value()) ?? { throw BenchError("--concurrency must be a number") }()
            case "--floor": floor = true
            case "--store": store = try value()
            case "--postgres": postgres = try value()
            case "--log-chains": logChains = try Int(value()) ?? { throw BenchError("--log-chains must be a number") }()
            case "--pg-delay-ms": pgDelayMilliseconds = try Double(value()) ?? { throw BenchError("--pg-delay-ms must be a number") }()
            default: throw BenchError("unknown argument \(arguments[index])")
            }
            index += 1
        }
        guard ["sqlite", "postgres"].contains(store) else { throw BenchError("--store must be sqlite or postgres") }
        if store == "postgres" && postgres == nil { throw BenchError("--store postgres needs --postgres postgres://user:password@127.0.0.1:PORT/db") }
        if pgDelayMilliseconds < 0 || (pgDelayMilliseconds > 0 && store != "postgres") { throw BenchError("--pg-delay-ms is a round trip in ms, with --store postgres") }
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Realistic jobs: four templates, four countries (three time zones among them, two multi-zone),
/// Spanish and English, sentiments that pick every tone. Phone numbers are unique per job.
struct JobFactory {
    let samples: [[String: Any]]

    init(templates: String) throws {
        samples = try ["payment-reminder", "due-today", "early-delinquency", "late-delinquency"].map { name in
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(templates)/\(name)/sample.json"))
            return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        }
    }

    static let countries: [(prefix: String, digits: Int, locale: String)] = [
        ("+5068", 7, "es-CR"), ("+5255", 8, "es-MX"), ("+573", 9, "es-CO"), ("+1646", 7, "en-US"),
    ]
    static let sentiments: [(String, Double)] = [("neutral", 0.1), ("upset", -0.7), ("anxious", -0.4), ("calm", 0.5)]

    static func phone(_ n: Int) -> String {
        let country = countries[n % countries.count]
        let digits = String(n)
        return country.prefix + String(repeating: "0", count: max(0, country.digits - digits.count)) + digits
    }

    func job(_ n: Int, run: String) -> [UInt8] {
        var job = samples[n % samples.count]
        let country = Self.countries[n % Self.countries.count]
        job["id"] = "\(run)-\(n)"
        job["channels"] = ["sms"]
        job["debt_id"] = "LN-\(run)-\(n)"
        let (label, score) = Self.sentiments[(n / 4) % Self.sentiments.count]
        job["sentiment"] = ["label": label, "score": score]
        job["contact"] = ["id": "C-\(run)-\(n)", "name": "Ana María Mora", "phone": Self.phone(n), "locale": country.locale]
        job.removeValue(forKey: "expires_at")
        return Array((try? JSONSerialization.data(withJSONObject: job)) ?? Data())
    }
}

/// CPU and memory of a process, from /proc.
struct ProcessStats {
    var cpuSeconds: Double
    var peakRSSKiB: Int

    static func read(pid: Int32) -> ProcessStats {
        var cpu = 0.0
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") {
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name.
            if fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) {
                cpu = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
            }
        }
        var peak = 0
        if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) {
            peak = Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return ProcessStats(cpuSeconds: cpu, peakRSSKiB: peak)
    }
}

/// The machine's CPU time from /proc/stat's first line, in clock ticks: busy, all, and stolen by
/// the host (a virtual machine's neighbours; it makes runs at different times differ).
struct MachineCPU {
    var busy = 0.0
    var total = 0.0
    var steal = 0.0
    var cores = 0

    static func read() -> MachineCPU {
        var cpu = MachineCPU()
        cpu.cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first, line.hasPrefix("cpu ") else { return cpu }
        // user nice system idle iowait irq softirq steal (guest time is already in user).
        let ticks = line.split(separator: " ").dropFirst().prefix(8).map { Double($0) ?? 0 }
        guard ticks.count == 8 else { return cpu }
        cpu.total = ticks.reduce(0, +)
        cpu.busy = cpu.total - ticks[3] - ticks[4] - ticks[7]
        cpu.steal = ticks[7]
        return cpu
    }
}

func percentile(_ sorted: [Int64], _ p: Double) -> Int64 {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

@main
struct GatewayBench {
    static func main() async {
        do {
            let options = try Options(CommandLine.arguments)
            if options.floor {
                let work = URL(fileURLWithPath: options.work)
                try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
                try await Floor.run(redisURL: options.redis, work: work, jobs: options.jobs)
            } else {
                try await run(options)
            }
        } catch {
            FileHandle.standardError.write(Data("gateway-bench: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run(_ options: Options) async throws {
        let sid = "AC" + String(repeating: "0", count: 32)
        let fake = try LoopbackTwilio(accountSID: sid, authToken: LoopbackTwilio.benchAuthToken)
        let twilioPort = fake.port

        let run = "B\(Int(Date().timeIntervalSince1970))"
        let work = URL(fileURLWithPath: options.work).appendingPathComponent(run)
        try FileManager.default.createDirectory(at: work.appendingPathComponent("providers"), withIntermediateDirectories: true)
        let stream = "bench:\(run):jobs"
        // The contact log: a file of this run's, or the PostgreSQL database, reached through a
        // DelayProxy when a round trip is to be added.
        var contactLog = "\(work.path)/contact-log.sqlite"
        var proxy: DelayProxy?
        if options.store == "postgres", let url = options.postgres {
            guard var components = URLComponents(string: url), let port = components.port else {
                throw BenchError("--postgres \(url) is not a URL like postgres://user:password@127.0.0.1:PORT/db")
            }
            if options.pgDelayMilliseconds > 0 {
                let delay = try DelayProxy(targetPort: port, roundTripMilliseconds: options.pgDelayMilliseconds)
                components.port = delay.port
                proxy = delay
                print(String(format: "PostgreSQL through a loopback proxy adding %.1f ms per round trip (port %d → %d)", options.pgDelayMilliseconds, delay.port, port))
            }
            contactLog = components.string ?? url
        }
        try """
            type: twilio
            account_sid: \(sid)
            auth_token: ${BENCH_TWILIO_AUTH_TOKEN}
            from: "+15005550006"
            base_url: http://127.0.0.1:\(twilioPort)
            timeout_seconds: 10
            """.write(to: work.appendingPathComponent("providers/twilio.yml"), atomically: true, encoding: .utf8)
        // The shipped caps, gaps and template requirements, with every country open all day: the
        // rules are all evaluated (time zones, hours, holidays, caps in Redis) but allow, whatever
        // the hour the benchmark runs at.
        let shipped = try String(contentsOfFile: "config/contact-rules.yml", encoding: .utf8)
        guard let caps = shipped.range(of: "# Frequency caps") else { throw BenchError("config/contact-rules.yml has no caps section") }
        var open = "default_country: CR\ndefault_timezone: America/Costa_Rica\nallowed_hours:\n"
        for country in ["default", "US", "MX", "CO", "CL", "PE", "CR"] {
            open += "  \(country):\n    mon-sun: \"00:00-24:00\"\n    holidays: open\n"
        }
        open += String(shipped[caps.lowerBound...])
        try open.write(to: work.appendingPathComponent("contact-rules.yml"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(at: work.appendingPathComponent("holidays"),
                                                   withDestinationURL: URL(fileURLWithPath: "config/holidays").standardizedFileURL)
        try """
            redis_url: "\(options.redis)"
            stream: "\(stream)"
            dead_letter_stream: "\(stream):dead"
            scheduled_key: "\(stream):scheduled"
            caps_prefix: "bench:\(run):caps:"
            rate_prefix: "bench:\(run):rate:"
            breaker_prefix: "bench:\(run):breaker:"
            contact_log: "\(contactLog)"
            templates: \(options.templates)
            providers: \(work.path)/providers
            contact_rules: \(work.path)/contact-rules.yml
            http_port: 0
            \(options.logChains.map { "log_chains: \($0)\n" } ?? "")\(options.batchSize.map { "batch_size: \($0)\n" } ?? "")\(options.concurrency.map { "concurrency: \($0)\n" } ?? "")
            """.write(to: work.appendingPathComponent("gateway.yml"), atomically: true, encoding: .utf8)

        let redis = RedisClient(configuration: try RedisConfiguration(url: options.redis))
        let factory = try JobFactory(templates: options.templates)
        var enqueuedAt: [String: Int64] = [:]
        enqueuedAt.reserveCapacity(options.jobs + options.steadyRate * options.steadySeconds)

        func enqueue(_ range: Range<Int>) async throws {
            let commands = range.map { n in [Array("XADD".utf8), Array(stream.utf8), Array("*".utf8), Array("job".utf8), factory.job(n, run: run)] }
            let replies = try await redis.pipeline(commands)
            for (n, reply) in zip(range, replies) {
                guard let id = reply.string, let ms = Int64(id.split(separator: "-")[0]) else { throw BenchError("XADD failed: \(reply)") }
                enqueuedAt[JobFactory.phone(n)] = ms
            }
        }

        // 1. Drain: a backlog of N jobs, then the workers start.
        print("enqueueing \(options.jobs) jobs on \(stream)...")
        for start in stride(from: 0, to: options.jobs, by: 2000) { try await enqueue(start..<min(start + 2000, options.jobs)) }
        let machineBefore = MachineCPU.read()
        let redisBefore = try await Self.redisCPU(redis)
        let benchBefore = ProcessStats.read(pid: getpid()).cpuSeconds
        let workers = try (0..<options.workers).map { index in try startGateway(options, config: work.appendingPathComponent("gateway.yml").path, index: index, work: work) }
        // However the benchmark ends, no gateway is left running.
        defer { for worker in workers where worker.process.isRunning { worker.process.terminate() } }
        let started = Date()
        var firstArrival: Int64?
        var arrivals: [(String, Int64)] = []
        while fake.received < options.jobs {
            try await Task.sleep(for: .milliseconds(20))
            if firstArrival == nil, fake.received > 0 {
                let early = fake.take()
                firstArrival = early.map(\.1).min()
                arrivals += early
            }
            if Date().timeIntervalSince(started) > 600 { throw BenchError("only \(fake.received) of \(options.jobs) arrived in 10 minutes") }
            if let dead = workers.first(where: { !$0.process.isRunning }) { throw BenchError("a gateway exited (status \(dead.process.terminationStatus)); see \(dead.log)") }
        }
        try await waitForAcks(redis, stream: stream, total: options.jobs)
        let drained = Date()
        arrivals += fake.take()
        let lastArrival = arrivals.map(\.1).max() ?? 0
        let first = firstArrival ?? 0
        let drainSeconds = Double(lastArrival - first) / 1000
        let statsAfterDrain = workers.map { ProcessStats.read(pid: $0.process.processIdentifier) }
        let machineAfter = MachineCPU.read()
        let redisAfter = try await Self.redisCPU(redis)
        let benchAfter = ProcessStats.read(pid: getpid()).cpuSeconds
        print(String(format: "drain: %d jobs in %.2f s from the first to the last provider request = %.0f jobs/s (%.2f s from process start to all acked)",
                     options.jobs, drainSeconds, Double(options.jobs) / max(drainSeconds, 0.001), drained.timeIntervalSince(started)))
        // Where the machine's CPU went: everything shares these cores, so a job costs the sum.
        let perThousand = Double(options.jobs) / 1000
        let busy = machineAfter.busy - machineBefore.busy, total = machineAfter.total - machineBefore.total
        print(String(format: "CPU s per 1000 jobs during the drain: gateway %.3f, redis %.3f, loopback provider and driver %.3f; "
                     + "the %d cores were %.0f%% busy (%.0f%% stolen by the host)",
                     statsAfterDrain.map(\.cpuSeconds).reduce(0, +) / perThousand, (redisAfter - redisBefore) / perThousand,
                     (benchAfter - benchBefore) / perThousand, machineAfter.cores, 100 * busy / max(total, 1),
                     100 * (machineAfter.steal - machineBefore.steal) / max(total, 1)))

        // 2. Steady: a constant offered rate, latency from XADD to the provider.
        var latencies: [Int64] = []
        if options.steadySeconds > 0 && options.steadyRate > 0 {
            let total = options.steadyRate * options.steadySeconds
            let base = options.jobs
            print("offering \(options.steadyRate) jobs/s for \(options.steadySeconds) s...")
            let tick = 10   // ms
            let perTick = max(1, options.steadyRate * tick / 1000)
            let clock = ContinuousClock()
            var next = clock.now
            var sent = 0
            while sent < total {
                let count = min(perTick, total - sent)
                try await enqueue((base + sent)..<(base + sent + count))
                sent += count
                next = next.advanced(by: .milliseconds(tick))
                try await clock.sleep(until: next)
            }
            let deadline = Date().addingTimeInterval(60)
            while fake.received < options.jobs + total && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
            try await waitForAcks(redis, stream: stream, total: options.jobs + total)
            let steadyArrivals = fake.take()
            latencies = steadyArrivals.compactMap { phone, at in enqueuedAt[phone].map { at - $0 } }.sorted()
            print(String(format: "steady: %d of %d arrived; latency XADD → provider p50 %d ms, p99 %d ms, max %d ms",
                         steadyArrivals.count, total, percentile(latencies, 0.5), percentile(latencies, 0.99), latencies.last ?? 0))
        }

        // 3. Stop the workers gracefully; resources and each worker's share.
        let finalStats = workers.map { ProcessStats.read(pid: $0.process.processIdentifier) }
        for worker in workers { worker.process.terminate() }
        for worker in workers { worker.process.waitUntilExit() }
        let totalJobs = options.jobs + (options.steadySeconds > 0 ? options.steadyRate * options.steadySeconds : 0)
        for (index, worker) in workers.enumerated() {
            let log = (try? String(contentsOfFile: worker.log, encoding: .utf8)) ?? ""
            let stopped = log.split(separator: "\n").last { $0.contains("worker stopped") }.map(String.init) ?? "(no 'worker stopped' line)"
            // The worker logs JSON when not on a terminal ("entries":"123"), text otherwise (entries=123).
            let entries = stopped.range(of: #"entries=\d+|"entries":"\d+""#, options: .regularExpression)
                .map { "entries=" + stopped[$0].filter(\.isNumber) } ?? "entries=?"
            print(String(format: "worker %d: exit %d, %@, peak RSS %.1f MB, CPU %.2f s during the drain (%.3f s per 1000 jobs), %.2f s in all",
                         index, worker.process.terminationStatus, entries, Double(finalStats[index].peakRSSKiB) / 1024,
                         statsAfterDrain[index].cpuSeconds, statsAfterDrain[index].cpuSeconds / (Double(options.jobs) / 1000 / Double(options.workers)),
                         finalStats[index].cpuSeconds))
        }
        print(String(format: "all workers: CPU %.3f s per 1000 jobs (drain)", statsAfterDrain.map(\.cpuSeconds).reduce(0, +) / (Double(options.jobs) / 1000)))

        // 4. Every job exactly once: the provider saw each phone once, the log has one `sent` per job.
        let allPhones = arrivals.map(\.0)
        print("provider requests: \(fake.received) for \(totalJobs) jobs; distinct numbers in the drain: \(Set(allPhones).count) of \(options.jobs)")
        // Read directly, not through the delay proxy; only this run's jobs (a PostgreSQL log may hold earlier runs).
        let location = options.store == "postgres" ? options.postgres ?? "" : "\(work.path)/contact-log.sqlite"
        let store = try await ContactLogs.open(location)
        guard let log = store as? any LogDatabase else { throw BenchError("\(location) is not a SQL contact log") }
        typealias KindCount = (kind: String, events: Int, jobs: Int)
        let kinds: [KindCount] = try await log.run(LogRead([], [.init(
            "SELECT kind, COUNT(*) AS n, COUNT(DISTINCT job_id) AS jobs FROM events WHERE job_id LIKE ? GROUP BY kind ORDER BY kind",
            [.text("\(run)-%")]) { kinds, row in
                kinds.append((try row.text("kind") ?? "", Int(try row.integer("n") ?? 0), Int(try row.integer("jobs") ?? 0)))
            }]))
        print("contact log (\(ContactLogs.redacted(location))): " + kinds.map { "\($0.kind) \($0.events) events / \($0.jobs) jobs" }.joined(separator: ", "))
        let sent = kinds.first { $0.kind == "sent" }
        // The hash chain, every event, as `gateway audit verify` checks it.
        let chain = try await store.verifyChain()
        _ = proxy
        await redis.shutdown()
        if !fake.refusals.isEmpty {
            throw BenchError("the fake Twilio refused \(fake.refusals.count) requests, first: \(fake.refusals[0])")
        }
        if fake.received != totalJobs || Set(allPhones).count != options.jobs || sent?.events != totalJobs || sent?.jobs != totalJobs
            || kinds.contains(where: { !["received", "dispatching", "sent"].contains($0.kind) }) {
            throw BenchError("some job was sent twice, not at all, or not sent: see the counts above")
        }
        if let problem = chain.problem { throw BenchError("the contact log's hash chain does not verify: \(problem)") }
        print("every job ended exactly once: \(totalJobs) sent, \(totalJobs) provider requests; hash chain verified over \(chain.checked) events")
    }

    /// Redis's own CPU seconds (user + system), from INFO.
    static func redisCPU(_ redis: RedisClient) async throws -> Double {
        let info = try await redis.command(["INFO", "cpu"]).string ?? ""
        return info.split(whereSeparator: \.isNewline).reduce(0) { sum, line in
            let parts = line.split(separator: ":")
            guard parts.count == 2, parts[0] == "used_cpu_user" || parts[0] == "used_cpu_sys" else { return sum }
            return sum + (Double(parts[1]) ?? 0)
        }
    }

    static func waitForAcks(_ redis: RedisClient, stream: String, total: Int) async throws {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let pending = try await redis.command(["XPENDING", stream, "gateway"]).array?.first?.integer ?? -1
            let groups = try await redis.command(["XINFO", "GROUPS", stream]).array ?? []
            var read = -1
            if case .array(let fields)? = groups.first {
                for index in stride(from: 0, to: fields.count - 1, by: 2) where fields[index].string == "entries-read" {
                    read = fields[index + 1].integer ?? -1
                }
            }
            if pending == 0 && read >= total { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchError("entries still pending after 2 minutes")
    }

    struct Worker {
        var process: Process
        var log: String
    }

    static func startGateway(_ options: Options, config: String, index: Int, work: URL) throws -> Worker {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: options.gateway)
        process.arguments = ["run", "--config", config]
        var environment = ProcessInfo.processInfo.environment
        environment["GATEWAY_CONSUMER"] = "bench-worker-\(index)"
        environment["BENCH_TWILIO_AUTH_TOKEN"] = LoopbackTwilio.benchAuthToken
        process.environment = environment
        let log = work.appendingPathComponent("worker-\(index).log").path
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return Worker(process: process, log: log)
    }
}
