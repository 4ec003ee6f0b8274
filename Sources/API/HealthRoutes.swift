import APICore
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// What `/healthz` reports: each dependency's reachability and the overall verdict.
public struct HealthReport: ResponseEncodable, Decodable, Sendable, Equatable {
    /// One dependency.
    public struct Check: Codable, Sendable, Equatable {
        public var ok: Bool
        public var detail: String
        public var latencyMilliseconds: Double
        enum CodingKeys: String, CodingKey {
            case ok, detail
            case latencyMilliseconds = "latency_ms"
        }
    }
    public var status: String
    public var postgresql: Check
    public var rabbitmq: Check
    /// Cellar's own bus connection (publisher confirms, relay), when this process has one.
    public var bus: Check?
    /// The object store backups are kept in, when one is configured.
    public var objectStore: Check?

    enum CodingKeys: String, CodingKey {
        case status, postgresql, rabbitmq, bus
        case objectStore = "object_store"
    }
}

/// Checks PostgreSQL (a real `SELECT 1`), RabbitMQ (an AMQP handshake) and the backup store (a login and a listing).
public struct HealthChecker: Sendable {
    let postgres: PostgresClient
    let amqp: AMQPProbe?
    let bus: (@Sendable () -> String?)?
    let objectStore: (@Sendable () async -> String?)?
    let logger: Logger

    /// - Parameters:
    ///   - bus: the bus connection's state: nil when connected, else why not.
    ///   - objectStore: a round trip to the backup store: nil when it answered, else why not.
    public init(
        postgres: PostgresClient, amqpURL: String, bus: (@Sendable () -> String?)? = nil,
        objectStore: (@Sendable () async -> String?)? = nil, logger: Logger
    ) {
        self.postgres = postgres
        self.amqp = AMQPProbe(url: amqpURL)
        self.bus = bus
        self.objectStore = objectStore
        self.logger = logger
    }

    public func report() async -> HealthReport {
        async let database = timed { () -> String? in
            do {
                for try await one in try await postgres.query("SELECT 1", logger: logger).decode(Int.self) where one == 1 {
                    return nil
                }
                return "SELECT 1 returned nothing"
            } catch {
                return String(describing: error)
            }
        }
        async let broker = timed { () -> String? in
            guard let amqp else { return "the AMQP URL is not of the form amqp://user:password@host:port/vhost" }
            return await amqp.check()
        }
        async let store: HealthReport.Check? = {
            guard let objectStore else { return nil }
            return await timed(objectStore)
        }()
        let checks = await (database, broker)
        let storeCheck = await store
        let busCheck = bus.map { state in
            let problem = state()
            return HealthReport.Check(ok: problem == nil, detail: problem ?? "connected", latencyMilliseconds: 0)
        }
        let healthy = checks.0.ok && checks.1.ok && busCheck?.ok != false && storeCheck?.ok != false
        return HealthReport(
            status: healthy ? "ok" : "degraded", postgresql: checks.0, rabbitmq: checks.1, bus: busCheck, objectStore: storeCheck)
    }

    private func timed(_ probe: @Sendable () async -> String?) async -> HealthReport.Check {
        let clock = ContinuousClock()
        let start = clock.now
        let failure = await probe()
        let elapsed = clock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        return HealthReport.Check(ok: failure == nil, detail: failure ?? "reachable", latencyMilliseconds: (milliseconds * 10).rounded() / 10)
    }
}

extension Router {
    /// `GET /healthz`: 200 when PostgreSQL and RabbitMQ answer, 503 otherwise, with the report as JSON (400 for a
    /// control character in the query or a header, as every route).
    public func addHealthRoutes(checker: HealthChecker) {
        group().add(middleware: ControlCharacterMiddleware<Context>.trove).get("/healthz") { _, _ -> EditedResponse<HealthReport> in
            let report = await checker.report()
            return EditedResponse(status: report.status == "ok" ? .ok : .serviceUnavailable, response: report)
        }
    }
}
