import Foundation
import Lifecycle

/// The repository's charts, found from this file: `<repo>/Tests/LifecycleTests/Fixtures+Charts.swift`.
enum Charts {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // LifecycleTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository root

    static let directory = repositoryRoot.appendingPathComponent("statecharts")

    static let historiesDirectory = repositoryRoot.appendingPathComponent("Tests/LifecycleTests/Histories")

    /// Loaded once per test process.
    static let loaded = Result { try StatechartLibrary.load(directory: directory) }

    static var library: StatechartLibrary { get throws { try loaded.get() } }
    static var instance: Statechart { get throws { try library.instance } }
    static var backup: Statechart { get throws { try library.backup } }
    static var cluster: Statechart { get throws { try library.cluster } }
}

/// Fixed instants: Lifecycle never reads the clock.
enum Clock {
    static let t0 = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
    static let t1 = t0.addingTimeInterval(60)
    static let t2 = t0.addingTimeInterval(120)
}
