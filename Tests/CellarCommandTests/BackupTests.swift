import CellarTestSupport
import EventStore
import Foundation
import Lifecycle
import LocalServers
import ObjectStore
import Testing

/// Backups of PostgreSQL instances into the private OpenStack Swift and restores from them, through the control
/// plane with real guests and servers.
@Suite("Backups and restores (PostgreSQL into OpenStack Swift)", .serialized, .tags(.postgres, .rabbitMQ, .objectStore))
struct BackupTests {
    static let password = "correct-horse-battery"

    static func sql(_ address: String, _ statement: String) throws -> (status: Int32, output: String) {
        try TestDatastore.postgresql.login(address, user: "app", password: password, database: "orders", statement)
    }

    /// Waits until the backup shows `status`; returns its JSON.
    static func waitForBackup(_ id: String, status: String, _ plane: ControlPlane) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(120)
        var last: [String: Any] = [:]
        while ContinuousClock.now < deadline {
            last = (try await plane.trove("GET", "/backups/\(id)").json["backup"] as? [String: Any]) ?? [:]
            if last["status"] as? String == status { return last }
            try #require(last["status"] as? String != "FAILED", "the backup failed: \(last)")
            try await Task.sleep(for: .milliseconds(300))
        }
        throw Failure("backup \(id) is not \(status) after two minutes: \(last)")
    }

    /// The stored files of the object store's device (each object's bytes as the store keeps them).
    static func storedFiles() async throws -> [URL] {
        guard let folder = try await TestServers.objectStoreFolder() else { return [] }
        let devices = folder.appendingPathComponent("devices")
        guard let walker = FileManager.default.enumerator(at: devices, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "data" }
    }

    @Test(
        "a full backup holds exactly the rows of its moment, sealed (no row or password in the store's files); it restores into a new instance; another project neither sees, deletes nor restores it; a changed object is refused; delete removes its objects"
    )
    func backupAndRestore() async throws {
        // It reads and changes the stored files: only with the private store.
        guard try await TestServers.objectStoreFolder() != nil else { return }
        try await ControlPlane.with { plane in
            let (source, address) = try await plane.createActiveInstance()
            let canary = "canary-\(UUID().uuidString)"
            #expect(
                try Self.sql(
                    address,
                    "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, '\(canary)-' || g FROM generate_series(1, 3) g"
                )
                .status == 0)

            let created = try await plane.trove(
                "POST", "/backups", ["backup": ["name": "first", "instance": source, "description": "before more rows"]])
            try #require(created.status == 202, "\(created.json)")
            let backup = try #require(created.json["backup"] as? [String: Any])
            let backupID = try #require(backup["id"] as? String)
            #expect(backup["status"] as? String == "NEW" && backup["instance_id"] as? String == source, "\(backup)")
            // One backup at a time per instance.
            let second = try await plane.trove("POST", "/backups", ["backup": ["name": "second", "instance": source]])
            #expect(second.status == 422 || second.status == 202, "\(second.json)")
            let completed = try await Self.waitForBackup(backupID, status: "COMPLETED", plane)
            if second.status == 202, let secondID = (second.json["backup"] as? [String: Any])?["id"] as? String {
                _ = try await Self.waitForBackup(secondID, status: "COMPLETED", plane)
                #expect(try await plane.trove("DELETE", "/backups/\(secondID)").status == 202)
            }
            #expect((completed["size"] as? Double ?? 0) > 0, "\(completed)")
            // The instance showed BACKUP meanwhile, and is ACTIVE again.
            try await plane.waitFor(source, status: "ACTIVE", operating: "HEALTHY")
            let instanceEvents = try await plane.events("instance-\(source)").map(\.type)
            #expect(instanceEvents.contains("BackupStarted") && instanceEvents.contains("BackupFinished"), "\(instanceEvents)")
            #expect((completed["locationRef"] as? String)?.contains(backupID) == true, "\(completed)")
            #expect(try Self.sql(address, "INSERT INTO notes VALUES (4, 'after the backup')").status == 0)

            let listed = try await plane.trove("GET", "/backups").json["backups"] as? [[String: Any]] ?? []
            #expect(listed.contains { $0["id"] as? String == backupID }, "\(listed)")
            let ofInstance = try await plane.trove("GET", "/instances/\(source)/backups").json["backups"] as? [[String: Any]] ?? []
            #expect(ofInstance.contains { $0["id"] as? String == backupID }, "\(ofInstance)")

            // Sealed at rest: neither a row nor the user's password is in any stored file.
            let files = try await Self.storedFiles()
            #expect(!files.isEmpty, "the store holds no object files")
            for file in files {
                let bytes = try Data(contentsOf: file)
                #expect(bytes.range(of: Data(canary.utf8)) == nil, "a row is readable in \(file.path)")
                #expect(bytes.range(of: Data(Self.password.utf8)) == nil, "a password is readable in \(file.path)")
            }

            // Another project: not listed, not shown, not deleted, not restored.
            let other = try await plane.otherTenant("intruders")
            #expect((try await other.trove("GET", "/backups", nil).json["backups"] as? [[String: Any]] ?? []).isEmpty)
            #expect(try await other.trove("GET", "/backups/\(backupID)", nil).status == 404)
            #expect(try await other.trove("DELETE", "/backups/\(backupID)", nil).status == 404)
            let stolen = try await other.trove(
                "POST", "/instances",
                ["instance": ["name": "stolen", "flavorRef": "1", "volume": ["size": 1], "restorePoint": ["backupRef": backupID]]])
            #expect(stolen.status == 404, "\(stolen.json)")

            // The restore: a new instance with exactly the rows of the backup's moment, and the source's users.
            let restored = try await plane.trove(
                "POST", "/instances",
                ["instance": ["name": "restored", "flavorRef": "1", "volume": ["size": 1], "restorePoint": ["backupRef": backupID]]])
            try #require(restored.status == 200, "\(restored.json)")
            let restoredID = try #require((restored.json["instance"] as? [String: Any])?["id"] as? String)
            let active = try await plane.waitFor(restoredID, status: "ACTIVE", operating: "HEALTHY", timeout: .seconds(180))
            let restoredAddress = try #require((active["ip"] as? [String])?.first)
            let rows = try Self.sql(restoredAddress, "SELECT id || ':' || body FROM notes ORDER BY id")
            #expect(rows.output.split(separator: "\n").map(String.init) == (1...3).map { "\($0):\(canary)-\($0)" }, "\(rows.output)")
            #expect(try Self.sql(restoredAddress, "INSERT INTO notes VALUES (9, 'the copy is its own')").status == 0)
            #expect(try Self.sql(address, "SELECT count(*) FROM notes WHERE id = 9").output.trimmingCharacters(in: .whitespacesAndNewlines) == "0")

            // A changed object: the restore refuses it, the instance fails with the reason.
            let completion = try #require(try await plane.events("backup-\(backupID)").last { $0.type == "BackupCompleted" })
            let artifact = try JSONDecoder().decode(Backup.Artifact.self, from: completion.data)
            let sizes = Set((artifact.stored?.objects ?? []).map(\.bytes))
            let objectFiles = try await Self.storedFiles().filter { file in
                let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int64) ?? nil
                return size.map(sizes.contains) ?? false
            }
            try #require(!objectFiles.isEmpty, "no stored file has the size of the backup's objects")
            // In place: the store keeps an object's metadata in the file's extended attributes.
            for file in objectFiles {
                let handle = try FileHandle(forUpdating: file)
                let middle = UInt64(try #require(sizes.first) / 2)
                try handle.seek(toOffset: middle)
                let byte = try #require(try handle.read(upToCount: 1)?.first)
                try handle.seek(toOffset: middle)
                try handle.write(contentsOf: Data([byte ^ 0x5A]))
                try handle.close()
            }
            let broken = try await plane.trove(
                "POST", "/instances",
                ["instance": ["name": "from-changed", "flavorRef": "1", "volume": ["size": 1], "restorePoint": ["backupRef": backupID]]])
            try #require(broken.status == 200, "\(broken.json)")
            let brokenID = try #require((broken.json["instance"] as? [String: Any])?["id"] as? String)
            let failed = try await plane.waitFor(brokenID, status: "ERROR", timeout: .seconds(180))
            let fault = ((failed["fault"] as? [String: Any])?["message"] as? String) ?? ""
            #expect(fault.contains("SHA-256"), "\(failed)")

            // Delete: the backup and its objects are gone.
            #expect(try await plane.trove("DELETE", "/backups/\(backupID)").status == 202)
            let deadline = ContinuousClock.now + .seconds(60)
            while try await plane.trove("GET", "/backups/\(backupID)").status != 404, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(try await plane.trove("GET", "/backups/\(backupID)").status == 404)
            let store = SwiftObjectStore(location: try StoreLocation(url: plane.backupStoreURL))
            #expect(try await store.list(container: "cellar-backups-\(plane.projectID)", prefix: "\(backupID)/").isEmpty)

            // The project's backups quota: over it, a 413 and nothing recorded.
            #expect(try await plane.trove("PUT", "/mgmt/quotas/\(plane.projectID)", ["quotas": ["backups": 0]], asAdmin: true).status == 200)
            let refused = try await plane.trove("POST", "/backups", ["backup": ["name": "over quota", "instance": source]])
            #expect(refused.status == 413, "\(refused.json)")
            #expect((try await plane.trove("GET", "/backups").json["backups"] as? [[String: Any]] ?? []).isEmpty)

            for id in [restoredID, brokenID, source] { #expect(try await plane.trove("DELETE", "/instances/\(id)").status == 202) }
            for id in [restoredID, brokenID, source] { try await plane.waitUntilGone(id) }
        }
    }

    /// The `pg_basebackup` processes of the instance.
    static func baseBackups(of instanceID: String) -> Set<Int32> {
        Set(
            ProcessStatus.processes(commandLineContaining: "pg_basebackup").filter { pid in
                ProcessStatus.commandLine(of: pid)?.contains(instanceID) == true
            })
    }

    /// Starts a backup of `instanceID` and returns its id once its own `pg_basebackup` runs.
    static func startBackup(_ name: String, of instanceID: String, _ plane: ControlPlane) async throws -> String {
        let before = baseBackups(of: instanceID)
        let created = try await plane.trove("POST", "/backups", ["backup": ["name": name, "instance": instanceID]])
        try #require(created.status == 202, "\(created.json)")
        let id = try #require((created.json["backup"] as? [String: Any])?["id"] as? String)
        let deadline = ContinuousClock.now + .seconds(60)
        while baseBackups(of: instanceID).subtracting(before).isEmpty {
            try #require(ContinuousClock.now < deadline, "no pg_basebackup of \(instanceID) started")
            try await Task.sleep(for: .milliseconds(10))
        }
        return id
    }

    /// The private store's proxy.
    static func proxyPID(_ storeFolder: URL) throws -> Int32 {
        let text = try String(contentsOf: storeFolder.appendingPathComponent("proxy.pid"), encoding: .utf8)
        return try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// Why the backup failed, from its stream.
    static func failureReason(_ backupID: String, _ plane: ControlPlane) async throws -> String {
        let failed = try #require(try await plane.events("backup-\(backupID)").last { $0.type == "BackupFailed" })
        return (try JSONSerialization.jsonObject(with: failed.data) as? [String: Any])?["reason"] as? String ?? ""
    }

    @Test(
        "kill -9 of the guest mid-backup: FAILED with the reason at once; the store restarted mid-backup: ridden out, the backup restores whole; the store gone longer than a transfer waits: FAILED with its reason; failed backups' objects go with them; the next backup completes"
    )
    func failuresMidBackup() async throws {
        guard let storeFolder = try await TestServers.objectStoreFolder() else { return }  // an external store: not ours to stop
        try await ControlPlane.with(reviveInterval: 2) { plane in
            let (source, address) = try await plane.createActiveInstance()
            // About 150 MB that does not compress: a backup takes long enough to be caught in the middle.
            let filled = try Self.sql(
                address, "CREATE TABLE big AS SELECT g AS id, md5(g::text) AS a, md5((g * 7)::text) AS b FROM generate_series(1, 1500000) g")
            try #require(filled.status == 0, "\(filled.output)")

            // The guest killed while its upload waits on a stalled store.
            let killed = try await Self.startBackup("guest killed", of: source, plane)
            let proxy = try Self.proxyPID(storeFolder)
            kill(proxy, SIGSTOP)
            for pid in plane.guestAgents(of: source) { kill(pid, SIGKILL) }
            kill(proxy, SIGCONT)
            _ = try await Self.waitForBackup(killed, status: "FAILED", plane)
            #expect(try await Self.failureReason(killed, plane).contains("guest agent"))
            try await plane.waitFor(source, status: "ACTIVE", operating: "HEALTHY")

            // The store restarted while the guest uploads: each object's transfer waits for it (up to
            // `SignedTransfer.limit`), the backup completes, and restores whole.
            let ridden = try await Self.startBackup("store restarted", of: source, plane)
            kill(try Self.proxyPID(storeFolder), SIGSTOP)
            try await TestServers.restartObjectStore(pause: .seconds(1))
            _ = try await Self.waitForBackup(ridden, status: "COMPLETED", plane)
            let restored = try await plane.trove(
                "POST", "/instances",
                ["instance": ["name": "after-restart", "flavorRef": "1", "volume": ["size": 1], "restorePoint": ["backupRef": ridden]]])
            try #require(restored.status == 200, "\(restored.json)")
            let restoredID = try #require((restored.json["instance"] as? [String: Any])?["id"] as? String)
            let active = try await plane.waitFor(restoredID, status: "ACTIVE", operating: "HEALTHY", timeout: .seconds(180))
            let restoredAddress = try #require((active["ip"] as? [String])?.first)
            #expect(try Self.sql(restoredAddress, "SELECT count(*) FROM big").output.trimmingCharacters(in: .whitespacesAndNewlines) == "1500000")

            // The store gone for longer than a transfer waits: the backup FAILED with the store's reason.
            let interrupted = try await Self.startBackup("store gone", of: source, plane)
            kill(try Self.proxyPID(storeFolder), SIGSTOP)
            try await TestServers.restartObjectStore(pause: SignedTransfer.limit + .seconds(15))
            _ = try await Self.waitForBackup(interrupted, status: "FAILED", plane)
            #expect(try await Self.failureReason(interrupted, plane).contains("object store"))

            // The next backup works.
            let good = try await plane.trove("POST", "/backups", ["backup": ["name": "after the failures", "instance": source]])
            try #require(good.status == 202, "\(good.json)")
            let goodID = try #require((good.json["backup"] as? [String: Any])?["id"] as? String)
            _ = try await Self.waitForBackup(goodID, status: "COMPLETED", plane)

            // The failed backups' objects go when they are deleted.
            let store = SwiftObjectStore(location: try StoreLocation(url: plane.backupStoreURL))
            let container = "cellar-backups-\(plane.projectID)"
            for id in [killed, interrupted] as [String] {
                #expect(try await plane.trove("DELETE", "/backups/\(id)").status == 202)
                let deadline = ContinuousClock.now + .seconds(60)
                while try await plane.trove("GET", "/backups/\(id)").status != 404, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(300))
                }
                #expect(try await store.list(container: container, prefix: "\(id)/").isEmpty, "objects of failed backup \(id) are left")
            }
            #expect(!(try await store.list(container: container, prefix: "\(goodID)/").isEmpty))
        }
    }

    @Test(
        "MariaDB: a full backup (mariadb-backup) restores into a new instance with exactly the rows of its moment, administered by the new guest alone"
    )
    func mariadb() async throws {
        try await ControlPlane.with { plane in
            let (source, address) = try await plane.createActiveInstance(.mariadb)
            func sql(_ address: String, _ statement: String) throws -> (status: Int32, output: String) {
                try TestDatastore.mariadb.login(address, user: "app", password: Self.password, database: "orders", statement)
            }
            #expect(
                try sql(address, "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, 'one'), (2, 'two')").status == 0)
            let created = try await plane.trove("POST", "/backups", ["backup": ["name": "mariadb", "instance": source]])
            try #require(created.status == 202, "\(created.json)")
            let backupID = try #require((created.json["backup"] as? [String: Any])?["id"] as? String)
            _ = try await Self.waitForBackup(backupID, status: "COMPLETED", plane)
            try await plane.waitFor(source, status: "ACTIVE", operating: "HEALTHY")
            #expect(try sql(address, "INSERT INTO notes VALUES (3, 'after the backup')").status == 0)

            let restored = try await plane.trove(
                "POST", "/instances",
                ["instance": ["name": "restored", "flavorRef": "1", "volume": ["size": 1], "restorePoint": ["backupRef": backupID]]])
            try #require(restored.status == 200, "\(restored.json)")
            let restoredID = try #require((restored.json["instance"] as? [String: Any])?["id"] as? String)
            let active = try await plane.waitFor(restoredID, status: "ACTIVE", operating: "HEALTHY", timeout: .seconds(180))
            #expect((active["datastore"] as? [String: Any])?["type"] as? String == "mariadb", "\(active)")
            let restoredAddress = try #require((active["ip"] as? [String])?.first)
            let rows = try sql(restoredAddress, "SELECT CONCAT(id, ':', body) FROM notes ORDER BY id")
            #expect(rows.output.split(separator: "\n").map(String.init) == ["1:one", "2:two"], "\(rows.output)")
            // The new guest administers it: a database made through the API appears.
            #expect(try await plane.trove("POST", "/instances/\(restoredID)/databases", ["databases": [["name": "extra"]]]).status == 202)
            try await BackupTests.waitUntil("the guest lists the new database") {
                let listed = try await plane.trove("GET", "/instances/\(restoredID)/databases").json["databases"] as? [[String: Any]] ?? []
                return listed.contains { $0["name"] as? String == "extra" }
            }
            #expect(try await plane.trove("POST", "/instances/\(restoredID)/root").status == 200, "root cannot be enabled")
            for id in [restoredID, source] { #expect(try await plane.trove("DELETE", "/instances/\(id)").status == 202) }
            for id in [restoredID, source] { try await plane.waitUntilGone(id) }
        }
    }

    static func waitUntil(_ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw Failure("\(what): not within \(timeout)") }
            try await Task.sleep(for: .milliseconds(250))
        }
    }
}
