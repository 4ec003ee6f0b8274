import Bus
import Compute
import Foundation
import GuestProtocol
import Lifecycle

/// A saga's typed guest call made into an RPC to one instance's guest agent: passwords opened from the
/// handed-over secrets and sealed again for that guest alone, flavors looked up for their memory.
struct GuestCalls: Sendable {
    let context: SagaContext
    let instanceID: String

    var services: TaskManagerServices { context.services }
    var stream: String { "instance-\(instanceID)" }

    func perform(_ guestCall: Saga.GuestCall) async throws {
        switch guestCall {
        case .prepare(let spec, let volumeSizeGB, let configurationValues):
            let passwords = try await services.secrets.passwords(stream: stream)
            let box = try services.secrets.guestBox(for: instanceID)
            let flavor = try await services.catalog.flavor(spec.flavorId)
            let request = PrepareRequest(
                databases: spec.databases.map { GuestDatabase(name: $0.name, characterSet: $0.characterSet, collate: $0.collate) },
                users: try spec.users.map {
                    try GuestUser(name: $0.name, host: $0.host, password: passwords["user:\($0.name)@\($0.host)"], databases: $0.databases)
                        .sealed(with: box)
                },
                memoryMB: flavor?.ramMB ?? 512, volumeSizeGB: volumeSizeGB, overrides: configurationValues,
                cluster: try await clusterSettings(spec.cluster))
            try await call(.prepare, request, timeout: .seconds(170))
        case .stopDatastore:
            guard await services.compute.status(instanceID: instanceID) == .running else { return }
            try await call(.stop, [String: String](), timeout: .seconds(25))
        case .restart(let flavorID):
            var memoryMB: Int?
            if let flavorID {
                guard let flavor = try await services.catalog.flavor(flavorID) else { throw PermanentFailure("flavor \(flavorID) no longer exists") }
                memoryMB = flavor.ramMB
            }
            try await call(.restart, RestartRequest(memoryMB: memoryMB), timeout: .seconds(110))
        case .resizeVolume(let sizeGB):
            try await call(.resizeVolume, ResizeVolumeRequest(sizeGB: sizeGB), timeout: .seconds(50))
        case .applyChange(let change):
            try await apply(change)
        case .applyConfiguration(let values):
            let answer = try await context.callGuest(instanceID, GuestMethod.updateOverrides.rawValue, OverridesRequest(values: values), timeout: .seconds(30))
            let outcome = try answer.decode(as: OverridesOutcome.self)
            try await context.record(Saga.ConfigureInstance.recorded(pendingRestart: outcome.pendingRestart), on: instanceID)
        }
    }

    /// A member's group: its peers' addresses (leased by the cluster's saga before any member started).
    private func clusterSettings(_ membership: Instance.ClusterMembership?) async throws -> ClusterSettings? {
        guard let membership else { return nil }
        var addresses: [String] = []
        for peer in membership.peers {
            guard let address = try await services.addresses.leased(by: peer) else {
                throw PermanentFailure("member \(peer) of cluster \(membership.clusterId) has no address")
            }
            addresses.append(address)
        }
        return ClusterSettings(name: membership.clusterId, nodeName: instanceID, peerAddresses: addresses, seed: membership.seed)
    }

    private func call<Arguments: Encodable>(_ method: GuestMethod, _ arguments: Arguments, timeout: Duration) async throws {
        _ = try await context.callGuest(instanceID, method.rawValue, arguments, timeout: timeout)
    }

    /// A change of databases, users, root or access rules; passwords travel sealed for this guest.
    private func apply(_ change: Instance.GuestChange) async throws {
        let passwords = try await services.secrets.passwords(stream: stream)
        let box = try services.secrets.guestBox(for: instanceID)
        let timeout = Duration.seconds(25)
        switch change {
        case .createDatabases(let databases):
            try await call(.createDatabase, DatabasesRequest(databases: databases.map {
                GuestDatabase(name: $0.name, characterSet: $0.characterSet, collate: $0.collate)
            }), timeout: timeout)
        case .deleteDatabase(let name):
            try await call(.deleteDatabase, NameRequest(name: name), timeout: timeout)
        case .createUsers(let users):
            try await call(.createUser, UsersRequest(users: users.map {
                try GuestUser(name: $0.name, host: $0.host, password: passwords["user:\($0.name)@\($0.host)"], databases: $0.databases)
                    .sealed(with: box)
            }), timeout: timeout)
        case .deleteUser(let name, let host):
            try await call(.deleteUser, NameRequest(name: name, host: host), timeout: timeout)
        case .grantAccess(let user, let host, let databases):
            try await call(.grantAccess, AccessRequest(user: user, host: host, databases: databases), timeout: timeout)
        case .revokeAccess(let user, let host, let database):
            try await call(.revokeAccess, AccessRequest(user: user, host: host, databases: [database]), timeout: timeout)
        case .changePasswords(let users, let hosts):
            let changes = try users.enumerated().map { index, name in
                // The secret's name is `user:<name>@<host>`; changes recorded without hosts find it by the name.
                let key = hosts.map { "user:\(name)@\($0[index])" }
                let secret = key.map { key in passwords.first { $0.key == key } }
                    ?? passwords.first { $0.key.hasPrefix("user:\(name)@") }
                let host = secret.map { String($0.key.dropFirst("user:\(name)@".count)) } ?? hosts?[index] ?? "%"
                return try GuestUser(name: name, host: host, password: secret?.value).sealed(with: box)
            }
            try await call(.changePassword, UsersRequest(users: changes), timeout: timeout)
        case .disableRoot:
            try await call(.disableRoot, [String: String](), timeout: timeout)
        case .renameUser(let name, let host, let newName, let newHost):
            try await call(.renameUser, RenameUserRequest(name: name, host: host, newName: newName, newHost: newHost), timeout: timeout)
        case .updateAccess(let access):
            try await call(.updateAccess, AccessRulesRequest(allowedCidrs: access.allowedCidrs), timeout: timeout)
        case .enableRoot:
            guard let password = passwords["root"] else { throw PermanentFailure("the root password was not handed over") }
            try await call(.enableRoot, EnableRootRequest(sealedPassword: try .root(password, box: box)), timeout: timeout)
        }
    }
}
