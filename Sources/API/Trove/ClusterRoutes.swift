import APICore
import Foundation
import Hummingbird
import Lifecycle
import ReadModels

/// `/clusters`: create, list, show, delete, the actions (grow, shrink, restart, reset-status, and Cellar's
/// `balancer`), and a member's detail. The datastore's descriptor says whether and how it clusters.
extension TroveAPI {
    func registerClusterRoutes(on routes: RouterGroup<CellarRequestContext>) {
        routes.get("clusters") { request, context in
            _ = try context.caller()
            let project = try context.parameters.require("tenant")
            return try await longPolled(request) {
                let records = try await clusterReads.clusters(project: project)
                return PolledAnswer(etag: PolledAnswer.listTag(records.map { ($0.state.id, $0.state.version) })) {
                    try JSONResponse.make(ClusterList(clusters: records.map { ClusterView($0, members: nil, request: request) }))
                }
            }
        }

        routes.post("clusters") { request, context in
            let caller = try context.caller()
            try Self.requireWriter(caller)
            let body = try await RequestBody.decode(CreateClusterRequest.self, from: request, context: context).cluster
            let id = UUID().uuidString.lowercased()
            try await clusters.execute(
                .create(try await createCommand(body, id: id, caller: caller)), on: id, caller: caller,
                requestID: context.requestID)
            return try await clusterResponse(id, request: request, caller: caller, status: .ok)
        }

        routes.get("clusters/:id") { request, context in
            try await showCluster(try context.parameters.require("id"), request: request, caller: try context.caller())
        }

        routes.delete("clusters/:id") { _, context in
            let caller = try context.caller()
            try Self.requireWriter(caller)
            try await clusters.execute(.delete, on: try context.parameters.require("id"), caller: caller, requestID: context.requestID)
            return JSONResponse.accepted()
        }

        routes.post("clusters/:id") { request, context in
            let caller = try context.caller()
            try Self.requireWriter(caller)
            let id = try context.parameters.require("id")
            let action = try await RequestBody.decode(ClusterActionRequest.self, from: request, context: context)
            guard let state = try await clusters.state(of: id, caller: caller) else { throw TroveError.notFound("Cluster \(id) could not be found.") }
            try await clusters.execute(
                try await command(for: action, on: state, caller: caller), on: id, caller: caller,
                requestID: context.requestID)
            return try await clusterResponse(id, request: request, caller: caller, status: .accepted)
        }

        routes.get("clusters/:id/instances/:instance") { request, context in
            let caller = try context.caller()
            let (id, memberID) = (try context.parameters.require("id"), try context.parameters.require("instance"))
            guard let state = try await clusters.state(of: id, caller: caller), state.members.contains(where: { $0.id == memberID }) else {
                throw TroveError.notFound("Instance \(memberID) of cluster \(id) could not be found.")
            }
            return try await instanceResponse(memberID, request: request, caller: caller, status: .ok)
        }
    }

    private func clusterResponse(_ id: String, request: Request, caller: AuthContext, status: HTTPResponse.Status) async throws -> Response {
        var response = try await clusterAnswer(id, request: request, caller: caller).render()
        response.status = status
        return response
    }

    /// GET: long-polled (the `ETag` covers the cluster's and its members' stream versions), or as it was (`?as_of=`).
    private func showCluster(_ id: String, request: Request, caller: AuthContext) async throws -> Response {
        if let point = try Self.asOf(request) { return try await pastCluster(id, at: point, request: request, caller: caller) }
        return try await longPolled(request) { try await clusterAnswer(id, request: request, caller: caller) }
    }

    private func clusterAnswer(_ id: String, request: Request, caller: AuthContext) async throws -> PolledAnswer {
        guard let record = try await clusterReads.cluster(id, project: caller.isAdmin ? nil : caller.projectID) else {
            throw TroveError.notFound("Cluster \(id) could not be found.")
        }
        let members = try await reads.members(ofCluster: id)
        var lag: [String: Int64] = [:]
        if record.state.strategy == .activePassive, let primary = record.state.primaryId {
            lag = try await clusterReads.replicationLag(primary: primary)
        }
        let versions = [(id: id, version: record.state.version)] + members.values.sorted { $0.id < $1.id }.map { (id: $0.id, version: $0.version) }
        return PolledAnswer(etag: PolledAnswer.listTag(versions)) {
            try JSONResponse.make(ClusterEnvelope(cluster: ClusterView(record, members: members, request: request, replicationLag: lag)))
        }
    }

