#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StudioModel

/// Finds and loads the config a command uses: `--config FILE`, else `$STUDIOML_HOME/config.yaml`
/// when it exists, else the built-in defaults (a local queue and store, no set-up needed).
enum ConfigLoader {
    static func load(path: String?, home: String, environment: [String: String]) throws -> StudioConfig {
        if let path { return try StudioConfig.load(path: path, environment: environment) }
        let fallback = home + "/config.yaml"
        if FileManager.default.fileExists(atPath: fallback) {
            return try StudioConfig.load(path: fallback, environment: environment)
        }
        return try StudioConfig(json: .object([:]))
    }
}
