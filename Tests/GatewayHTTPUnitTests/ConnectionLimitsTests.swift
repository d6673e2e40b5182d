import Testing
@testable import GatewayHTTP

/// How many connections the server takes, given the process's descriptor limit.
@Suite struct ConnectionLimitsTests {
    @Test func theCapLeavesDescriptorsForEverythingElse() {
        #expect(ConnectionLimits(maxConnections: 1000).fitting(descriptorLimit: 1024).maxConnections == 1024 - ConnectionLimits.reservedDescriptors)
        #expect(ConnectionLimits(maxConnections: 1000).fitting(descriptorLimit: 1_048_576).maxConnections == 1000)
        #expect(ConnectionLimits(maxConnections: 1000).fitting(descriptorLimit: 100).maxConnections == 16)
        let raised = DescriptorLimit.raiseToHardLimit()
        #expect(raised.failure == nil)
        #expect(raised.now >= raised.before)
        #expect(raised.now == min(raised.hard, max(raised.before, DescriptorLimit.unlimitedCeiling)))
    }
}
