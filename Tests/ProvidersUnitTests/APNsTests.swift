import Foundation
import GatewayCore
import Testing
@testable import Providers

@Suite struct APNsTests {
    func push(_ n: Int) -> OutboundMessage {
        OutboundMessage(jobID: "P\(n)", contactID: "C\(n)", channel: .push, to: String(repeating: "ab12", count: 16), subject: "Pago pendiente", body: "Toque para pagar")
    }

    @Test func theNotificationIDIsAStableUUIDPerAttempt() {
        let a = APNsProvider.notificationID(push(1))
        #expect(UUID(uuidString: a) != nil)
        #expect(a == APNsProvider.notificationID(push(1)))
        var retry = push(1)
        retry.attempt = 2
        #expect(APNsProvider.notificationID(retry) != a)
        #expect(APNsProvider.collapseID(OutboundMessage(jobID: String(repeating: "j", count: 100), contactID: "c", channel: .push, to: "t", body: "b")).utf8.count == 64)
    }
}
