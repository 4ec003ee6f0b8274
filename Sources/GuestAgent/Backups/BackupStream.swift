import Bus
import Crypto
import Foundation
import GuestProtocol
import Lifecycle
import LocalServers
import ObjectStore
import Secrets

/// A datastore's backup on its way to the object store and back, never whole on the guest's disk: a program's
/// output (e.g. `pg_basebackup` to stdout) is read in chunks, sealed (`SealedStream`) and stored as objects of at
/// most `objectSize` bytes through the backup's grant; a restore fetches each object, checks its size and SHA-256,
/// opens it and feeds a program's input (e.g. `tar -x`).
enum BackupStream {
    /// Bytes per stored object: what one PUT carries and the guest holds in memory at once.
    static let objectSize = 32 << 20

    /// Runs `command` and stores its standard output, sealed under `key`, as `part-NNNNN` objects.
    static func store(command: [String], key: SymmetricKey, grant: ObjectGrant) async throws -> CreateBackupResult {
        let program = try Program(command, input: false)
        let reader = ChunkReader(handle: program.output!, sealer: SealedStream.Sealer(key: key))
        var objects: [BackupObject] = []
        var plainBytes: Int64 = 0
        do {
            while true {
                let (object, plain, done) = try await onDedicatedThread { try reader.nextObject(size: objectSize) }
                let name = String(format: "part-%05d", objects.count)
                try await SignedTransfer.put(object, to: grant.url(for: name))
                objects.append(BackupObject(name: name, bytes: Int64(object.count), sha256: sha256Hex(object)))
                plainBytes += plain
                if done { break }
            }
        } catch {
            program.terminate()
            throw error
        }
        try await program.finish()
        return CreateBackupResult(objects: objects, plainBytes: plainBytes)
    }

    /// Fetches `source`'s objects in order, checks each, opens them under `key` and writes the plaintext to
    /// `command`'s standard input; throws (and stops the program) at the first object that does not check out.
    static func restore(_ source: RestoreSource, key: SymmetricKey, into command: [String]) async throws {
        let program = try Program(command, input: true)
        let writer = program.input!
        var opener = SealedStream.Opener(key: key)
        do {
            for object in source.objects {
                let data = try await SignedTransfer.get(source.grant.url(for: object.name))
                guard Int64(data.count) == object.bytes, sha256Hex(data) == object.sha256 else {
                    throw RemoteFailure(
                        type: GuestFailureType.backupCorrupted,
                        message:
                            "object \(object.name) of backup \(source.backupId) does not match its recorded size and SHA-256: the stored backup was changed or damaged"
                    )
                }
                let plaintext: Data
                do { plaintext = try opener.open(data) } catch {
                    throw RemoteFailure(type: GuestFailureType.backupCorrupted, message: "backup \(source.backupId) does not open: \(error)")
                }
                try await onDedicatedThread { try writer.write(contentsOf: plaintext) }
            }
            do { try opener.finish() } catch {
                throw RemoteFailure(type: GuestFailureType.backupCorrupted, message: "backup \(source.backupId) is incomplete: \(error)")
            }
        } catch {
            program.terminate()
            throw error
        }
        try writer.close()
        try await program.finish()
    }

    static func sha256Hex(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }
}

/// Reads a program's output in `SealedStream.chunkSize` pieces and seals them, one chunk ahead so the last one
/// is sealed as the last. Used from one dedicated thread at a time.
private final class ChunkReader: @unchecked Sendable {
    let handle: FileHandle
    var sealer: SealedStream.Sealer
    var headerWritten = false
    var lookahead: Data?

    init(handle: FileHandle, sealer: SealedStream.Sealer) {
        self.handle = handle
        self.sealer = sealer
    }

    /// The next object (sealed chunks up to about `size` bytes), the plaintext bytes in it, and whether the
    /// stream ended with it.
    func nextObject(size: Int) throws -> (Data, Int64, Bool) {
        var object = Data()
        if !headerWritten {
            object.append(sealer.header)
            headerWritten = true
        }
        var plain: Int64 = 0
        while object.count < size {
            let current = try lookahead ?? readChunk()
            lookahead = nil
            let next = current.isEmpty ? Data() : try readChunk()
            let final = next.isEmpty
            object.append(try sealer.seal(current, final: final))
            plain += Int64(current.count)
            if final { return (object, plain, true) }
            lookahead = next
        }
        return (object, plain, false)
    }

    /// Up to one chunk; empty at the end of the output.
    private func readChunk() throws -> Data {
        var chunk = Data()
        while chunk.count < SealedStream.chunkSize {
            guard let piece = try handle.read(upToCount: SealedStream.chunkSize - chunk.count), !piece.isEmpty else { break }
            chunk.append(piece)
        }
        return chunk
    }
}

/// A helper program with its output or input on a pipe and its errors in a temporary file, for their message.
private struct Program: Sendable {
    let process: Process
    let output: FileHandle?
    let input: FileHandle?
    let errors: URL
    let name: String

    init(_ command: [String], input feedsInput: Bool) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        errors = FileManager.default.temporaryDirectory.appendingPathComponent("cellar-backup-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil, attributes: [.posixPermissions: 0o600])
        process.standardError = try FileHandle(forWritingTo: errors)
        let pipe = Pipe()
        if feedsInput {
            process.standardInput = pipe
            process.standardOutput = FileHandle.nullDevice
        } else {
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = pipe
        }
        try process.run()
        self.process = process
        self.output = feedsInput ? nil : pipe.fileHandleForReading
        self.input = feedsInput ? pipe.fileHandleForWriting : nil
        self.name = URL(fileURLWithPath: command[0]).lastPathComponent
    }

    func terminate() {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: errors)
    }

    /// Waits for the program; throws with the end of what it wrote to stderr unless it succeeded.
    func finish() async throws {
        let process = self.process
        try await onDedicatedThread { process.waitUntilExit() }
        defer { try? FileManager.default.removeItem(at: errors) }
        guard process.terminationStatus == 0 else {
            let message = ((try? String(contentsOf: errors, encoding: .utf8)) ?? "").suffix(500).trimmingCharacters(in: .whitespacesAndNewlines)
            throw RemoteFailure(type: "BackupFailed", message: "\(name) exited with status \(process.terminationStatus): \(message)")
        }
    }
}
