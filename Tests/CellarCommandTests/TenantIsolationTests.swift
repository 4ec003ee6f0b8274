import CellarTestSupport
import Compute
import Foundation
import LocalServers
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A tenant with root on its own instance reaches nothing else. Root on PostgreSQL runs programs
/// (`COPY ... FROM PROGRAM`), root on MariaDB writes and reads files (`INTO OUTFILE`, `LOAD_FILE`): both run as
/// the instance's own OS user, which cannot enter another instance's folders or sockets, signal its processes, or
/// write through a link the guest agent follows.
@Suite("tenant isolation on the process driver, with real guests", .serialized, .tags(.postgres, .rabbitMQ))
struct TenantIsolationTests {
    @Test("root on a PostgreSQL instance runs programs as its own OS user only: other instances' folders, sockets, keys and servers are out of reach")
    func programsStayInTheirInstance() async throws {
        try #require(geteuid() == 0, "the process driver isolates instances when it runs as root (as in CI)")
        try await ControlPlane.with { plane in
            let (attacker, address) = try await plane.createActiveInstance(.postgresql)
            let (victim, _) = try await plane.createActiveInstance(.postgresql)
            let (mariaVictim, _) = try await plane.createActiveInstance(.mariadb)
            let root = try await plane.trove("POST", "/instances/\(attacker)/root")
            let password = try #require((root.json["user"] as? [String: Any])?["password"] as? String, "\(root.json)")
            let shell = RootShell(address: address, password: password)

            // Who runs what: the attacker's user, not root, not the shared database user, not the victim's.
            let attackerUser = try #require(InstanceOSUsers.owner(of: plane.folder(of: attacker)))
            let victimUser = try #require(InstanceOSUsers.owner(of: plane.folder(of: victim)))
            #expect(attackerUser.uid != victimUser.uid)
            #expect(try shell.run("id -un") == attackerUser.name + "\nexit=0")
            for instance in [attacker, victim, mariaVictim] {
                for pid in plane.guestAgents(of: instance) { #expect(Self.realUser(of: pid) != 0, "a guest agent runs as root") }
            }

            // Another instance's folder, data, key and socket folder: not even listable.
            let victimFolder = plane.folder(of: victim).path
            for probe in [
                "ls \(victimFolder)", "cat \(victimFolder)/guest.key", "ls \(victimFolder)/data/base",
                "ls /tmp/cellar-run/\(victim)/postgresql", "ls /tmp/cellar-run/\(mariaVictim)/mariadb",
                "touch \(victimFolder)/planted",
            ] {
                let answer = try shell.run(probe)
                #expect(answer.hasSuffix("exit=1") || answer.hasSuffix("exit=2"), "\(probe) → \(answer)")
                #expect(answer.contains("Permission denied"), "\(probe) → \(answer)")
            }
            // Its servers through their sockets, as their superusers: refused before any password is asked.
            let psql = try shell.run("psql -h /tmp/cellar-run/\(victim)/postgresql -U os_admin -d postgres -tAc 'SELECT 1'")
            #expect(psql.hasSuffix("exit=2"), "\(psql)")
            let mariadb = try shell.run("mariadb --no-defaults --socket=/tmp/cellar-run/\(mariaVictim)/mariadb/mysqld.sock -u root -e 'SELECT 1'")
            #expect(mariadb.hasSuffix("exit=1"), "\(mariadb)")
            // Its processes: no signal reaches them.
            let victimServer = try await TestDatastore.postgresql.onlyServer(in: plane.folder(of: victim))
            let signal = try shell.run("kill -0 \(victimServer)")
            #expect(signal.contains("Operation not permitted") && !signal.hasSuffix("exit=0"), "\(signal)")
            // Its own folder it owns, as a VM's root owns its disk.
            #expect(try shell.run("touch \(plane.folder(of: attacker).path)/data/mine") == "exit=0")

            // Deleting an instance removes its OS user and whatever it still ran.
            _ = try shell.run("nohup sleep 600 > /dev/null 2>&1 &")
            try await InstanceLifecycleTests.deleteAndWait(attacker, plane)
            try await waitUntil("the attacker's user is gone") { getpwnam(attackerUser.name) == nil }
            #expect(attackerUser.processes().isEmpty, "a tenant's process outlived its instance")
            #expect(getpwnam(victimUser.name) != nil)
        }
    }

    @Test("root on a MariaDB instance reads and writes no other instance's files; a link planted for the guest is never written through")
    func filesStayInTheirInstance() async throws {
        try #require(geteuid() == 0, "the process driver isolates instances when it runs as root (as in CI)")
        try await ControlPlane.with { plane in
            let (attacker, address) = try await plane.createActiveInstance(.mariadb)
            let (victim, _) = try await plane.createActiveInstance(.postgresql)
            let root = try await plane.trove("POST", "/instances/\(attacker)/root")
            let password = try #require((root.json["user"] as? [String: Any])?["password"] as? String, "\(root.json)")
            func sql(_ statement: String) throws -> (status: Int32, output: String) {
                try TestDatastore.mariadb.login(address, user: "root", password: password, database: "", statement)
            }
            let victimFolder = plane.folder(of: victim).path
            // Refused (the server's secure_file_priv, and under it the OS user's rights), nothing written, nothing read.
            let write = try sql("SELECT 'planted' INTO OUTFILE '\(victimFolder)/data/planted.conf'")
            #expect(write.status != 0, "\(write.output)")
            #expect(!FileManager.default.fileExists(atPath: "\(victimFolder)/data/planted.conf"))
            let read = try sql("SELECT LOAD_FILE('\(victimFolder)/guest.key') IS NULL")
            #expect(read.output.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(read.output)")

            // The tenant's user replaces the options file the guest writes by a link to a root-only file, then
            // asks for a configuration change: the guest writes a fresh file in its place, the target is untouched.
            let target = URL(fileURLWithPath: "/var/tmp/cellar-isolation-\(UUID().uuidString.prefix(8))")
            try writePrivateFile(Data("root only\n".utf8), to: target)
            defer { try? FileManager.default.removeItem(at: target) }
            let options = plane.folder(of: attacker).appendingPathComponent("my.cnf").path
            let (executable, arguments) = try InstanceOSUsers.command(
                "/bin/ln", ["-sf", target.path, options], asOwnerOf: plane.folder(of: attacker))
            #expect(try UpCommandTests.run(executable, arguments, environment: [:]).status == 0)
            let group = try await plane.trove(
                "POST", "/configurations",
                [
                    "configuration": [
                        "name": "links", "values": ["max_connections": 120], "datastore": ["type": "mariadb", "version": "10.11"],
                    ]
                ])
            let groupID = try #require((group.json["configuration"] as? [String: Any])?["id"] as? String, "\(group.json)")
            #expect(try await plane.trove("PUT", "/instances/\(attacker)", ["instance": ["configuration": groupID]]).status == 202)
            try await waitUntil("the group reaches the options file") {
                (try? String(contentsOfFile: options, encoding: .utf8))?.contains("max_connections = 120") == true
            }
            #expect(try String(contentsOf: target, encoding: .utf8) == "root only\n", "the guest wrote through the link")
            var info = stat()
            #expect(lstat(options, &info) == 0 && info.st_mode & S_IFMT == S_IFREG, "the link is replaced by the guest's own file")
            #expect(stat(target.path, &info) == 0 && info.st_uid == 0 && info.st_mode & 0o777 == 0o600)
        }
    }

    /// A superuser's shell on a PostgreSQL instance: `COPY ... FROM PROGRAM`, as an attacker would use it.
    struct RootShell {
        let address: String
        let password: String

        /// Runs `command` through `sh` on the server; its output, then `exit=<status>`.
        func run(_ command: String) throws -> String {
            let program = "sh -c '\(command.replacingOccurrences(of: "'", with: "'\\''")) 2>&1; echo exit=$?'"
            let sql =
                "CREATE TABLE IF NOT EXISTS probe(line text); TRUNCATE probe; COPY probe FROM PROGRAM '\(program.replacingOccurrences(of: "'", with: "''"))' "
                + "WITH (FORMAT csv, DELIMITER E'\\x1f', QUOTE E'\\x1e')"  // lines as they are: tabs, backslashes, commas
            let copied = try TestDatastore.postgresql.login(address, user: "root", password: password, database: "postgres", sql)
            guard copied.status == 0 else {
                throw Failure("COPY FROM PROGRAM failed (\(command)): status \(copied.status) \(copied.output.debugDescription)")
            }
            let lines = try TestDatastore.postgresql.login(
                address, user: "root", password: password, database: "postgres",
                "SELECT string_agg(line, E'\\n') FROM probe")
            return lines.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    static func realUser(of pid: Int32) -> uid_t? {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") }) else { return nil }
        return line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.flatMap { uid_t($0) }
    }

    func waitUntil(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw Failure("not within \(timeout): \(what)")
    }
}
