import Foundation
import GatewayCore

/// Sends nothing: writes each message it would have sent as one JSON line to an outbox file, so a
/// new install, a demo or a staging environment can see exactly what customers would receive.
public final class SandboxProvider: MessageProvider {
    public let name: String
    /// Its answers are immediate: a batch's share is written to the outbox at once (one append, not one per message).
    public var sendsInBulk: Bool { true }
    public let channels: Set<Channel> = Set(Channel.allCases)
    public let outboxPath: String
    public let requestTimeout: Double = 0
    private let lock = NSLock()

    public init(name: String = "sandbox", outboxPath: String) throws {
        self.name = name
        self.outboxPath = outboxPath
        let directory = (outboxPath as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        if !FileManager.default.fileExists(atPath: outboxPath) {
            guard FileManager.default.createFile(atPath: outboxPath, contents: nil) else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: outboxPath])
            }
        }
    }

    struct Line: Encodable {
        var at: String
        var provider: String
        var message_id: String
        var job_id: String
        var contact_id: String
        var attempt: Int
        var channel: String
        var to: String
        var subject: String?
        var body: String
        var html: String?
    }

    public func send(_ messages: [OutboundMessage]) async -> [DispatchResult] {
        let now = formatTimestamp(Date())
        let encoder = JSONEncoder.stable()
        var output = Data()
        var results: [DispatchResult] = []
        for message in messages {
            let id = "sandbox-" + UUID().uuidString.lowercased()
            let line = Line(at: now, provider: name, message_id: id, job_id: message.jobID, contact_id: message.contactID,
                            attempt: message.attempt, channel: message.channel.rawValue, to: message.to,
                            subject: message.subject, body: message.body, html: message.html)
            guard let encoded = try? encoder.encode(line) else {
                results.append(.permanentFailure(code: .sandboxEncode, message: "cannot encode message as JSON"))
                continue
            }
            output.append(encoded)
            output.append(0x0A)
            results.append(.accepted(messageID: id, status: "written"))
        }
        if let error = lock.withLock({ Self.append(output, to: outboxPath) }) {
            return messages.map { _ in .retryableFailure(code: .outboxWrite, message: "cannot append to \(outboxPath): \(error)", retryAfter: nil) }
        }
        return results
    }

    /// Appends in O_APPEND mode: several worker processes may share one outbox, and each write then
    /// lands at the end of the file as it is at that moment (seeking to the end first could let two
    /// processes write at the same offset, one batch over the other). Nil, or what failed.
    static func append(_ data: Data, to path: String) -> String? {
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        return data.withUnsafeBytes { raw -> String? in
            var offset = 0
            while offset < raw.count {
                let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                offset += written
            }
            return nil
        }
    }
}

extension SandboxProvider: ConfigurableProvider {
    /// A `type: sandbox` file: optionally `outbox`, the file it writes to.
    public static func configured(_ settings: ProviderSettings, client: CurlHTTPClient) throws -> ConfiguredProvider {
        ConfiguredProvider(try SandboxProvider(name: settings.name, outboxPath: settings.take("outbox") ?? settings.defaultOutbox))
    }
}

/// The sandbox knows what it wrote: the outbox line with the job id and attempt (and this
/// provider's name) is the message, `written`. The file is read on a Dispatch thread, not on the
/// cooperative pool (it may be large).
extension SandboxProvider: SendLookup {
    public func lookUp(_ send: SendInQuestion) async -> LookupResult {
        let (path, name) = (outboxPath, self.name)
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Self.find(send, in: path, provider: name))
            }
        }
    }

    static func find(_ send: SendInQuestion, in path: String, provider: String) -> LookupResult {
        guard let data = FileManager.default.contents(atPath: path) else {
            return .cannotTell(reason: "cannot read the outbox \(path)")
        }
        var matches: [(id: String, status: String)] = []
        for line in data.split(separator: 0x0A) {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any],
                  object["job_id"] as? String == send.jobID, object["attempt"] as? Int == send.attempt,
                  object["provider"] as? String == provider, let id = object["message_id"] as? String else { continue }
            matches.append((id, "written"))
        }
        return LookupMatch.decide(matches, searched: "no line for job \(send.jobID) attempt \(send.attempt) in \(path)", provider: provider)
    }
}
