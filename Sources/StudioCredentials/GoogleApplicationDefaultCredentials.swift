#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where Google credentials come from after the Application Default Credentials search (docs/google.md#credentials-application-default-credentials).
public enum GoogleCredentialSource: Sendable, CustomStringConvertible {
    /// A credentials file (from `GOOGLE_APPLICATION_CREDENTIALS` or gcloud's well-known file).
    case file(path: String, GoogleCredentialsFile)
    /// The metadata server at `host` (GCE, GKE Workload Identity, Cloud Run); whether it answers is for the caller.
    case metadataServer(host: String)

    /// A summary without secrets.
    public var description: String {
        switch self {
        case let .file(path, file): return "\(file) from \(path)"
        case let .metadataServer(host): return "metadata server at \(host)"
        }
    }
}

/// The file-based part of Google's Application Default Credentials search, over an environment dictionary.
public enum GoogleApplicationDefaultCredentials {
    /// gcloud's well-known file: `$CLOUDSDK_CONFIG/application_default_credentials.json`, else
    /// `$HOME/.config/gcloud/application_default_credentials.json`.
    public static func wellKnownFilePath(environment: [String: String]) -> String? {
        if let config = environment["CLOUDSDK_CONFIG"], !config.isEmpty {
            return config + "/application_default_credentials.json"
        }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return home + "/.config/gcloud/application_default_credentials.json"
    }

    /// The metadata server host: `GCE_METADATA_HOST`, else the IP (a static binary cannot count on the
    /// `.google.internal` search domain).
    public static func metadataHost(environment: [String: String]) -> String {
        if let host = environment["GCE_METADATA_HOST"], !host.isEmpty { return host }
        return "169.254.169.254"
    }

    /// `GOOGLE_APPLICATION_CREDENTIALS` (which must exist if set), then the well-known file, then the metadata server.
    public static func resolve(environment: [String: String]) throws -> GoogleCredentialSource {
        if let path = environment["GOOGLE_APPLICATION_CREDENTIALS"], !path.isEmpty {
            guard FileManager.default.fileExists(atPath: path) else {
                throw CredentialsError(.unreadableFile, "GOOGLE_APPLICATION_CREDENTIALS names \(path), which does not exist")
            }
            return .file(path: path, try GoogleCredentialsFile.load(path: path))
        }
        if let path = wellKnownFilePath(environment: environment), FileManager.default.fileExists(atPath: path) {
            return .file(path: path, try GoogleCredentialsFile.load(path: path))
        }
        return .metadataServer(host: metadataHost(environment: environment))
    }

    /// The project: `GOOGLE_CLOUD_PROJECT`, legacy `GCLOUD_PROJECT`, else the credentials file's; nil means
    /// "ask the metadata server".
    public static func projectId(environment: [String: String], source: GoogleCredentialSource?) -> String? {
        for name in ["GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT"] {
            if let value = environment[name], !value.isEmpty { return value }
        }
        if case let .file(_, file)? = source { return file.projectId }
        return nil
    }
}
