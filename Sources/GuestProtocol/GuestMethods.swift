import Foundation
import Lifecycle

/// The RPCs a guest agent serves on `guest.<instance_id>` and their arguments. Shared by the guest and its
/// callers (the task manager), so both sides read the same shapes. Every call is idempotent.
public enum GuestMethod: String, CaseIterable, Sendable {
    case prepare, restart, stop
    case createDatabase = "create_database"
    case deleteDatabase = "delete_database"
    case listDatabases = "list_databases"
    case createUser = "create_user"
    case deleteUser = "delete_user"
    case listUsers = "list_users"
    case grantAccess = "grant_access"
    case revokeAccess = "revoke_access"
    case changePassword = "change_password"
    case enableRoot = "enable_root"
    case disableRoot = "disable_root"
    case resizeVolume = "resize_volume"
    case getStatus = "get_status"
    case renameUser = "rename_user"
    case updateOverrides = "update_overrides"
    case getConfiguration = "get_configuration"
    case updateAccess = "update_access"
    /// Active-passive members.
    case fence, promote, follow, rejoin
    case replicationStatus = "replication_status"
    /// Trove replication: the source serves replicas; a gone replica's slot is dropped.
    case serveReplicas = "serve_replicas"
    case dropReplicationSlot = "drop_replication_slot"
    /// Backups: stream the datastore, sealed, to the object store through a grant (`prepare` restores one).
    case createBackup = "create_backup"
}

/// `rename_user`: a user's new name.
public struct RenameUserRequest: Codable, Sendable, Equatable {
    public var name: String
    /// The user's host, where the datastore has hosts (`%` when absent).
    public var host: String?
    public var newName: String
    /// A new host, where users have hosts (absent: the same).
    public var newHost: String?
    public init(name: String, host: String? = nil, newName: String, newHost: String? = nil) {
        self.name = name
        self.host = host
        self.newName = newName
        self.newHost = newHost
    }
    enum CodingKeys: String, CodingKey {
        case name, host
        case newName = "new_name"
        case newHost = "new_host"
    }
}

/// `update_overrides`: the configuration group's values (empty: none attached); `prepare` takes them too.
public struct OverridesRequest: Codable, Sendable, Equatable {
    public var values: [String: ParameterValue]
    public init(values: [String: ParameterValue]) { self.values = values }
}

/// What `update_overrides` did: every value is in the server's configuration; these wait for a restart.
public struct OverridesOutcome: Codable, Sendable, Equatable {
    public var pendingRestart: [String]
    public init(pendingRestart: [String]) { self.pendingRestart = pendingRestart }
    enum CodingKeys: String, CodingKey { case pendingRestart = "pending_restart" }
}

/// `get_configuration`: the server's settings that differ from its built-in defaults, as it runs now.
public struct EffectiveConfiguration: Codable, Sendable, Equatable {
    public var values: [String: ParameterValue]
    public init(values: [String: ParameterValue]) { self.values = values }
}

/// `update_access`: the client networks allowed to connect (empty: any).
public struct AccessRulesRequest: Codable, Sendable, Equatable {
    public var allowedCidrs: [String]
    public init(allowedCidrs: [String]) { self.allowedCidrs = allowedCidrs }
    enum CodingKeys: String, CodingKey { case allowedCidrs = "allowed_cidrs" }
}

/// A database to create.
public struct GuestDatabase: Codable, Sendable, Equatable {
    public var name: String
    public var characterSet: String?
    public var collate: String?

    public init(name: String, characterSet: String? = nil, collate: String? = nil) {
        self.name = name
        self.characterSet = characterSet
        self.collate = collate
    }

    enum CodingKeys: String, CodingKey {
        case name
        case characterSet = "character_set"
        case collate
    }
}

/// A user to create (or whose password to set), with the databases it may use.
///
/// The password never crosses the bus in clear: the caller seals it for the one guest it calls (with that
/// guest's own key), and only that guest can open it; on the wire only `password_sealed` travels, and
/// `password` is never encoded.
public struct GuestUser: Codable, Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var host: String
    /// The password in clear, on either side of the bus only; never encoded, never logged.
    public var password: String? = nil
    /// The password sealed for the guest; what the RPC carries.
    public var sealedPassword: SealedPassword? = nil
    public var databases: [String]

    public init(name: String, host: String = "%", password: String?, databases: [String] = []) {
        self.name = name
        self.host = host
        self.password = password
        self.databases = databases
    }

    public var description: String { "\(name)@\(host) databases \(databases)" }

    enum CodingKeys: String, CodingKey {
        case name, host
        case sealedPassword = "password_sealed"
        case databases
    }
}

