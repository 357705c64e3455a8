import StudioStorage

/// StudioML's artifact tar rules, on top of StudioStorage's tar: a directory artifact holds its
/// children, a single file is `./<name>`; a blobstore key names the SHA-256 of the tar's bytes.
enum ArtifactPacking {
    static func pack(_ path: String, toTar tar: String, compression: String?) throws {
        fatalError("pending StudioStorage tar API")
    }
    static func unpack(tar: String, into target: String) throws {
        fatalError("pending StudioStorage tar API")
    }
    static func verifyBlob(_ path: String, key: String) throws {
    }
}
