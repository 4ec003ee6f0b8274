import APICore
import EventStore
import Foundation
import Hummingbird
import Lifecycle
import ReadModels

/// One event as the history endpoints show it.
struct EventView: Encodable {
    var position: Int64
    var stream: String
    var version: Int
    var time: String
    var type: String
    var actor: String?
    var requestID: String?
    var data: JSONTree

    enum CodingKeys: String, CodingKey {
        case position, stream, version, time, type, actor, data
        case requestID = "request_id"
    }

    init(_ event: RecordedEvent) {
        position = event.globalPosition
        stream = event.streamID
        version = event.streamVersion
        time = JSONResponse.eventTime(event.recordedAt)
        type = event.type
        let metadata = event.decodedMetadata
        actor = metadata?.actor?.userID ?? metadata?.service.map { "service:\($0)" }
        requestID = metadata?.requestID
        data = (try? JSONDecoder().decode(JSONTree.self, from: event.data)) ?? .null
    }
}

struct EventList: Encodable {
    var events: [EventView]
    var links: [Link]?
}

extension TroveAPI {
    func registerHistoryRoutes(on routes: RouterGroup<CellarRequestContext>) {
        let audit = AuditTrail(client: client, logger: logger)

        registerResourceHistory(on: routes, audit, collection: "instances", category: "instance", noun: "Instance") {
            try await audit.owner(ofInstance: $0)
        }
        registerResourceHistory(on: routes, audit, collection: "clusters", category: "cluster", noun: "Cluster") {
            try await audit.owner(ofCluster: $0)
        }

        routes.get("events") { request, context in
            let caller = try context.caller()
            let project = try context.parameters.require("tenant")
            let everyProject = request.uri.queryParameters.get("all_projects").map { ["true", "1", "yes"].contains($0.lowercased()) } ?? false
            if everyProject { try Self.requireAdmin(caller) }
            var filter = try Self.historyFilter(request, project: everyProject ? nil : project)
            if let resource = request.uri.queryParameters.get("resource") {
                filter.stream = resource.contains("-") && !resource.hasPrefix("instance-") && resource.count == 36 ? "instance-\(resource)" : resource
            }
            return try await historyResponse(audit, filter, request: request, path: "events", project: project)
        }
    }

    /// `GET /<collection>/{id}/events`: one resource's stream (and with `?include=sagas` its sagas'), for its
    /// project or an admin; another project's resource is 404.
    private func registerResourceHistory(
        on routes: RouterGroup<CellarRequestContext>, _ audit: AuditTrail, collection: String, category: String,
        noun: String, owner: @escaping @Sendable (String) async throws -> String?
    ) {
        routes.get("\(collection)/:id/events") { request, context in
            let caller = try context.caller()
            let id = try context.parameters.require("id")
            guard let project = try await owner(id), caller.isAdmin || project == caller.projectID else {
                throw TroveError.notFound("\(noun) \(id) could not be found.")
            }
            var filter = try Self.historyFilter(request, project: nil)
            filter.stream = "\(category)-\(id)"
            filter.includeSagas = try Self.includesSagas(request)
            return try await historyResponse(audit, filter, request: request, path: "\(collection)/\(id)/events", project: project)
        }
    }

    private func historyResponse(
        _ audit: AuditTrail, _ filter: AuditTrail.Filter, request: Request, path: String, project: String
    ) async throws -> Response {
        let events = try await audit.events(filter)
        var links: [Link]?
        if events.count == filter.limit, let last = events.last {
            links = [
                Link(
                    href:
                        "\(Link.baseURL(request))/v1.0/\(project)/\(path)?limit=\(filter.limit)&after=\(last.globalPosition)\(filter.includeSagas ? "&include=sagas" : "")",
                    rel: "next")
            ]
        }
        return try JSONResponse.make(EventList(events: events.map(EventView.init), links: links))
    }

    /// `?include=sagas`: a resource's history with the steps of the sagas that worked on it.
    static func includesSagas(_ request: Request) throws -> Bool {
        guard let include = request.uri.queryParameters.get("include") else { return false }
        guard include == "sagas" else { throw TroveError.badRequest("'include' may only be 'sagas', not '\(include)'.") }
        return true
    }

    static func historyFilter(_ request: Request, project: String?) throws -> AuditTrail.Filter {
        let query = request.uri.queryParameters
        func date(_ name: String) throws -> Date? {
            guard let text = query.get(name) else { return nil }
            guard let date = try? Date(text, strategy: .iso8601) else {
                throw TroveError.badRequest("'\(name)' must be an ISO 8601 time such as 2026-11-25T10:00:00Z, not '\(text)'.")
            }
            return date
        }
        func integer(_ name: String) throws -> Int? {
            guard let text = query.get(name) else { return nil }
            guard let value = Int(text), value >= 0 else { throw TroveError.badRequest("'\(name)' must be a non-negative integer, not '\(text)'.") }
            return value
        }
        let limit = min(try integer("limit") ?? 100, 1000)
        guard limit > 0 else { throw TroveError.badRequest("'limit' must be positive.") }
        return AuditTrail.Filter(
            project: project, type: query.get("type"), actor: query.get("actor"),
            since: try date("since"), until: try date("until"), after: try integer("after").map(Int64.init), limit: limit)
    }
}