/// `prepare`: set up the datastore from nothing (or finish a prepare that was interrupted).
public struct PrepareRequest: Codable, Sendable, Equatable {
    public var databases: [GuestDatabase]
    public var users: [GuestUser]
    /// Memory of the flavor, for shared_buffers and friends.
    public var memoryMB: Int
    public var volumeSizeGB: Int
    /// The attached configuration group's values, written before the server's first start.
    public var overrides: [String: ParameterValue]?
    /// Set for a cluster member: the group it seeds or joins.
    public var cluster: ClusterSettings?
    /// Set for an instance made from a backup: its data comes from there instead of a new server.
    public var restore: RestoreSource?

    public init(
        databases: [GuestDatabase], users: [GuestUser], memoryMB: Int, volumeSizeGB: Int, overrides: [String: ParameterValue]? = nil,
        cluster: ClusterSettings? = nil, restore: RestoreSource? = nil
    ) {
        self.cluster = cluster
        self.restore = restore
        self.databases = databases
        self.users = users
        self.memoryMB = memoryMB
        self.volumeSizeGB = volumeSizeGB
        self.overrides = overrides
    }

    enum CodingKeys: String, CodingKey {
        case databases, users
        case memoryMB = "memory_mb"
        case volumeSizeGB = "volume_size_gb"
        case overrides, cluster, restore
    }
}

/// An object store grant as the guest receives it: one method on the objects under one prefix, until it
/// expires; the object's URL is `base + name + "?" + query`. The guest holds no credential of the store.
public struct ObjectGrant: Codable, Sendable, Equatable {
    public var base: String
    public var query: String
    public init(base: String, query: String) {
        self.base = base
        self.query = query
    }
    /// The signed URL of the object `name` under the grant's prefix.
    public func url(for name: String) -> String { "\(base)\(name)?\(query)" }
}

/// `create_backup`: where to write (a PUT grant on the backup's prefix) and the backup's own key, sealed for
/// this guest.
public struct CreateBackupRequest: Codable, Sendable, Equatable {
    public var backupId: String
    public var grant: ObjectGrant
    public var sealedKey: SealedPassword
    public init(backupId: String, grant: ObjectGrant, sealedKey: SealedPassword) {
        self.backupId = backupId
        self.grant = grant
        self.sealedKey = sealedKey
    }
}

/// What `create_backup` stored: its objects in order, and the datastore's bytes before sealing.
public struct CreateBackupResult: Codable, Sendable, Equatable {
    public var objects: [BackupObject]
    public var plainBytes: Int64
    public init(objects: [BackupObject], plainBytes: Int64) {
        self.objects = objects
        self.plainBytes = plainBytes
    }
}

/// `prepare` from a backup: a GET grant on its prefix, its objects to fetch and check in order, its key.
public struct RestoreSource: Codable, Sendable, Equatable {
    public var backupId: String
    public var grant: ObjectGrant
    public var objects: [BackupObject]
    public var sealedKey: SealedPassword
    public init(backupId: String, grant: ObjectGrant, objects: [BackupObject], sealedKey: SealedPassword) {
        self.backupId = backupId
        self.grant = grant
        self.objects = objects
        self.sealedKey = sealedKey
    }
}

/// A cluster member's place in its group (Galera for MariaDB): the group's name, this member's name, every
/// member's address (its own included) and whether it starts a new group (the seed) or joins a running one.
public struct ClusterSettings: Codable, Sendable, Equatable {
    /// The group's name (the cluster id).
    public var name: String
    /// This member's name in the group (its instance id).
    public var nodeName: String
    /// The members' addresses, this member's own included.
    public var peerAddresses: [String]
    /// Start a new group; otherwise join a running member (and copy its data).
    public var seed: Bool
    /// Active-passive (streaming replication): how this member replicates; nil for active-active groups.
    public var replication: ReplicationSettings?

