import Foundation
import GatewayCore
import PostgresContactLog
import Testing
import TestSupport
@testable import ContactLog

/// Values the log is given are stored, hashed and read back byte for byte: a job that is not UTF-8
/// (UTF-16, with its byte-order mark), NUL bytes from a job's `\u0000` in a contact id and a
/// detail, and U+FDD0 (the character PostgreSQL's spelling escapes with).
@Suite struct ExactBytesTests {
    /// `text` in UTF-16LE after a byte-order mark, as a Windows tool might XADD it.
    static func utf16(_ text: String) -> [UInt8] {
        [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    }

    static let utf16Job = utf16(#"{"id": "U16-1", "template": "payment-reminder", "channels": ["sms"], "contact": {"id": "C-1", "phone": "+50688887777"}, "data": {"nombre": "Ñandú"}}"#)
    static let nulContact = "C-\u{0}-9"
    static let escapeCharacter = String(Character(Unicode.Scalar(UInt32(0xFDD0))!))

    static func events() -> [ContactEvent] {
        let at = Date(timeIntervalSince1970: 1_796_000_000)
        let escapedJob = #"{"id": "NUL-1", "template": "payment-reminder", "contact": {"id": "C-\u0000-9"}}"#
        return [
            ContactEvent(jobID: nil, contactID: nil, kind: .received, at: at, streamID: "1-0", rawData: utf16Job),
            ContactEvent(jobID: nil, contactID: nil, kind: .invalid, at: at, reason: "not_json", detail: "job is not valid UTF-8 JSON", streamID: "1-0"),
            ContactEvent(jobID: "NUL-1", contactID: nulContact, kind: .received, at: at, streamID: "2-0", rawData: Array(escapedJob.utf8)),
            ContactEvent(jobID: "NUL-1", contactID: nulContact, kind: .invalid, at: at, reason: "invalid_value",
                         detail: "contact.id must not contain control characters (\"\(nulContact)\")", streamID: "2-0"),
            ContactEvent(jobID: "FD-1", contactID: "C-2", kind: .sent, at: at, channel: .sms, provider: "sandbox",
                         body: "a noncharacter \(escapeCharacter)41 and a lone \(escapeCharacter) stay", data: "{\"note\":\"\(escapeCharacter)00\"}"),
            // A job sent at once: its `dispatching` carries the job as it arrived (NUL and U+FDD0 too).
            ContactEvent(jobID: "FD-2", contactID: "C-3", kind: .dispatching, at: at, channel: .sms, provider: "sandbox", body: "Hola",
                         streamID: "3-0", data: "{\"tone_rule\":\"default\"}", job: Array("{\"id\": \"FD-2\", \"n\": \"\(escapeCharacter)00\"}".utf8) + [0x00]),
        ]
    }

    @Test(arguments: StoreKind.available) func everyByteIsStoredHashedAndReadBack(_ kind: StoreKind) async throws {
        let store = try await TestStore.make(kind)
        let written = Self.events()
        #expect(try await store.log.append(written) == Array(repeating: true, count: written.count))
        let stored = try await store.log.events(EventFilter())
        #expect(stored.map(\.event) == written)
        #expect(stored[0].event.rawData == Self.utf16Job)
        let report = try await store.log.verifyChain()
        #expect(report.problem == nil)
        #expect(report.checked == written.count)
        // The contact id with its NUL is found whole, and is not the id it starts with.
        #expect(try await store.log.events(EventFilter(contactID: Self.nulContact)).map(\.sequence) == [stored[2].sequence, stored[3].sequence])
        #expect(try await store.log.events(EventFilter(contactID: "C-")).isEmpty)
        // JSON Lines: NUL as \u0000, every character there; bytes that are not UTF-8 as data_base64.
        let line = EventExport.jsonLine(stored[3])
        #expect(line.contains(#""contact_id":"C-\u0000-9""#))
        #expect(line.contains(#"control characters (\"C-\u0000-9\")""#))
        let utf16 = EventExport.jsonObject(stored[0])
        guard case .object(let object) = utf16, case .string(let base64)? = object["data_base64"] else {
            Issue.record("no data_base64 in \(EventExport.jsonLine(stored[0]))")
            return
        }
        #expect(Data(base64Encoded: base64).map(Array.init) == Self.utf16Job)
        #expect(object["data"] == nil)
        // CSV: the bytes as they came (quoted, as the job holds commas and quotes; quotes doubled).
        let field = [UInt8(ascii: "\"")] + Self.utf16Job.flatMap { $0 == UInt8(ascii: "\"") ? [$0, $0] : [$0] } + [UInt8(ascii: "\"")]
        #expect(EventExport.csvRow(stored[0]).firstRange(of: field) != nil)
        #expect(EventExport.csvRow(stored[2]).firstRange(of: Array(Self.nulContact.utf8)) != nil)
        // The job on a `dispatching`: `job` in JSON Lines (NUL as \u0000), the last CSV column.
        let dispatching = try #require(stored.last)
        #expect(dispatching.event.job?.last == 0x00)
        #expect(EventExport.jsonLine(dispatching).contains(#""job":"{\"id\": \"FD-2\", \"n\": \""#))
        #expect(EventExport.jsonLine(dispatching).contains(#"\u0000""#))
        #expect(EventExport.csvHeader.hasSuffix(",data,job\r\n"))
        #expect(EventExport.csvRow(dispatching).firstRange(of: Array("FD-2".utf8)) != nil)
    }

    /// What a PostgreSQL log written before the escaped spelling holds: U+FDD0 as it is. Opening it
    /// respells those values once; they read the same and the chain still verifies.
    @Test func aPostgreSQLLogFromBeforeTheSpellingIsRespelledWhenOpened() async throws {
        let store = try await TestStore.make(.postgres)
        // What an older gateway could write: no NUL and nothing but UTF-8 (PostgreSQL refused the rest).
        let written = Self.events().filter { $0.jobID == "FD-1" || $0.kind == .invalid && $0.jobID == nil }
        #expect(written.count == 2)
        _ = try await store.log.append(written)
        let url = (store.log as! PostgresContactLog).url
        // As the old code wrote them: the escape character as it is.
        try await store.tamper("""
            UPDATE events SET body = 'a noncharacter ' || chr(64976) || '41 and a lone ' || chr(64976) || ' stay', data = '{"note":"' || chr(64976) || '00"}' WHERE job_id = 'FD-1'
            """)
        try await store.execute("DELETE FROM gateway_schema WHERE version = 2")
        let reopened = try await PostgresContactLog(url: url)
        let stored = try await reopened.events(EventFilter(jobID: "FD-1"))
        #expect(stored.map(\.event) == [written[1]])
        #expect(try await reopened.verifyChain().problem == nil)
        reopened.close()
    }
}
