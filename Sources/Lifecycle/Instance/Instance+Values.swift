import Foundation

extension Instance {
    /// A database created with the instance.
    public struct DatabaseSpec: Codable, Sendable, Equatable {
        /// The database name.
        public var name: String
        /// The character set, e.g. `utf8mb4`; nil for the datastore default.
        public var characterSet: String?
        /// The collation; nil for the datastore default.
        public var collate: String?

        /// Creates a database spec.
        public init(name: String, characterSet: String? = nil, collate: String? = nil) {
            self.name = name
            self.characterSet = characterSet
            self.collate = collate
        }
    }

    /// A user as the create request gives it, password included (commands only, never events).
    public struct UserRequest: Sendable, Equatable {
        /// The user name.
        public var name: String
        /// The host the user may connect from (`%` for any).
        public var host: String
        /// The user's password.
        public var password: Secret
        /// The databases the user is granted.
        public var databases: [String]

        /// Creates a user request.
        public init(name: String, host: String = "%", password: Secret, databases: [String] = []) {
            self.name = name
            self.host = host
            self.password = password
            self.databases = databases
        }
    }

    /// A user as events record it: no password, only that one was set.
    public struct UserSpec: Codable, Sendable, Equatable {
        /// The user name.
        public var name: String
        /// The host the user may connect from.
        public var host: String
        /// The databases the user is granted.
        public var databases: [String]
        /// Whether a password was given (it travels to the guest outside the event log).
        public var passwordSet: Bool

        /// Creates a user spec.
        public init(name: String, host: String, databases: [String], passwordSet: Bool) {
            self.name = name
            self.host = host
            self.databases = databases
            self.passwordSet = passwordSet
        }
    }

    /// `POST /instances`, validated by `decide`.
    public struct CreateRequest: Sendable, Equatable {
        /// The new instance's id (chosen by the caller).
        public var id: String
        /// The owning project.
        public var projectId: String
        /// The display name.
        public var name: String
        /// The flavor id (`flavorRef`).
        public var flavorId: String
        /// The volume size in GB.
        public var volumeSize: Int
        /// The datastore and version.
        public var datastore: Datastore
        /// Databases to create.
        public var databases: [DatabaseSpec]
        /// Users to create, with their passwords.
        public var users: [UserRequest]
        /// A configuration group to attach.
        public var configurationId: String?
        /// That group's values (checked by the API against the datastore's parameters).
        public var configurationValues: [String: ParameterValue]?
        /// The instance to replicate from; replicas take no databases or users.
        public var replicaOf: String?
        /// The cluster it is a member of (made by the cluster's saga, never by `POST /instances`).
        public var cluster: ClusterMembership?
        /// The backup its data comes from (`restorePoint.backupRef`), checked by the API.
        public var restoreFrom: String?

        /// Creates a create request.
        public init(
            id: String, projectId: String, name: String, flavorId: String, volumeSize: Int, datastore: Datastore,
            databases: [DatabaseSpec] = [], users: [UserRequest] = [], configurationId: String? = nil,
            configurationValues: [String: ParameterValue]? = nil, replicaOf: String? = nil, cluster: ClusterMembership? = nil,
            restoreFrom: String? = nil
        ) {
            self.cluster = cluster
            self.restoreFrom = restoreFrom
            self.configurationValues = configurationValues
            self.id = id
            self.projectId = projectId
            self.name = name
            self.flavorId = flavorId
            self.volumeSize = volumeSize
            self.datastore = datastore
            self.databases = databases
            self.users = users
            self.configurationId = configurationId
            self.replicaOf = replicaOf
        }
    }

    /// An instance's place in a cluster: which cluster, the members it joins (every member's instance id, itself
    /// included, in the cluster's order) and whether it starts the cluster's group (the seed) or joins it.
    public struct ClusterMembership: Codable, Sendable, Equatable {
        /// The cluster id.
        public var clusterId: String
        /// The members to reach when joining, by instance id.
        public var peers: [String]
        /// This member starts a new group (the first member of a new cluster); the others join it.
        public var seed: Bool
        /// Active-passive: the member this one replicates from (nil: it is the primary, or the cluster is
        /// active-active).
        public var source: String?
        /// Active-passive: a commit on the primary waits for at least one standby.
        public var synchronous: Bool?

        /// Creates a membership.
        public init(clusterId: String, peers: [String], seed: Bool, source: String? = nil, synchronous: Bool? = nil) {
            self.clusterId = clusterId
            self.peers = peers
            self.seed = seed
            self.source = source
            self.synchronous = synchronous
        }
    }

    /// A failure with the Trove status shown when it happened (`BUILD` makes the build retryable).
    public struct Fault: Codable, Sendable, Equatable {
        /// What went wrong.
        public var reason: String
        /// When.
        public var at: Date
        /// The status the instance showed before it failed.
        public var statusBefore: String

        /// Creates a fault.
        public init(reason: String, at: Date, statusBefore: String) {
            self.reason = reason
            self.at = at
            self.statusBefore = statusBefore
        }
    }
}
