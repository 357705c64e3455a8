#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where one experiment's files live on the worker, as StudioML clients expect them:
/// `$STUDIOML_HOME/experiments/<key>/<tag>` for artifacts (the model directory at `.../modeldir`),
/// `$STUDIOML_HOME/artifact_mappings/<key>/artifacts.json` for the tag → path map. The workspace is
/// a fresh private copy at `.../workspace`, never the submitter's path nor a shared cache.
struct RunLayout: Sendable {
    let home: String
    let key: String

    /// The experiment's directory.
    var root: String { home + "/experiments/" + safeFileName(key) }
    /// Where artifact `tag` lives locally.
    func path(for tag: String) -> String { root + "/" + safeFileName(tag) }
    /// The experiment's working directory.
    var workspace: String { path(for: "workspace") }
    /// The live output log (the `output` artifact).
    var outputFile: String { path(for: "output") }
    /// The model directory clients compute from `STUDIOML_HOME` and the key.
    var modelDirectory: String { path(for: "modeldir") }
    /// The resource-usage log (the `_metrics` artifact).
    var metricsFile: String { path(for: "_metrics") }
    /// The artifact map's path, handed to the experiment as `STUDIOML_ARTIFACT_MAPPING`.
    var artifactMapping: String { artifactMappingDirectory + "/artifacts.json" }
    /// The directory that holds the artifact map.
    var artifactMappingDirectory: String { home + "/artifact_mappings/" + safeFileName(key) }
    /// Downloaded immutable blobs, kept as the tar files themselves (never as directories an
    /// experiment could write into), so the next experiment with the same workspace skips the download.
    var blobCache: String { home + "/blobcache" }

    /// Makes the directories; the model directory starts empty unless an earlier attempt left one.
    func prepare() throws {
        let files = FileManager.default
        for directory in [root, modelDirectory, blobCache, artifactMappingDirectory] {
            try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
    }
}
