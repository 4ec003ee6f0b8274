import APICore
import EventStore
import Foundation
import Hummingbird
import Lifecycle

/// `PUT /instances/{id}`: `{"instance": {"name": ..., "configuration": id | null, "access": {...}, "replica_of": null}}`.
struct UpdateInstanceRequest: Decodable {
    struct Body: Decodable {
        struct AccessBody: Decodable {
            var isPublic: Bool?
            var allowedCidrs: [String]?
            enum CodingKeys: String, CodingKey {
                case isPublic = "is_public"
                case allowedCidrs = "allowed_cidrs"
            }
        }
        var name: String?
        /// Present with a value: attach; present as null: detach.
        var configuration: String??
        var access: AccessBody?
        var replicaOf: String??

        enum CodingKeys: String, CodingKey {
            case name, configuration, access
            case replicaOf = "replica_of"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decodeIfPresent(String.self, forKey: .name)
            access = try container.decodeIfPresent(AccessBody.self, forKey: .access)
            if container.contains(.configuration) { configuration = .some(try container.decodeIfPresent(String.self, forKey: .configuration)) }
            if container.contains(.replicaOf) { replicaOf = .some(try container.decodeIfPresent(String.self, forKey: .replicaOf)) }
        }
    }
    var instance: Body
}

extension TroveAPI {
    func registerInstanceUpdateRoutes(on routes: RouterGroup<CellarRequestContext>) {
        routes.put("instances/:id") { request, context in
            let caller = try context.caller()
            try Self.requireWriter(caller)
            let id = try context.parameters.require("id")
            let body = try await RequestBody.decode(UpdateInstanceRequest.self, from: request, context: context).instance
            let others = [body.configuration != nil, body.access != nil, body.replicaOf != nil].filter { $0 }.count
            guard others <= 1 else {
                throw TroveError.badRequest("Change one of configuration, access or replica_of at a time (with or without a new name).")
            }
            guard let state = try await commands.state(of: id, caller: caller) else {
                throw TroveError.notFound("Instance \(id) could not be found.")
            }
            if let name = body.name, name != state.name {
                try await commands.execute(.rename(name: name), on: id, caller: caller, requestID: context.requestID)
            }
            if let configuration = body.configuration {
                if let configuration {
                    let group = try await configurationRecord(configuration, caller: caller)
                    guard group.datastoreName == state.datastore?.type, group.datastoreVersionName == state.datastore?.version else {
                        throw TroveError.badRequest(
                            "Configuration group \(group.id) is for \(group.datastoreName) \(group.datastoreVersionName), "
                                + "but instance \(id) runs \(state.datastore?.type ?? "?") \(state.datastore?.version ?? "?").")
                    }
                    _ = try await applyConfiguration(
                        .attachConfiguration(.init(configurationId: group.id, values: group.values)),
                        to: id, caller: caller, requestID: context.requestID)
                } else {
                    _ = try await applyConfiguration(.detachConfiguration, to: id, caller: caller, requestID: context.requestID)
                }
            } else if let access = body.access {
                let rule = Instance.Access(isPublic: access.isPublic ?? false, allowedCidrs: access.allowedCidrs ?? [])
                return try await change(.updateAccess(rule), request: request, context: context) { rules, _ in
                    for (index, network) in rule.allowedCidrs.enumerated() where Instance.Access.isCIDR(network) {
                        try InstanceCreation.check(network: network, field: "instance.access.allowed_cidrs[\(index)]", on: rules)
                    }
                }
            } else if let replicaOf = body.replicaOf {
                guard replicaOf == nil else { throw TroveError.badRequest("replica_of can only be set to null (detach from the source).") }
                try await commands.execute(.detachReplica, on: id, caller: caller, requestID: context.requestID)
            } else if body.name == nil {
                // `{"instance": {}}` is Trove's other way to detach a configuration.
                if state.configurationId != nil {
                    _ = try await applyConfiguration(.detachConfiguration, to: id, caller: caller, requestID: context.requestID)
                }
            }
            return Response(status: .accepted)
        }

        routes.get("instances/:id/configuration") { _, context in
            let caller = try context.caller()
            let id = try context.parameters.require("id")
            guard let state = try await commands.state(of: id, caller: caller) else {
                throw TroveError.notFound("Instance \(id) could not be found.")
            }
            guard state.guestRegistered, state.health == .healthy, let askGuest else {
                throw TroveError.unprocessable("Instance \(id) is \(state.status); its configuration can be read while its datastore runs.")
            }
            struct Effective: Codable { var values: [String: ParameterValue] }
            let effective: Effective
            do {
                effective = try JSONDecoder().decode(Effective.self, from: try await askGuest(id, "get_configuration"))
            } catch {
                throw TroveError(.serviceUnavailable, "serviceUnavailable", "The guest agent of instance \(id) did not answer; try again.")
            }
            return try JSONResponse.make(["instance": ["configuration": effective.values]])
        }

        routes.get("mgmt/instances/:id/root") { _, context in
            let caller = try context.caller()
            try Self.requireAdmin(caller)
            let id = try context.parameters.require("id")
            guard try await commands.state(of: id, caller: caller) != nil else { throw TroveError.notFound("Instance \(id) could not be found.") }
            return try JSONResponse.make(["root_history": try await rootHistory(of: id)])
        }
    }

    /// When root was last enabled and by whom (Trove's RootHistory): "Never" / "Nobody" before that.
    private func rootHistory(of id: String) async throws -> [String: String] {
        let events = try await store.readStream("instance-\(id)")
        guard
            let enabled = events.last(where: {
                $0.type == "GuestChangeApplied" && (try? Instance.Event.decode(eventType: $0.type, data: $0.data)) == .guestChangeApplied(.enableRoot)
            })
        else {
            return ["id": id, "enabled": "Never", "user": "Nobody"]
        }
        let requestID = enabled.decodedMetadata?.requestID
        let requester = events.first { $0.type == "GuestChangeRequested" && $0.decodedMetadata?.requestID == requestID }
        return [
            "id": id, "enabled": JSONResponse.timestamp(enabled.recordedAt),
            "user": requester?.decodedMetadata?.actor?.userID ?? "Nobody",
        ]
    }
}
