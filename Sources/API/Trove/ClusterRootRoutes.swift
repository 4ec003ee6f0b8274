import APICore
import Foundation
import Hummingbird
import Lifecycle

/// `POST`/`GET /clusters/{id}/root`: one root password for the whole cluster. The member that takes writes (the
/// primary, or a Galera member) sets it through its guest, as an instance's root is set; replication carries the
/// account to every member, to the one a failover promotes and to those a grow copies. The cluster's stream
/// records `ClusterRootEnabled` once the guest has set it; the password itself is answered once, never recorded.
extension TroveAPI {
    func registerClusterRootRoutes(on routes: RouterGroup<CellarRequestContext>) {
        routes.get("clusters/:id/root") { _, context in
            let id = try context.parameters.require("id")
            guard let state = try await clusters.state(of: id, caller: try context.caller()) else {
                throw TroveError.notFound("Cluster \(id) could not be found.")
            }
            return try JSONResponse.make(["rootEnabled": state.rootEnabled ?? false])
        }
        routes.post("clusters/:id/root") { request, context -> Response in
            let caller = try context.caller()
            try Self.requireWriter(caller)
            let id = try context.parameters.require("id")
            let password = try await rootPassword(request, context: context)
            guard let state = try await clusters.state(of: id, caller: caller) else { throw TroveError.notFound("Cluster \(id) could not be found.") }
            let writer = try await writingMember(of: state, context: context)
            // The chart's word first (a cluster busy with a task refuses), before any member is touched.
            do { _ = try Cluster.decide(.recordRootEnabled(memberId: writer), state: state, chart: clusters.chart, at: Date()) } catch let rejection
                as Rejection
            { throw TroveError.from(rejection) }
            guard try await apply(.enableRoot, on: writer, context: context, secrets: [(name: .root, password: password)]) else {
                throw TroveError(
                    .serviceUnavailable, "serviceUnavailable",
                    "The guest of member \(writer) has not set the root password yet; it will. Ask again later for another.")
            }
            try await clusters.execute(.recordRootEnabled(memberId: writer), on: id, caller: caller, requestID: context.requestID)
            return try JSONResponse.make(["user": ["name": "root", "password": password]])
        }
    }

    /// The member whose guest sets cluster-wide accounts: an active-passive cluster's primary; for Galera the
    /// first ACTIVE member (every member takes writes and replicates them to the group).
    private func writingMember(of state: Cluster.State, context: CellarRequestContext) async throws -> String {
        let caller = try context.caller()
        let candidates =
            state.strategy == .activePassive
            ? [state.primaryId].compactMap { $0 }.filter { !state.fencedMemberIds.contains($0) }
            : state.members.map(\.id).filter { !state.leavingMemberIds.contains($0) }
        for id in candidates where try await commands.state(of: id, caller: caller)?.status == "ACTIVE" { return id }
        throw TroveError.unprocessable(
            state.strategy == .activePassive
                ? "\(state.subject) has no ACTIVE primary right now; enable root once it has (GET /clusters/\(state.id) shows its members)."
                : "\(state.subject) has no ACTIVE member right now; enable root once one is.")
    }
}
