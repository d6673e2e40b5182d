#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// The tests' subprocess helper (instead of Foundation's Process, whose `run()` crashed the test
/// process now and then): what a child gets from the test process and what the test gets back.
@Suite struct ChildProcessTests {
    @Test func aChildHasNoneOfTheTestsDescriptorsAndItsOutputAndExitCodeComeBack() throws {
        // A pipe the test process holds open without close-on-exec, as a test's socket may be.
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let child = try ChildProcess("/bin/sh", ["-c", "if [ -e /proc/$$/fd/\(fds[1]) ]; then echo inherited; else echo closed; fi; echo to-stderr >&2; exit 3"])
        let output = String(decoding: child.readToEnd(), as: UTF8.self)
        #expect(child.wait() == 3)
        #expect(output == "closed\nto-stderr\n")
        #expect(!child.isRunning)
    }

    @Test func aChildStopsOnSIGTERMWhateverTheTestProcessIgnores() throws {
        let previous = Glibc.signal(SIGTERM, SIG_IGN)
        defer { Glibc.signal(SIGTERM, previous) }
        let child = try ChildProcess("/bin/sleep", ["60"], output: .discard)
        #expect(child.isRunning)
        child.signal(SIGTERM)
        #expect(child.wait() == 128 + SIGTERM)
        #expect(child.wait() == 128 + SIGTERM)  // waited once; the answer is kept
    }

    @Test func onlyStdoutIsCapturedWhenAsked() throws {
        let child = try ChildProcess("/bin/sh", ["-c", "echo out; echo err >&2"], environment: ["PATH": "/usr/bin:/bin"],
                                     output: .captureStdoutOnly)
        #expect(String(decoding: child.readToEnd(), as: UTF8.self) == "out\n")
        #expect(child.wait() == 0)
    }

    @Test func aChildNobodyWaitedForIsKilledAndReapedWhenDropped() throws {
        var child: ChildProcess? = try ChildProcess("/bin/sleep", ["60"], output: .discard)
        let pid = try #require(child?.pid)
        #expect(kill(pid, 0) == 0)
        child = nil
        // Reaped, not a zombie: the pid no longer exists.
        #expect(kill(pid, 0) == -1 && errno == ESRCH)
    }

    @Test func aMissingExecutableIsAnError() {
        #expect(throws: ChildProcess.SpawnError.self) { try ChildProcess("/nonexistent/tool", []) }
    }
}
