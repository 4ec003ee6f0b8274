import Foundation

/// Writes a line to stdout at once (unbuffered), so a person or a script watching a redirected log sees it.
public func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
