import APICore
import EventStore
import Foundation
import Hummingbird
import Lifecycle
import Secrets

extension TroveAPI {
    /// Databases, users and root of a running instance: each request records `GuestChangeRequested`; the task
    /// manager's `ChangeGuest` saga has the guest make it. The answer waits for the outcome, so a 202 means the
    /// change is in effect (a revoked user cannot connect any more), and a change the guest refuses is a 400.
    func registerGuestChangeRoutes(on routes: RouterGroup<CellarRequestContext>) {
        routes.post("instances/:id/databases") { request, context -> Response in
            let body = try await RequestBody.decode(DatabasesBody.self, from: request, context: context)
            let databases = body.databases.map { Instance.DatabaseSpec(name: $0.name, characterSet: $0.characterSet, collate: $0.collate) }
            try InstanceCreation.requireUnique(databases.map(\.name), what: "database")
            return try await change(.createDatabases(databases), request: request, context: context) { rules, datastore in
                for database in databases { try InstanceCreation.check(database.name, as: .database, on: rules) }
                try InstanceCreation.checkCharacterSets(
                    of: databases, field: { "databases[\($0)]" }, rules: rules,
                    catalog: try await characterSetCatalog(of: datastore))
            }
        }
        routes.delete("instances/:id/databases/:name") { request, context -> Response in
            let name = try Self.pathName(context, "name")
            return try await change(.deleteDatabase(name: name), request: request, context: context)
        }
        routes.post("instances/:id/users") { request, context -> Response in
            let body = try await RequestBody.decode(UsersBody.self, from: request, context: context)
            let users = try body.users.enumerated().map { index, user -> Instance.UserSpec in
                if let host = user.host { try UserHost.check(host, field: "users[\(index)].host") }
                try Self.checkPassword(user.password, of: user.name)
                return Instance.UserSpec(name: user.name, host: user.host ?? "%", databases: (user.databases ?? []).map(\.name), passwordSet: true)
            }
            try InstanceCreation.requireUnique(users.map { "\($0.name)@\($0.host)" }, what: "user")
            let secrets = body.users.map { (name: SecretName.user($0.name, host: $0.host ?? "%"), password: $0.password) }
            return try await change(.createUsers(users), request: request, context: context, secrets: secrets) { rules, _ in
                for (index, user) in users.enumerated() {
                    try InstanceCreation.check(user.name, as: .user, on: rules)
                    try InstanceCreation.check(network: user.host, field: "users[\(index)].host", on: rules)
                }
            }
        }
        routes.put("instances/:id/users") { request, context -> Response in
            let body = try await RequestBody.decode(PasswordsBody.self, from: request, context: context)
            for (index, user) in body.users.enumerated() {
                try Self.checkPassword(user.password, of: user.name)
                if let host = user.host { try UserHost.check(host, field: "users[\(index)].host") }
            }
            try InstanceCreation.requireUnique(body.users.map { "\($0.name)@\($0.host ?? "%")" }, what: "user")
            let secrets = body.users.map { (name: SecretName.user($0.name, host: $0.host ?? "%"), password: $0.password) }
            return try await change(
                .changePasswords(users: body.users.map(\.name), hosts: body.users.map { $0.host ?? "%" }),
                request: request, context: context, secrets: secrets)
        }
        routes.put("instances/:id/users/:user") { request, context -> Response in
            let (name, host) = try Self.userInPath(context)
            let attributes = try await RequestBody.decode(UserUpdateBody.self, from: request, context: context).user
            if let newHost = attributes.host { try UserHost.check(newHost, field: "user.host") }
            let newHost = attributes.host.flatMap { $0 == (host ?? "%") ? nil : $0 }
            if newHost != nil, let rules = try await datastoreRules(context), !rules.usersHaveHosts {
                throw TroveError.badRequest(
                    "\(rules.displayName) users are not bound to a host; limit where clients connect from with the instance's access (allowed_cidrs)."
                )
            }
            guard attributes.name != nil || attributes.password != nil || newHost != nil else {
                throw TroveError.badRequest("Give the user a new 'name', 'host' or 'password'.")
            }
            var (current, currentHost) = (name, host ?? "%")
            var response = Response(status: .accepted)
            let newName = attributes.name ?? name
            if newName != name || newHost != nil {
                response = try await change(
                    .renameUser(name: name, host: currentHost, newName: newName, newHost: newHost),
                    request: request, context: context
                ) { rules, _ in
                    try InstanceCreation.check(newName, as: .user, on: rules)
                    if let newHost { try InstanceCreation.check(network: newHost, field: "user.host", on: rules) }
                }
                (current, currentHost) = (newName, newHost ?? currentHost)
            }
            if let password = attributes.password {
                try Self.checkPassword(password, of: current)
                response = try await change(
                    .changePasswords(users: [current], hosts: [currentHost]), request: request, context: context,
                    secrets: [(name: .user(current, host: currentHost), password: password)])
            }
            return response
        }
        routes.delete("instances/:id/users/:user") { request, context -> Response in
            let (name, host) = try Self.userInPath(context)
            return try await change(.deleteUser(name: name, host: host ?? "%"), request: request, context: context)
        }
        routes.put("instances/:id/users/:user/databases") { request, context -> Response in
            let (name, host) = try Self.userInPath(context)
            let body = try await RequestBody.decode(DatabaseNamesBody.self, from: request, context: context)
            return try await change(
                .grantAccess(user: name, host: host ?? "%", databases: body.databases.map(\.name)),
                request: request, context: context)
        }
        routes.delete("instances/:id/users/:user/databases/:name") { request, context -> Response in
            let (name, host) = try Self.userInPath(context)
            let database = try Self.pathName(context, "name")
            return try await change(.revokeAccess(user: name, host: host ?? "%", database: database), request: request, context: context)
        }
        routes.post("instances/:id/root") { request, context -> Response in
            let password = try await rootPassword(request, context: context)
            _ = try await change(.enableRoot, request: request, context: context, secrets: [(name: .root, password: password)])
            return try JSONResponse.make(["user": ["name": "root", "password": password]])
        }
        routes.delete("instances/:id/root") { request, context -> Response in
            try await change(.disableRoot, request: request, context: context, answering: .noContent)
        }
    }

