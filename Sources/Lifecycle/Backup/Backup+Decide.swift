import Foundation

extension Backup {
    /// The events `command` produces, checked against the chart; throws why it is refused.
    public static func decide(
        _ command: Command, state: State, chart: Statechart, at now: Date
    ) throws(Rejection) -> [Event] {
        switch command {
        case .create(let request):
            try requireNew(state)
            return try accepted([.backupCreateRequested(try spec(request, at: now))], in: state, chart: chart)
        case .importBackup(let request):
            try requireNew(state)
            return try accepted([.backupImported(try spec(request, at: now))], in: state, chart: chart)
        case .recordBuildStarted, .recordSaveStarted, .recordCompleted, .recordFailure, .delete, .recordDeleted,
            .recordDeleteFailure:
            try requireExisting(state, chart: chart)
            let events = try accepted(proposedEvents(command, at: now), in: state, chart: chart)
            try validate(command)
            return events
        }
    }

    private static func proposedEvents(_ command: Command, at now: Date) -> [Event] {
        switch command {
        case .create, .importBackup: []  // handled by decide
        case .recordBuildStarted: [.backupBuildStarted]
        case .recordSaveStarted: [.backupSaveStarted]
        case .recordCompleted(let locationRef, let size, let checksum, let stored):
            [.backupCompleted(Artifact(locationRef: locationRef, size: size, checksum: checksum, stored: stored))]
        case .recordFailure(let reason): [.backupFailed(Failure(reason: reason, at: now))]
        case .delete: [.backupDeleteRequested]
        case .recordDeleted: [.backupDeleted]
        case .recordDeleteFailure(let reason): [.backupDeleteFailed(Failure(reason: reason, at: now))]
        }
    }

    /// The arguments' checks, once the chart has accepted the command's events.
    private static func validate(_ command: Command) throws(Rejection) {
        switch command {
        case .recordCompleted(let locationRef, let size, _, _):
            try require(!locationRef.isEmpty, "A completed backup needs its location")
            try require(size >= 0, "A backup size cannot be negative")
        case .recordFailure(let reason), .recordDeleteFailure(let reason):
            try require(!reason.isEmpty, "A failure needs a reason")
        case .create, .importBackup, .recordBuildStarted, .recordSaveStarted, .delete, .recordDeleted:
            break
        }
    }

    private static func spec(_ request: CreateRequest, at now: Date) throws(Rejection) -> Spec {
        let name = try validName(request.name)
        try require(!request.id.isEmpty && !request.projectId.isEmpty, "The backup and project ids must not be empty")
        try require(!request.instanceId.isEmpty, "The instance to back up must be given")
        try require(!request.incremental || request.parentId != nil, "An incremental backup needs a parent backup")
        return Spec(
            id: request.id, projectId: request.projectId, name: name, description: request.description,
            instanceId: request.instanceId, parentId: request.parentId, incremental: request.incremental,
            datastore: request.datastore, locationRef: nil, size: nil, createdAt: now)
    }

    private static func spec(_ request: ImportRequest, at now: Date) throws(Rejection) -> Spec {
        let name = try validName(request.name)
        try require(!request.id.isEmpty && !request.projectId.isEmpty, "The backup and project ids must not be empty")
        try require(!request.locationRef.isEmpty, "An imported backup needs its remote location")
        try require(request.size > 0, "An imported backup needs a size greater than 0")
        return Spec(
            id: request.id, projectId: request.projectId, name: name, description: request.description,
            instanceId: nil, parentId: nil, incremental: false, datastore: request.datastore,
            locationRef: request.locationRef, size: request.size, createdAt: now)
    }

    private static func validName(_ name: String) throws(Rejection) -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        try require(!trimmed.isEmpty, "The backup name must not be empty")
        try require(trimmed.count <= 255, "The backup name must be at most 255 characters")
        return trimmed
    }
}
