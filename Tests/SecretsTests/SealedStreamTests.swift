import Crypto
import Foundation
import Testing

@testable import Secrets

@Suite("Sealed streams (backups at rest)")
struct SealedStreamTests {
    /// `plaintext` sealed in chunks of `chunk` bytes: the header, then each framed chunk.
    static func seal(_ plaintext: Data, key: SymmetricKey, chunk: Int = SealedStream.chunkSize) throws -> (header: Data, chunks: [Data]) {
        var sealer = SealedStream.Sealer(key: key)
        var chunks: [Data] = []
        var offset = 0
        repeat {
            let end = min(offset + chunk, plaintext.count)
            chunks.append(try sealer.seal(plaintext.subdata(in: offset..<end), final: end == plaintext.count))
            offset = end
        } while offset < plaintext.count
        return (sealer.header, chunks)
    }

    static func open(_ stream: Data, key: SymmetricKey, pieceSize: Int = 7_777) throws -> Data {
        var opener = SealedStream.Opener(key: key)
        var plaintext = Data()
        var offset = 0
        while offset < stream.count {
            let end = min(offset + pieceSize, stream.count)
            plaintext.append(try opener.open(stream.subdata(in: offset..<end)))
            offset = end
        }
        try opener.finish()
        return plaintext
    }

    static let plaintext = Data((0..<(2 * SealedStream.chunkSize + 12_345)).map { UInt8(truncatingIfNeeded: $0 &* 31) })

    @Test("a stream of several chunks opens to the same bytes, fed in pieces of any size; an empty one too")
    func roundTrip() throws {
        let key = SealedStream.makeKey()
        let (header, chunks) = try Self.seal(Self.plaintext, key: key)
        #expect(chunks.count == 3)
        let stream = header + chunks.reduce(Data(), +)
        #expect(try Self.open(stream, key: key) == Self.plaintext)
        #expect(try Self.open(stream, key: key, pieceSize: stream.count) == Self.plaintext)
        let (emptyHeader, emptyChunks) = try Self.seal(Data(), key: key)
        #expect(try Self.open(emptyHeader + emptyChunks[0], key: key).isEmpty)
        // No plaintext run survives: the canary is nowhere in the sealed bytes.
        let canary = Data("canary-4711-canary".utf8)
        let (canaryHeader, canaryChunks) = try Self.seal(canary + canary, key: key)
        #expect((canaryHeader + canaryChunks[0]).range(of: canary) == nil)
    }

    @Test("a changed byte, a dropped, moved or cut-off chunk, trailing bytes and another key are refused")
    func refusals() throws {
        let key = SealedStream.makeKey()
        let (header, chunks) = try Self.seal(Self.plaintext, key: key)
        var flipped = header + chunks.reduce(Data(), +)
        flipped[flipped.count / 2] ^= 0x01
        #expect(throws: SealedStreamError.self) { try Self.open(flipped, key: key) }
        #expect(throws: SealedStreamError.self) { try Self.open(header + chunks[0] + chunks[2], key: key) }
        #expect(throws: SealedStreamError.self) { try Self.open(header + chunks[1] + chunks[0] + chunks[2], key: key) }
        #expect(throws: SealedStreamError.self) { try Self.open(header + chunks[0] + chunks[1], key: key) }
        #expect(throws: SealedStreamError.self) { try Self.open(header + chunks.reduce(Data(), +) + Data([0, 0]), key: key) }
        #expect(throws: SealedStreamError.self) { try Self.open(header + chunks.reduce(Data(), +), key: SealedStream.makeKey()) }
        #expect(throws: SealedStreamError.self) { try Self.open(Data("not a backup at all".utf8), key: key) }
        // A chunk of another stream under the same key does not fit (each stream's nonces are its own).
        let (_, others) = try Self.seal(Self.plaintext, key: key)
        #expect(throws: SealedStreamError.self) { try Self.open(header + others[0] + chunks[1] + chunks[2], key: key) }
    }
}