    public init(name: String, nodeName: String, peerAddresses: [String], seed: Bool, replication: ReplicationSettings? = nil) {
        self.name = name
        self.nodeName = nodeName
        self.peerAddresses = peerAddresses
        self.seed = seed
        self.replication = replication
    }

    enum CodingKeys: String, CodingKey {
        case name
        case nodeName = "node_name"
        case peerAddresses = "peer_addresses"
        case seed, replication
    }
}

/// A member of an active-passive cluster: where its primary is (nil: it is the primary), its replication slot's
/// name on the primary, the replication account's password, and whether commits wait for a standby.
public struct ReplicationSettings: Codable, Sendable, Equatable {
    public var primaryAddress: String?
    public var slotName: String
    public var sealedPassword: SealedPassword
    public var synchronous: Bool
    /// The other members' slot names, highest weight first: the synchronous standbys' order of preference
    /// while this member is the primary.
    public var standbySlots: [String]
    /// A cluster member (the control plane fails over): one that was the primary never starts its server on its
    /// own. Nil or false for a Trove replica and its source, which start on their own like any instance.
    public var automaticFailover: Bool?

    public init(
        primaryAddress: String?, slotName: String, sealedPassword: SealedPassword, synchronous: Bool, standbySlots: [String],
        automaticFailover: Bool = true
    ) {
        self.automaticFailover = automaticFailover
        self.primaryAddress = primaryAddress
        self.slotName = slotName
        self.sealedPassword = sealedPassword
        self.synchronous = synchronous
        self.standbySlots = standbySlots
    }

    /// The slot of a member on its primary (PostgreSQL slot names: lower-case letters, digits, `_`).
    public static func slotName(of instanceID: String) -> String { Cluster.replicationSlotName(of: instanceID) }

    enum CodingKeys: String, CodingKey {
        case primaryAddress = "primary_address"
        case slotName = "slot_name"
        case sealedPassword = "password_sealed"
        case synchronous
        case standbySlots = "standby_slots"
        case automaticFailover = "automatic_failover"
    }
}

/// `serve_replicas`: the source of Trove replicas takes replication connections from these addresses.
public struct ServeReplicasRequest: Codable, Sendable, Equatable {
    public var replication: ReplicationSettings
    public var replicaAddresses: [String]
    public init(replication: ReplicationSettings, replicaAddresses: [String]) {
        self.replication = replication
        self.replicaAddresses = replicaAddresses
    }
    enum CodingKeys: String, CodingKey {
        case replication
        case replicaAddresses = "replica_addresses"
    }
}

/// `fence`: stop the server and keep it stopped; `graceful` (a planned switchover) lets the replicas receive
/// everything first, otherwise it stops at once.
public struct FenceRequest: Codable, Sendable, Equatable {
    public var graceful: Bool?
    public init(graceful: Bool? = nil) { self.graceful = graceful }
}

/// `promote`: become the primary, with a replication slot for each member that will follow.
public struct PromoteRequest: Codable, Sendable, Equatable {
    public var replicaSlots: [String]
    public init(replicaSlots: [String]) { self.replicaSlots = replicaSlots }
    enum CodingKeys: String, CodingKey { case replicaSlots = "replica_slots" }
}

/// `follow` (re-point a running replica) and `rejoin` (start over from a base backup): replicate from here.
public struct FollowRequest: Codable, Sendable, Equatable {
    public var replication: ReplicationSettings
    public init(replication: ReplicationSettings) { self.replication = replication }
}

/// `replication_status`: what the failover decision needs of a member, asked live.
public struct ReplicationStatus: Codable, Sendable, Equatable {
    /// The server runs and answers.
    public var running: Bool
    public var role: GuestRole
    /// Fenced: stopped for good until it rejoins.
    public var fenced: Bool
    public var timeline: Int
    /// WAL received from the primary (a replica) or written (the primary).
    public var receivedLSN: UInt64
    public var replayedLSN: UInt64
    /// The primary: its standbys' slot names that are synchronous now.
    public var synchronousStandbys: [String]
    /// The primary: how far each standby (by slot name) is behind in replay, in bytes.
    public var standbyLagBytes: [String: Int64]

