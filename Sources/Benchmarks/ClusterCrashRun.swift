import ArgumentParser
import Foundation
import LocalServers

/// The member-crash part of `cellar bench cluster`: inserts through the balancer, one client connection each (as
/// short-lived application sessions do), while one member's server is killed; the longest wait between two
/// acknowledged inserts, how long the member took to be synced again, and whether every acknowledged row is on
/// every member afterwards.
struct ClusterCrashRun {
    let balancer: String
    /// Each member's address and server folder.
    let members: [(address: String, folder: URL)]

    struct Outcome {
        var longestGap: Double
        var acknowledged: Int
        var backAfter: Double
        /// Acknowledged rows missing on each member, by address.
        var missing: [String: Int]
    }

    func run(writing seconds: Double = 10, killAfter: Double = 3) async throws -> Outcome {
        try SessionWriter(address: balancer).run("CREATE TABLE bench.crash (id INT PRIMARY KEY)")
        let balancer = self.balancer
        let writer = Task { try await onDedicatedThread { Self.writeOneConnectionEach(to: balancer, for: seconds) } }
        try await Task.sleep(for: .seconds(killAfter))
        let victim = members[1]
        let servers = ProcessStatus.processes(commandLineContaining: "--defaults-file=\(victim.folder.path)/my.cnf")
        guard servers.count == 1 else { throw ValidationError("the member's server was not found (\(servers.count) candidates)") }
        let killedAt = ContinuousClock.now
        ProcessStatus.killTree(of: servers[0])
        let acknowledgements = try await writer.value
        let afterKill = acknowledgements.filter { $0.at > killedAt }
        guard let lastBefore = acknowledgements.last(where: { $0.at <= killedAt }) else { throw ValidationError("no insert before the kill") }
        var gaps: [Double] = []
        var previous = lastBefore.at
        for ack in afterKill {
            gaps.append((ack.at - previous).seconds)
            previous = ack.at
        }
        guard !afterKill.isEmpty else { throw ValidationError("no insert was acknowledged after the kill") }
        while try !Self.isSynced(victim.address) {
            guard ContinuousClock.now - killedAt < .seconds(180) else { throw ValidationError("the member was not synced again within 180 s") }
            try await Task.sleep(for: .milliseconds(200))
        }
        let backAfter = (ContinuousClock.now - killedAt).seconds
        let acknowledged = Set(acknowledgements.map(\.id))
        var missing: [String: Int] = [:]
        for member in members {
            let stored = Set(try Self.ids(on: member.address))
            missing[member.address] = acknowledged.subtracting(stored).count
        }
        return Outcome(longestGap: gaps.max() ?? 0, acknowledged: acknowledged.count, backAfter: backAfter, missing: missing)
    }

    /// Inserts for `seconds`, each through a new `mariadb` client connection; when each was acknowledged.
    static func writeOneConnectionEach(to address: String, for seconds: Double) -> [(id: Int, at: ContinuousClock.Instant)] {
        let end = ContinuousClock.now + .seconds(seconds)
        var acknowledged: [(id: Int, at: ContinuousClock.Instant)] = []
        var next = 1
        while ContinuousClock.now < end {
            let result = try? CommandRunner.run(
                "/usr/bin/mariadb",
                [
                    "--no-defaults", "-h", address, "-P", "3306", "-u", "root", "--connect-timeout=2", "-e",
                    "INSERT INTO bench.crash VALUES (\(next))",
                ],
                environment: ["MYSQL_PWD": SessionWriter.password])
            if result != nil { acknowledged.append((next, .now)) }
            next += 1
        }
        return acknowledged
    }

    static func isSynced(_ address: String) throws -> Bool {
        let answer = try? CommandRunner.run(
            "/usr/bin/mariadb",
            [
                "--no-defaults", "-h", address, "-P", "3306", "-u", "root", "--connect-timeout=2", "--batch", "--skip-column-names", "-e",
                "SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'",
            ], environment: ["MYSQL_PWD": SessionWriter.password])
        return answer?.contains("Synced") == true
    }

    static func ids(on address: String) throws -> [Int] {
        let answer = try CommandRunner.run(
            "/usr/bin/mariadb",
            ["--no-defaults", "-h", address, "-P", "3306", "-u", "root", "--batch", "--skip-column-names", "-e", "SELECT id FROM bench.crash"],
            environment: ["MYSQL_PWD": SessionWriter.password])
        return answer.split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }
}
