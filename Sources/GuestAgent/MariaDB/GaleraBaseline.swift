import Bus
import Foundation
import GuestProtocol
import LocalServers
import Synchronization

/// What an operator does by hand to build a three-member Galera cluster on this host, timed: the benchmark's
/// baseline for `cellar bench cluster`. The same options a member's guest writes; the seed installed and
/// started with `--wsrep-new-cluster`, the state-transfer account made, the two others started empty together
/// (they copy the seed's data by `mariadb-backup`); done when all three are synced. Everything is removed after.
public enum GaleraBaseline {
    /// Seconds from the seed's installation to three synced members, on `addresses` (three loopback addresses
    /// whose ports 3306, 4444, 4567 and 4568 are free).
    public static func timeManualCluster(addresses: [String], osUser: String?) throws -> Double {
        let root = URL(fileURLWithPath: "/tmp/cellar-galera-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(at: root) }
        var servers: [pid_t] = []
        defer {
            for pid in servers { kill(pid, SIGTERM) }
            for pid in servers {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            }
        }
        let transferUser = MariaDBServer.transferUser(osUser: osUser)
        let members = try addresses.enumerated().map { index, address -> (options: URL, client: MariaDBClient, data: String, log: String) in
            let folder = root.appendingPathComponent("m\(index)", isDirectory: true)
            let data = folder.appendingPathComponent("data").path
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            if let osUser {
                for path in [folder.path, data] {
                    try FileManager.default.setAttributes([.ownerAccountName: osUser, .groupOwnerAccountName: osUser], ofItemAtPath: path)
                }
            }
            let options = MariaDBOptionsFile(
                dataDirectory: data, socket: folder.appendingPathComponent("mysqld.sock").path,
                pidFile: folder.appendingPathComponent("mysqld.pid").path,
                errorLog: folder.appendingPathComponent("error.log").path, address: address, port: 3306, memoryMB: 256, overrides: [:],
                cluster: ClusterSettings(
                    name: "bench\(root.lastPathComponent.suffix(8))", nodeName: "m\(index)", peerAddresses: addresses, seed: index == 0),
                transferUser: transferUser)
            let file = folder.appendingPathComponent("my.cnf")
            try Data(options.text.utf8).write(to: file)
            return (file, MariaDBClient(socket: options.socket), data, options.errorLog)
        }
        let started = ContinuousClock.now
        let seed = members[0]
        try MariaDBServer.install(dataDirectory: seed.data, osUser: osUser)
        servers.append(
            try MariaDBServer.start(
                optionsFile: seed.options.path, output: seed.log, errorLog: seed.log, client: seed.client,
                osUser: osUser, extraArguments: ["--wsrep-new-cluster"]))
        try MariaDBServer.createAdminAccount(transferUser, on: seed.client)
        // The joiners start together, as an operator would start them.
        let joiners = Array(members.dropFirst())
        let pids = Mutex<[pid_t]>([])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: joiners.count) { index in
            let member = joiners[index]
            do {
                let pid = try MariaDBServer.start(
                    optionsFile: member.options.path, output: member.log, errorLog: member.log, client: member.client,
                    osUser: osUser, timeout: .seconds(170))
                pids.withLock { $0.append(pid) }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        servers += pids.withLock { $0 }
        if let failure = failures.withLock({ $0.first }) { throw RemoteFailure(type: "GaleraBaselineFailed", message: failure) }
        for member in members {
            let deadline = ContinuousClock.now + .seconds(170)
            while (try? member.client.run("SHOW STATUS LIKE 'wsrep_local_state_comment'").first?.last) != "Synced" {
                guard ContinuousClock.now < deadline else { throw RemoteFailure(type: "GaleraBaselineFailed", message: "a member did not sync") }
                usleep(50_000)
            }
        }
        return (ContinuousClock.now - started).seconds
    }
}
