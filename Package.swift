// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "cellar",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cellar", targets: ["cellar"])
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // Pure lifecycle core: statecharts, aggregates, decide/evolve. Foundation only, no I/O.
        .target(name: "Lifecycle"),
        // Append-only event log in PostgreSQL: append, read, gap-safe read-all, subscribe, projections, migrations.
        .target(
            name: "EventStore",
            dependencies: [
                "Lifecycle",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The Linux calls Swift cannot make itself (C-variadic `syscall`): a process's exit as a file descriptor.
        .systemLibrary(name: "CLinux"),
        // Private PostgreSQL and RabbitMQ servers for `cellar up` and the integration tests.
        .target(
            name: "LocalServers",
            dependencies: ["CLinux", .product(name: "Logging", package: "swift-log")]
        ),
        // librabbitmq 0.11 (Debian's librabbitmq-dev), with a small C shim for what Swift cannot call directly.
        .systemLibrary(name: "CRabbitMQ", pkgConfig: "librabbitmq", providers: [.apt(["librabbitmq-dev"])]),
        // RabbitMQ: confirmed publishes, manual-ack consumers, RPC, the event relay and the inbox.
        .target(
            name: "Bus",
            dependencies: [
                "CRabbitMQ", "EventStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // Read models (projections of the log) and the operator catalog the API serves.
        .target(
            name: "ReadModels",
            dependencies: [
                "Lifecycle", "EventStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Sealing of passwords on their way to guests (AES-256-GCM).
        .target(
            name: "Secrets",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]),
        // Object stores for backups behind one protocol: the Swift API (v1 auth, TempURLs for guests).
        .target(
            name: "ObjectStore",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]),
        // Compute drivers: where instances run (the process driver: a local guest agent process per instance).
        .target(name: "Compute", dependencies: ["LocalServers"]),
        // The wire contract between the control plane and guests: RPC methods and bodies, the guest's report.
        .target(name: "GuestProtocol", dependencies: ["Lifecycle"]),
        // The guest agent beside each datastore: RPCs from the task manager, heartbeats to the conductor.
        .target(
            name: "GuestAgent",
            dependencies: [
                "Lifecycle", "GuestProtocol", "Bus", "LocalServers", "Secrets", "ObjectStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The saga runner: instance lifecycles step by step, recorded, retried, compensated, resumed.
        .target(
            name: "TaskManager",
            dependencies: [
                "Lifecycle", "GuestProtocol", "EventStore", "Bus", "Compute", "ReadModels", "Secrets", "ObjectStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Guest reports become events; silent guests are marked unhealthy.
        .target(
            name: "Conductor",
            dependencies: [
                "Lifecycle", "GuestProtocol", "EventStore", "Bus",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What the API and the identity service share: the request context, the caller, Trove's error bodies, the
        // input gate, the public base URL.
        .target(
            name: "APICore",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")]
        ),
        // HTTP: the Trove v1.0 API, history endpoints, health and metrics.
        .target(
            name: "API",
            dependencies: [
                "APICore", "Lifecycle", "EventStore", "ReadModels", "Secrets",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // Keystone-v3 identity subset: projects, users, roles, password tokens, the service catalog.
        .target(
            name: "Identity",
            dependencies: [
                "APICore", "EventStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // What the `cellar` commands and the benchmarks share: the control plane's settings and services, database
        // and broker options, readable errors, the project's folders, text tables, the secret key file.
        .target(
            name: "CellarCLI",
            dependencies: [
                "API", "Bus", "Compute", "Conductor", "EventStore", "GuestAgent", "Lifecycle", "LocalServers", "ObjectStore", "Secrets",
                "TaskManager",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `cellar bench ...`: each benchmark a ratio against a baseline of the same run; it imports what it measures.
        .target(
            name: "Benchmarks",
            dependencies: [
                "CellarCLI", "Lifecycle", "EventStore", "ReadModels", "LocalServers", "APICore", "API", "Bus", "Identity",
                "Compute", "GuestProtocol", "GuestAgent", "TaskManager", "Conductor", "Secrets", "ObjectStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "cellar",
            dependencies: [
                "CellarCLI", "Benchmarks",
                "Lifecycle", "EventStore", "ReadModels", "LocalServers", "APICore", "API", "Bus", "Identity",
                "Compute", "GuestProtocol", "GuestAgent", "TaskManager", "Conductor", "ObjectStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "ObjectStoreTests",
            dependencies: [
                "ObjectStore", "CellarTestSupport", "LocalServers", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]),
        // Test-only: real servers for the integration tests (a private stack per test process).
        .target(
            name: "CellarTestSupport",
            dependencies: [
                "EventStore", "LocalServers", "API",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/Support"
        ),
        .testTarget(name: "LifecycleTests", dependencies: ["Lifecycle"], exclude: ["Histories"]),
        .testTarget(
            name: "APITests",
            dependencies: [
                "API", "CellarTestSupport", "EventStore", "Lifecycle", "ReadModels", "Identity",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "CellarCommandTests",
            dependencies: [
                "EventStore", "LocalServers", "CellarTestSupport", "Bus", "Lifecycle", "Secrets", "GuestProtocol", "Compute", "ObjectStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "BusTests",
            dependencies: [
                "Bus", "EventStore", "Lifecycle", "LocalServers", "CellarTestSupport", .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "IdentityTests",
            dependencies: [
                "Identity", "API", "CellarTestSupport", "EventStore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(name: "SecretsTests", dependencies: ["Secrets", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(
            name: "EventStoreTests",
            dependencies: [
                "EventStore", "CellarTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
    ]
)
