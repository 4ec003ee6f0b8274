import APICore
import Foundation

/// The hosts a datastore user may be given (Trove's `host` of a user): `%`, an IPv4 or IPv6 address, a CIDR
/// network such as `10.0.0.0/8`, or a host name or pattern of letters, digits, `.`, `-`, `_` and `%`.
enum UserHost {
    static let maximumLength = 255

    /// Throws a 400 naming `field` (a body field such as `instance.users[0].host`, quoted in the answer, or
    /// words such as `the host in path parameter 'user'`) when `host` is none of the accepted forms.
    static func check(_ host: String, field: String) throws {
        guard !isAcceptable(host) else { return }
        let subject = field.contains(" ") ? field : "'\(field)'"
        throw TroveError.badRequest(
            "\(subject) must be '%', an IP address, a CIDR network such as 10.0.0.0/8, or a host name "
                + "of letters, digits, '.', '-', '_' and '%' (at most \(maximumLength) characters), not '\(host)'.")
    }

    static func isAcceptable(_ host: String) -> Bool {
        guard !host.isEmpty, host.utf8.count <= maximumLength else { return false }
        if host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-_%".contains($0)) }) { return true }
        let parts = host.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return isIPv6(host)
        case 2:
            guard parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let prefix = Int(parts[1]) else { return false }
            if isIPv4(parts[0]) { return (0...32).contains(prefix) }
            return isIPv6(parts[0]) && (0...128).contains(prefix)
        default: return false
        }
    }

    static func isIPv4(_ text: some StringProtocol) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, String(text), &address) == 1
    }

    static func isIPv6(_ text: some StringProtocol) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, String(text), &address) == 1
    }
}
