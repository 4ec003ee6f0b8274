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
        guard acknowledgements.contains(where: { $0.at <= killedAt }) else { throw ValidationError("no insert before the kill") }
        guard acknowledgements.contains(where: { $0.at > killedAt }) else { throw ValidationError("no insert was acknowledged after the kill") }
        let longestGap = BenchFigures.longestGap(acknowledgements.map(\.at), after: killedAt)
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
        return Outcome(longestGap: longestGap, acknowledged: acknowledged.count, backAfter: backAfter, missing: missing)
    }

    /// Inserts for `seconds`, each through a new `mariadb` client connection; when each was acknowledged.
    static func writeOneConnectionEach(to address: String, for seconds: Double) -> [(id: Int, at: ContinuousClock.Instant)] {
        let end = ContinuousClock.now + .seconds(seconds)
        var acknowledged: [(id: Int, at: ContinuousClock.Instant)] = []
        var next = 1
        while ContinuousClock.now < end {
            if (try? SessionWriter(address: address).run("INSERT INTO bench.crash VALUES (\(next))")) != nil { acknowledged.append((next, .now)) }
            next += 1
        }
        return acknowledged
    }

    static func isSynced(_ address: String) throws -> Bool {
        let answer = try? SessionWriter(address: address).run("SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'")
        return answer?.contains("Synced") == true
    }

    static func ids(on address: String) throws -> [Int] {
        let answer = try SessionWriter(address: address).run("SELECT id FROM bench.crash")
        return answer.split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }
}
