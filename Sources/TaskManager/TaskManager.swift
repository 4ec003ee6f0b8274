import Bus
import Compute
import Crypto
import EventStore
import Foundation
import Lifecycle
import Logging
import ObjectStore
import PostgresNIO
import ReadModels
import Secrets

/// The saga runner: takes saga triggers (instance events) from the `taskmanager` queue, starts the saga each
/// one names, and runs it step by step, recording every step on the saga's stream. Several may run at once: a
/// subject's sagas run under the lease of the task manager that holds it (`SagaLeases`). On start, and every
/// half lease from then on, it takes over every unfinished saga whose subject nobody holds, so a killed task
/// manager loses nothing: a step that may have run is run again, idempotently, by a survivor.
public struct TaskManager: Sendable {
    let services: TaskManagerServices
    let amqpURL: String
    let scheduler: SagaScheduler
    /// Called after each saga event is recorded (tests crash the process at chosen points with it).
    let afterRecording: @Sendable (_ saga: Saga.Kind, _ event: Saga.Event) -> Void
    /// How often servers whose guest agent died are started again (the process driver's "hypervisor" duty).
    let reviveInterval: Duration
    /// Which event type starts which saga: the product's (`Saga.Kind.triggerTable`); a benchmark adds its own.
    let triggers: [(eventType: String, kind: Saga.Kind)]

    public init(
        client: PostgresClient, store: PostgresEventStore, charts: StatechartLibrary, compute: any ComputeDriver,
        amqpURL: String, publisher: BusPublisher, secrets: SecretBox, brokerAccounts: BrokerAccounts? = nil,
        objectStore: (any ObjectStore)? = nil, logger: Logger,
        reviveInterval: Duration = .seconds(30), addressPool: String = "127.42", sagaLease: Duration = .seconds(5),
        triggers: [(eventType: String, kind: Saga.Kind)] = Saga.Kind.triggerTable,
        afterRecording: @escaping @Sendable (_ saga: Saga.Kind, _ event: Saga.Event) -> Void = { _, _ in }
    ) {
        self.reviveInterval = reviveInterval
        self.triggers = triggers
        services = TaskManagerServices(
            client: client, store: store, instances: AggregateRepository(category: "instance", store: store, chart: charts.instance),
            clusters: AggregateRepository(category: "cluster", store: store, chart: charts.cluster),
            backups: AggregateRepository(category: "backup", store: store, chart: charts.backup), objectStore: objectStore,
            instanceChart: charts.instance,
            compute: compute, rpc: RPCClient(url: amqpURL, publisher: publisher), publisher: publisher,
            addresses: AddressBook(client: client, logger: logger, prefix: addressPool, isFree: compute.isFree),
            secrets: InstanceSecrets(client: client, box: secrets, logger: logger),
            catalog: OperatorCatalog(client: client, logger: logger), brokerAccounts: brokerAccounts, appends: AppendNotifications(),
            leases: SagaLeases(client: client, duration: sagaLease, logger: logger), logger: logger)
        scheduler = SagaScheduler(whenIdle: { [leases = services.leases] subject in await leases.release(subject) })
        self.amqpURL = amqpURL
        self.afterRecording = afterRecording
    }

    /// Runs until cancelled: resumes open sagas, then consumes triggers. When it ends (cancelled, or a
    /// dependency failed for good), every saga it started is stopped too: none keeps retrying against a closed
    /// connection pool after the task manager is gone.
    public func run() async throws {
        do {
            try await runServices()
        } catch {
            await scheduler.stopAll()
            await services.leases.releaseAll()
            throw error
        }
        await scheduler.stopAll()
        await services.leases.releaseAll()
    }

