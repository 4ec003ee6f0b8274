import API
import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import LocalServers
import PostgresNIO
import Testing

@Suite("GET /healthz against real servers")
struct HealthTests {
    @Test("200 with both dependencies reachable when PostgreSQL and RabbitMQ answer")
    func healthy() async throws {
        let amqpURL = try await TestServers.amqpURL()
        try await TestDatabase.with { database in
            let (status, report) = try await health(postgres: database.client, amqpURL: amqpURL)
            #expect(status == .ok)
            #expect(report.status == "ok")
            #expect(report.postgresql.ok && report.rabbitmq.ok)
        }
    }

    @Test("503 naming the broken dependency when RabbitMQ does not answer")
    func brokerDown() async throws {
        let closedPort = try Loopback.freePort()
        try await TestDatabase.with { database in
            let (status, report) = try await health(postgres: database.client, amqpURL: "amqp://guest:guest@127.0.0.1:\(closedPort)/%2F")
            #expect(status == .serviceUnavailable)
            #expect(report.status == "degraded")
            #expect(report.postgresql.ok)
            #expect(!report.rabbitmq.ok)
            #expect(!report.rabbitmq.detail.isEmpty)
        }
    }

    @Test("a port that speaks something other than AMQP is not taken for a broker")
    func notABroker() async throws {
        let postgresURL = try await TestServers.postgresURL()
        let port = URLParts(postgresURL)!.port!
        #expect(await AMQPProbe(host: "127.0.0.1", port: port).check() != nil)
    }

    private func health(postgres: PostgresClient, amqpURL: String) async throws -> (HTTPResponse.Status, HealthReport) {
        let router = Router()
        router.addHealthRoutes(checker: HealthChecker(postgres: postgres, amqpURL: amqpURL, logger: TestServers.logger))
        let app = Application(router: router)
        return try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                (response.status, try JSONDecoder().decode(HealthReport.self, from: response.body))
            }
        }
    }
}

@Suite("Service URLs")
struct URLPartsTests {
    @Test("database URLs become client configurations; bad ones are refused with a redacted message")
    func databaseURLs() throws {
        let configuration = try PostgresClient.Configuration(url: "postgres://cellar:s3cr%40t@db.example:6543/events")
        #expect(configuration.host == "db.example")
        #expect(configuration.port == 6543)
        #expect(configuration.username == "cellar")
        #expect(configuration.password == "s3cr@t")
        #expect(configuration.database == "events")
        #expect(throws: InvalidDatabaseURL.self) { try PostgresClient.Configuration(url: "mysql://x@y/z") }
        #expect(URLParts.redacted("postgres://cellar:s3cret@h:1/d") == "postgres://cellar:***@h:1/d")
    }
}
