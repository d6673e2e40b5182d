#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A child process for tests, started with `posix_spawn`, in place of Foundation's `Process`.
///
/// Foundation's `Process.run()` on Linux (swift-corelibs-foundation before PR 5472) walks
/// `/proc/self/fd` to close the parent's descriptors and copies each entry's whole 256-byte name,
/// reading past the end of the directory buffer: now and then a segmentation fault in the test
/// process, seen in CI under load. Its `FileHandle.readDataToEndOfFile()` also traps when a read is
/// interrupted by a signal (EINTR). Here the child's descriptors above stderr are closed by glibc's
/// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34, Debian 12 has 2.36), every signal's
/// disposition is reset to the default and its signal mask emptied (the test runner ignores
/// SIGTERM, and an ignored signal stays ignored across exec), and reads retry on EINTR.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: `pid` and `output` are set once in init; `status` is guarded by `lock`.
    public enum Output: Sendable {
        /// `/dev/null` for both stdout and stderr.
        case discard
        /// stdout and stderr into one pipe, read with `readToEnd()` or `readSome()`.
        case capture
        /// stdout into the pipe, stderr to `/dev/null`.
        case captureStdoutOnly
        /// stdout into the pipe, stderr the test runner's own.
        case captureStdoutKeepStderr
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public let description: String
    }

    public let pid: pid_t
    private let output: Int32  // the pipe's read end, or -1
    private let lock = NSLock()
    private var status: Int32?

    /// Starts `executable` (a path, not searched in PATH) with `arguments`; `environment` nil keeps
    /// the test process's own.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                output mode: Output = .capture) throws {
        var fds: [Int32] = [-1, -1]
        if mode != .discard {
            guard pipe(&fds) == 0 else { throw SpawnError(description: "pipe: \(String(cString: strerror(errno)))") }
            // Close-on-exec as well (Swift's Glibc module has no pipe2): no other child keeps this
            // pipe open, even where glibc cannot close descriptors in the child. dup2 onto 1 and 2
            // clears the flag on the child's copies.
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        switch mode {
        case .discard:
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        case .capture:
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
            posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        case .captureStdoutOnly:
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        case .captureStdoutKeepStderr:
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        }
        // Everything above stderr closed in the child: the pipe's own ends, and whatever the test
        // process has open (a child holding a test's socket or another child's pipe would keep it open).
        if let closeFrom = Self.addCloseFrom {
            _ = closeFrom(&actions, 3)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let environment = environment ?? ProcessInfo.processInfo.environment
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }

        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        if mode != .discard { close(fds[1]) }
        guard result == 0 else {
            if mode != .discard { close(fds[0]) }
            throw SpawnError(description: "posix_spawn \(executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
        self.output = fds[0]
    }

    /// A child never waited for is killed and reaped, so no test leaves a process or a zombie behind.
    deinit {
        if output >= 0 { close(output) }
        if status == nil {
            kill(pid, SIGKILL)
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        }
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np`, which Swift's Glibc module does not
    /// declare (it is a GNU extension); nil before glibc 2.34.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// Everything the child writes until it closes its output (usually: until it exits).
    public func readToEnd() -> [UInt8] {
        var data: [UInt8] = []
        while true {
            let chunk = readSome()
            if chunk.isEmpty { return data }
            data += chunk
        }
    }

    /// The next bytes the child writes, waiting for them; empty at the end of its output.
    public func readSome() -> [UInt8] {
        guard output >= 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if count >= 0 { return Array(buffer[0..<count]) }
            if errno != EINTR { return [] }
        }
    }

    /// Sends `signal` (SIGTERM by default) unless the child has been waited for.
    public func signal(_ signal: Int32 = SIGTERM) {
        lock.lock()
        defer { lock.unlock() }
        if status == nil { kill(pid, signal) }
    }

    /// Waits for the child to exit: its exit code, or 128 plus the signal that ended it; -1 if it
    /// cannot be waited for (it was reaped elsewhere). Blocks without the lock (`signal` and
    /// `isRunning` answer meanwhile) and reaps under it, so a signal never reaches a recycled pid.
    @discardableResult
    public func wait() -> Int32 {
        lock.lock()
        if let status {
            lock.unlock()
            return status
        }
        lock.unlock()
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        lock.lock()
        defer { lock.unlock() }
        if let status { return status }
        var raw: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &raw, 0) } while result < 0 && errno == EINTR
        let code = result == pid ? Self.exitCode(raw) : -1
        status = code
        return code
    }

    /// Whether the child is still running (not waited for and not yet exited).
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        if status != nil { return false }
        var raw: Int32 = 0
        let result = waitpid(pid, &raw, WNOHANG)
        if result == pid {
            status = Self.exitCode(raw)
            return false
        }
        if result < 0 {
            status = -1
            return false
        }
        return true
    }

    private static func exitCode(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }
}
