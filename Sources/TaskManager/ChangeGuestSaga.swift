import Bus
import EventStore
import Foundation
import GuestProtocol
import Lifecycle
import Secrets

/// `ChangeGuest`: the guest makes a change of databases, users, root or access rules (`GuestChangeRequested`), then
/// `GuestChangeApplied` is recorded; if the guest refuses, `GuestChangeFailed` with its reason (the instance
/// itself stays ACTIVE: a refused change is the caller's error, not the instance's).
struct ChangeGuestSaga: SagaSteps {
    func run(step: String, in context: SagaContext) async throws {
        let change = try await requestedChange(in: context)
        // A change to an instance being deleted (or gone) ends here: its guest is going away, retrying only
        // delays the delete queued behind this saga.
        try CreateInstanceSaga.cancelIfUnwanted(try await context.instance())
        switch step {
        case "applyOnGuest": try await apply(change, in: context)
        case "recordApplied":
            try await purgeSecrets(of: change, in: context)
            try await context.record(.recordGuestChangeApplied(change))
        default: throw PermanentFailure("ChangeGuest has no step \(step)")
        }
    }

    func compensate(_ compensation: String, in context: SagaContext) async throws {}

    func failed(reason: String, in context: SagaContext) async throws {
        let change = try await requestedChange(in: context)
        try await purgeSecrets(of: change, in: context)
        if (try? CreateInstanceSaga.cancelIfUnwanted(try await context.instance())) == nil { return }  // deleted meanwhile
        try await context.record(.recordGuestChangeFailed(change, reason: reason))
    }

    /// The change the triggering event asked for.
    private func requestedChange(in context: SagaContext) async throws -> Instance.GuestChange {
        let stream = context.start.triggerStream
        guard let event = try await context.services.store.readStream(stream, fromVersion: context.start.triggerVersion, limit: 1).first,
              case .guestChangeRequested(let change) = try Instance.Event.decode(eventType: event.type, data: event.data) else {
            throw PermanentFailure("\(stream)@\(context.start.triggerVersion) is not a GuestChangeRequested")
        }
        return change
    }

    private func apply(_ change: Instance.GuestChange, in context: SagaContext) async throws {
        let passwords = try await context.services.secrets.passwords(stream: "instance-\(context.instanceID)")
        let guestBox = try context.services.secrets.guestBox(for: context.instanceID)
        let timeout = Duration.seconds(25)
        switch change {
        case .createDatabases(let databases):
            _ = try await context.callGuest(GuestMethod.createDatabase.rawValue, DatabasesRequest(databases: databases.map {
                GuestDatabase(name: $0.name, characterSet: $0.characterSet, collate: $0.collate)
            }), timeout: timeout)
        case .deleteDatabase(let name):
            _ = try await context.callGuest(GuestMethod.deleteDatabase.rawValue, NameRequest(name: name), timeout: timeout)
        case .createUsers(let users):
            _ = try await context.callGuest(GuestMethod.createUser.rawValue, UsersRequest(users: users.map {
                try GuestUser(name: $0.name, host: $0.host, password: passwords["user:\($0.name)@\($0.host)"], databases: $0.databases)
                    .sealed(with: guestBox)
            }), timeout: timeout)
        case .deleteUser(let name, let host):
            _ = try await context.callGuest(GuestMethod.deleteUser.rawValue, NameRequest(name: name, host: host), timeout: timeout)
        case .grantAccess(let user, let host, let databases):
            _ = try await context.callGuest(GuestMethod.grantAccess.rawValue, AccessRequest(user: user, host: host, databases: databases), timeout: timeout)
        case .revokeAccess(let user, let host, let database):
            _ = try await context.callGuest(GuestMethod.revokeAccess.rawValue, AccessRequest(user: user, host: host, databases: [database]), timeout: timeout)
        case .changePasswords(let users, let hosts):
            let changes = try users.enumerated().map { index, name in
                // The secret's name is `user:<name>@<host>`; changes recorded without hosts find it by the name.
                let key = hosts.map { "user:\(name)@\($0[index])" }
                let secret = key.map { key in passwords.first { $0.key == key } }
                    ?? passwords.first { $0.key.hasPrefix("user:\(name)@") }
                let host = secret.map { String($0.key.dropFirst("user:\(name)@".count)) } ?? hosts?[index] ?? "%"
                return try GuestUser(name: name, host: host, password: secret?.value).sealed(with: guestBox)
            }
            _ = try await context.callGuest(GuestMethod.changePassword.rawValue, UsersRequest(users: changes), timeout: timeout)
        case .disableRoot:
            _ = try await context.callGuest(GuestMethod.disableRoot.rawValue, [String: String](), timeout: timeout)
        case .renameUser(let name, let host, let newName, let newHost):
            _ = try await context.callGuest(GuestMethod.renameUser.rawValue,
                                            RenameUserRequest(name: name, host: host, newName: newName, newHost: newHost), timeout: timeout)
        case .updateAccess(let access):
            _ = try await context.callGuest(GuestMethod.updateAccess.rawValue, AccessRulesRequest(allowedCidrs: access.allowedCidrs), timeout: timeout)
        case .enableRoot:
            guard let password = passwords["root"] else { throw PermanentFailure("the root password was not handed over") }
            _ = try await context.callGuest(GuestMethod.enableRoot.rawValue, EnableRootRequest(sealedPassword: try .root(password, box: guestBox)), timeout: timeout)
        }
    }

    /// The passwords a change handed over are forgotten once it is done (or failed).
    private func purgeSecrets(of change: Instance.GuestChange, in context: SagaContext) async throws {
        let (secrets, stream) = (context.services.secrets, "instance-\(context.instanceID)")
        switch change {
        case .createUsers(let users): try await secrets.purge(stream: stream, names: users.map { "user:\($0.name)@\($0.host)" })
        case .changePasswords: try await secrets.purgeUserPasswords(stream: stream)
        case .enableRoot: try await secrets.purge(stream: stream, names: ["root"])
        case .createDatabases, .deleteDatabase, .deleteUser, .grantAccess, .revokeAccess, .disableRoot, .updateAccess, .renameUser: break
        }
    }
}
