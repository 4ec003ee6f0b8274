import Bus
import Crypto
import Foundation
import GuestProtocol
import Lifecycle
import Logging
import PostgresNIO
import Secrets

/// Turns an RPC into a call on the datastore manager; arguments and results are the shapes of `GuestProtocol`.
struct GuestDispatcher: Sendable {
    let manager: any DatastoreManager
    let instanceID: String
    /// Opens the passwords sealed for this guest.
    let keys: SecretBox?
    let logger: Logger

    /// `users` with their sealed passwords opened.
    private func opened(_ users: [GuestUser]) throws -> [GuestUser] {
        try users.map { user in
            var opened = user
            opened.password = try user.sealedPassword.map { try open($0, purpose: SealedPassword.purpose(user: user.name), of: user.name) }
            opened.sealedPassword = nil
            return opened
        }
    }

    /// A password sealed for this guest, opened with its own key.
    private func open(_ sealed: SealedPassword, purpose: String, of owner: String) throws -> String {
        guard let keys else { throw RemoteFailure(type: "MissingKey", message: "the guest has no key to open the password of \(owner)") }
        do { return try keys.open(sealed.sealed, context: purpose) } catch {
            throw RemoteFailure(type: "InvalidSecret", message: "the password of \(owner) was not sealed for this guest")
        }
    }

    /// The manager as an active-passive member (a datastore without replication refuses the call).
    private func replicating() throws -> any ReplicatingManager {
        guard let member = manager as? any ReplicatingManager else {
            throw RemoteFailure(type: "NotSupported", message: "this datastore has no replication")
        }
        return member
    }

    /// The manager as one that takes backups (a datastore without them refuses the call).
    private func backingUp() throws -> any BackingUpManager {
        guard let manager = manager as? any BackingUpManager else {
            throw RemoteFailure(type: "NotSupported", message: "backups of this datastore are not available yet")
        }
        return manager
    }

    /// A backup's own key, sealed for this guest.
    private func backupKey(_ sealed: SealedPassword, of backupID: String) throws -> SymmetricKey {
        let base64 = try open(sealed, purpose: SealedPassword.backupKeyPurpose(backup: backupID), of: "backup \(backupID)")
        guard let bytes = Data(base64Encoded: base64), bytes.count == 32 else {
            throw RemoteFailure(type: "InvalidSecret", message: "the key of backup \(backupID) is not 32 bytes")
        }
        return SymmetricKey(data: bytes)
    }

    /// The cluster's replication password, sealed for this guest.
    private func open(_ replication: ReplicationSettings) throws -> String {
        try open(replication.sealedPassword, purpose: SealedPassword.replicationPurpose, of: "the replication account")
    }

    func handle(_ request: RPCRequest) async throws -> JSONValue {
        do {
            return try await dispatch(request)
        } catch let error as PSQLError {
            // PSQLError prints nothing useful by design; the server's own message is what an operator needs.
            // Never the statement (`String(reflecting:)` would print it): the server's own message, or the failure's kind.
            let message = error.serverInfo?[.message] ?? "the datastore connection failed (\(error.code))"
            logger.error("rpc failed in the datastore", metadata: ["method": "\(request.method)", "error": "\(message)"])
            throw RemoteFailure(type: "DatastoreError", message: message)
        } catch {
            logger.error("rpc failed", metadata: ["method": "\(request.method)", "error": "\(error)"])
            throw error
        }
    }

