import CZlib
import Glibc

/// How `TarExtractor` treats the target path.
public struct ExtractOptions: Sendable {
    /// `rm -rf` the target before extracting (StudioML does); otherwise members are merged into it.
    public var replaceTarget: Bool
    /// A tar whose only member is a regular file `./<name>` is restored as a file at the target path.
    public var singleFileRule: Bool

    /// Options with StudioML's behaviour by default.
    public init(replaceTarget: Bool = true, singleFileRule: Bool = true) {
        self.replaceTarget = replaceTarget
        self.singleFileRule = singleFileRule
    }
}

/// What an extraction produced.
public struct ExtractResult: Sendable, Equatable {
    /// Members extracted.
    public var memberCount: Int
    /// Content bytes of regular files written.
    public var byteCount: Int64
    /// True when the single-file rule restored one file at the target path.
    public var restoredSingleFile: Bool
}

/// Extracts tar archives safely: nothing is ever written outside the target, no symlink is followed, and
/// absolute names, `..`, links pointing outside, devices and FIFOs are refused with an error naming the member.
public enum TarExtractor {
    /// Extracts the archive file at `archivePath` (plain or gzip) into `target`.
    @discardableResult
    public static func extract(archivePath: String, to target: String, options: ExtractOptions = ExtractOptions()) throws -> ExtractResult {
        let reader = try TarReader(path: archivePath)
        return try extract(from: reader, to: target, options: options)
    }

    /// Extracts every remaining member of `reader` into `target`.
    @discardableResult
    public static func extract(from reader: TarReader, to target: String, options: ExtractOptions = ExtractOptions()) throws -> ExtractResult {
        guard !target.isEmpty else { throw TarError("the extraction target path is empty") }
        var first = try reader.next()
        var pendingFile: (temp: String, name: [UInt8], size: Int64)?
        if options.singleFileRule, let entry = first, let name = singleFileName(entry) {
            // Stream the file next to the target; only the next header tells whether it is the only member.
            let temp = try writeTemporaryFile(entry, from: reader, beside: target)
            do {
                guard let second = try reader.next() else {
                    try placeSingleFile(temp, at: target, options: options)
                    return ExtractResult(memberCount: 1, byteCount: entry.size, restoredSingleFile: true)
                }
                pendingFile = (temp, name, entry.size)
                first = second
            } catch {
                unlink(temp)
                throw error
            }
        }
        if options.replaceTarget {
            do { try FileTree.removeTree(target) } catch {
                if let pendingFile { unlink(pendingFile.temp) }
                throw error
            }
        }
        let extraction: Extraction
        do {
            try FileTree.makeDirectories(target)
            extraction = try Extraction(target: target)
        } catch {
            if let pendingFile { unlink(pendingFile.temp) }
            throw error
        }
        if let pendingFile {
            defer { unlink(pendingFile.temp) }
            try extraction.adoptFile(at: pendingFile.temp, named: pendingFile.name, size: pendingFile.size)
        }
        var entry = first
        while let current = entry {
            try extraction.extract(current, from: reader)
            entry = try reader.next()
        }
        try extraction.finish()
        return ExtractResult(memberCount: extraction.memberCount, byteCount: extraction.byteCount, restoredSingleFile: false)
    }

    /// `<name>` when the member is a regular file named `./<name>` with no further `/`.
    private static func singleFileName(_ entry: TarEntry) -> [UInt8]? {
        guard entry.kind == .regular, entry.pathBytes.count > 2, entry.pathBytes[0] == 0x2E, entry.pathBytes[1] == 0x2F else { return nil }
        let name = Array(entry.pathBytes[2...])
        guard !name.contains(0x2F), name != [0x2E], name != [0x2E, 0x2E] else { return nil }
        return name
    }

    private static func writeTemporaryFile(_ entry: TarEntry, from reader: TarReader, beside target: String) throws -> String {
        let parent = FileTree.parentPath(target)
        try FileTree.makeDirectories(parent)
        var template = Array("\(parent)/.studio-extract-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { czlib_mkostemp($0.baseAddress!, O_CLOEXEC) }
        guard fd >= 0 else { throw StorageError("cannot create a temporary file in '\(parent)': \(Posix.message(errno))") }
        let temp = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        do {
            defer { close(fd) }
            try reader.copyContents(to: fd)
            try Extraction.applyAttributes(fd, mode: entry.mode & 0o777, mtime: entry.mtime, member: entry.pathBytes)
        } catch {
            unlink(temp)
            throw error
        }
        return temp
    }

    private static func placeSingleFile(_ temp: String, at target: String, options: ExtractOptions) throws {
        do {
            if let st = try Posix.lstat(target), Posix.isDirectory(st.st_mode) {
                guard options.replaceTarget else {
                    throw TarError("cannot restore the single-file artifact at '\(target)': a directory is there")
                }
                try FileTree.removeTree(target)
            }
            guard rename(temp, target) == 0 else {
                throw StorageError("cannot move the extracted file to '\(target)': \(Posix.message(errno))")
            }
        } catch {
            unlink(temp)
            throw error
        }
    }
}
