import ContactLog
import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import Worker

/// A job is kept in the contact log exactly as it was XADDed, whatever its bytes, and the log still
/// verifies: a job sent as UTF-16 (not UTF-8, and full of NUL bytes) and one whose contact id holds
/// a `\u0000` escape. Both stores.
@Suite struct RawJobBytesTests {
    enum Store: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    /// A worker on a fresh contact log of the store.
    static func harness(_ store: Store) async throws -> Harness {
        var location: String?
        if store == .postgres {
            guard TestPostgres.url != nil else { try Test.cancel("skipped: no PostgreSQL (TEST_POSTGRES_URL is unset; scripts/test starts one)") }
            location = try await TestPostgres.freshDatabase()
        }
        return try Harness { configuration in
            if let location { configuration.contactLogPath = location }
        }
    }

    @Test(arguments: Store.allCases) func refusedJobsAreLoggedByteForByte(_ store: Store) async throws {
        let harness = try await Self.harness(store)
        let text = #"{"id": "U16-1", "template": "payment-reminder", "channels": ["sms"], "contact": {"id": "C-1", "phone": "+50688887777"}, "data": {}}"#
        let utf16: [UInt8] = [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let escaped = Array(job("NUL-1").replacingOccurrences(of: #""id": "C-NUL-1""#, with: #""id": "C-\u0000-1""#).utf8)
        #expect(escaped.firstRange(of: Array(#"C-\u0000-1"#.utf8)) != nil)
        let (first, second) = try await harness.running { _ in
            let first = try await harness.redis.command(bytes: [Array("XADD".utf8), Array(harness.configuration.stream.utf8), [UInt8(ascii: "*")], Array("job".utf8), utf16]).string ?? ""
            let second = try await harness.redis.command(bytes: [Array("XADD".utf8), Array(harness.configuration.stream.utf8), [UInt8(ascii: "*")], Array("job".utf8), escaped]).string ?? ""
            _ = try await harness.waitForOutcome(job: "NUL-1")
            _ = try await eventually { try await harness.log().events(EventFilter(kinds: [.invalid])).count == 2 }
            return (first, second)
        }
        let log = try await harness.log()
        let received = try await log.events(EventFilter(kinds: [.received])).map(\.event)
        #expect(received.first { $0.streamID == first }?.rawData == utf16)
        #expect(received.first { $0.streamID == second }?.rawData == escaped)
        // The contact id the refused job named, NUL and all: found whole, on both of its events.
        let named = try await log.events(EventFilter(contactID: "C-\u{0}-1")).map(\.event.kind)
        #expect(named == [.received, .invalid])
        let report = try await log.verifyChain()
        #expect(report.problem == nil, "\(report.problem?.message ?? "")")
        #expect(report.checked == 4)
    }

    /// A job sent at once is recorded by its `dispatching` alone, which carries the job exactly as
    /// XADDed (spacing, key order, escapes, non-ASCII); the chain covers those bytes.
    @Test(arguments: Store.allCases) func aSentJobsBytesAreOnItsDispatchingEvent(_ store: Store) async throws {
        let harness = try await Self.harness(store)
        let raw = Array(job("RAW-1").replacingOccurrences(of: "\": ", with: "\" :\t").replacingOccurrences(of: "Ana Mora", with: "Ana Mar\\u00eda Peña").utf8)
        #expect(raw.contains(0x09))
        try await harness.running { _ in
            _ = try await harness.redis.command(bytes: [Array("XADD".utf8), Array(harness.configuration.stream.utf8), [UInt8(ascii: "*")], Array("job".utf8), raw])
            #expect(try await harness.waitForOutcome(job: "RAW-1").kind == .sent)
        }
        let log = try await harness.log()
        let events = try await log.events(EventFilter(jobID: "RAW-1")).map(\.event)
        #expect(events.map(\.kind) == [.dispatching, .sent])
        #expect(events.first?.job == raw)
        #expect(events.first?.arrivedJob == raw)
        #expect(events.last?.job == nil)
        let report = try await log.verifyChain()
        #expect(report.problem == nil, "\(report.problem?.message ?? "")")
        #expect(report.checked == 2)
    }
}
