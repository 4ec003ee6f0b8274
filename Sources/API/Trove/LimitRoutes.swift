import APICore
import Foundation
import Hummingbird
import ReadModels

/// `{"verb": "ABSOLUTE", "max_instances": ..., ...}`: the absolute limits troveclient lists.
struct AbsoluteLimits: Encodable {
    var verb = "ABSOLUTE"
    var maxInstances: Int
    var maxVolumes: Int
    var maxBackups: Int
    var maxRAM = -1
    enum CodingKeys: String, CodingKey {
        case verb
        case maxInstances = "max_instances"
        case maxVolumes = "max_volumes"
        case maxBackups = "max_backups"
        case maxRAM = "max_ram"
    }
}

/// `{"limits": [absolute, rate, rate, ...]}`.
struct LimitList: Encodable {
    enum Entry: Encodable {
        case absolute(AbsoluteLimits)
        case rate(RateLimitView)
        func encode(to encoder: any Encoder) throws {
            switch self {
            case .absolute(let limits): try limits.encode(to: encoder)
            case .rate(let limit): try limit.encode(to: encoder)
            }
        }
    }
    var limits: [Entry]
}

/// One row of `{"quotas": [...]}`.
struct QuotaView: Encodable {
    var resource: String
    var inUse: Int
    var reserved = 0
    var limit: Int
    enum CodingKeys: String, CodingKey {
        case resource, reserved, limit
        case inUse = "in_use"
    }
}

/// `PUT /mgmt/quotas/{project}` body.
struct QuotaUpdate: Decodable {
    var quotas: [String: Int]
}

extension TroveAPI {
    func registerLimitRoutes(on routes: RouterGroup<CellarRequestContext>) {
        let quotas = QuotaBook(client: client, logger: logger)

        routes.get("limits") { _, context in
            let caller = try context.caller()
            let limits = try await quotas.limits(project: caller.projectID)
            let absolute = AbsoluteLimits(
                maxInstances: limits["instances"] ?? -1, maxVolumes: limits["volumes"] ?? -1, maxBackups: limits["backups"] ?? -1)
            let rates = rateLimiter.status(user: caller.userID).map {
                RateLimitView(
                    verb: $0.limit.verb, uri: $0.limit.uri, regex: $0.limit.regex, value: $0.limit.value,
                    remaining: $0.remaining, nextAvailable: JSONResponse.timestamp($0.nextAvailable))
            }
            return try JSONResponse.make(LimitList(limits: [.absolute(absolute)] + rates.map(LimitList.Entry.rate)))
        }

        routes.get("mgmt/quotas/:project") { _, context in
            let caller = try context.caller()
            let project = try context.parameters.require("project")
            guard caller.isAdmin || caller.projectID == project else {
                throw TroveError.forbidden("Only an administrator may see another project's quotas.")
            }
            return try JSONResponse.make(["quotas": try await Self.quotaViews(quotas, project: project)])
        }

        routes.put("mgmt/quotas/:project") { request, context in
            try Self.requireAdmin(try context.caller())
            let project = try context.parameters.require("project")
            let update = try await RequestBody.decode(QuotaUpdate.self, from: request, context: context)
            guard !update.quotas.isEmpty else { throw TroveError.badRequest("'quotas' names no resource to change.") }
            for (resource, limit) in update.quotas {
                guard QuotaBook.defaults[resource] != nil else {
                    throw TroveError.badRequest(
                        "Quota resource '\(resource)' is unknown; known: \(QuotaBook.defaults.keys.sorted().joined(separator: ", ")).")
                }
                guard limit >= -1 else { throw TroveError.badRequest("Quota for '\(resource)' must be -1 (unlimited) or more, not \(limit).") }
            }
            try await quotas.setLimits(update.quotas, project: project)
            return try JSONResponse.make(["quotas": update.quotas])
        }
    }

    static func quotaViews(_ quotas: QuotaBook, project: String) async throws -> [QuotaView] {
        let limits = try await quotas.limits(project: project)
        let usage = try await quotas.usage(project: project)
        return limits.keys.sorted().map { QuotaView(resource: $0, inUse: usage[$0] ?? 0, limit: limits[$0] ?? -1) }
    }
}
