import Crypto
import Foundation

/// A backup's bytes sealed for the object store: AES-256-GCM in chunks, under a key of its own.
///
/// Layout: a 16-byte header (`CLRSEAL1` and 8 random bytes, the nonce prefix), then chunks, each a 4-byte
/// big-endian length and a sealed box (ciphertext and tag, no nonce: it is the prefix and the chunk's number).
/// Every chunk authenticates the header, its number and whether it is the last, so a chunk changed, dropped,
/// moved or cut off at the end is refused, not restored.
public enum SealedStream {
    /// Plaintext bytes per chunk.
    public static let chunkSize = 1 << 20
    static let magic = Data("CLRSEAL1".utf8)
    static let headerSize = 16
    static let tagSize = 16

    /// A new random key for one backup.
    public static func makeKey() -> SymmetricKey { SymmetricKey(size: .bits256) }

    /// Seals a stream chunk by chunk: `header` first, then `seal` for each chunk, the last with `final`.
    public struct Sealer: Sendable {
        let key: SymmetricKey
        /// What goes first into the stream.
        public let header: Data
        private var counter: UInt32 = 0
        private var finished = false

        public init(key: SymmetricKey) {
            self.key = key
            var generator = SystemRandomNumberGenerator()
            header =
                SealedStream.magic + SealedStream.bigEndian(UInt32.random(in: 0...UInt32.max, using: &generator))
                + SealedStream.bigEndian(UInt32.random(in: 0...UInt32.max, using: &generator))
        }

        /// One chunk, framed; after `final` no more may follow.
        public mutating func seal(_ plaintext: Data, final: Bool) throws -> Data {
            precondition(!finished, "a sealed stream was finished already")
            let nonce = try SealedStream.nonce(header: header, counter: counter)
            let box = try AES.GCM.seal(
                plaintext, using: key, nonce: nonce, authenticating: SealedStream.associatedData(header: header, counter: counter, final: final))
            counter += 1
            finished = final
            let sealed = box.ciphertext + box.tag
            return SealedStream.bigEndian(UInt32(sealed.count)) + sealed
        }
    }

    /// Opens a sealed stream fed in pieces of any size; `finish` says whether it was whole.
    public struct Opener: Sendable {
        let key: SymmetricKey
        private var buffer = Data()
        private var header: Data?
        private var counter: UInt32 = 0
        private var sawFinal = false

        public init(key: SymmetricKey) { self.key = key }

        /// The plaintext of every chunk completed by `bytes`.
        public mutating func open(_ bytes: Data) throws -> Data {
            buffer.append(bytes)
            var plaintext = Data()
            if header == nil {
                guard buffer.count >= SealedStream.headerSize else { return plaintext }
                let candidate = Data(buffer.prefix(SealedStream.headerSize))
                guard candidate.prefix(8) == SealedStream.magic else { throw SealedStreamError("not a Cellar sealed stream (its header is wrong)") }
                header = candidate
                buffer = Data(buffer.dropFirst(SealedStream.headerSize))
            }
            guard let header else { return plaintext }
            // Chunks are read in place and the consumed bytes dropped once: a large piece is not copied per chunk.
            var offset = buffer.startIndex
            defer { buffer = Data(buffer[offset...]) }
            while buffer.endIndex - offset >= 4 {
                let length = Int(buffer[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
                guard length >= SealedStream.tagSize, length <= SealedStream.chunkSize + SealedStream.tagSize else {
                    throw SealedStreamError("chunk \(counter) has an impossible length \(length)")
                }
                guard buffer.endIndex - offset >= 4 + length else { break }
                guard !sawFinal else { throw SealedStreamError("bytes follow the last chunk") }
                let sealed = buffer[(offset + 4)..<(offset + 4 + length)]
                let box = try AES.GCM.SealedBox(
                    nonce: try SealedStream.nonce(header: header, counter: counter), ciphertext: sealed.dropLast(SealedStream.tagSize),
                    tag: sealed.suffix(SealedStream.tagSize))
                // Which chunk is last is authenticated: try "not last" first, then "last".
                if let opened = try? AES.GCM.open(
                    box, using: key, authenticating: SealedStream.associatedData(header: header, counter: counter, final: false))
                {
                    plaintext.append(opened)
                } else if let opened = try? AES.GCM.open(
                    box, using: key, authenticating: SealedStream.associatedData(header: header, counter: counter, final: true))
                {
                    plaintext.append(opened)
                    sawFinal = true
                } else {
                    throw SealedStreamError("chunk \(counter) does not authenticate: the object was changed, or the key is not its own")
                }
                counter += 1
                offset += 4 + length
            }
            return plaintext
        }

        /// Throws unless the stream ended with its last chunk and nothing after it.
        public func finish() throws {
            guard header != nil else { throw SealedStreamError("the stream is empty") }
            guard sawFinal, buffer.isEmpty else { throw SealedStreamError("the stream is cut off after chunk \(counter)") }
        }
    }

    static func nonce(header: Data, counter: UInt32) throws -> AES.GCM.Nonce {
        try AES.GCM.Nonce(data: header.suffix(8) + bigEndian(counter))
    }

    static func associatedData(header: Data, counter: UInt32, final: Bool) -> Data {
        header + bigEndian(counter) + Data([final ? 1 : 0])
    }

    static func bigEndian(_ value: UInt32) -> Data { withUnsafeBytes(of: value.bigEndian) { Data($0) } }
}

/// A sealed stream that cannot be opened whole: changed, cut off, or under another key.
public struct SealedStreamError: Error, CustomStringConvertible, Equatable {
    public var description: String
    init(_ description: String) { self.description = description }
}
