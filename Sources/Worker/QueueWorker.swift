import Foundation
import GatewayCore
import Logging
import RedisQueue
import ServiceLifecycle

/// The long-running consumer: reads batches from the jobs stream and hands them to the
/// `BatchProcessor`. Takes over entries of dead consumers, promotes due retries, survives Redis
/// restarts (reconnecting with backoff), and on SIGTERM finishes the batch in hand, then returns.
public struct QueueWorker: Service {
    /// One per batch in flight (`concurrency`); the first also does the maintenance.
    public var lanes: [BatchProcessor]
    public var logger: Logger
    /// How often to look for pending entries of dead consumers and for due retries.
    public var maintenanceInterval: Duration
    /// What keeps the lanes from taking work (Redis down, the contact log failing), for `GET /ready`.
    public let health: WorkerHealth

    public var processor: BatchProcessor { lanes[0] }

    public init(lanes: [BatchProcessor], logger: Logger, maintenanceInterval: Duration = .seconds(1)) {
        precondition(!lanes.isEmpty)
        let health = WorkerHealth()
        self.health = health
        self.lanes = lanes.map { lane in
            var lane = lane
            lane.health = health
            return lane
        }
        self.logger = logger
        self.maintenanceInterval = maintenanceInterval
    }

    public func run() async throws {
        let totals = try await withThrowingTaskGroup(of: BatchProcessor.Summary.self) { group in
            for (index, lane) in lanes.enumerated() {
                group.addTask { try await runLane(lane, maintenance: index == 0) }
            }
            var totals = BatchProcessor.Summary()
            for try await summary in group { totals.add(summary) }
            return totals
        }
        logger.info("worker stopped", metadata: [
            "entries": "\(totals.entries)", "sent": "\(totals.sent)", "failed": "\(totals.failed)", "unknown": "\(totals.unknown)", "retried": "\(totals.retried)",
            "invalid": "\(totals.invalid)", "suppressed": "\(totals.suppressed)", "expired": "\(totals.expired)",
            "deferred": "\(totals.deferred)", "duplicates": "\(totals.duplicates)",
        ])
    }

    /// How often the maintenance lane looks for consumers that dead workers left in the group, and
    /// how long one must have had nothing pending and not read (nil: ten times claim_idle_ms).
    public var consumerCleanupInterval: Duration = .seconds(60)
    public var abandonedConsumerIdleMilliseconds: Int?

    /// Removes consumers that have had nothing pending and not read for `idleMilliseconds` (by
    /// default ten times claim_idle_ms: their entries were taken over long before). A failure is
    /// only logged: the next round tries again.
    func removeAbandonedConsumers(_ consumer: StreamConsumer, idleMilliseconds: Int) async {
        do {
            let removed = try await consumer.removeAbandonedConsumers(idleMilliseconds: idleMilliseconds, keeping: Set(lanes.map(\.consumer.consumer)))
            if !removed.isEmpty {
                logger.notice("removed consumers that left nothing pending and have not read for \(idleMilliseconds / 1000) s (workers that stopped without leaving the group)",
                              metadata: ["consumers": "\(removed.joined(separator: ", "))"])
            }
        } catch {
            logger.warning("could not look for abandoned consumers", metadata: ["error": "\(error)"])
        }
    }

