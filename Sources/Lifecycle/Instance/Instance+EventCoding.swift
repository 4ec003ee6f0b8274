import Foundation

extension Instance.Event: EnvelopedEvent {
    /// Every instance event type, in declaration order.
    public static let eventTypes = [
        "InstanceCreateRequested", "ComputeAllocated", "GuestRegistered", "InstanceBecameActive", "InstanceFailed",
        "StatusReset", "BuildRetryRequested", "RestartRequested", "InstanceRestarted", "FlavorResizeRequested",
        "FlavorResized", "VolumeResizeRequested", "VolumeResized", "UpgradeRequested", "InstanceUpgraded",
        "ConfigurationAttached", "ConfigurationUpdated", "ConfigurationDetached", "ConfigurationApplied",
        "ConfigurationRestartPending", "ConfigurationApplyFailed", "InstanceRenamed", "ReplicaPromotionRequested",
        "ReplicaPromoted", "ReplicaSourceEjectionRequested", "ReplicaSourceEjected", "ReplicaDetachRequested",
        "ReplicaDetached", "GuestBecameHealthy", "GuestBecameUnhealthy", "InstanceShutDown", "InstanceStarted",
        "BackupStarted", "BackupFinished", "GuestChangeRequested", "GuestChangeApplied", "GuestChangeFailed",
        "DeleteRequested", "InstanceDeleted", "ReplicationSourceChanged",
    ]

    /// The event type name, e.g. `InstanceCreateRequested`.
    public var eventType: String {
        switch self {
        case .instanceCreateRequested: "InstanceCreateRequested"
        case .computeAllocated: "ComputeAllocated"
        case .guestRegistered: "GuestRegistered"
        case .instanceBecameActive: "InstanceBecameActive"
        case .instanceFailed: "InstanceFailed"
        case .statusReset: "StatusReset"
        case .buildRetryRequested: "BuildRetryRequested"
        case .restartRequested: "RestartRequested"
        case .instanceRestarted: "InstanceRestarted"
        case .flavorResizeRequested: "FlavorResizeRequested"
        case .flavorResized: "FlavorResized"
        case .volumeResizeRequested: "VolumeResizeRequested"
        case .volumeResized: "VolumeResized"
        case .upgradeRequested: "UpgradeRequested"
        case .instanceUpgraded: "InstanceUpgraded"
        case .configurationAttached: "ConfigurationAttached"
        case .configurationUpdated: "ConfigurationUpdated"
        case .configurationDetached: "ConfigurationDetached"
        case .configurationApplied: "ConfigurationApplied"
        case .configurationRestartPending: "ConfigurationRestartPending"
        case .configurationApplyFailed: "ConfigurationApplyFailed"
        case .instanceRenamed: "InstanceRenamed"
        case .replicaPromotionRequested: "ReplicaPromotionRequested"
        case .replicaPromoted: "ReplicaPromoted"
        case .replicaSourceEjectionRequested: "ReplicaSourceEjectionRequested"
        case .replicaSourceEjected: "ReplicaSourceEjected"
        case .replicaDetachRequested: "ReplicaDetachRequested"
        case .replicaDetached: "ReplicaDetached"
        case .replicationSourceChanged: "ReplicationSourceChanged"
        case .guestBecameHealthy: "GuestBecameHealthy"
        case .guestBecameUnhealthy: "GuestBecameUnhealthy"
        case .instanceShutDown: "InstanceShutDown"
        case .instanceStarted: "InstanceStarted"
        case .backupStarted: "BackupStarted"
        case .backupFinished: "BackupFinished"
        case .guestChangeRequested: "GuestChangeRequested"
        case .guestChangeApplied: "GuestChangeApplied"
        case .guestChangeFailed: "GuestChangeFailed"
        case .deleteRequested: "DeleteRequested"
        case .instanceDeleted: "InstanceDeleted"
        }
    }

