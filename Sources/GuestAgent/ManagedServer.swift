import Bus
import Foundation
import Logging

/// The part of a datastore manager every datastore shares: what prepared, stopped on purpose, restart and the
/// volume limit mean. A manager supplies how its server is configured, started, stopped and made read-only.
protocol ManagedServer: DatastoreManager {
    /// What the guest remembers between its own restarts, and where.
    var state: GuestState { get set }
    var guestStateFile: URL { get }
    /// The server's data directory.
    nonisolated var dataDirectory: URL { get }
    /// The data directory, measured for the volume limit.
    var dataSize: CachedDirectorySize { get set }
    /// A restart is under way: the server is down on purpose for a moment (not a crash to recover from).
    var restarting: Bool { get set }
    var logger: Logger { get }
    /// How operators name the server in logs (`PostgreSQL`).
    var serverName: String { get }

    /// Writes the server's configuration files from `state`.
    func writeServerConfiguration() throws
    /// Starts the server unless it runs; returns once it answers.
    func startServer() async throws
    /// Stops the server if it runs.
    func stopServer() async throws
    /// Makes the server refuse writes (`full`) or take them again.
    func setReadOnly(_ full: Bool) async throws
    /// Throws why the server may not be restarted now (nothing by default).
    func checkMayRestart() throws
}

extension ManagedServer {
    /// At the guest's start: a prepared server that was not stopped on purpose runs again.
    func startIfPrepared() async {
        guard state.prepared, !state.stoppedOnPurpose else { return }
        do { try await startServer() } catch {
            logger.error("could not start \(serverName)", metadata: ["error": "\(error)"])
        }
    }

    func checkMayRestart() throws {}

    /// Restarts the server, with new memory settings when given (a flavor resize).
    func restart(memoryMB: Int?) async throws {
        try requirePrepared()
        try checkMayRestart()
        restarting = true
        defer { restarting = false }
        if let memoryMB { state.memoryMB = memoryMB }
        try writeServerConfiguration()
        state.stoppedOnPurpose = false
        try state.save(to: guestStateFile)
        try await stopServer()
        try await startServer()
    }

    /// Stops the server; it stays stopped until `restart` or `prepare`.
    func stop() async throws {
        state.stoppedOnPurpose = true
        try? state.save(to: guestStateFile)
        try await stopServer()
    }

    /// Records the volume size; writes stop while the data directory outgrows it.
    func resizeVolume(_ sizeGB: Int) async throws {
        guard sizeGB > 0 else { throw RemoteFailure(type: "InvalidVolumeSize", message: "the volume size must be positive, not \(sizeGB)") }
        state.volumeSizeGB = sizeGB
        try state.save(to: guestStateFile)
        try await enforceVolumeLimit(usedBytes: dataSize.bytes())
    }

    /// The end of a successful prepare.
    func markPrepared() throws {
        state.prepared = true
        state.stoppedOnPurpose = false
        try state.save(to: guestStateFile)
    }

    func requirePrepared() throws {
        guard state.prepared else { throw RemoteFailure(type: "NotPrepared", message: "the datastore has not been prepared yet") }
    }

    /// Read-only while the data directory is larger than the volume; writable again once it fits.
    func enforceVolumeLimit(usedBytes: Int64) async throws {
        guard state.prepared, state.volumeSizeGB > 0 else { return }
        let full = usedBytes >= Int64(state.volumeSizeGB) * 1_073_741_824
        guard full != state.readOnlyForVolume else { return }
        try await setReadOnly(full)
        state.readOnlyForVolume = full
        try state.save(to: guestStateFile)
        logger.warning(
            full ? "volume full: writes refused" : "volume has room again: writes allowed",
            metadata: ["used_bytes": "\(usedBytes)", "size_gb": "\(state.volumeSizeGB)"])
    }

    /// An empty data directory (whatever was there is removed).
    nonisolated func emptyDataDirectory() throws {
        try? FileManager.default.removeItem(at: dataDirectory)
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
}

/// A directory's size, walked at most every 10 s (the walk is the heartbeat's dearest part).
struct CachedDirectorySize: Sendable {
    let directory: URL
    private var measured: (bytes: Int64, at: ContinuousClock.Instant)?

    init(directory: URL) { self.directory = directory }

    mutating func bytes() -> Int64 {
        if let measured, ContinuousClock.now - measured.at < .seconds(10) { return measured.bytes }
        var total: Int64 = 0
        if let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.fileSizeKey]) {
            for case let file as URL in files { total += Int64((try? file.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0) }
        }
        measured = (total, ContinuousClock.now)
        return total
    }
}
