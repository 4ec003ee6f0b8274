import Foundation
import LocalServers
import Secrets

/// The key that seals passwords for guests: `CELLAR_SECRET_KEY`, else `<state>/secret.key` of the local stack
/// (created on first start, mode 600).
public enum SecretKeyFile {
    public struct Missing: Error, CustomStringConvertible {
        public var description: String { "set CELLAR_SECRET_KEY (32 random bytes, base64; e.g. `openssl rand -base64 32`)" }
    }

    public static func box(stateDirectory: URL?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SecretBox {
        if let key = environment["CELLAR_SECRET_KEY"], !key.isEmpty { return try SecretBox(base64Key: key) }
        guard let stateDirectory else { throw Missing() }
        let file = stateDirectory.appendingPathComponent("secret.key")
        if let saved = try? String(contentsOf: file, encoding: .utf8) { return try SecretBox(base64Key: saved) }
        let key = SecretBox.generateKey()
        try writePrivateFile(Data(key.utf8), to: file)
        return try SecretBox(base64Key: key)
    }
}
