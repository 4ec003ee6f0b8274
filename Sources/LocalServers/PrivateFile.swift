import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes `data` to `url` readable by its owner only (mode 600) from its first byte: a fresh file is created with
/// that mode and renamed over `url`, so no reader ever sees the secret under looser permissions or half written.
public func writePrivateFile(_ data: Data, to url: URL) throws {
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString.prefix(8))")
    let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: url.path]) }
    var failed = false
    data.withUnsafeBytes { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 { if errno == EINTR { continue }; failed = true; return }
            offset += written
        }
    }
    close(fd)
    guard !failed, rename(temporary.path, url.path) == 0 else {
        unlink(temporary.path)
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
    }
}