    public init(
        running: Bool, role: GuestRole, fenced: Bool, timeline: Int, receivedLSN: UInt64, replayedLSN: UInt64,
        synchronousStandbys: [String], standbyLagBytes: [String: Int64] = [:]
    ) {
        self.standbyLagBytes = standbyLagBytes
        self.running = running
        self.role = role
        self.fenced = fenced
        self.timeline = timeline
        self.receivedLSN = receivedLSN
        self.replayedLSN = replayedLSN
        self.synchronousStandbys = synchronousStandbys
    }

    enum CodingKeys: String, CodingKey {
        case running, role, fenced, timeline
        case receivedLSN = "received_lsn"
        case replayedLSN = "replayed_lsn"
        case synchronousStandbys = "synchronous_standbys"
        case standbyLagBytes = "standby_lag_bytes"
    }
}

/// The port on each instance's own address where the guest answers the load balancer's health checks over
/// HTTP: `GET /` is 200 while the member may take clients (for Galera: synced and in the primary component),
/// 503 otherwise. Active-passive members answer `GET /primary` (200: the writable primary, never fenced) and
/// `GET /replica` (200: a running standby).
public enum BalancerCheck {
    public static let port = 9200
    /// What a check asks.
    public enum Question: String, Sendable {
        case ready = "/", primary = "/primary", replica = "/replica"
    }
}

/// `restart`: restart the server, with new memory settings when given (a flavor resize).
public struct RestartRequest: Codable, Sendable, Equatable {
    public var memoryMB: Int?
    public init(memoryMB: Int? = nil) { self.memoryMB = memoryMB }
    enum CodingKeys: String, CodingKey { case memoryMB = "memory_mb" }
}

/// `resize_volume`: the size the data directory may grow to.
public struct ResizeVolumeRequest: Codable, Sendable, Equatable {
    public var sizeGB: Int
    public init(sizeGB: Int) { self.sizeGB = sizeGB }
    enum CodingKeys: String, CodingKey { case sizeGB = "size_gb" }
}

/// `grant_access` / `revoke_access`: a user and databases.
public struct AccessRequest: Codable, Sendable, Equatable {
    public var user: String
    /// The user's host, where the datastore has hosts (`%` when absent).
    public var host: String?
    public var databases: [String]
    public init(user: String, host: String? = nil, databases: [String]) {
        self.user = user
        self.host = host
        self.databases = databases
    }
}

/// `delete_database` / `delete_user`: a name.
public struct NameRequest: Codable, Sendable, Equatable {
    public var name: String
    /// For `delete_user`: the user's host, where the datastore has hosts (`%` when absent).
    public var host: String?
    public init(name: String, host: String? = nil) {
        self.name = name
        self.host = host
    }
}

/// `create_database`: databases.
public struct DatabasesRequest: Codable, Sendable, Equatable {
    public var databases: [GuestDatabase]
    public init(databases: [GuestDatabase]) { self.databases = databases }
}

/// `create_user` / `change_password`: users.
public struct UsersRequest: Codable, Sendable, Equatable {
    public var users: [GuestUser]
    public init(users: [GuestUser]) { self.users = users }
}

/// `enable_root`: the password to use, sealed for the guest (`purpose` "root"); the guest makes one when absent.
public struct EnableRootRequest: Codable, Sendable, Equatable {
    public var sealedPassword: SealedPassword?
    public init(sealedPassword: SealedPassword? = nil) { self.sealedPassword = sealedPassword }
    enum CodingKeys: String, CodingKey { case sealedPassword = "password_sealed" }
}

/// Failure types a guest reports that retrying cannot fix (bad names, bad arguments).
public enum GuestFailureType {
    /// Failures of these types end a saga step at once instead of being retried: bad arguments, what the
    /// datastore does not do, and a stored backup that does not check out (reading it again cannot mend it).
    public static func isPermanent(_ type: String) -> Bool {
        type.hasPrefix("Invalid") || type == "UnknownMethod" || type == backupCorrupted || type == "NotSupported"
    }

    /// A stored backup's object does not match its recorded size and SHA-256, or does not open.
    public static let backupCorrupted = "BackupCorrupted"
}
