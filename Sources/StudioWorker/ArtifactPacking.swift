#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto
import Glibc
import StudioStorage

/// StudioML's artifact tar rules, on top of StudioStorage's tar: a directory artifact holds its
/// children, a single file is `./<name>`; a blobstore key names the SHA-256 of the tar's bytes.
enum ArtifactPacking {
    /// Packs a mutable artifact (directory or file) for a checkpoint.
    static func pack(_ path: String, toTar tar: String, compression: String?) throws {
        try TarWriter.pack(path, to: tar, compression: TarCompression(configValue: compression), honourIgnoreFile: false)
    }

    /// Packs an immutable artifact for submission, leaving out what no worker would unpack (`digest.leftOut`);
    /// the digest's SHA-256 names the blob.
    static func packForSubmission(_ path: String, toTar tar: String, honourIgnoreFile: Bool, compression: String?,
                                  interrupted: (@Sendable () -> Bool)? = nil) throws -> TarDigest {
        try TarWriter.pack(path, to: tar, compression: TarCompression(configValue: compression), honourIgnoreFile: honourIgnoreFile,
                           portableOnly: true, interrupted: interrupted)
    }

    /// The blob key's ending for a compression setting: `.tar` or `.tar.gz`.
    static func extensionSuffix(_ compression: String?) -> String {
        ((try? TarCompression(configValue: compression)) ?? TarCompression.none).fileExtension.dropFirst(4).description
    }

    /// Unpacks a fresh copy: whatever was at `target` is replaced.
    static func unpack(tar: String, into target: String) throws {
        _ = try TarExtractor.extract(archivePath: tar, to: target)
    }

    /// The SHA-256 a `blobstore/<sha256>.tar[.ext]` key promises; nil for keys of other shapes.
    static func contentHash(_ key: String) -> String? {
        guard key.hasPrefix("blobstore/") else { return nil }
        let name = key.dropFirst("blobstore/".count)
        guard let dot = name.firstIndex(of: ".") else { return nil }
        let expected = name[..<dot].lowercased()
        guard expected.count == 64, expected.allSatisfy(\.isHexDigit) else { return nil }
        return expected
    }

    /// Whether `key` names its content (a `blobstore/<sha256>.tar` key).
    static func isContentAddressed(_ key: String) -> Bool { contentHash(key) != nil }

    /// Checks that a downloaded `blobstore/<sha256>.tar` blob has the bytes its name promises, so
    /// a truncated download is never run. Keys of other shapes are not content-addressed.
    static func verifyBlob(_ path: String, key: String) throws {
        guard let expected = contentHash(key) else { return }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw WorkerError("cannot read the downloaded blob \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count < 0 { throw WorkerError("cannot read the downloaded blob \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        let actual = hasher.finalize().map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        if actual != expected {
            throw WorkerError("the blob \(key) downloaded with SHA-256 \(actual): it is corrupt or truncated in storage; submit the experiment again")
        }
    }
}
