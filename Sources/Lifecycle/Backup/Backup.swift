import Foundation

/// A backup of an instance: requested, built by the guest, stored, deleted, along `statecharts/backup.scxml`.
public enum Backup: Aggregate {
    /// `backup.scxml` uses no guards, so every guard name is false.
    public static func guardHolds(_ name: String, in state: State, on event: Event) -> Bool { false }

    /// `POST /backups`, validated by `decide`.
    public struct CreateRequest: Sendable, Equatable {
        /// The new backup's id (chosen by the caller).
        public var id: String
        /// The owning project.
        public var projectId: String
        /// The display name.
        public var name: String
        /// The description.
        public var description: String?
        /// The instance backed up.
        public var instanceId: String
        /// The backup this one is incremental to (resolved by the API for `incremental: 1`).
        public var parentId: String?
        /// Whether the backup is incremental.
        public var incremental: Bool
        /// The instance's datastore and version.
        public var datastore: Datastore

        /// Creates a create request.
        public init(
            id: String, projectId: String, name: String, description: String? = nil, instanceId: String,
            parentId: String? = nil, incremental: Bool = false, datastore: Datastore
        ) {
            self.id = id
            self.projectId = projectId
            self.name = name
            self.description = description
            self.instanceId = instanceId
            self.parentId = parentId
            self.incremental = incremental
            self.datastore = datastore
        }
    }

    /// `POST /backups` with `restore_from`: registers a backup stored elsewhere (status RESTORED).
    public struct ImportRequest: Sendable, Equatable {
        /// The new backup's id.
        public var id: String
        /// The owning project.
        public var projectId: String
        /// The display name.
        public var name: String
        /// The description.
        public var description: String?
        /// Where the backup is stored (`remote_location`).
        public var locationRef: String
        /// Its size in GB.
        public var size: Double
        /// The datastore and version it was taken from.
        public var datastore: Datastore

        /// Creates an import request.
        public init(
            id: String, projectId: String, name: String, description: String? = nil, locationRef: String,
            size: Double, datastore: Datastore
        ) {
            self.id = id
            self.projectId = projectId
            self.name = name
            self.description = description
            self.locationRef = locationRef
            self.size = size
            self.datastore = datastore
        }
    }

    /// What the API, the task manager and the guest ask of a backup.
    public enum Command: Sendable, Equatable {
        /// `POST /backups`.
        case create(CreateRequest)
        /// `POST /backups` with `restore_from`.
        case importBackup(ImportRequest)
        /// The guest started dumping the datastore.
        case recordBuildStarted
        /// The guest started storing the artifact.
        case recordSaveStarted
        /// The artifact is stored (`stored`: its objects and sealed key, for a backup Cellar took).
        case recordCompleted(locationRef: String, size: Double, checksum: String, stored: Stored? = nil)
        /// The backup failed.
        case recordFailure(reason: String)
        /// `DELETE /backups/{id}`.
        case delete
        /// The artifact and the record are gone.
        case recordDeleted
        /// Deleting the artifact failed.
        case recordDeleteFailure(reason: String)
    }
}

extension Backup {
    /// Where a backup Cellar took lies in its object store, and how to open it.
    public struct Stored: Codable, Sendable, Equatable {
        /// The project's container.
        public var container: String
        /// Its objects, in order, under the prefix `<backup id>/`.
        public var objects: [BackupObject]
        /// The backup's own key (base64), sealed by Cellar's secret key for this backup.
        public var sealedKey: String

        public init(container: String, objects: [BackupObject], sealedKey: String) {
            self.container = container
            self.objects = objects
            self.sealedKey = sealedKey
        }
    }
}

/// One object of a stored backup: its name under the backup's prefix, its size and the SHA-256 of its bytes (as
/// stored: sealed), checked before a restore opens it.
public struct BackupObject: Codable, Sendable, Equatable {
    public var name: String
    public var bytes: Int64
    public var sha256: String

    public init(name: String, bytes: Int64, sha256: String) {
        self.name = name
        self.bytes = bytes
        self.sha256 = sha256
    }
}