    /// `?as_of=`: the cluster and its members folded from the log up to that point (404 before it existed or
    /// once deleted). Replication lag is a live figure, not in the log: a past cluster shows none.
    private func pastCluster(_ id: String, at point: TimeTravel.Point, request: Request, caller: AuthContext) async throws -> Response {
        let position = try await timeTravel.position(of: point)
        guard let past = try await timeTravel.cluster(id, at: position), caller.isAdmin || past.record.cluster.state.projectId == caller.projectID
        else {
            throw TroveError.notFound("Cluster \(id) could not be found at that point.")
        }
        if past.deleted {
            throw TroveError.notFound("Cluster \(id) had been deleted by that point.")
        }
        let view = ClusterView(past.record.cluster, members: past.record.members, request: request)
        return try JSONResponse.make(ClusterEnvelope(cluster: view), headers: [.init("X-Cellar-As-Of-Position")!: String(past.position)])
    }

    /// The create request, checked against the catalog and the datastore's cluster strategy.
    private func createCommand(_ body: CreateClusterRequest.Body, id: String, caller: AuthContext) async throws -> Cluster.CreateRequest {
        let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 255 else { throw TroveError.badRequest("'cluster.name' must be 1 to 255 characters.") }
        let creation = InstanceCreation(catalog: catalog, reads: reads, configurations: configurationReads)
        let (datastore, _) = try await creation.chooseDatastore(body.datastore)
        let strategy = try Self.clusterStrategy(of: datastore)
        if body.configuration != nil {
            throw TroveError.badRequest("Configuration groups cannot be given to a cluster yet; create it without 'configuration'.")
        }
        if let locality = body.locality, !["affinity", "anti-affinity"].contains(locality) {
            throw TroveError.badRequest("'cluster.locality' must be 'affinity' or 'anti-affinity', not '\(locality)'.")
        }
        let requested = body.instances ?? []
        guard requested.count >= strategy.minimumMembers else {
            throw TroveError.badRequest("A \(datastore.type) cluster needs at least \(strategy.minimumMembers) instances, not \(requested.count).")
        }
        var members = try await Self.members(
            requested, clusterName: name, numberedFrom: 1, strategy: strategy, catalog: catalog, field: "cluster.instances")
        let properties = try ClusterProperties(body.extendedProperties ?? [:], strategy: strategy, datastore: datastore)
        if let weights = properties.weights {
            guard weights.count == members.count else {
                throw TroveError.badRequest(
                    "'extended_properties.weights' gives \(weights.count) weights for \(members.count) instances; give one per instance, in order.")
            }
            for index in members.indices { members[index].weight = weights[index] }
        }
        return Cluster.CreateRequest(
            id: id, projectId: caller.projectID, name: name, datastore: datastore, members: members,
            algorithm: properties.algorithm, locality: body.locality, synchronous: properties.synchronous)
    }

    /// The one command an action body names.
    private func command(for action: ClusterActionRequest, on state: Cluster.State, caller: AuthContext) async throws -> Cluster.Command {
        let named = [
            action.grow != nil, action.shrink != nil, action.restart != nil, action.resetStatus != nil, action.balancer != nil,
            action.upgrade != nil, action.configurationAttach != nil, action.configurationDetach != nil, action.addShard != nil,
            action.weights != nil,
        ]
        guard named.filter({ $0 }).count == 1 else {
            throw TroveError.badRequest("A cluster action body names exactly one of: grow, shrink, restart, reset-status, balancer, weights.")
        }
        guard let datastore = state.datastore else { throw TroveError.notFound("Cluster \(state.id) could not be found.") }
        let strategy = try Self.clusterStrategy(of: datastore)
        if let grow = action.grow {
            guard !grow.isEmpty else { throw TroveError.badRequest("'grow' needs at least one instance.") }
            let members = try await Self.members(
                grow, clusterName: state.name, numberedFrom: state.members.count + 1, strategy: strategy,
                catalog: catalog, field: "grow")
            if let first = state.members.first, let odd = members.first(where: { $0.flavorId != first.flavorId || $0.volumeSize != first.volumeSize })
            {
                throw TroveError.badRequest(
                    "Every member of cluster \(state.id) has flavor \(first.flavorId) and a \(first.volumeSize) GB volume; "
                        + "the new member \(odd.name) has flavor \(odd.flavorId) and \(odd.volumeSize) GB.")
            }
            return .grow(members)
        }
        if let shrink = action.shrink {
            let leaving = shrink.map(\.id)
            let remaining = state.members.filter { !leaving.contains($0.id) }.count
            guard remaining >= strategy.minimumMembers else {
                throw TroveError.badRequest(
                    "A \(datastore.type) cluster keeps at least \(strategy.minimumMembers) instances; "
                        + "removing \(leaving.count) of \(state.members.count) would leave \(remaining).")
            }
            return .shrink(memberIds: leaving)
        }
        if action.restart != nil { return .restart }
        if action.resetStatus != nil {
            try Self.requireAdmin(caller)
            return .resetStatus
        }
        if let balancer = action.balancer { return .changeBalancer(try Self.algorithm(balancer.algorithm)) }
        if let weights = action.weights {
            guard strategy == .activePassive else { throw TroveError.badRequest("Only active-passive clusters have promotion weights.") }
            var byID: [String: Int] = [:]
            for (key, value) in weights {
                guard let member = state.members.first(where: { $0.id == key }) ?? state.members.first(where: { $0.name == key }) else {
                    throw TroveError.badRequest("'weights' names \(key), which is not a member of cluster \(state.id) (give a member's id or name).")
                }
                byID[member.id] = try Self.weight(value.value, field: "weights.\(key)")
            }
            return .changeWeights(byID)
        }
        throw TroveError.badRequest("Cluster upgrades, configuration groups and shards are not available in this version of Cellar.")
    }

