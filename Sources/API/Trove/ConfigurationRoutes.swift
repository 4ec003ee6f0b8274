import APICore
import Foundation
import Hummingbird
import Lifecycle
import ReadModels

extension TroveAPI {
    func registerConfigurationRoutes(on routes: RouterGroup<CellarRequestContext>) {
        // Datastore parameters: what a configuration group may set, as the datastore's server describes it.
        routes.get("datastores/:datastore/versions/:version/parameters") { _, context in
            let version = try await datastoreVersion(context.parameters.require("version"), of: context.parameters.require("datastore"))
            return try JSONResponse.make([
                "configuration-parameters": try await parameters(of: version).map { ParameterView($0, versionID: version.id) }
            ])
        }
        routes.get("datastores/:datastore/versions/:version/parameters/:name") { _, context in
            let version = try await datastoreVersion(context.parameters.require("version"), of: context.parameters.require("datastore"))
            return try JSONResponse.make(try await parameter(try context.parameters.require("name"), of: version))
        }
        routes.get("datastores/versions/:version/parameters") { _, context in
            let version = try await datastoreVersion(context.parameters.require("version"), of: nil)
            return try JSONResponse.make([
                "configuration-parameters": try await parameters(of: version).map { ParameterView($0, versionID: version.id) }
            ])
        }
        routes.get("datastores/versions/:version/parameters/:name") { _, context in
            let version = try await datastoreVersion(context.parameters.require("version"), of: nil)
            return try JSONResponse.make(try await parameter(try context.parameters.require("name"), of: version))
        }

        routes.get("configurations") { _, context in
            let caller = try context.caller()
            let groups = try await configurationReads.groups(project: caller.projectID)
            return try JSONResponse.make(["configurations": groups.map { ConfigurationView($0, detailed: false) }])
        }
        routes.post("configurations") { request, context in
            let caller = try context.caller()
            try Self.requireWriter(caller)
            let body = try await RequestBody.decode(CreateConfigurationRequest.self, from: request, context: context).configuration
            let version = try await datastoreVersion(body.datastore?.version, of: body.datastore?.type)
            let values = try await validated(body.values ?? [:], for: version)
            let id = UUID().uuidString.lowercased()
            try await configurations.execute(
                .create(
                    .init(
                        id: id, projectId: caller.projectID, name: body.name, description: body.description,
                        datastore: Datastore(type: version.datastoreName, version: version.name), datastoreVersionId: version.id,
                        values: values)), on: id, caller: caller, requestID: context.requestID)
            return try await configurationResponse(id, caller: caller, status: .ok)
        }
        routes.get("configurations/:id") { _, context in
            let caller = try context.caller()
            return try await configurationResponse(try context.parameters.require("id"), caller: caller, status: .ok)
        }
        routes.get("configurations/:id/instances") { _, context in
            let caller = try context.caller()
            let group = try await configurationRecord(try context.parameters.require("id"), caller: caller)
            let instances = try await configurationReads.instances(using: group.id).map { ["id": $0.id, "name": $0.name] }
            return try JSONResponse.make(["instances": instances])
        }
        routes.patch("configurations/:id") { request, context in
            try await changeConfiguration(request, context, replacing: false)
            return Response(status: .ok)
        }
        routes.put("configurations/:id") { request, context in
            try await changeConfiguration(request, context, replacing: true)
            return Response(status: .accepted)
        }
        routes.delete("configurations/:id") { _, context in
            let caller = try context.caller()
            try Self.requireWriter(caller)
            let group = try await configurationRecord(try context.parameters.require("id"), caller: caller)
            try await configurations.execute(
                .delete(attachedInstances: group.instanceCount), on: group.id, caller: caller, requestID: context.requestID)
            return Response(status: .accepted)
        }
    }

