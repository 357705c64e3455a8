#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The process environment, and what the commands derive from it.
enum Environment {
    /// The environment as a dictionary.
    static var current: [String: String] { ProcessInfo.processInfo.environment }

    /// `$STUDIOML_HOME`, default `~/.studioml`.
    static func studioHome(_ environment: [String: String]) -> String {
        if let home = environment["STUDIOML_HOME"], !home.isEmpty { return home }
        let user = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "/root"
        return user + "/.studioml"
    }
}
