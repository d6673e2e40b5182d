import ContactLog
import Foundation
import Logging
import ServiceLifecycle

/// Signs the contact log's chain heads on a timer (`checkpoint_key`, `checkpoint_seconds`): each
/// round appends a `checkpoint` event, as `gateway audit checkpoint` does from cron. A failed round
/// is logged and the next one tried; a shutdown does not wait for the timer.
public struct Checkpointer: Service {
    let store: any LogCheckpointing
    /// The Ed25519 key's raw bytes (swift-crypto's key type is not Sendable).
    let key: Data
    let interval: Duration
    let logger: Logger

    public init(store: any LogCheckpointing, key: Curve25519SigningKey, interval: Duration, logger: Logger) {
        self.store = store
        self.key = key.rawRepresentation
        self.interval = interval
        self.logger = logger
    }

    /// One checkpoint now.
    public func checkpoint(at: Date = Date()) async throws -> Checkpoint {
        try await store.checkpoint(signingKey: try Curve25519SigningKey(rawRepresentation: key), at: at)
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { return }
            do {
                let checkpoint = try await checkpoint()
                logger.notice("checkpoint written", metadata: ["root": "\(checkpoint.root)", "chains": "\(checkpoint.heads.count)",
                                                               "key": "\(Checkpoint.fingerprint(checkpoint.key))"])
            } catch {
                logger.error("checkpoint failed; the next one is tried in checkpoint_seconds", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }
}