    private func dispatch(_ request: RPCRequest) async throws -> JSONValue {
        guard let method = GuestMethod(rawValue: request.method) else {
            throw RemoteFailure(type: "UnknownMethod", message: "the guest agent has no method \(request.method)")
        }
        logger.info("rpc", metadata: ["method": "\(method.rawValue)", "message_id": "\(request.messageID)"])
        func args<T: Decodable>(_ type: T.Type) throws -> T {
            do { return try request.args.decode(as: T.self) } catch {
                throw RemoteFailure(type: "InvalidArguments", message: "\(method.rawValue): unreadable arguments: \(error)")
            }
        }
        switch method {
        case .prepare:
            var prepare = try args(PrepareRequest.self)
            prepare.users = try opened(prepare.users)
            if let replication = prepare.cluster?.replication { try await replicating().useReplicationPassword(try open(replication)) }
            if let restore = prepare.restore {
                try await backingUp().restoreIfNeeded(restore, key: try backupKey(restore.sealedKey, of: restore.backupId))
            }
            try await manager.prepare(prepare)
        case .restart: try await manager.restart(memoryMB: try args(RestartRequest.self).memoryMB)
        case .stop: try await manager.stop()
        case .createDatabase: try await manager.createDatabases(try args(DatabasesRequest.self).databases)
        case .deleteDatabase: try await manager.deleteDatabase(try args(NameRequest.self).name)
        case .listDatabases: return try JSONValue(encoding: try await manager.listDatabases())
        case .createUser: try await manager.createUsers(try opened(args(UsersRequest.self).users))
        case .deleteUser:
            let user = try args(NameRequest.self)
            try await manager.deleteUser(user.name, host: user.host ?? "%")
        case .listUsers: return try JSONValue(encoding: try await manager.listUsers())
        case .grantAccess:
            let access = try args(AccessRequest.self)
            try await manager.grant(user: access.user, host: access.host ?? "%", databases: access.databases)
        case .revokeAccess:
            let access = try args(AccessRequest.self)
            try await manager.revoke(user: access.user, host: access.host ?? "%", databases: access.databases)
        case .changePassword: try await manager.changePasswords(try opened(args(UsersRequest.self).users))
        case .enableRoot:
            let password = try args(EnableRootRequest.self).sealedPassword.map { try open($0, purpose: SealedPassword.rootPurpose, of: "root") }
            // The caller knows the password it sealed; the reply does not carry it back over the bus.
            _ = try await manager.enableRoot(password: password)
            return .object(["name": .string("root")])
        case .disableRoot: try await manager.disableRoot()
        case .resizeVolume: try await manager.resizeVolume(try args(ResizeVolumeRequest.self).sizeGB)
        case .getStatus: return try JSONValue(encoding: await manager.report(instanceID: instanceID, at: Date()))
        case .updateOverrides: return try JSONValue(encoding: try await manager.updateOverrides(try args(OverridesRequest.self).values))
        case .getConfiguration: return try JSONValue(encoding: try await manager.effectiveConfiguration())
        case .renameUser:
            let rename = try args(RenameUserRequest.self)
            try await manager.renameUser(rename.name, host: rename.host ?? "%", to: rename.newName, newHost: rename.newHost ?? rename.host ?? "%")
        case .updateAccess: try await manager.updateAccess(allowedCidrs: try args(AccessRulesRequest.self).allowedCidrs)
        case .fence: try await replicating().fence(graceful: (try? args(FenceRequest.self))?.graceful ?? false)
        case .promote: try await replicating().promote(replicaSlots: try args(PromoteRequest.self).replicaSlots)
        case .follow, .rejoin:
            let replication = try args(FollowRequest.self).replication
            let member = try replicating()
            await member.useReplicationPassword(try open(replication))
            if method == .follow { try await member.follow(replication) } else { try await member.rejoin(replication) }
        case .replicationStatus: return try JSONValue(encoding: await replicating().replicationStatus())
        case .serveReplicas:
            let request = try args(ServeReplicasRequest.self)
            let source = try replicating()
            await source.useReplicationPassword(try open(request.replication))
            try await source.serveReplicas(request.replication, addresses: request.replicaAddresses)
        case .dropReplicationSlot: try await replicating().dropReplicationSlot(try args(NameRequest.self).name)
        case .createBackup:
            // A backup asked of an agent that died before answering: its caller failed it already (it watches the
            // agent), so streaming it now would only write under a failed backup's prefix.
            guard !request.redelivered else {
                throw RemoteFailure(
                    type: "Stale", message: "this backup was asked of a guest agent that stopped before answering; it is not taken again")
            }
            let backup = try args(CreateBackupRequest.self)
            let key = try backupKey(backup.sealedKey, of: backup.backupId)
            return try JSONValue(encoding: try await backingUp().createBackup(key: key, grant: backup.grant))
        }
        return .object(["ok": .bool(true)])
    }
}
