import ArgumentParser
import StudioStorage

/// `studio tar`: the artifact tar format on its own, for benchmarks and debugging (hidden).
struct TarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tar",
        abstract: "Pack or unpack an artifact archive the way the worker does.",
        shouldDisplay: false,
        subcommands: [Create.self, Extract.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pack a directory (or one file) into a PAX archive; prints its SHA-256.")
        @Option(name: .customShort("f"), help: "The archive to write.") var file: String
        @Flag(help: "Compress with gzip.") var gzip = false
        @Argument(help: "The directory or file to pack.") var path: String

        func run() throws {
            let digest = try TarWriter.pack(path, to: file, compression: gzip ? .gzip(level: 6) : .none)
            print(digest.sha256)
        }
    }

    struct Extract: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Unpack an archive safely into a fresh directory.")
        @Option(name: .customShort("f"), help: "The archive to read.") var file: String
        @Argument(help: "The target directory (replaced).") var directory: String

        func run() throws {
            try TarExtractor.extract(archivePath: file, to: directory)
        }
    }
}
