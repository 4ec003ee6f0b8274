import Bus
import Foundation
import GuestProtocol
import Lifecycle

/// Access rules through MariaDB's own host matching. MariaDB has no `pg_hba.conf`: a client may connect when an
/// account matches its address. So while rules are set, an account for any host (`name@%`, root included) exists
/// on the server as one account per allowed network (`'name'@'10.0.0.0/255.0.0.0'`), each with the same
/// password, lock and grants; listings still show it as `name@%`. Accounts bound to a host keep that host.
extension MariaDBManager {
    /// The server's host patterns for an account the API names `name@host`, under `allowedCidrs`.
    static func serverHosts(for host: String, allowedCidrs: [String]) -> [String] {
        guard host == "%", !allowedCidrs.isEmpty else { return [hostPattern(host)] }
        var hosts: [String] = []
        for network in allowedCidrs.map(hostPattern) where !hosts.contains(network) { hosts.append(network) }
        return hosts
    }

    func serverHosts(for host: String) -> [String] { Self.serverHosts(for: host, allowedCidrs: state.allowedCidrs) }

    /// MariaDB's spelling of a host: an IPv4 CIDR network as `address/netmask` (the address masked, as the server
    /// requires), a full-length IPv6 prefix as the bare address; anything else as given.
    static func hostPattern(_ host: String) -> String {
        let parts = host.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let prefix = Int(parts[1]) else { return host }
        if parts[0].contains(":") { return prefix == 128 ? String(parts[0]) : host }
        let octets = parts[0].split(separator: ".").compactMap { UInt32($0) }
        guard octets.count == 4, (0...32).contains(prefix) else { return host }
        let address = octets.reduce(UInt32(0)) { $0 << 8 | $1 }
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
        func dotted(_ value: UInt32) -> String { (0..<4).map { String(value >> (24 - 8 * $0) & 0xFF) }.joined(separator: ".") }
        return prefix == 32 ? dotted(address) : "\(dotted(address & mask))/\(dotted(mask))"
    }

    /// The API's spelling of a server host: `address/netmask` back to CIDR, and the current rules' networks to `%`.
    func apiHost(of serverHost: String) -> String {
        if !state.allowedCidrs.isEmpty, serverHosts(for: "%").contains(serverHost) { return "%" }
        let parts = serverHost.split(separator: "/")
        guard parts.count == 2 else { return serverHost }
        let mask = parts[1].split(separator: ".").compactMap { UInt32($0) }.reduce(UInt32(0)) { $0 << 8 | $1 }
        return "\(parts[0])/\(mask.nonzeroBitCount)"
    }

    /// Moves every any-host account onto the new networks (copied from one of its current accounts: password,
    /// lock and grants), then drops the accounts of networks no longer allowed. Effective for the next connection.
    func updateAccess(allowedCidrs: [String]) async throws {
        for cidr in allowedCidrs where !Instance.Access.isCIDR(cidr) {
            throw RemoteFailure(type: "InvalidNetwork", message: "\(cidr) is not a network in CIDR notation")
        }
        let oldHosts = serverHosts(for: "%")
        let newHosts = Self.serverHosts(for: "%", allowedCidrs: allowedCidrs)
        let hosts = Array(Set(oldHosts + newHosts))
        try await admin { client in
            let list = hosts.map(MariaDBClient.literal).joined(separator: ", ")
            let rows = try client.run("SELECT User, Host FROM mysql.user WHERE Host IN (\(list)) AND is_role = 'N' AND User <> ''")
            let accounts = Dictionary(grouping: rows.filter { $0.count == 2 }, by: { $0[0] }).mapValues { $0.map { $0[1] } }
            for (user, existing) in accounts.sorted(by: { $0.key < $1.key }) {
                guard let template = existing.first(where: oldHosts.contains) ?? existing.first else { continue }
                for host in newHosts where !existing.contains(host) {
                    try Self.copyAccount(user, from: template, to: host, on: client)
                }
                for host in existing where !newHosts.contains(host) {
                    try client.run("DROP USER \(MariaDBClient.account(user, host))")
                }
            }
        }
        state.allowedCidrs = allowedCidrs
        try state.save(to: paths.guestState)
        logger.info("access rules applied", metadata: ["networks": "\(allowedCidrs)"])
    }

    /// Creates `user@to` as `user@from` is: `SHOW CREATE USER` (password hash, lock) and `SHOW GRANTS`, replayed
    /// with the new account's name.
    static func copyAccount(_ user: String, from: String, to: String, on client: MariaDBClient) throws {
        let source = MariaDBClient.account(user, from)
        // The server writes accounts back as `name`@`host`.
        let shown = MariaDBClient.identifier(user) + "@" + MariaDBClient.identifier(from)
        let target = MariaDBClient.account(user, to)
        let statements =
            try client.run("SHOW CREATE USER \(source)").compactMap(\.first)
            + client.run("SHOW GRANTS FOR \(source)").compactMap(\.first)
        for statement in statements {
            guard let range = statement.range(of: shown) else { continue }
            try client.run(statement.replacingCharacters(in: range, with: target))
        }
    }
}