    private func runServices() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.rpc.run() }
            group.addTask { await services.appends.run(client: services.client, logger: services.logger) }
            group.addTask {
                try await reviveStoppedServers()
                try await resumeOpenSagas()
                let consumer = BusConsumer(
                    url: amqpURL, queue: Topology.taskManagerQueueSpec, prefetch: 50, maxAttempts: 10,
                    role: .controlPlane(sagaTriggers: Saga.Kind.triggerRoutingKeys))
                try await consumer.run { delivery in try await handle(delivery) }
            }
            group.addTask { try await FailoverMonitor(services: services, settings: .fromEnvironment()).run() }
            group.addTask { await keepLeases() }
            group.addTask {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: reviveInterval) } catch { return }
                    do { try await reviveStoppedServers() } catch {
                        services.logger.warning("could not look for stopped servers", metadata: ["error": "\(error)"])
                    }
                }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// A trigger: start its saga (once; a redelivered trigger finds the saga started) and schedule it.
    func handle(_ delivery: Delivery) async throws {
        let event = try JSONDecoder().decode(PublishedEvent.self, from: delivery.body)
        guard let kind = triggers.first(where: { $0.eventType == event.type })?.kind else { return }
        let (instanceID, clusterID): (String, String?)
        if event.stream.hasPrefix("instance-") {
            (instanceID, clusterID) = (String(event.stream.dropFirst("instance-".count)), nil)
        } else if event.stream.hasPrefix("cluster-") {
            (instanceID, clusterID) = ("", String(event.stream.dropFirst("cluster-".count)))
        } else if event.stream.hasPrefix("backup-") {
            // A backup's saga is its instance's: it never runs beside another saga of that instance.
            let backup = try await services.backups.load(String(event.stream.dropFirst("backup-".count))).state
            (instanceID, clusterID) = (backup.instanceId ?? "", nil)
        } else {
            (instanceID, clusterID) = ("", nil)  // a saga about neither (a benchmark's no-op saga)
        }
        let requestID = event.metadata.objectValue?["request_id"]?.stringValue
        let sagaID = Self.sagaID(stream: event.stream, version: event.version)
        let start = Saga.Start(
            saga: kind.rawValue, instanceId: instanceID, clusterId: clusterID, triggerStream: event.stream,
            triggerVersion: event.version, triggerType: event.type, requestId: requestID)
        let started = Saga.Event.sagaStarted(start)
        let metadata = EventMetadata(
            service: "taskmanager", requestID: requestID, correlationID: requestID,
            causationID: "event-\(event.position)")
        var head: SagaRunner.Head?
        do {
            _ = try await services.store.append(
                to: "saga-\(sagaID)", expectedVersion: .noStream,
                events: [
                    NewEvent(type: started.eventType, data: try started.encodedData(), metadata: try JSONEncoder().encode(metadata))
                ])
            afterRecording(kind, started)
            head = SagaRunner.Head(
                state: Saga.evolve(Saga.State(), started),
                trigger: SagaTrigger(type: event.type, data: try JSONEncoder().encode(event.data)))
        } catch is WrongExpectedVersion {
            // Started before (a redelivery, or the relay published again): resume it if it is not finished.
        }
        await schedule(sagaID: sagaID, start: start, kind: kind, head: head)
    }

    /// Starts again the servers of live instances whose guest agent is not running (after the host stopped
    /// them all, e.g. `cellar up` was stopped), and the load balancers of live clusters; their datastores come
    /// back with their data.
    func reviveStoppedServers() async throws {
        let rows = try await services.client.query(
            "SELECT id FROM instances WHERE NOT deleted AND address IS NOT NULL", logger: services.logger)
        for try await instanceID in rows.decode(String.self) where await services.compute.status(instanceID: instanceID) == .stopped {
            services.logger.info("starting the stopped server of an instance", metadata: ["instance": "\(instanceID)"])
            do {
                try await services.ensureBrokerAccount(for: instanceID)
                try await services.compute.reboot(instanceID: instanceID)
            } catch {
                services.logger.error("could not start the server", metadata: ["instance": "\(instanceID)", "error": "\(error)"])
            }
        }
        for clusterID in try await ClusterReadModel(client: services.client, logger: services.logger).balancedClusterIDs()
        where await services.compute.balancerStatus(clusterID: clusterID) == .stopped {
            services.logger.info("starting the stopped load balancer of a cluster", metadata: ["cluster": "\(clusterID)"])
            do { try await services.compute.reviveBalancer(clusterID: clusterID) } catch {
                services.logger.error("could not start the load balancer", metadata: ["cluster": "\(clusterID)", "error": "\(error)"])
            }
        }
    }

    /// Every saga whose stream does not end in SagaCompleted, SagaFailed or SagaCancelled and whose subject no
    /// other task manager holds: from the log itself at start, from the stream catalog on later scans (cheap on
    /// a large log; a saga it does not show yet is found by the next scan).
    func resumeOpenSagas(fromCatalog: Bool = false) async throws {
        let rows = try await services.client.query(
            fromCatalog
                ? """
                SELECT c.stream_id, s.data::text FROM stream_catalog c
                JOIN events s ON s.stream_id = c.stream_id AND s.stream_version = 1
                WHERE c.category = 'saga' AND c.last_event_type NOT IN ('SagaCompleted', 'SagaFailed', 'SagaCancelled')
                ORDER BY s.global_position
                """
                : """
                SELECT e.stream_id, s.data::text FROM events e
                JOIN events s ON s.stream_id = e.stream_id AND s.stream_version = 1
                WHERE e.stream_id LIKE 'saga-%'
                  AND e.stream_version = (SELECT max(stream_version) FROM events x WHERE x.stream_id = e.stream_id)
                  AND e.event_type NOT IN ('SagaCompleted', 'SagaFailed', 'SagaCancelled')
                ORDER BY s.global_position
                """, logger: services.logger)
        var open: [(String, Saga.Start)] = []
        for try await (stream, data) in rows.decode((String, String).self) {
            guard case .sagaStarted(let start) = try Saga.Event.decode(eventType: "SagaStarted", data: Data(data.utf8)) else { continue }
            open.append((String(stream.dropFirst("saga-".count)), start))
        }
        let owners = try await services.leases.live()
        let free = open.filter { owners[$0.1.subjectStream].map { $0 == services.leases.owner } ?? true }
        if !free.isEmpty, !fromCatalog { services.logger.info("resuming open sagas", metadata: ["count": "\(free.count)"]) }
        for (sagaID, start) in free {
            // A kind this build does not run (a benchmark's, or a newer build's) is left to one that does.
            guard let kind = Saga.Kind(rawValue: start.saga), triggers.contains(where: { $0.kind == kind }) else { continue }
            await schedule(sagaID: sagaID, start: start, kind: kind)
        }
    }

    /// Renews this task manager's leases (every third of a lease) and takes over the sagas of subjects whose
    /// owner stopped renewing (every half lease), until cancelled.
    private func keepLeases() async {
        let leases = services.leases
        let renewEvery = leases.duration / 3
        var nextScan = ContinuousClock.now + leases.duration / 2
        while !Task.isCancelled {
            do { try await Task.sleep(for: renewEvery) } catch { return }
            do { try await leases.renewAll() } catch {
                services.logger.warning("could not renew saga leases", metadata: ["error": "\(error)"])
            }
            guard ContinuousClock.now >= nextScan else { continue }
            nextScan = ContinuousClock.now + leases.duration / 2
            do { try await resumeOpenSagas(fromCatalog: true) } catch {
                services.logger.warning("could not look for sagas to take over", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Queues the saga under its subject's lease; a subject another task manager holds is left to it.
    private func schedule(sagaID: String, start: Saga.Start, kind: Saga.Kind, head: SagaRunner.Head? = nil) async {
        do {
            guard try await services.leases.acquire(start.subjectStream) else { return }
        } catch {
            services.logger.warning(
                "could not lease the saga's subject; a later scan takes it", metadata: ["saga": "saga-\(sagaID)", "error": "\(error)"])
            return
        }
        let runner = SagaRunner(
            sagaID: sagaID, kind: kind,
            context: SagaContext(services: services, sagaID: sagaID, start: start), store: services.store,
            afterRecording: { [afterRecording] event in afterRecording(kind, event) }, logger: services.logger)
        let logger = services.logger
        await scheduler.submit(sagaID: sagaID, subject: start.subjectStream) {
            // A database or broker outage stops a runner; it starts again from the log after a pause.
            var head = head
            while !Task.isCancelled {
                do {
                    try await runner.run(from: head)
                    return
                } catch {
                    head = nil
                    if Task.isCancelled { return }
                    if Self.isPermanentlyClosed(error) {
                        logger.error("saga runner stopped: the database client is shut down", metadata: ["saga": "saga-\(sagaID)"])
                        return
                    }
                    logger.error("saga runner stopped; retrying in 2 s", metadata: ["saga": "saga-\(sagaID)", "error": "\(error)"])
                    try? await Task.sleep(for: .seconds(2))
                }
            }
        }
    }

    /// True for errors after which retrying can never succeed in this process (the client pool was shut down).
    static func isPermanentlyClosed(_ error: any Error) -> Bool {
        (error as? PSQLError)?.code == .poolClosed
    }

    /// The saga id of a trigger: a UUID derived from the triggering event's stream and version, so the same
    /// trigger delivered twice names the same saga.
    static func sagaID(stream: String, version: Int) -> String {
        var bytes = Array(SHA256.hash(data: Data("\(stream)@\(version)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50  // version 5 style (name-based)
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.map(String.init).joined(separator: "-")
    }
}
