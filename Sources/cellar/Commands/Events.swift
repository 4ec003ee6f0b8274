import ArgumentParser
import CellarCLI
import EventStore
import Foundation
import Lifecycle
import Logging
import ReadModels

/// `cellar events ...`: read the history.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read the event log.",
        subcommands: [Tail.self, Show.self, Streams.self, RebuildProjections.self]
    )

    /// `cellar events tail [--follow]`: the latest events, then (with --follow) new ones as they commit.
    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the latest events; --follow keeps printing new ones.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "How many past events to print first.") var limit = 20
        @Flag(help: "Keep running and print events as they are appended.") var follow = false
        @Flag(help: "One JSON object per line instead of a table.") var json = false

        func run() async throws {
            let printer = EventPrinter(json: json)
            let (limit, follow) = (self.limit, self.follow)
            try await database.withEventStore(logger: .cellar("cellar.events")) { store, _ in
                let recent = try await store.readRecent(limit: limit)
                printer.printHeader()
                recent.forEach(printer.print)
                guard follow else { return }
                // Continue from the fence: `readRecent` may show rows that the gap-safe reader has not passed yet.
                let start = recent.last?.logPosition ?? .start
                for try await event in store.subscribe(after: start) { printer.print(event) }
            }
        }
    }

    /// `cellar events show <stream>`: the whole story of one stream; for an instance, with its sagas' steps.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every event of one stream, e.g. instance-<id> (with the steps of its sagas, in log order).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "Stream id, e.g. instance-8f1c...") var stream: String
        @Flag(help: "One JSON object per line instead of a table.") var json = false
        @Flag(help: "Only the stream itself, without the saga streams of an instance.") var withoutSagas = false

        func run() async throws {
            let printer = EventPrinter(json: json)
            let (stream, withSagas) = (self.stream, !withoutSagas)
            let events = try await database.withEventStore(logger: .cellar("cellar.events")) { store, client in
                var events = try await store.readStream(stream)
                guard withSagas, stream.hasPrefix("instance-") else { return events }
                let instanceID = String(stream.dropFirst("instance-".count))
                let sagas = try await client.query(
                    "SELECT stream_id FROM events WHERE event_type = 'SagaStarted' AND data->>'instanceId' = \(instanceID)",
                    logger: .cellar("cellar.events"))
                for try await saga in sagas.decode(String.self) { events += try await store.readStream(saga) }
                return events.sorted { $0.globalPosition < $1.globalPosition }
            }
            guard !events.isEmpty else { throw ReadableError(description: "stream \(stream) has no events") }
            printer.printHeader()
            events.forEach(printer.print)
        }
    }

    /// `cellar events streams`: what exists, from the stream catalog read model.
    struct Streams: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List streams (most recently changed first).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only streams of this category, e.g. instance.") var category: String?
        @Option(help: "How many to list.") var limit = 50

        func run() async throws {
            let (category, limit) = (self.category, self.limit)
            let streams = try await database.withEventStore(logger: .cellar("cellar.events")) { store, _ in
                try await store.streams(category: category, limit: limit)
            }
            let rows = streams.map { [$0.streamID, "\($0.version)", $0.lastEventType, EventPrinter.format($0.lastRecordedAt)] }
            print(TextTable.render(header: ["STREAM", "VERSION", "LAST EVENT", "CHANGED"], rows: rows))
        }
    }

    /// `cellar events rebuild-projections`: drop the read models and replay the log into them.
    struct RebuildProjections: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rebuild-projections",
            abstract: "Empty every read model and replay the whole log into them, in one pass and one transaction.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await database.withEventStore(logger: .cellar("cellar.events")) { store, _ in
                let charts = try StatechartLibrary.load(directory: try ProjectFiles.statecharts())
                let projections = ReadModelProjections.all(charts: charts)
                let report = try await ReadModelRebuild(store: store, projections: projections).run()
                print("rebuilt \(projections.map(\.name).joined(separator: ", ")) from \(report.events) events, up to \(report.position)")
            }
        }
    }
}
