/// The sagas of instances, as data: which steps, how long each may take, how often it is retried, what undoes it.
extension Saga.Definition {
    /// `InstanceCreateRequested` (and `BuildRetryRequested`): compute, guest registration, prepare, ACTIVE.
    public static let createInstance = Saga.Definition(name: "CreateInstance", steps: [
        .init("allocateCompute", timeout: .seconds(60), retry: .init(maxAttempts: 3), compensation: "releaseCompute"),
        .init("awaitGuestRegistration", timeout: .seconds(120), retry: .once),
        .init("prepareDatastore", timeout: .seconds(180), retry: .init(maxAttempts: 3, firstDelay: .seconds(2))),
        .init("markActive", timeout: .seconds(30), retry: .init(maxAttempts: 5)),
    ])

    /// `DeleteRequested`: stop the datastore (best effort), release compute, record the deletion.
    public static let deleteInstance = Saga.Definition(name: "DeleteInstance", steps: [
        .init("stopDatastore", timeout: .seconds(30), retry: .once, bestEffort: true),
        .init("releaseCompute", timeout: .seconds(60), retry: .init(maxAttempts: 5)),
        .init("markDeleted", timeout: .seconds(30), retry: .init(maxAttempts: 5)),
    ])

    /// `RestartRequested`: restart the datastore, back to ACTIVE.
    public static let restartInstance = Saga.Definition(name: "RestartInstance", steps: [
        .init("restartDatastore", timeout: .seconds(120), retry: .init(maxAttempts: 2)),
        .init("markRestarted", timeout: .seconds(30), retry: .init(maxAttempts: 5)),
    ])

    /// `FlavorResizeRequested`: restart with the new flavor's memory settings.
    public static let resizeFlavor = Saga.Definition(name: "ResizeFlavor", steps: [
        .init("applyFlavor", timeout: .seconds(120), retry: .init(maxAttempts: 2)),
        .init("markFlavorResized", timeout: .seconds(30), retry: .init(maxAttempts: 5)),
    ])

    /// `VolumeResizeRequested`: the guest enforces the new size on the data directory.
    public static let resizeVolume = Saga.Definition(name: "ResizeVolume", steps: [
        .init("resizeVolume", timeout: .seconds(60), retry: .init(maxAttempts: 2)),
        .init("markVolumeResized", timeout: .seconds(30), retry: .init(maxAttempts: 5)),
    ])

    /// `GuestChangeRequested`: the guest creates or deletes databases and users, grants, revokes, sets passwords.
    /// The API waits for the outcome, so the step is retried only briefly.
    public static let changeGuest = Saga.Definition(name: "ChangeGuest", steps: [
        .init("applyOnGuest", timeout: .seconds(30), retry: .init(maxAttempts: 3, firstDelay: .milliseconds(500))),
        .init("recordApplied", timeout: .seconds(30), retry: .init(maxAttempts: 5)),
    ])

    /// `ConfigurationAttached`, `ConfigurationUpdated`, `ConfigurationDetached`: the guest writes the values, reloads,
    /// and reports which wait for a restart; that outcome is recorded in the same step (the API waits for it).
    public static let configureInstance = Saga.Definition(name: "ConfigureInstance", steps: [
        .init("applyConfiguration", timeout: .seconds(40), retry: .init(maxAttempts: 3, firstDelay: .milliseconds(500))),
    ])

    /// Every saga definition.
    public static let all: [Saga.Definition] = [
        createInstance, deleteInstance, restartInstance, resizeFlavor, resizeVolume, changeGuest, configureInstance,
    ]

    /// The instance events that start a saga, and which (the task manager's queue is bound to these).
    public static let triggers: [(eventType: String, saga: Saga.Definition)] = [
        ("InstanceCreateRequested", createInstance), ("BuildRetryRequested", createInstance),
        ("DeleteRequested", deleteInstance), ("RestartRequested", restartInstance),
        ("FlavorResizeRequested", resizeFlavor), ("VolumeResizeRequested", resizeVolume),
        ("GuestChangeRequested", changeGuest),
        ("ConfigurationAttached", configureInstance), ("ConfigurationUpdated", configureInstance),
        ("ConfigurationDetached", configureInstance),
    ]

    /// The saga an instance event starts, if any.
    public static func triggered(by eventType: String) -> Saga.Definition? {
        triggers.first { $0.eventType == eventType }?.saga
    }

    /// The definition called `name`.
    public static func named(_ name: String) -> Saga.Definition? { all.first { $0.name == name } }
}
