import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A failed external command, with what it printed so the operator can act on it.
public struct CommandFailure: Error, CustomStringConvertible {
    /// The command line that failed.
    public var command: String
    /// Its exit status.
    public var status: Int32
    /// The tail of what it wrote to stdout and stderr.
    public var output: String

    public var description: String {
        "`\(command)` exited with status \(status): \(output.trimmingCharacters(in: .whitespacesAndNewlines))"
    }
}

/// Runs the short-lived helper programs (initdb, pg_ctl, rabbitmqctl...) that manage local servers.
///
/// These calls block their thread, so callers run them from a dedicated thread, never from an event loop.
public enum CommandRunner {
    /// Runs `executable` with `arguments`, optionally as another OS user, and returns its output. `input` goes to
    /// its stdin through a pipe (never a file or the command line: it may hold a password).
    @discardableResult
    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        asUser user: String? = nil,
        input: Data? = nil,
        allowFailure: Bool = false
    ) throws -> String {
        var launch = executable
        var launchArguments = arguments
        if let user {
            launch = "/usr/sbin/runuser"
            launchArguments = ["-u", user, "--", executable] + arguments
        }
        // Output goes to a file, not a pipe: daemons (postgres, beam) inherit the descriptors and would hold a
        // pipe open forever. posix_spawn + waitpid instead of Foundation's Process, whose exit detection was seen
        // to miss the exit of a child whose own child daemonized.
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("cellar-cmd-\(UUID().uuidString).log").path
        defer { unlink(outputPath) }
        let status = try spawnAndWait(launch, launchArguments, environment: environment, outputPath: outputPath, input: input)
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        if status != 0 && !allowFailure {
            throw CommandFailure(
                command: ([executable] + arguments).joined(separator: " "),
                status: status,
                output: String(text.suffix(2000))
            )
        }
        return text
    }
}

/// Starts `executable` with stdin from `input` (or /dev/null) and stdout+stderr to `outputPath`; returns its exit status.
private func spawnAndWait(
    _ executable: String, _ arguments: [String], environment: [String: String], outputPath: String,
    input: Data?
) throws -> Int32 {
    var pipeEnds: [Int32] = [-1, -1]
    if input != nil {
        guard pipe(&pipeEnds) == 0 else { throw CommandFailure(command: executable, status: 127, output: "cannot make a pipe") }
        _ = fcntl(pipeEnds[1], F_SETFD, FD_CLOEXEC)
    }
    let pid: pid_t
    do {
        pid = try spawn(executable, arguments, environment: environment, outputPath: outputPath, standardInput: input == nil ? nil : pipeEnds[0])
    } catch {
        if input != nil {
            close(pipeEnds[0])
            close(pipeEnds[1])
        }
        throw error
    }
    if let input {
        close(pipeEnds[0])
        input.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(pipeEnds[1], bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 { if errno == EINTR { continue } else { break } }
                offset += written
            }
        }
        close(pipeEnds[1])
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return shellExitCode(status)
}

/// Reaps `pid` on a thread of its own when it exits, so no zombie stays behind while this process lives (after
/// this process is gone, PID 1 reaps its orphans).
public func reapWhenExits(_ pid: pid_t) {
    Thread.detachNewThread {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }
}

/// The shell-style exit code of a `waitpid` status (WIFEXITED / WEXITSTATUS are macros Swift cannot import).
func shellExitCode(_ status: Int32) -> Int32 {
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
}

/// Starts `executable` in a new session with a clean signal state; stdout and stderr go to `outputPath`
/// (appended to when `append`). The child gets descriptors 0-2 and nothing else: no listening socket, no
/// database connection of this process. Its environment is this process's plus `environment`, or, with
/// `inheritEnvironment: false`, only `PATH`, `LANG` and `environment` (a guest must not see Cellar's own
/// database URL or keys). The child outlives this process; the caller reaps it or leaves it to PID 1.
public func spawn(
    _ executable: String, _ arguments: [String], environment: [String: String], outputPath: String,
    append: Bool = false, inheritEnvironment: Bool = true, standardInput: Int32? = nil
) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if let standardInput {
        posix_spawn_file_actions_adddup2(&actions, standardInput, 0)
    } else {
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    }
    // Never through a link: the output may sit in a folder an instance's user can write.
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_NOFOLLOW | (append ? O_APPEND : O_TRUNC), 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    // Descriptors opened by libraries (NIO's sockets, librabbitmq's) are not close-on-exec; a server started
    // here would otherwise hold the API's port and the control plane's connections after Cellar is gone.
    closeInheritedDescriptors(&actions)

    let inherited = ProcessInfo.processInfo.environment
    let base = inheritEnvironment ? inherited : inherited.filter { ["PATH", "LANG", "HOME", "TMPDIR"].contains($0.key) }
    let merged = base.merging(environment) { _, new in new }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        argv.forEach { free($0) }
        envp.forEach { free($0) }
    }
    // Threads of this process block most signals; a child inherits that mask, and a shell that cannot receive
    // SIGCHLD hangs (rabbitmq-server did). Start children with an empty mask and default handlers.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var emptyMask = sigset_t()
    sigemptyset(&emptyMask)
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    posix_spawnattr_setsigmask(&attributes, &emptyMask)
    posix_spawnattr_setsigdefault(&attributes, &allSignals)
    // Also a new session (POSIX_SPAWN_SETSID, 0x80 in glibc; not imported): a Ctrl-C at the terminal reaches
    // Cellar, which stops the servers in order, instead of killing them directly.
    let newSession: Int32 = 0x80
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | newSession))
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
    guard spawned == 0 else {
        throw CommandFailure(command: executable, status: 127, output: "cannot start: \(String(cString: strerror(spawned)))")
    }
    return pid
}

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), declared only under `_GNU_SOURCE`, which Swift's
/// Glibc module does not set: looked up once at run time.
private let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
    guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
}()

/// Adds actions that close every descriptor above 2 in the child.
private func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
    if let addCloseFrom {
        _ = addCloseFrom(&actions, 3)
        return
    }
    // An older glibc: close what is open now (a descriptor opened meanwhile by another thread may slip through).
    let open = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap(Int32.init)
    for fd in open where fd > 2 && fcntl(fd, F_GETFD) != -1 { posix_spawn_file_actions_addclose(&actions, fd) }
}
