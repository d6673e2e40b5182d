import Foundation
import GatewayCore
import GatewayHTTP
import RedisQueue
import Worker

extension Readiness.Check {
    /// The worker's lanes take work: nothing they depend on (Redis, the contact log, the providers)
    /// is failing them now. Each failing part with what went wrong and since when.
    public static func worker(_ health: WorkerHealth) -> Readiness.Check {
        Readiness.Check(name: "worker") {
            let problems = health.current
            guard !problems.isEmpty else { return nil }
            return problems.sorted { $0.key < $1.key }
                .map { "\($0.key.rawValue): \($0.value.message) (since \(formatTimestamp($0.value.since)))" }
                .joined(separator: "; ")
        }
    }

}

extension Readiness {
    /// Everything `gateway run` checks: Redis through the API's own connection, the contact log,
    /// the templates in service and the worker.
    static func gateway(redis: RedisClient, gateway: Gateway) -> Readiness {
        let timeout = gateway.configuration.readyTimeoutMilliseconds
        return Readiness(checks: [.redis(redis, timeout: Double(timeout) / 1000), .store(gateway.store), .templates(gateway.templates), .worker(gateway.worker.health)],
                         timeout: .milliseconds(timeout))
    }
}