    /// One lane: reads a batch, processes it, reads the next, until shutdown.
    func runLane(_ processor: BatchProcessor, maintenance: Bool) async throws -> BatchProcessor.Summary {
        let scheduler = processor.scheduler
        let consumer = processor.consumer
        let settings = processor.settings
        var backoff = Backoff()
        var groupReady = false
        var ownPendingDone = false
        var ownPendingCursor = "0"
        let clock = ContinuousClock()
        var nextMaintenance = clock.now
        var nextConsumerCleanup = clock.now
        var totals = BatchProcessor.Summary()
        /// What this lane told `health` is failing; only this lane's own success clears it (a write
        /// another lane is still retrying stays reported until that lane clears it).
        var reported: Set<WorkerHealth.Component> = []
        if maintenance { logger.info("worker started", metadata: [
            "stream": "\(consumer.stream)", "group": "\(consumer.group)", "consumer": "\(consumer.consumer)",
            "redis": "\(consumer.client.configuration.redacted)", "concurrency": "\(lanes.count)",
        ]) }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if !groupReady {
                    try await consumer.ensureGroup()
                    groupReady = true
                }
                if !ownPendingDone {
                    // After a restart under the same consumer name: entries we read but never acked.
                    let pending = try await consumer.readOwnPending(count: settings.batchSize, after: ownPendingCursor)
                    if let last = pending.last {
                        totals.add(try await processor.process(pending))
                        ownPendingCursor = last.id
                    } else {
                        ownPendingDone = true
                    }
                    continue
                }
                if health.current[.outcomes] != nil {
                    // Another lane holds provider answers it cannot record: take no new work until it can.
                    try? await Task.sleep(for: .milliseconds(100))
                    continue
                }
                if let down = Self.everyProviderDown(processor.providers, now: processor.clock()) {
                    // Work read now could only be deferred as retries: leave it on the stream until one is back.
                    if health.current[.providers] == nil {
                        logger.warning("every provider is failing or asked to wait; taking no new work until one is back", metadata: ["providers": "\(down.sentence)"])
                    }
                    health.report(.providers, "every provider is failing or asked to wait: \(down.sentence)")
                    try? await Task.sleep(for: .milliseconds(max(10, min(1000, Int(down.until.timeIntervalSince(processor.clock()) * 1000)))))
                    continue
                }
                if health.current[.providers] != nil {
                    logger.info("a provider is available again; taking work")
                    health.report(.providers, nil)
                }
                if maintenance, clock.now >= nextMaintenance {
                    nextMaintenance = clock.now.advanced(by: maintenanceInterval)
                    let promoted = try await scheduler.promoteDue(now: processor.clock())
                    if promoted > 0 { logger.info("retries due", metadata: ["promoted": "\(promoted)"]) }
                    let claimed = try await consumer.claimIdle(minIdleMilliseconds: settings.claimIdleMilliseconds, count: settings.batchSize)
                    if !claimed.isEmpty {
                        logger.warning("took over entries left pending by another consumer", metadata: ["count": "\(claimed.count)"])
                        totals.add(try await processor.process(claimed))
                    }
                    if clock.now >= nextConsumerCleanup {
                        nextConsumerCleanup = clock.now.advanced(by: consumerCleanupInterval)
                        await removeAbandonedConsumers(consumer, idleMilliseconds: abandonedConsumerIdleMilliseconds ?? settings.claimIdleMilliseconds * 10)
                    }
                }
                let entries = try await consumer.readNew(count: settings.batchSize, blockMilliseconds: settings.blockMilliseconds)
                totals.add(try await processor.process(entries))
                if backoff.failures > 0 {
                    logger.info("redis reachable again")
                    backoff.reset()
                }
                for component in reported { health.report(component, nil) }
                reported = []
            } catch let error as RedisError where error.isConnectionError || error.code == .protocolError {
                let delay = backoff.next()
                // Its own pending entries (a batch cut short) are read again first once Redis is back.
                ownPendingDone = false
                ownPendingCursor = "0"
                logger.error("redis unavailable; retrying", metadata: ["error": "\(error)", "retry_in_ms": "\(delay.milliseconds)"])
                health.report(.redis, "unreachable: \(error)")
                reported.insert(.redis)
                try? await Task.sleep(for: delay)
            } catch let error as RedisError where error.serverCode == .noGroup {
                // The stream or group was deleted under us: create it again.
                logger.warning("consumer group missing; recreating", metadata: ["error": "\(error)"])
                groupReady = false
            } catch {
                // A log failure: the batch stays pending, and this lane tries it again (its own pending
                // entries) after the backoff, before it takes any new work.
                let delay = backoff.next()
                ownPendingDone = false
                ownPendingCursor = "0"
                logger.error("batch failed; its entries stay pending and will be retried", metadata: ["error": "\(error)", "retry_in_ms": "\(delay.milliseconds)"])
                let component: WorkerHealth.Component = error is RedisError ? .redis : .store
                health.report(component, "batch failed: \(error)")
                reported.insert(component)
                try? await Task.sleep(for: delay)
            }
        }
        // A clean stop leaves the group when nothing is pending, so restarts do not pile up idle consumers.
        if Task.isShuttingDownGracefully || Task.isCancelled {
            do {
                if try await consumer.leaveIfIdle() { logger.debug("left the consumer group", metadata: ["consumer": "\(consumer.consumer)"]) }
            } catch {
                logger.notice("could not leave the consumer group", metadata: ["consumer": "\(consumer.consumer)", "error": "\(error)"])
            }
        }
        return totals
    }
}

extension QueueWorker {
    /// When every configured provider has its breaker open or holds a Retry-After: which, and the
    /// earliest moment one may be called again. nil when one can be called (or none is configured).
    static func everyProviderDown(_ registry: ProviderRegistry, now: Date) -> (sentence: String, until: Date)? {
        guard !registry.providers.isEmpty else { return nil }
        var down: [(name: String, until: Date)] = []
        for provider in registry.providers {
            let breaker = registry.policy(of: provider.name).breaker
            var until = breaker.held(now: now)
            if case .open(let reopens) = breaker.currentState, reopens > now { until = max(until ?? reopens, reopens) }
            guard let until else { return nil }
            down.append((provider.name, until))
        }
        let sentence = down.map { "\($0.name) until \(formatTimestamp($0.until))" }.joined(separator: ", ")
        return (sentence, down.map(\.until).min()!)
    }
}

/// Exponential backoff from 100 ms to 5 s.
struct Backoff {
    var failures = 0

    mutating func next() -> Duration {
        failures += 1
        let milliseconds = min(5000, 100 * (1 << min(failures - 1, 6)))
        return .milliseconds(milliseconds)
    }

    mutating func reset() { failures = 0 }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
