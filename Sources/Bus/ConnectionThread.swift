import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A dedicated OS thread that owns one AMQP connection, runs jobs on it in order, and reconnects after failures.
///
/// librabbitmq blocks and is not thread-safe per connection, so it never runs on NIO event loops or on the
/// Swift concurrency pool (two threads here): async callers enqueue jobs and are resumed when they finish.
/// Between jobs the thread runs `idle` (keep-alive for a publisher, polling for deliveries for a consumer).
final class ConnectionThread: @unchecked Sendable {
    // @unchecked Sendable: `pending`, `stopping` and `status` are only touched while holding `condition`; the
    // connection itself (`slot`) is only touched by the owned thread.
    typealias Job = @Sendable (ConnectionThread.Slot) -> Void

    /// The connection as seen from the owned thread.
    final class Slot {
        fileprivate(set) var connection: AMQPConnection?
        /// Bumped on every new connection: delivery tags of an older one must not be acked on a newer one.
        fileprivate(set) var generation = 0
        fileprivate let open: () throws -> AMQPConnection
        fileprivate let report: (Status) -> Void

        fileprivate init(open: @escaping () throws -> AMQPConnection, report: @escaping (Status) -> Void) {
            self.open = open
            self.report = report
        }

        /// The live connection, opening (and setting up) a new one if needed.
        func connected() throws -> AMQPConnection {
            if let connection { return connection }
            do {
                let fresh = try open()
                connection = fresh
                generation += 1
                report(Status(connected: true, lastError: nil))
                return fresh
            } catch {
                discard(after: error)
                throw error
            }
        }

        /// Drops the connection after an error; the next use reconnects.
        func discard(after error: any Error) {
            connection = nil
            report(Status(connected: false, lastError: "\(error)"))
        }
    }

    /// What health reporting shows.
    public struct Status: Sendable, Equatable {
        public var connected = false
        public var lastError: String?
    }

    private let condition = NSCondition()
    private var pending: [Job] = []
    private var stopping = false
    private var status = Status()
    private let idleWaitMilliseconds: Int
    private let idle: @Sendable (Slot) throws -> Void

    /// Starts the thread. `setup` runs on every new connection (declare topology, enable confirms...); `idle`
    /// runs whenever no job is queued, at most every `idleWaitMilliseconds` (0: back to back), and reconnects
    /// with backoff (0.1 s doubling to 5 s) when it fails.
    init(
        name: String, endpoint: AMQPEndpoint, heartbeatSeconds: Int32, idleWaitMilliseconds: Int,
        setup: @escaping @Sendable (AMQPConnection) throws -> Void, idle: @escaping @Sendable (Slot) throws -> Void
    ) {
        self.idleWaitMilliseconds = idleWaitMilliseconds
        self.idle = idle
        let thread = Thread { [self] in
            // Signals (SIGTERM, SIGINT) belong to the threads that handle them for graceful shutdown; a signal
            // delivered to this thread could be lost while it sits in a blocking librabbitmq call.
            var allSignals = sigset_t()
            sigfillset(&allSignals)
            pthread_sigmask(SIG_BLOCK, &allSignals, nil)
            let slot = Slot(
                open: {
                    let connection = try AMQPConnection(endpoint: endpoint, heartbeatSeconds: heartbeatSeconds)
                    try setup(connection)
                    return connection
                }, report: { [weak self] status in self?.record(status) })
            loop(slot)
        }
        thread.name = name
        thread.start()
    }

    /// Runs `work` on the connection's thread; a failure drops the connection (the next job reconnects).
    func perform<T: Sendable>(_ work: @escaping @Sendable (AMQPConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            enqueue { slot in
                do {
                    continuation.resume(returning: try work(slot.connected()))
                } catch {
                    slot.discard(after: error)
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Queues a job without waiting for it.
    func enqueue(_ job: @escaping Job) {
        condition.lock()
        let accepted = !stopping
        if accepted { pending.append(job) }
        condition.signal()
        condition.unlock()
        if !accepted {
            job(Slot(open: { throw BusError(.connection, "the bus connection is shut down") }, report: { _ in }))
        }
    }

    /// Stops the thread after the jobs already queued; closes the connection.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    var currentStatus: Status {
        condition.lock()
        defer { condition.unlock() }
        return status
    }

    private func loop(_ slot: Slot) {
        var backoff = 0.1
        while true {
            condition.lock()
            if pending.isEmpty && !stopping && idleWaitMilliseconds > 0 {
                _ = condition.wait(until: Date().addingTimeInterval(Double(idleWaitMilliseconds) / 1000))
            }
            let jobs = pending
            pending.removeAll()
            let stop = stopping && jobs.isEmpty
            condition.unlock()
            if stop { break }

            for job in jobs { job(slot) }
            do {
                try idle(slot)
                backoff = 0.1
            } catch {
                slot.discard(after: error)
                Thread.sleep(forTimeInterval: backoff)
                backoff = min(backoff * 2, 5)
            }
        }
        slot.connection = nil  // closes it
        record(Status(connected: false, lastError: nil))
    }

    private func record(_ newStatus: Status) {
        condition.lock()
        status = newStatus
        condition.unlock()
    }
}
