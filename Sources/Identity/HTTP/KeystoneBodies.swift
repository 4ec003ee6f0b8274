import Foundation

/// The JSON bodies of the identity routes, in Keystone's shapes.
enum KeystoneBodies {
    static let defaultDomain: KeystoneJSON = ["id": .string(DefaultDomain.id), "name": .string(DefaultDomain.name)]

    /// `{"token": {...}}`, as keystoneauth and troveclient read it.
    static func token(_ info: TokenInfo, catalog: ServiceCatalog, baseURL: String, includeCatalog: Bool = true) -> KeystoneJSON {
        var token: [String: KeystoneJSON] = [
            "methods": ["password"],
            "expires_at": .string(KeystoneTime.format(info.expiresAt)),
            "issued_at": .string(KeystoneTime.format(info.issuedAt)),
            "audit_ids": [.string(info.auditID)],
            "user": [
                "id": .string(info.userID), "name": .string(info.userName), "domain": defaultDomain,
                "password_expires_at": nil,
            ],
            "project": ["id": .string(info.projectID), "name": .string(info.projectName), "domain": defaultDomain],
            "is_domain": false,
            "roles": .array(info.roles.map { ["id": .string($0.id), "name": .string($0.name)] }),
        ]
        if includeCatalog { token["catalog"] = catalog.entries(projectID: info.projectID, baseURL: baseURL) }
        return ["token": .object(token)]
    }

    /// One project, as `GET /v3/projects` lists it.
    static func project(_ project: Project, baseURL: String) -> KeystoneJSON {
        [
            "id": .string(project.id), "name": .string(project.name), "domain_id": .string(project.domainID),
            "description": .string(project.description), "enabled": .bool(project.enabled), "is_domain": false,
            "parent_id": .string(project.domainID), "tags": [], "options": [:],
            "links": ["self": .string("\(baseURL)/v3/projects/\(project.id)")],
        ]
    }

    /// One user, as `GET /v3/users` lists it (never with a password or its hash).
    static func user(_ user: User, baseURL: String) -> KeystoneJSON {
        var body: [String: KeystoneJSON] = [
            "id": .string(user.id), "name": .string(user.name), "domain_id": .string(user.domainID),
            "enabled": .bool(user.enabled), "password_expires_at": nil, "options": [:],
            "links": ["self": .string("\(baseURL)/v3/users/\(user.id)")],
        ]
        if let project = user.defaultProjectID { body["default_project_id"] = .string(project) }
        return .object(body)
    }

    /// A collection, with Keystone's `links` member.
    static func collection(_ key: String, _ members: [KeystoneJSON], selfURL: String) -> KeystoneJSON {
        [key: .array(members), "links": ["self": .string(selfURL), "previous": nil, "next": nil]]
    }

    /// The v3 version document (`GET /v3`), pointing at `href`.
    static func version(href: String) -> KeystoneJSON {
        [
            "id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
            "links": [["rel": "self", "href": .string(href)]],
            "media-types": [["base": "application/json", "type": "application/vnd.openstack.identity-v3+json"]],
        ]
    }
}