    /// `PATCH` merges values, `PUT` replaces them (and may rename); instances using the group apply the new
    /// values before the answer, like an attach.
    private func changeConfiguration(_ request: Request, _ context: CellarRequestContext, replacing: Bool) async throws {
        let caller = try context.caller()
        try Self.requireWriter(caller)
        let group = try await configurationRecord(try context.parameters.require("id"), caller: caller)
        let body = try await RequestBody.decode(ChangeConfigurationRequest.self, from: request, context: context).configuration
        guard let version = try await catalog.versions().first(where: { $0.id == group.datastoreVersionID }) else {
            throw TroveError.notFound("Datastore version \(group.datastoreVersionID) of configuration group \(group.id) cannot be found.")
        }
        let values = try await validated(body.values ?? [:], for: version)
        // Every instance using the group must be able to take the change, or nothing is changed.
        let instances = try await configurationReads.instances(using: group.id)
        for instance in instances {
            guard let state = try await commands.state(of: instance.id, caller: caller), state.phase == .active || state.phase == .restartRequired
            else {
                throw TroveError.unprocessable(
                    "Instance \(instance.id) uses configuration group \(group.id) and is busy; change the group when it is ACTIVE.")
            }
        }
        let command: ConfigurationGroup.Command =
            replacing
            ? .replace(values: values, name: body.name, description: body.description) : .merge(values: values)
        let changed = try await configurations.execute(command, on: group.id, caller: caller, requestID: context.requestID)
        for instance in instances {
            _ = try await applyConfiguration(
                .updateConfiguration(.init(configurationId: group.id, values: changed.values)),
                to: instance.id, caller: caller, requestID: context.requestID)
        }
    }

    /// Records an attach, update or detach and waits for the guest: returns the settings that wait for a restart.
    func applyConfiguration(_ command: Instance.Command, to id: String, caller: AuthContext, requestID: String) async throws -> [String] {
        let recorded = try await commands.execute(command, on: id, caller: caller, requestID: requestID)
        let outcome = try await commands.awaitOutcome(of: id, after: recorded.last?.streamVersion ?? 0, requestID: requestID) { event -> [String]? in
            switch event {
            case .configurationApplied: return []
            case .configurationRestartPending(let pending): return pending.parameters
            case .configurationApplyFailed(let failure): throw TroveError.badRequest("The datastore refused the configuration: \(failure.reason)")
            default: return nil
            }
        }
        return outcome ?? []
    }

    func configurationRecord(_ id: String, caller: AuthContext) async throws -> ConfigurationRecord {
        guard let group = try await configurationReads.group(id, project: caller.isAdmin ? nil : caller.projectID) else {
            throw TroveError.notFound("Configuration group \(id) could not be found.")
        }
        return group
    }

    private func configurationResponse(_ id: String, caller: AuthContext, status: HTTPResponse.Status) async throws -> Response {
        try JSONResponse.make(["configuration": ConfigurationView(try await configurationRecord(id, caller: caller), detailed: true)], status: status)
    }

    /// `values` checked against the version's parameters (400 naming the first bad one).
    func validated(_ values: [String: ParameterValue], for version: DatastoreVersion) async throws -> [String: ParameterValue] {
        do { return try await parameters(of: version).validated(values) } catch let rejection as Rejection { throw TroveError.from(rejection) }
    }

    private func parameters(of version: DatastoreVersion) async throws -> [ConfigurationParameter] {
        guard let parameters = try await catalog.parameters(ofVersion: version.id) else {
            throw TroveError.unprocessable(
                "The parameters of \(version.datastoreName) \(version.name) are not loaded yet; an operator runs `cellar datastore load-parameters`.")
        }
        return parameters
    }

    private func parameter(_ name: String, of version: DatastoreVersion) async throws -> ParameterView {
        guard let parameter = try await parameters(of: version).first(where: { $0.name == name }) else {
            throw TroveError.notFound("Parameter \(name) is not a configurable parameter of \(version.datastoreName) \(version.name).")
        }
        return ParameterView(parameter, versionID: version.id)
    }

    /// A version by id or name, of a datastore by id or name (or of the only datastore when none is named).
    private func datastoreVersion(_ wanted: String?, of datastore: String?) async throws -> DatastoreVersion {
        let versions = try await catalog.versions()
        if let datastore {
            let ofDatastore = versions.filter { $0.datastoreName == datastore || $0.datastoreID == datastore }
            guard !ofDatastore.isEmpty else { throw TroveError.notFound("Datastore '\(datastore)' cannot be found; GET /datastores lists them.") }
            guard let wanted else {
                guard let entry = try await catalog.datastore(datastore),
                    let version = ofDatastore.first(where: { $0.id == entry.defaultVersionID }) ?? ofDatastore.first
                else {
                    throw TroveError.badRequest("Name the datastore version ('datastore.version').")
                }
                return version
            }
            guard let version = ofDatastore.first(where: { $0.id == wanted || $0.name == wanted }) else {
                throw TroveError.notFound("Datastore version '\(wanted)' of \(datastore) cannot be found.")
            }
            return version
        }
        guard let wanted else { throw TroveError.badRequest("Name the datastore ('datastore.type') and its version ('datastore.version').") }
        guard let version = versions.first(where: { $0.id == wanted }) else {
            throw TroveError.notFound("Datastore version \(wanted) cannot be found.")
        }
        return version
    }
}
