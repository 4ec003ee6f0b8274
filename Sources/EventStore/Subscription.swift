import Logging
import PostgresNIO
import Synchronization

extension PostgresEventStore {
    /// Every event after `position`, in log order: first the history (catch-up), then new events as they commit.
    ///
    /// LISTEN/NOTIFY only wakes the reader early; delivery always goes through the gap-safe `readAll`, and the
    /// reader also polls every `pollInterval`, so a lost notification or a late commit delays an event, never
    /// drops it. The sequence ends when the consumer stops iterating or its task is cancelled.
    public func subscribe(
        after position: LogPosition = .start,
        batchSize: Int = 500,
        pollInterval: Duration = .milliseconds(250)
    ) -> AsyncThrowingStream<RecordedEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<RecordedEvent, any Error>.makeStream(bufferingPolicy: .unbounded)
        let reader = Task {
            do {
                try await whileListening(pollInterval: pollInterval) { waitForAppend in
                    var cursor = position
                    while !Task.isCancelled {
                        let batch = try await readAll(after: cursor, limit: batchSize)
                        for event in batch { continuation.yield(event) }
                        if let last = batch.last { cursor = last.logPosition }
                        if batch.count < batchSize { await waitForAppend() }
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in reader.cancel() }
        return stream
    }

    /// Runs `body` with a function to call once caught up: it returns when the next read is worth doing.
    ///
    /// That is when an append is notified or `pollInterval` passes. After a notification the new event may still
    /// sit behind the read fence (an older transaction is still open somewhere on the server), so the following
    /// waits are short (2, 4, 8... ms) until they reach the poll interval, instead of a whole interval.
    public func whileListening<T: Sendable>(
        pollInterval: Duration,
        _ body: (_ waitForAppend: @Sendable () async -> Void) async throws -> T
    ) async throws -> T {
        let doorbell = Doorbell()
        let fastPause = Mutex<Duration?>(nil)
        // The listener is deliberately not a child task: a LISTEN being set up when cancellation arrives can wait
        // for its confirmation regardless, and a child would hold up the caller's shutdown. It ends with the
        // cancellation below or when the client's connections close.
        let listener = Task { await listen(ringing: doorbell) }
        defer { listener.cancel() }
        return try await body {
            let pause = fastPause.withLock { pause -> Duration? in
                guard let current = pause, current < pollInterval else { return nil }
                pause = current * 2
                return current
            }
            if let pause {
                try? await Task.sleep(for: pause)
            } else if await doorbell.wait(upTo: pollInterval) {
                fastPause.withLock { $0 = .milliseconds(2) }
            }
        }
    }

    /// Rings the doorbell on every append notification until cancelled; reconnects after errors.
    private func listen(ringing doorbell: Doorbell) async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.notificationChannel) { notifications in
                        doorbell.ring()  // catch anything appended while we were connecting
                        for try await _ in notifications { doorbell.ring() }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.debug("event notification listener failed; polling continues", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