    /// Records `change` on the path's instance, waits for the guest's outcome, answers 202 (or the guest's refusal
    /// as a 400). An instance being deleted takes no change (422), and a delete recorded during the wait ends it
    /// (422, or 404 once the instance is gone).
    /// `validate` checks the request against the instance's datastore rules before anything is recorded.
    func change(
        _ change: Instance.GuestChange, request: Request, context: CellarRequestContext,
        secrets: [(name: SecretName, password: String)] = [], answering status: HTTPResponse.Status = .accepted,
        validate: (any DatastoreDescriptor, Datastore) async throws -> Void = { _, _ in }
    ) async throws -> Response {
        let applied = try await apply(change, on: try context.parameters.require("id"), context: context, secrets: secrets, validate: validate)
        // Not applied yet: accepted and recorded; the guest has not answered yet (it is applied when it does).
        return Response(status: applied ? status : .accepted)
    }

    /// Records `change` on instance `id` and waits for its guest: true once applied, false when the guest has not
    /// answered within the wait (the change stays recorded and is applied when it does); a refusal throws 400.
    func apply(
        _ change: Instance.GuestChange, on id: String, context: CellarRequestContext,
        secrets: [(name: SecretName, password: String)] = [],
        validate: (any DatastoreDescriptor, Datastore) async throws -> Void = { _, _ in }
    ) async throws -> Bool {
        let caller = try context.caller()
        try Self.requireWriter(caller)
        guard let state = try await commands.state(of: id, caller: caller) else {
            throw TroveError.notFound("Instance \(id) could not be found.")
        }
        guard state.phase != .deleting else { throw InstanceCommands.beingDeleted(id) }
        guard state.status == "ACTIVE" || state.status == "RESTART_REQUIRED" else {
            throw TroveError.unprocessable("Instance \(id) is \(state.status); you can \(change.summary) only when it is ACTIVE.")
        }
        if let datastore = state.datastore { try await validate(try InstanceCreation.rules(of: datastore), datastore) }
        let requestID = context.requestID
        let recorded = try await commands.execute(.requestGuestChange(change), on: id, caller: caller, requestID: requestID, secrets: secrets)
        let after = recorded.last?.streamVersion ?? 0
        let applied = try await commands.awaitOutcome(of: id, after: after, requestID: requestID) { event -> Bool? in
            switch event {
            case .guestChangeApplied: return true
            case .guestChangeFailed(let failure): throw TroveError.badRequest("The datastore could not \(change.summary): \(failure.reason)")
            default: return nil
            }
        }
        return applied == true
    }

    /// The rules of the path's instance's datastore (nil for an instance Cellar cannot see: `change` answers 404).
    func datastoreRules(_ context: CellarRequestContext) async throws -> (any DatastoreDescriptor)? {
        let caller = try context.caller()
        guard let datastore = try await commands.state(of: try context.parameters.require("id"), caller: caller)?.datastore else { return nil }
        return try InstanceCreation.rules(of: datastore)
    }

    /// The character sets and collations of `datastore`'s version (nil: unknown or not loaded).
    func characterSetCatalog(of datastore: Datastore) async throws -> CharacterSetCatalog? {
        guard let version = try await catalog.versions().first(where: { $0.datastoreName == datastore.type && $0.name == datastore.version })
        else { return nil }
        return try await catalog.characterSets(ofVersion: version.id)
    }

    /// The user of the path (`name` or `name@host`), its host checked.
    static func userInPath(_ context: CellarRequestContext) throws -> (name: String, host: String?) {
        let (name, host) = Self.splitUser(try Self.pathName(context, "user"))
        if let host { try UserHost.check(host, field: "the host in path parameter 'user'") }
        return (name, host)
    }

    static func pathName(_ context: CellarRequestContext, _ key: String) throws -> String {
        let raw = try context.parameters.require(key)
        return raw.removingPercentEncoding ?? raw
    }

    /// The root password a `POST .../root` gives (`{"password": ...}`), or a new random one (no body).
    func rootPassword(_ request: Request, context: CellarRequestContext) async throws -> String {
        let given =
            request.headers[.contentLength].flatMap(Int.init).map { $0 > 0 } == true
            ? try await RequestBody.decode(RootBody.self, from: request, context: context).password : nil
        if let given { try Self.checkPassword(given, of: "root") }
        return given ?? RandomPassword.make()
    }

    static func checkPassword(_ password: String, of user: String) throws {
        guard !password.isEmpty, password.count <= 128 else {
            throw TroveError.badRequest("The password of user \(user) must be 1 to 128 characters.")
        }
    }

}
