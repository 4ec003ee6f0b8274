import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A long-running child process (e.g. `cellar up` started by a test), watched with `waitpid` directly.
///
/// Foundation's `Process` was seen to miss a child's exit here; this reaps the child itself.
public final class ChildProcess: Sendable {
    /// The child's process id.
    public let pid: Int32
    private let exitStatus = Mutex<Int32?>(nil)

    private init(pid: Int32) { self.pid = pid }

    /// Starts `executable` (stdin from /dev/null, stdout and stderr to `outputPath`, own session, clean signals).
    public static func start(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        outputPath: String
    ) throws -> ChildProcess {
        ChildProcess(pid: try spawn(executable, arguments, environment: environment, outputPath: outputPath))
    }

    /// True until the child has exited (and then it is reaped).
    public var isRunning: Bool {
        exitStatus.withLock { status in
            guard status == nil else { return false }
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, WNOHANG)
            if result == pid || (result == -1 && errno == ECHILD) {
                status = result == pid ? shellExitCode(raw) : -1
                return false
            }
            return true
        }
    }

    /// The exit code once it has exited.
    public var exitCode: Int32? {
        _ = isRunning
        return exitStatus.withLock { $0 }
    }

    /// Sends `signal` (SIGTERM to stop gracefully, SIGKILL to end it).
    public func send(_ signal: Int32) { kill(pid, signal) }
}
