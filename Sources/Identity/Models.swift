import Foundation

/// The one domain Cellar knows: Keystone's `default` domain.
public enum DefaultDomain {
    /// `default`.
    public static let id = "default"
    /// `Default`.
    public static let name = "Default"

    /// Whether a domain reference in a request means this domain (id `default`, or name `Default` in any case).
    static func matches(_ reference: DomainReference) -> Bool {
        switch reference {
        case .id(let id): id == Self.id
        case .name(let name): name.lowercased() == Self.name.lowercased()
        }
    }
}

/// A domain as a request names it.
public enum DomainReference: Sendable, Equatable {
    /// By id (`default`).
    case id(String)
    /// By name (`Default`).
    case name(String)
}

/// A Keystone project (a tenant: the owner of instances, backups and clusters).
public struct Project: Sendable, Equatable, Codable {
    /// 32 lowercase hex characters.
    public var id: String
    /// Unique within the domain.
    public var name: String
    /// Always `default`.
    public var domainID: String
    /// Free text.
    public var description: String
    /// A disabled project cannot be scoped to.
    public var enabled: Bool
    /// When it was created.
    public var createdAt: Date
}

/// A Keystone user. The password hash never leaves `IdentityStore`.
public struct User: Sendable, Equatable, Codable {
    /// 32 lowercase hex characters.
    public var id: String
    /// Unique within the domain.
    public var name: String
    /// Always `default`.
    public var domainID: String
    /// Where an unscoped password request is scoped to.
    public var defaultProjectID: String?
    /// A disabled user cannot authenticate.
    public var enabled: Bool
    /// When it was created.
    public var createdAt: Date
}

/// A role (`admin`, `member`, `reader`).
public struct Role: Sendable, Equatable, Hashable, Codable {
    /// 32 lowercase hex characters.
    public var id: String
    /// The name policies check.
    public var name: String

    /// A role with this id and name.
    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}
