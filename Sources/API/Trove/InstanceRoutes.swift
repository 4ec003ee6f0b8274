import APICore
import Foundation
import Hummingbird
import Lifecycle
import ReadModels

extension TroveAPI {
    /// The backup of a `restorePoint`: the caller's, and COMPLETED (nil: no restore asked).
    func restorableBackup(_ id: String?, caller: AuthContext) async throws -> Backup.State? {
        guard let id else { return nil }
        guard let backup = try await backups.visible(id, caller: caller) else { throw TroveError.notFound("Backup \(id) could not be found.") }
        guard backup.status == "COMPLETED", backup.stored != nil else {
            throw TroveError.conflict("Backup \(id) is \(backup.status); only a COMPLETED backup can be restored.")
        }
        return backup
    }

    func registerInstanceRoutes(on routes: RouterGroup<CellarRequestContext>) {
        routes.get("instances") { request, context in try await listInstances(request, context, detailed: false) }
        routes.get("instances/detail") { request, context in try await listInstances(request, context, detailed: true) }

        routes.post("instances") { request, context in
            let caller = try context.caller()
            try Self.requireWriter(caller)
            let body = try await RequestBody.decode(CreateInstanceRequest.self, from: request, context: context).instance
            let id = UUID().uuidString.lowercased()
            let create = try await InstanceCreation(catalog: catalog, reads: reads, configurations: configurationReads).command(
                for: body, id: id, caller: caller, restoring: try await restorableBackup(body.restorePoint?.backupRef, caller: caller))
            try await commands.execute(.create(create), on: id, caller: caller, requestID: context.requestID)
            return try await instanceResponse(id, request: request, caller: caller, status: .ok)
        }

        routes.get("instances/:id") { request, context in
            let caller = try context.caller()
            let id = try context.parameters.require("id")
            return try await showInstance(id, request: request, caller: caller)
        }

        routes.delete("instances/:id") { _, context in
            let caller = try context.caller()
            try Self.requireWriter(caller)
            let id = try context.parameters.require("id")
            try await refuseForClusterMember(id, caller: caller, doing: "deleted")
            // As Trove: a source outliving its replicas would leave them streaming from nothing.
            if let (_, replicas) = try await reads.instanceWithReplicas(id, project: caller.isAdmin ? nil : caller.projectID), !replicas.isEmpty {
                throw TroveError.badRequest(
                    "Instance \(id) is the replication source of \(replicas.joined(separator: ", ")); detach or delete its replicas first.")
            }
            try await commands.execute(.delete, on: id, caller: caller, requestID: context.requestID)
            return JSONResponse.accepted()
        }

        routes.post("instances/:id/action") { request, context in
            let caller = try context.caller()
            try Self.requireWriter(caller)
            let id = try context.parameters.require("id")
            let action = try await RequestBody.decode(InstanceActionRequest.self, from: request, context: context)
            let command = try command(for: action, caller: caller)
            switch command {
            case .resizeFlavor, .resizeVolume: try await refuseForClusterMember(id, caller: caller, doing: "resized")
            default: break
            }
            try await commands.execute(command, on: id, caller: caller, requestID: context.requestID)
            return JSONResponse.accepted()
        }

    }

    /// A cluster's member changes with its cluster (Trove's ClusterInstanceOperationNotSupported): 400.
    private func refuseForClusterMember(_ id: String, caller: AuthContext, doing what: String) async throws {
        guard let cluster = try await commands.state(of: id, caller: caller)?.cluster else { return }
        throw TroveError.badRequest(
            "Instance \(id) is a member of cluster \(cluster.clusterId) and cannot be \(what) on its own; "
                + "use the cluster's actions (shrink, grow, delete) instead.")
    }

    private func command(for action: InstanceActionRequest, caller: AuthContext) throws -> Instance.Command {
        var commands: [Instance.Command] = []
        if action.restart != nil { commands.append(.restart) }
        if let resize = action.resize {
            switch (resize.flavorRef, resize.volume) {
            case (let flavor?, nil): commands.append(.resizeFlavor(flavorId: flavor.value))
            case (nil, let volume?): commands.append(.resizeVolume(size: volume.size))
            default: throw TroveError.badRequest("'resize' takes either 'flavorRef' or 'volume', not both or neither.")
            }
        }
        if action.resetStatus != nil { commands.append(.resetStatus) }
        if action.promoteToReplicaSource != nil { commands.append(.promoteToReplicaSource) }
        if action.ejectReplicaSource != nil { commands.append(.ejectReplicaSource) }
        guard commands.count == 1, let command = commands.first else {
            throw TroveError.badRequest(
                "An action body names exactly one of: restart, resize, reset_status, promote_to_replica_source, eject_replica_source.")
        }
        if command == .resetStatus { try Self.requireAdmin(caller) }
        return command
    }

