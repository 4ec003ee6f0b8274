import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A signed-in user of a running Cellar API: Trove requests with their token, and the waits tests need.
struct TroveSession: Sendable {
    let apiPort: Int
    let token: String
    let projectID: String

    /// Signs `user` in to `project` with a password (Keystone v3 password method).
    static func signIn(apiPort: Int, user: String, password: String, project: String) async throws -> TroveSession {
        let body: [String: Any] = [
            "auth": [
                "identity": ["methods": ["password"], "password": ["user": ["name": user, "domain": ["name": "Default"], "password": password]]],
                "scope": ["project": ["name": project, "domain": ["name": "Default"]]],
            ]
        ]
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(apiPort)/v3/auth/tokens")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        let token = try #require(http.value(forHTTPHeaderField: "X-Subject-Token"), "no token: \(String(decoding: data, as: UTF8.self))")
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let projectID = try #require(((json["token"] as? [String: Any])?["project"] as? [String: Any])?["id"] as? String)
        return TroveSession(apiPort: apiPort, token: token, projectID: projectID)
    }

    /// A Trove request; returns the status and the decoded JSON body.
    @discardableResult
    func trove(
        _ method: String, _ path: String, _ body: [String: Any]? = nil, timeout: TimeInterval = 60
    ) async throws -> (status: Int, json: [String: Any]) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(apiPort)/v1.0/\(projectID)\(path)")!, timeoutInterval: timeout)
        request.httpMethod = method
        request.setValue(token, forHTTPHeaderField: "X-Auth-Token")
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let json = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, json)
    }

    /// Creates an instance with a database `orders` and a user `app` (granted `orders`) with `password`; returns its id.
    func createInstance(
        name: String, password: String, configuration: String? = nil,
        datastore: TestDatastore = .postgresql
    ) async throws -> String {
        var body: [String: Any] = [
            "name": name, "flavorRef": "1", "volume": ["size": 1],
            "datastore": ["type": datastore.type, "version": datastore.version],
            "databases": [["name": "orders"], ["name": "billing", "character_set": datastore.characterSet]],
            "users": [["name": "app", "password": password, "databases": [["name": "orders"]]]],
        ]
        if let configuration { body["configuration"] = configuration }
        let (status, json) = try await trove("POST", "/instances", ["instance": body])
        try #require(status == 200, "create answered \(status): \(json)")
        return try #require((json["instance"] as? [String: Any])?["id"] as? String)
    }

    /// The instance's JSON, or nil when the API answers 404.
    func instance(_ id: String) async throws -> [String: Any]? {
        let (status, json) = try await trove("GET", "/instances/\(id)")
        if status == 404 { return nil }
        try #require(status == 200, "GET answered \(status): \(json)")
        return json["instance"] as? [String: Any]
    }

    /// Waits until the instance shows `status` (and `operating` when given); returns its JSON.
    @discardableResult
    func waitFor(_ id: String, status: String, operating: String? = nil, timeout: Duration = .seconds(90)) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        var last: [String: Any]?
        while ContinuousClock.now < deadline {
            last = try await instance(id)
            if let last, last["status"] as? String == status, operating == nil || last["operating_status"] as? String == operating {
                return last
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw Failure("instance \(id) did not reach \(status)/\(operating ?? "-") within \(timeout); last: \(String(describing: last))")
    }

    /// Waits until GET answers 404.
    func waitUntilGone(_ id: String, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await instance(id) == nil { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw Failure("instance \(id) still answers after \(timeout)")
    }

    /// Waits until the cluster's task is `task` with every member ACTIVE; returns its JSON (a fault throws).
    func waitForClusterTask(_ id: String, _ task: String, timeout: Duration = .seconds(240)) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        var last: [String: Any] = [:]
        while ContinuousClock.now < deadline {
            let shown = try await trove("GET", "/clusters/\(id)")
            last = shown.json["cluster"] as? [String: Any] ?? shown.json
            if let fault = last["fault"] as? String { throw Failure("cluster \(id) failed: \(fault)") }
            if (last["task"] as? [String: Any])?["name"] as? String == task,
                (last["instances"] as? [[String: Any]])?.allSatisfy({ $0["status"] as? String == "ACTIVE" }) == true
            {
                return last
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw Failure("cluster \(id) did not reach task \(task) within \(timeout): \(last)")
    }

    /// Waits (120 s at most) until the cluster's task is NONE, its members ACTIVE with these roles (member id →
    /// role); returns the roles seen last.
    func waitForClusterRoles(_ wanted: [String: String], cluster id: String) async throws -> [String: String] {
        var roles: [String: String] = [:]
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let shown = try await trove("GET", "/clusters/\(id)").json["cluster"] as? [String: Any]
            let members = shown?["instances"] as? [[String: Any]] ?? []
            roles = Dictionary(members.map { ($0["id"] as? String ?? "", $0["role"] as? String ?? "") }, uniquingKeysWith: { first, _ in first })
            let task = (shown?["task"] as? [String: Any])?["name"] as? String
            if roles == wanted, task == "NONE", members.allSatisfy({ $0["status"] as? String == "ACTIVE" }) { return roles }
            try await Task.sleep(for: .milliseconds(500))
        }
        return roles
    }
}
