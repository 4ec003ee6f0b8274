import API
import ArgumentParser
import CellarCLI
import Compute
import EventStore
import Foundation
import Lifecycle
import LocalServers
import Logging
import ObjectStore
import PostgresNIO
import ReadModels

/// `cellar bench backup`: a PostgreSQL instance filled with `--megabytes` of rows that do not compress, backed up
/// by Cellar (sealed, checksummed, through a grant) and restored into a new instance; next to a raw
/// `pg_basebackup` into the same store in objects of the same size (no sealing, no checks) and its raw download
/// and untar, in the same run.
struct BackupBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Backup and restore throughput of a PostgreSQL instance next to a raw pg_basebackup into the same object store."
    )

    @Option(help: "Megabytes of rows to back up.") var megabytes = 1024

    func run() async throws {
        let megabytes = self.megabytes
        let figures = try await BenchControlPlane.run { plane in try await Self.measure(megabytes: megabytes, plane) }
        print("cellar bench backup: a PostgreSQL instance with \(megabytes) MB of rows, into the private OpenStack Swift")
        func row(_ name: String, _ bytes: Int64, _ seconds: Double, baseline: Double?) -> [String] {
            let mb = Double(bytes) / 1_048_576
            return [
                name, String(format: "%.0f", mb), BenchFigures.seconds(seconds), String(format: "%.1f", mb / max(seconds, 0.001)),
                baseline.map { BenchFigures.ratio($0, to: seconds) } ?? "baseline",
            ]
        }
        print(
            TextTable.render(
                header: ["SCENARIO", "MB", "SECONDS", "MB/S", "THROUGHPUT VS BASELINE"],
                rows: [
                    row("raw pg_basebackup into the store (baseline)", figures.rawBytes, figures.rawBackup, baseline: nil),
                    row("Cellar backup (sealed, checksummed, via a grant)", figures.backupBytes, figures.backup, baseline: figures.rawBackup),
                    row("raw download and untar (baseline)", figures.rawBytes, figures.rawRestore, baseline: nil),
                    row("Cellar restore into a new instance, ACTIVE", figures.backupBytes, figures.restore, baseline: figures.rawRestore),
                ]))
    }

    struct Figures: Sendable {
        var backup: Double
        var backupBytes: Int64
        var rawBackup: Double
        var rawBytes: Int64
        var restore: Double
        var rawRestore: Double
    }

    static func measure(megabytes: Int, _ plane: BenchControlPlane) async throws -> Figures {
        guard let url = plane.backupStoreURL else { throw ValidationError("the benchmark's stack has no object store") }
        let store = SwiftObjectStore(location: try StoreLocation(url: url))
        let source = try await plane.createActiveInstance(name: "bench-backup", restoreFrom: nil)
        var endpoint = PostgresConnection.Configuration(
            host: source.address, port: 5432, username: "app", password: BenchControlPlane.appPassword, database: "app", tls: .disable)
        endpoint.options.connectTimeout = .seconds(5)
        say("Filling \(megabytes) MB ...")
        let connection = try await PostgresConnection.connect(configuration: endpoint, id: 1, logger: plane.logger)
        // About 100 bytes a row, each of two MD5s: nothing for compression to win.
        try await connection.query(
            "CREATE TABLE fill AS SELECT g AS id, md5(g::text) AS a, md5((g * 7)::text) AS b FROM generate_series(1, \(megabytes * 10_000)) g",
            logger: plane.logger)
        try await connection.close()

        say("Raw pg_basebackup into the store ...")
        let (rawBackup, rawObjects) = try await Self.rawBackup(of: source.id, into: store, plane)
        say("Cellar backup ...")
        let backups = AggregateRepository<Backup>(category: "backup", store: plane.store, chart: plane.charts.backup)
        let backupID = UUID().uuidString.lowercased()
        var started = ContinuousClock.now
        try await backups.execute(
            .create(
                .init(
                    id: backupID, projectId: "bench", name: "bench", instanceId: source.id,
                    datastore: try await plane.datastore(ofInstance: source.id))),
            on: backupID, metadata: EventMetadata(service: "bench"))
        var backup = try await backups.load(backupID).state
        while backup.status != "COMPLETED" {
            if backup.status == "FAILED" { throw ValidationError("the backup failed: \(backup.failure?.reason ?? "")") }
            try await Task.sleep(for: .milliseconds(20))
            backup = try await backups.load(backupID).state
        }
        let backupSeconds = (ContinuousClock.now - started).seconds
        let backupBytes = backup.stored?.objects.reduce(Int64(0)) { $0 + $1.bytes } ?? 0

        say("Raw download and untar ...")
        let rawRestore = try await Self.rawRestore(rawObjects, from: store)
        say("Cellar restore ...")
        started = ContinuousClock.now
        _ = try await plane.createActiveInstance(name: "bench-restored", restoreFrom: backupID)
        let restoreSeconds = (ContinuousClock.now - started).seconds
        return Figures(
            backup: backupSeconds, backupBytes: backupBytes, rawBackup: rawBackup, rawBytes: rawObjects.reduce(Int64(0)) { $0 + Int64($1.bytes) },
            restore: restoreSeconds, rawRestore: rawRestore)
    }

    static let rawContainer = "bench-raw"

    /// `pg_basebackup` as the instance's own OS user over its socket, its output stored as plain 32 MiB objects.
    static func rawBackup(of instanceID: String, into store: SwiftObjectStore, _ plane: BenchControlPlane) async throws -> (Double, [StoredObject]) {
        try await store.ensureContainer(rawContainer)
        let folder = plane.instancesDirectory.appendingPathComponent(instanceID).path
        let binaries = try PostgresBinaries.locate()
        var command = [
            binaries.path("pg_basebackup"), "-D", "-", "-F", "tar", "-X", "fetch", "--checkpoint=fast", "--no-password",
            "-h", "/tmp/cellar-run/\(instanceID)/postgresql", "-p", "5432", "-U", "os_admin",
        ]
        if let user = InstanceUser.owner(of: folder) { command = ["/usr/sbin/runuser", "-u", user.name, "--"] + command }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        let started = ContinuousClock.now
        try process.run()
        let reader = pipe.fileHandleForReading
        var objects: [StoredObject] = []
        while true {
            let chunk = try await onDedicatedThread { () -> Data in
                var object = Data()
                while object.count < 32 << 20, let piece = try reader.read(upToCount: (32 << 20) - object.count), !piece.isEmpty {
                    object.append(piece)
                }
                return object
            }
            if chunk.isEmpty { break }
            let name = String(format: "raw/part-%05d", objects.count)
            try await store.put(chunk, container: rawContainer, object: name)
            objects.append(StoredObject(name: name, bytes: chunk.count, etag: ""))
        }
        try await onDedicatedThread { process.waitUntilExit() }
        guard process.terminationStatus == 0 else { throw ValidationError("the raw pg_basebackup failed (\(process.terminationStatus))") }
        return ((ContinuousClock.now - started).seconds, objects)
    }

    /// The raw objects downloaded in order into `tar -x` in a throw-away folder.
    static func rawRestore(_ objects: [StoredObject], from store: SwiftObjectStore) async throws -> Double {
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("cellar-bench-restore-\(getpid())")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: target) }
        let started = ContinuousClock.now
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/tar")
        process.arguments = ["-x", "-C", target.path, "-f", "-"]
        let pipe = Pipe()
        process.standardInput = pipe
        try process.run()
        for object in objects {
            let data = try await store.get(container: rawContainer, object: object.name)
            try await onDedicatedThread { try pipe.fileHandleForWriting.write(contentsOf: data) }
        }
        try pipe.fileHandleForWriting.close()
        try await onDedicatedThread { process.waitUntilExit() }
        guard process.terminationStatus == 0 else { throw ValidationError("the raw untar failed (\(process.terminationStatus))") }
        return (ContinuousClock.now - started).seconds
    }
}
