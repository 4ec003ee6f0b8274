import Foundation
import LocalServers
import Testing

/// What the guest and the failover benchmark do with processes: learn of an exit from the kernel (a pidfd), and
/// kill a server's whole process tree at once, as a crash of its machine would.
@Suite("process exits and trees")
struct ProcessTreeTests {
    @Test("an exit is seen when it happens; a live process is waited for until the limit")
    func exitIsSeen() throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("process-tree-\(getpid()).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let child = try ChildProcess.start("/bin/sleep", ["30"], outputPath: log.path)
        defer { child.send(SIGKILL) }
        #expect(ProcessStatus.waitForExit(pid: child.pid, limit: .milliseconds(200)) == false, "it still runs")
        child.send(SIGKILL)
        #expect(ProcessStatus.waitForExit(pid: child.pid, limit: .seconds(30)) == true)
    }

    @Test("a tree is killed whole: the parent and every descendant")
    func treeIsKilled() throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("process-tree-\(getpid())-b.log")
        defer { try? FileManager.default.removeItem(at: log) }
        let parent = try ChildProcess.start("/bin/sh", ["-c", "sleep 30 & sleep 30 & echo started; wait"], outputPath: log.path)
        defer { parent.send(SIGKILL) }
        var descendants: [Int32] = []
        for _ in 0..<100 where descendants.count < 2 {
            descendants = ProcessStatus.descendants(of: parent.pid)
            usleep(20_000)
        }
        #expect(descendants.count == 2, "\(descendants)")
        ProcessStatus.killTree(of: parent.pid)
        #expect(ProcessStatus.waitForExit(pid: parent.pid, limit: .seconds(30)))
        for pid in descendants { #expect(ProcessStatus.waitForExit(pid: pid, limit: .seconds(30)), "descendant \(pid)") }
    }
}
