import Foundation
import Logging
import ServiceLifecycle
import Templates

/// Brings marketing's edits under templates/ into service within seconds, without a restart. An
/// edit that does not parse or lint is refused: the last good templates stay in service, and the
/// errors go to the log and to GET /templates.
public struct TemplateReloader: Service {
    public let store: TemplateStore
    public let interval: Duration
    public let logger: Logger

    public init(store: TemplateStore, interval: Duration, logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: interval)
            switch store.reloadIfChanged() {
            case .unchanged:
                break
            case .reloaded:
                logger.notice("templates reloaded", metadata: ["templates": "\(store.current.templateNames.joined(separator: ","))"])
            case .rejected(let errors):
                logger.error("template edit refused; the previous templates stay in service", metadata: [
                    "errors": "\(errors.joined(separator: " | "))",
                ])
            }
        }
    }
}