    /// A page of instances, long-polled: the `ETag` changes when any listed instance changes, comes or goes.
    private func listInstances(_ request: Request, _ context: CellarRequestContext, detailed: Bool) async throws -> Response {
        let caller = try context.caller()
        let project = try context.parameters.require("tenant")
        let page = try Page(request)
        let includeClustered = request.uri.queryParameters.get("include_clustered").map { ["true", "1", "yes"].contains($0.lowercased()) } ?? false
        return try await longPolled(request) {
            let records = try await cachedReads.instances(
                project: project, limit: page.limit + 1, after: page.marker, includeClustered: includeClustered)
            let shown = Array(records.prefix(page.limit))
            return PolledAnswer(etag: PolledAnswer.listTag(shown.map { ($0.id, $0.version) })) {
                let views = shown.map { InstanceView($0, request: request, project: project, detailed: detailed, admin: caller.isAdmin) }
                let next =
                    records.count > page.limit
                    ? shown.last.map { page.nextLink(request, project: project, path: detailed ? "instances/detail" : "instances", marker: $0.id) }
                    : nil
                return try JSONResponse.make(InstanceList(instances: views, links: next.map { [$0] }))
            }
        }
    }

    /// One instance, long-polled (`ETag` = its stream version), or as it was (`?as_of=`).
    private func showInstance(_ id: String, request: Request, caller: AuthContext) async throws -> Response {
        if let point = try Self.asOf(request) { return try await pastInstance(id, at: point, request: request, caller: caller) }
        return try await longPolled(request) {
            // The caller's own project from memory; an admin's look into another project from the database.
            var found = try await cachedReads.instanceWithReplicas(id, project: caller.projectID)
            if found == nil, caller.isAdmin { found = try await reads.instanceWithReplicas(id, project: nil) }
            guard let (record, replicaIDs) = found else {
                throw TroveError.notFound("Instance \(id) could not be found.")
            }
            return PolledAnswer(etag: "\"\(record.version)\"") {
                try JSONResponse.make(
                    InstanceEnvelope(
                        instance: InstanceView(
                            record, request: request, project: record.projectID, detailed: true,
                            admin: caller.isAdmin, replicaIDs: replicaIDs)))
            }
        }
    }

    /// `?as_of=`: the instance folded from the log up to that point (404 before it existed or once deleted).
    private func pastInstance(_ id: String, at point: TimeTravel.Point, request: Request, caller: AuthContext) async throws -> Response {
        let position = try await timeTravel.position(of: point)
        guard let past = try await timeTravel.instance(id, at: position), caller.isAdmin || past.record.projectID == caller.projectID else {
            throw TroveError.notFound("Instance \(id) could not be found at that point.")
        }
        if past.deleted {
            throw TroveError.notFound("Instance \(id) had been deleted by that point.")
        }
        let replicas = try await timeTravel.replicas(of: id, at: position)
        let view = InstanceView(
            past.record, request: request, project: past.record.projectID, detailed: true, admin: caller.isAdmin, replicaIDs: replicas)
        return try JSONResponse.make(InstanceEnvelope(instance: view), headers: [.init("X-Cellar-As-Of-Position")!: String(past.position)])
    }

    /// The `as_of` query parameter, checked.
    static func asOf(_ request: Request) throws -> TimeTravel.Point? {
        guard let text = request.uri.queryParameters.get("as_of") else { return nil }
        guard let point = TimeTravel.Point(text) else {
            throw TroveError.badRequest(
                "'as_of' must be an event position (a non-negative integer) or an RFC 3339 time such as 2026-12-05T10:00:00Z, not '\(text)'.")
        }
        return point
    }

    func instanceResponse(_ id: String, request: Request, caller: AuthContext, status: HTTPResponse.Status) async throws -> Response {
        guard let (record, replicaIDs) = try await reads.instanceWithReplicas(id, project: caller.isAdmin ? nil : caller.projectID) else {
            throw TroveError.notFound("Instance \(id) could not be found.")
        }
        let view = InstanceView(
            record, request: request, project: record.projectID, detailed: true, admin: caller.isAdmin,
            replicaIDs: replicaIDs)
        return try JSONResponse.make(InstanceEnvelope(instance: view), status: status, headers: [.eTag: "\"\(record.version)\""])
    }
}

/// `?limit=&marker=` of a list request.
struct Page {
    static let defaultLimit = 20
    static let maximumLimit = 1000
    var limit: Int
    var marker: String?

    init(_ request: Request) throws {
        let query = request.uri.queryParameters
        if let text = query.get("limit") {
            guard let value = Int(text), value > 0 else { throw TroveError.badRequest("'limit' must be a positive integer, not '\(text)'.") }
            limit = min(value, Self.maximumLimit)
        } else {
            limit = Self.defaultLimit
        }
        marker = query.get("marker").flatMap { $0.isEmpty ? nil : $0 }
    }

    func nextLink(_ request: Request, project: String, path: String, marker: String) -> Link {
        Link(href: "\(Link.baseURL(request))/v1.0/\(project)/\(path)?limit=\(limit)&marker=\(marker)", rel: "next")
    }
}
