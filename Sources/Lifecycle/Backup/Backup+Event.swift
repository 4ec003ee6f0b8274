import Foundation

extension Backup {
    /// What happened to a backup. Each case's type name (`eventType`) is an event of `backup.scxml`.
    public enum Event: DomainEvent {
        /// The API accepted `POST /backups`.
        case backupCreateRequested(Spec)
        /// The API registered a backup stored elsewhere (`restore_from`).
        case backupImported(Spec)
        /// The guest started dumping the datastore.
        case backupBuildStarted
        /// The guest started storing the artifact.
        case backupSaveStarted
        /// The artifact is stored.
        case backupCompleted(Artifact)
        /// The backup failed.
        case backupFailed(Failure)
        /// `DELETE /backups/{id}` was accepted.
        case backupDeleteRequested
        /// The artifact and the record are gone.
        case backupDeleted
        /// Deleting the artifact failed.
        case backupDeleteFailed(Failure)
    }

    /// The backup as requested or imported.
    public struct Spec: Codable, Sendable, Equatable {
        /// The backup id.
        public var id: String
        /// The owning project.
        public var projectId: String
        /// The display name.
        public var name: String
        /// The description.
        public var description: String?
        /// The instance backed up (nil for an import).
        public var instanceId: String?
        /// The parent of an incremental backup.
        public var parentId: String?
        /// Whether it is incremental.
        public var incremental: Bool
        /// The datastore and version.
        public var datastore: Datastore
        /// Where it is stored, for an import.
        public var locationRef: String?
        /// Its size in GB, for an import.
        public var size: Double?
        /// When it was requested (`created`).
        public var createdAt: Date

        /// Creates a spec.
        public init(
            id: String, projectId: String, name: String, description: String?, instanceId: String?,
            parentId: String?, incremental: Bool, datastore: Datastore, locationRef: String?, size: Double?,
            createdAt: Date
        ) {
            self.id = id
            self.projectId = projectId
            self.name = name
            self.description = description
            self.instanceId = instanceId
            self.parentId = parentId
            self.incremental = incremental
            self.datastore = datastore
            self.locationRef = locationRef
            self.size = size
            self.createdAt = createdAt
        }
    }

    /// The stored backup artifact.
    public struct Artifact: Codable, Sendable, Equatable {
        /// Where it is stored (`locationRef`).
        public var locationRef: String
        /// Its size in GB.
        public var size: Double
        /// Its checksum.
        public var checksum: String
        /// Its objects and sealed key, for a backup Cellar took (absent for an import).
        public var stored: Stored?

        /// Creates an artifact description.
        public init(locationRef: String, size: Double, checksum: String, stored: Stored? = nil) {
            self.locationRef = locationRef
            self.size = size
            self.checksum = checksum
            self.stored = stored
        }
    }
}

extension Backup.Event: EnvelopedEvent {
    /// Every backup event type, in declaration order.
    public static let eventTypes = [
        "BackupCreateRequested", "BackupImported", "BackupBuildStarted", "BackupSaveStarted", "BackupCompleted",
        "BackupFailed", "BackupDeleteRequested", "BackupDeleted", "BackupDeleteFailed",
    ]

    /// The event type name, e.g. `BackupCreateRequested`.
    public var eventType: String {
        switch self {
        case .backupCreateRequested: "BackupCreateRequested"
        case .backupImported: "BackupImported"
        case .backupBuildStarted: "BackupBuildStarted"
        case .backupSaveStarted: "BackupSaveStarted"
        case .backupCompleted: "BackupCompleted"
        case .backupFailed: "BackupFailed"
        case .backupDeleteRequested: "BackupDeleteRequested"
        case .backupDeleted: "BackupDeleted"
        case .backupDeleteFailed: "BackupDeleteFailed"
        }
    }

    var payload: any Encodable & Sendable {
        switch self {
        case .backupCreateRequested(let spec), .backupImported(let spec): spec
        case .backupCompleted(let artifact): artifact
        case .backupFailed(let failure), .backupDeleteFailed(let failure): failure
        case .backupBuildStarted, .backupSaveStarted, .backupDeleteRequested, .backupDeleted: NoPayload()
        }
    }

    static func decode(eventType: String, from source: some EventPayloadSource) throws -> Self {
        switch eventType {
        case "BackupCreateRequested": .backupCreateRequested(try source.decode(Backup.Spec.self))
        case "BackupImported": .backupImported(try source.decode(Backup.Spec.self))
        case "BackupBuildStarted": .backupBuildStarted
        case "BackupSaveStarted": .backupSaveStarted
        case "BackupCompleted": .backupCompleted(try source.decode(Backup.Artifact.self))
        case "BackupFailed": .backupFailed(try source.decode(Failure.self))
        case "BackupDeleteRequested": .backupDeleteRequested
        case "BackupDeleted": .backupDeleted
        case "BackupDeleteFailed": .backupDeleteFailed(try source.decode(Failure.self))
        default: throw UnknownEventType(aggregate: "Backup", eventType: eventType)
        }
    }

    /// Decodes `{"type": ..., "data": {...}}`.
    public init(from decoder: any Decoder) throws {
        self = try Self.decodedEnvelope(from: decoder)
    }

    /// Encodes `{"type": ..., "data": {...}}`.
    public func encode(to encoder: any Encoder) throws {
        try encodedEnvelope(to: encoder)
    }
}