    static func clusterStrategy(of datastore: Datastore) throws -> ClusterStrategy {
        let rules = try InstanceCreation.rules(of: datastore)
        guard let strategy = rules.clusterStrategy else {
            throw TroveError.badRequest(
                "\(rules.displayName) \(datastore.version) has no cluster support in this version of Cellar; "
                    + "create single instances, or a cluster of another datastore (GET /datastores).")
        }
        return strategy
    }

    /// A promotion weight: an integer from 0 (never promoted) to 1000.
    static func weight(_ text: String, field: String) throws -> Int {
        guard let weight = Int(text.trimmingCharacters(in: .whitespaces)), (0...1000).contains(weight) else {
            throw TroveError.badRequest("'\(field)' must be an integer from 0 (never promoted) to 1000, not '\(text)'.")
        }
        return weight
    }

    static func algorithm(_ text: String) throws -> Cluster.BalancerAlgorithm {
        guard let algorithm = Cluster.BalancerAlgorithm(rawValue: text) else {
            throw TroveError.badRequest("The balancer algorithm must be roundrobin or leastconn, not '\(text)'.")
        }
        return algorithm
    }

    /// Member dicts as members: a flavor the catalog has, a volume size, one flavor and size for all (Galera
    /// members are peers), names kept as given (Trove's `<cluster>-member-<n>` when none).
    static func members(
        _ requested: [MemberRequest], clusterName: String, numberedFrom first: Int, strategy: ClusterStrategy,
        catalog: OperatorCatalog, field: String
    ) async throws -> [Cluster.Member] {
        var members: [Cluster.Member] = []
        for (index, member) in requested.enumerated() {
            let (flavor, volume) = try await InstanceCreation.flavorAndVolume(
                member.flavorRef, member.volume, in: "\(field)[\(index)]",
                catalog: catalog)
            let accepted = strategy == .activePassive ? ["member", "replica"] : [strategy.memberType]
            if let types = member.type?.names, let other = types.first(where: { !accepted.contains($0) }) {
                throw TroveError.badRequest("'\(field)[\(index)].type' must be '\(strategy.memberType)' for this datastore, not '\(other)'.")
            }
            var weight: Int?
            if let given = member.weight {
                guard strategy == .activePassive else {
                    throw TroveError.badRequest("'\(field)[\(index)].weight' is for active-passive clusters; these members are all peers.")
                }
                weight = try Self.weight(given.value, field: "\(field)[\(index)].weight")
            }
            let name = member.name?.trimmingCharacters(in: .whitespacesAndNewlines)
            members.append(
                Cluster.Member(
                    id: UUID().uuidString.lowercased(),
                    name: name.flatMap { $0.isEmpty ? nil : $0 } ?? "\(clusterName)-member-\(first + index)",
                    flavorId: flavor.id, volumeSize: volume.size, type: strategy.memberType, weight: weight))
        }
        if let head = members.first, let odd = members.first(where: { $0.flavorId != head.flavorId || $0.volumeSize != head.volumeSize }) {
            throw TroveError.badRequest("Cluster members must share one flavor and volume size; \(odd.name) differs from \(head.name).")
        }
        return members
    }
}
