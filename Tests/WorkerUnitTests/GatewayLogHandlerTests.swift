import Foundation
@testable import GatewayApp
import Logging
import Testing

/// The shape of a log line: stable keys in a stable order, one event per line, masked values.
@Suite struct GatewayLogHandlerTests {
    /// The lines a sink was given (as WorkerTests' MaskedLogsTests collects them).
    final class Lines: @unchecked Sendable {
        // @unchecked: `lines` is behind `lock`.
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
    }

    let at = Date(timeIntervalSince1970: 1_796_087_400.25)   // 2026-12-01T01:10:00.250Z

    @Test func jsonHasTheFixedKeysFirstThenTheMetadataSorted() {
        let handler = GatewayLogHandler(label: "gateway", format: .json, sink: LogSink { _ in })
        let line = handler.line(at: at, level: .error, message: "redis unavailable; retrying",
                                metadata: ["retry_in_ms": "1600", "error": "redis io: timeout", "job": "LN-77-reminder-2026-12-01"])
        #expect(line == #"{"ts":"2026-12-01T01:10:00.250Z","level":"error","label":"gateway","message":"redis unavailable; retrying","error":"redis io: timeout","job":"LN-77-reminder-2026-12-01","retry_in_ms":"1600"}"#)
    }

    @Test func jsonRenamesMetadataThatCollidesAndNestsListsAndMaps() throws {
        let handler = GatewayLogHandler(label: "gateway", format: .json, sink: LogSink { _ in })
        let line = handler.line(at: at, level: .info, message: "m", metadata: [
            "message": "shadow", "to": ["+50688887777", "b@example.com"], "send": ["body": "Hola Ana", "phone": "+50688887777"],
        ])
        #expect(line == #"{"ts":"2026-12-01T01:10:00.250Z","level":"info","label":"gateway","message":"m","meta.message":"shadow","send":{"body":"[removed]","phone":"+5068****77"},"to":["+5068****77","b***@example.com"]}"#)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["meta.message"] as? String == "shadow")
    }

    @Test func textIsOneLineWithQuotedValuesWhereNeeded() {
        let handler = GatewayLogHandler(label: "replies", format: .text, sink: LogSink { _ in })
        let line = handler.line(at: at, level: .notice, message: "reply recorded\nfrom ana@example.cr",
                                metadata: ["intents": "opt_out", "reason": "keyword STOP", "auth_token": "abc"])
        #expect(line == #"2026-12-01T01:10:00.250Z notice replies: reply recorded\nfrom a***@example.cr auth_token=*** intents=opt_out reason="keyword STOP""#)
    }

    @Test func everyEventGoesToTheSinkAsOneLine() {
        let lines = Lines()
        var logger = Logger(label: "gateway") { GatewayLogHandler(label: $0, format: .json, sink: LogSink { lines.append($0) }) }
        logger[metadataKey: "consumer"] = "worker-1"
        logger.debug("not at info")
        logger.info("sent", metadata: ["to": "+50688887777"])
        #expect(lines.all.count == 1)
        #expect(lines.all.first?.hasSuffix(#""message":"sent","consumer":"worker-1","to":"+5068****77"}"#) == true, "\(lines.all)")
    }
}
