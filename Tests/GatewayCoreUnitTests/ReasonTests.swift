import Foundation
import GatewayCore
import Testing

/// The reason codes compliance filters on: one type, spelled as the README's table says.
@Suite struct ReasonTests {
    static let readme = (try? String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)) ?? ""

    /// The README's "Reason codes" table.
    static var table: String {
        guard let start = readme.range(of: "**Reason codes.**"), let end = readme.range(of: "**PostgreSQL.**", range: start.upperBound..<readme.endIndex) else { return "" }
        return String(readme[start.upperBound..<end.lowerBound])
    }

    @Test func everyFixedCodeIsInTheREADMETableAndSpelledOnce() {
        #expect(!Self.table.isEmpty, "README.md has no Reason codes table")
        let codes = Reason.documented.map(\.rawValue)
        #expect(Set(codes).count == codes.count, "a code is listed twice: \(codes)")
        for code in codes {
            #expect(Self.table.contains("`\(code)`"), "\(code) is not in the README's Reason codes table")
            #expect(code.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        }
    }

    @Test func providerAnswersKeepTheProvidersOwnCode() {
        #expect(Reason.provider("twilio", "21211").rawValue == "twilio_21211")
        #expect(Reason.twilioUnsubscribed.rawValue == "twilio_21610")
        #expect(Reason.http(503).rawValue == "http_503")
        #expect(Reason.accepted("queued").rawValue == "provider_queued")
        #expect(Reason.alreadyEnded(.sent).rawValue == "already_sent")
        #expect(Reason(stored: "twilio_21610") == .twilioUnsubscribed)
    }
}
