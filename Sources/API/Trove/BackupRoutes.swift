import APICore
import Foundation
import Hummingbird
import Lifecycle
import ReadModels

/// `POST /backups` (Trove's body).
struct CreateBackupRequest: Decodable {
    struct Body: Decodable {
        var name: String
        var instance: String
        var description: String?
        var parentID: String?
        var incremental: Flag?

        enum CodingKeys: String, CodingKey {
            case name, instance, description, incremental
            case parentID = "parent_id"
        }
    }
    var backup: Body

    /// `incremental` as clients send it: 0/1, true/false or a string of either.
    struct Flag: Decodable {
        var isSet: Bool
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) {
                isSet = flag
            } else if let number = try? container.decode(Int.self) {
                isSet = number != 0
            } else {
                isSet = !["", "0", "false"].contains(try container.decode(String.self).lowercased())
            }
        }
    }
}

extension TroveAPI {
    /// Trove's backups: create (the instance's guest streams it, sealed, to the object store), list, show,
    /// delete, and an instance's backups. Restoring is `POST /instances` with `restorePoint.backupRef`.
    func registerBackupRoutes(on routes: RouterGroup<CellarRequestContext>) {
        routes.get("backups") { request, context in
            let caller = try context.caller()
            let instance = request.uri.queryParameters.get("instance_id")
            let datastore = request.uri.queryParameters.get("datastore")
            let backups = try await backupReads.list(projectID: caller.projectID, instanceID: instance)
                .filter { datastore == nil || $0.datastore?.type == datastore }
            return try JSONResponse.make(["backups": try await views(of: backups)])
        }
        routes.get("instances/:id/backups") { _, context in
            let caller = try context.caller()
            let id = try context.parameters.require("id")
            guard try await reads.instance(id, project: caller.isAdmin ? nil : caller.projectID) != nil else {
                throw TroveError.notFound("Instance \(id) could not be found.")
            }
            let backups = try await backupReads.list(projectID: caller.projectID, instanceID: id)
            return try JSONResponse.make(["backups": try await views(of: backups)])
        }
        routes.post("backups") { request, context in
            let caller = try context.caller()
            try Self.requireWriter(caller)
            let body = try await RequestBody.decode(CreateBackupRequest.self, from: request, context: context).backup
            let create = try await backupCommand(body, caller: caller)
            let state = try await backups.execute(.create(create), on: create.id, caller: caller, requestID: context.requestID)
            return try JSONResponse.make(["backup": try await views(of: [state])[0]], status: .accepted)
        }
        routes.get("backups/:id") { _, context in
            let caller = try context.caller()
            let id = try context.parameters.require("id")
            guard let state = try await backups.visible(id, caller: caller) else { throw TroveError.notFound("Backup \(id) could not be found.") }
            return try JSONResponse.make(["backup": try await views(of: [state])[0]])
        }
        routes.delete("backups/:id") { _, context in
            let caller = try context.caller()
            try Self.requireWriter(caller)
            let id = try context.parameters.require("id")
            guard let state = try await backups.visible(id, caller: caller) else { throw TroveError.notFound("Backup \(id) could not be found.") }
            if state.isRunning {
                throw TroveError.unprocessable("Backup \(id) is \(state.status); it can be deleted once it has completed or failed.")
            }
            try await backups.execute(.delete, on: id, caller: caller, requestID: context.requestID)
            return Response(status: .accepted)
        }
    }

    /// Trove's JSON of `backups`, each with its datastore version's catalog id.
    private func views(of backups: [Backup.State]) async throws -> [BackupView] {
        let versions = try await catalog.versions()
        return backups.map { backup in
            let version = versions.first { $0.datastoreName == backup.datastore?.type && $0.name == backup.datastore?.version }
            return BackupView(backup, updated: backup.createdAt ?? Date(), versionID: version?.id)
        }
    }

    /// The create command for `body`: the instance must be the caller's, ACTIVE, of a datastore whose backups
    /// Cellar takes.
    private func backupCommand(_ body: CreateBackupRequest.Body, caller: AuthContext) async throws -> Backup.CreateRequest {
        let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw TroveError.badRequest("'backup.name' must not be empty.") }
        guard name.count <= 255 else { throw TroveError.badRequest("'backup.name' is longer than 255 characters.") }
        guard let instance = try await reads.instance(body.instance, project: caller.isAdmin ? nil : caller.projectID), !instance.deleted else {
            throw TroveError.notFound("Instance \(body.instance) could not be found.")
        }
        if body.parentID != nil || body.incremental?.isSet == true {
            throw TroveError.notImplemented("Incremental backups are not available in this version of Cellar yet; take a full backup.")
        }
        guard instance.clusterID == nil || instance.datastoreType == "postgresql" else {
            throw TroveError.notImplemented(
                "Backups of \(instance.datastoreType) cluster members are not available in this version of Cellar yet (of its standalone instances they are)."
            )
        }
        guard instance.status == "ACTIVE" else {
            throw TroveError.unprocessable("Instance \(instance.id) is not currently available for an action (\(instance.status)).")
        }
        if try await backupReads.list(projectID: instance.projectID, instanceID: instance.id).contains(where: \.isRunning) {
            throw TroveError.unprocessable("Instance \(instance.id) has a backup running already; try again when it has finished.")
        }
        return Backup.CreateRequest(
            id: UUID().uuidString.lowercased(), projectId: instance.projectID, name: name, description: body.description,
            instanceId: instance.id, datastore: Datastore(type: instance.datastoreType, version: instance.datastoreVersion))
    }
}
