/// How an archive written by `TarWriter` is compressed (`storage.compression` in the StudioML config).
public enum TarCompression: Sendable, Equatable {
    case none
    /// gzip at a zlib level from 1 (fastest) to 9 (smallest).
    case gzip(level: Int32)

    /// Parses `storage.compression`: unset, empty or `none` → `.none`; `gzip`/`gz` → gzip level 6.
    public init(configValue: String?) throws {
        switch configValue?.lowercased() {
        case nil, "", "none": self = .none
        case "gzip", "gz": self = .gzip(level: 6)
        case let other?:
            throw TarError("storage.compression '\(other)' is not supported: use 'gzip' (or 'gz'), or leave it unset")
        }
    }

    /// The object-key extension StudioML uses for this compression: `.tar` or `.tar.gz`.
    public var fileExtension: String {
        switch self {
        case .none: return ".tar"
        case .gzip: return ".tar.gz"
        }
    }
}
