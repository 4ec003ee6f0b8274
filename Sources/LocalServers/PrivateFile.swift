import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes `data` to `url` readable by its owner only (mode 600) from its first byte: a fresh file is created with
/// that mode and renamed over `url`, so no reader ever sees the secret under looser permissions or half written.
/// The fresh file is never a link (`O_EXCL`), and a link at `url` is replaced, not followed, so this is safe in a
/// folder another user can write. `owner` (uid, gid) hands the file to that user before it appears at `url`.
public func writePrivateFile(_ data: Data, to url: URL, owner: (uid: uid_t, gid: gid_t)? = nil) throws {
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString.prefix(8))")
    let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: url.path]) }
    var failed = false
    data.withUnsafeBytes { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                failed = true
                return
            }
            offset += written
        }
    }
    if let owner, fchown(fd, owner.uid, owner.gid) != 0 { failed = true }
    close(fd)
    guard !failed, rename(temporary.path, url.path) == 0 else {
        unlink(temporary.path)
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
    }
}
