import Foundation
import Testing
@testable import Templates

/// A template file that cannot be read is reported with the real cause, not Foundation's
/// "The operation could not be completed".
@Suite struct TemplateFilesReadTests {
    @Test func aFileThatCannotBeReadNamesTheCause() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("read-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // A directory where a file is expected: the read itself fails (EISDIR).
        var failure: (any Error)?
        do { _ = try Data(contentsOf: directory) } catch { failure = error }
        let error = try #require(failure)
        #expect(error.localizedDescription.contains("could not be completed"))   // what the log used to say
        #expect(FileReadFailure.reason(error) == "Is a directory")
    }

    /// Foundation's error when the process is out of descriptors, as Data(contentsOf:) throws it
    /// on Linux (a CocoaError 256 over POSIX error 24; seen with RLIMIT_NOFILE lowered to 32).
    @Test func runningOutOfDescriptorsIsNamed() {
        let error = NSError(domain: NSCocoaErrorDomain, code: 256, userInfo: [
            NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(EMFILE)), NSFilePathErrorKey: "/t/due-today/sms.es.mustache",
        ])
        #expect(FileReadFailure.reason(error).hasPrefix("too many open files (EMFILE): the gateway has used up its file descriptors"))
        #expect(FileReadFailure.reason(NSError(domain: NSPOSIXErrorDomain, code: Int(ENOENT))) == "No such file or directory")
    }
}