    var payload: any Encodable & Sendable {
        switch self {
        case .instanceCreateRequested(let spec): spec
        case .computeAllocated(let allocation): allocation
        case .instanceFailed(let failure): failure
        case .flavorResizeRequested(let change), .flavorResized(let change): change
        case .volumeResizeRequested(let change), .volumeResized(let change): change
        case .upgradeRequested(let change), .instanceUpgraded(let change): change
        case .configurationAttached(let configuration), .configurationUpdated(let configuration): configuration
        case .configurationRestartPending(let pending): pending
        case .configurationApplyFailed(let failure): failure
        case .instanceRenamed(let rename): rename
        case .guestBecameUnhealthy(let report): report
        case .backupStarted(let backup): backup
        case .backupFinished(let outcome): outcome
        case .guestChangeRequested(let change), .guestChangeApplied(let change): change
        case .guestChangeFailed(let failure): failure
        case .replicationSourceChanged(let source): source
        case .guestRegistered, .instanceBecameActive, .statusReset, .buildRetryRequested, .restartRequested,
            .instanceRestarted, .configurationDetached, .configurationApplied, .replicaPromotionRequested,
            .replicaPromoted, .replicaSourceEjectionRequested, .replicaSourceEjected, .replicaDetachRequested,
            .replicaDetached, .guestBecameHealthy, .instanceShutDown, .instanceStarted, .deleteRequested,
            .instanceDeleted:
            NoPayload()
        }
    }

    static func decode(eventType: String, from source: some EventPayloadSource) throws -> Self {
        switch eventType {
        case "InstanceCreateRequested": .instanceCreateRequested(try source.decode(Instance.Spec.self))
        case "ComputeAllocated": .computeAllocated(try source.decode(Instance.ComputeAllocation.self))
        case "GuestRegistered": .guestRegistered
        case "InstanceBecameActive": .instanceBecameActive
        case "InstanceFailed": .instanceFailed(try source.decode(Failure.self))
        case "StatusReset": .statusReset
        case "BuildRetryRequested": .buildRetryRequested
        case "RestartRequested": .restartRequested
        case "InstanceRestarted": .instanceRestarted
        case "FlavorResizeRequested": .flavorResizeRequested(try source.decode(Instance.FlavorChange.self))
        case "FlavorResized": .flavorResized(try source.decode(Instance.FlavorChange.self))
        case "VolumeResizeRequested": .volumeResizeRequested(try source.decode(Instance.VolumeChange.self))
        case "VolumeResized": .volumeResized(try source.decode(Instance.VolumeChange.self))
        case "UpgradeRequested": .upgradeRequested(try source.decode(Instance.VersionChange.self))
        case "InstanceUpgraded": .instanceUpgraded(try source.decode(Instance.VersionChange.self))
        case "ConfigurationAttached": .configurationAttached(try source.decode(Instance.ConfigurationRef.self))
        case "ConfigurationUpdated": .configurationUpdated(try source.decode(Instance.ConfigurationRef.self))
        case "ConfigurationDetached": .configurationDetached
        case "ConfigurationApplied": .configurationApplied
        case "ConfigurationRestartPending": .configurationRestartPending(try source.decode(Instance.PendingRestart.self))
        case "ConfigurationApplyFailed": .configurationApplyFailed(try source.decode(Instance.ConfigurationFailure.self))
        case "InstanceRenamed": .instanceRenamed(try source.decode(Instance.Rename.self))
        case "ReplicaPromotionRequested": .replicaPromotionRequested
        case "ReplicaPromoted": .replicaPromoted
        case "ReplicaSourceEjectionRequested": .replicaSourceEjectionRequested
        case "ReplicaSourceEjected": .replicaSourceEjected
        case "ReplicaDetachRequested": .replicaDetachRequested
        case "ReplicaDetached": .replicaDetached
        case "ReplicationSourceChanged": .replicationSourceChanged(try source.decode(Instance.ReplicationSource.self))
        case "GuestBecameHealthy": .guestBecameHealthy
        case "GuestBecameUnhealthy": .guestBecameUnhealthy(try source.decode(Instance.UnhealthyGuest.self))
        case "InstanceShutDown": .instanceShutDown
        case "InstanceStarted": .instanceStarted
        case "BackupStarted": .backupStarted(try source.decode(Instance.BackupRef.self))
        case "BackupFinished": .backupFinished(try source.decode(Instance.BackupOutcome.self))
        case "GuestChangeRequested": .guestChangeRequested(try source.decode(Instance.GuestChange.self))
        case "GuestChangeApplied": .guestChangeApplied(try source.decode(Instance.GuestChange.self))
        case "GuestChangeFailed": .guestChangeFailed(try source.decode(Instance.GuestChangeFailure.self))
        case "DeleteRequested": .deleteRequested
        case "InstanceDeleted": .instanceDeleted
        default: throw UnknownEventType(aggregate: "Instance", eventType: eventType)
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
