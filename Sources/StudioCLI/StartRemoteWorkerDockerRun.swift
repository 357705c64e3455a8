#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// A failure of `studio start-remote-worker` that ends it with a documented exit code and a one-line message.
struct LauncherError: Error, CustomStringConvertible {
    /// The exit code: 42 for configuration problems (no docker, unreadable key file).
    let exitCode: Int32
    /// What is wrong and how to fix it; never a secret value.
    let description: String
}

/// What the user asked `start-remote-worker` to run, independent of the host it runs on.
struct WorkerContainerRequest {
    var queue: String
    var image: String
    var singleRun: Bool
    var timeout: Int?
    var bakedCredentials: Bool
    var noCache: Bool
    /// `auto` (detect an NVIDIA GPU), `none`, or a value for docker's `--gpus` (`all`, `2`, `device=0,1`).
    var gpus: String
    /// Further `remote-worker` arguments given after `--`.
    var workerArguments: [String]
}

/// The `docker run` command line for one worker container, and what the user should be told about it.
struct DockerRunCommand {
    var arguments: [String]
    var warnings: [String]
}

/// Where the container's worker keeps its StudioML home; the blob cache is mounted under it.
let containerStudioHome = "/root/.studioml"
/// Where a host key file named by GOOGLE_APPLICATION_CREDENTIALS is mounted in the container.
let containerCredentialsDirectory = "/creds"

/// AWS credential variables passed by name (`-e NAME`): docker copies each value from its own environment, so no
/// secret ever appears on a command line, in `ps` output, or in our log of the command.
let awsCredentialVariables = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]
/// Non-secret settings passed by name whenever they are set, credentials baked in or not.
let passedSettingVariables = ["AWS_REGION", "AWS_DEFAULT_REGION", "GOOGLE_CLOUD_PROJECT"]

/// Builds the `docker run` arguments for `request` from this host's environment and files.
///
/// Throws a `LauncherError` (exit 42) when GOOGLE_APPLICATION_CREDENTIALS names a file that cannot be read.
func makeDockerRunCommand(
    for request: WorkerContainerRequest,
    environment: [String: String],
    currentDirectory: String
) throws -> DockerRunCommand {
    var arguments = ["run", "--rm"]
    var warnings: [String] = []

    if let gpus = gpuOption(request.gpus, environment: environment) {
        arguments += ["--gpus", gpus]
    }

    let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? currentUserHome()
    if !request.bakedCredentials {
        var foundCredentials = false
        if let keyPath = environment["GOOGLE_APPLICATION_CREDENTIALS"], !keyPath.isEmpty {
            let hostPath = try readableRegularFile(keyPath, currentDirectory: currentDirectory)
            guard !hostPath.contains(":") else {
                throw LauncherError(
                    exitCode: 42,
                    description: "GOOGLE_APPLICATION_CREDENTIALS names \(hostPath), whose ':' docker -v cannot mount; "
                        + "move the key file to a path without ':'")
            }
            let containerPath = containerCredentialsDirectory + "/" + lastPathComponent(hostPath)
            arguments += ["-e", "GOOGLE_APPLICATION_CREDENTIALS=\(containerPath)", "-v", "\(hostPath):\(containerPath):ro"]
            foundCredentials = true
        }
        let awsDirectory = home + "/.aws"
        if isDirectory(awsDirectory) {
            arguments += ["-v", "\(awsDirectory):/root/.aws:ro"]
            foundCredentials = true
        }
        for name in awsCredentialVariables where environment[name].map({ !$0.isEmpty }) ?? false {
            arguments += ["-e", name]
            foundCredentials = true
        }
        if !foundCredentials && !isLocalQueue(request.queue) {
            warnings.append(
                "no credentials found on this host (GOOGLE_APPLICATION_CREDENTIALS, AWS_ACCESS_KEY_ID, AWS_PROFILE, ~/.aws); "
                    + "the worker will need credentials in the image or a cloud metadata server "
                    + "(pass --baked-credentials to say so)")
        }
    }
    for name in passedSettingVariables where environment[name].map({ !$0.isEmpty }) ?? false {
        arguments += ["-e", name]
    }

    let hostStudioHome = absolutePath(
        environment["STUDIOML_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.studioml",
        currentDirectory: currentDirectory)
    if isLocalQueue(request.queue) {
        // A local queue is a directory under the host's StudioML home, and its experiments' files are there too:
        // share the whole home at the same path, so absolute paths in messages mean the same thing inside.
        try makeDirectory(hostStudioHome)
        arguments += ["-v", "\(hostStudioHome):\(hostStudioHome)", "-e", "STUDIOML_HOME=\(hostStudioHome)"]
    } else if !request.noCache {
        // Created here so that docker does not create it as an empty root-owned directory.
        let blobCache = hostStudioHome + "/blobcache"
        try makeDirectory(blobCache)
        arguments += ["-v", "\(blobCache):\(containerStudioHome)/blobcache"]
    }

    arguments.append(request.image)
    arguments += ["remote-worker", "--queue", request.queue]
    if request.singleRun { arguments.append("--single-run") }
    if let timeout = request.timeout { arguments += ["--timeout", String(timeout)] }
    arguments += request.workerArguments
    return DockerRunCommand(arguments: arguments, warnings: warnings)
}

/// Whether `queue` names the worker's directory queue (`local*`), which needs no cloud credentials.
func isLocalQueue(_ queue: String) -> Bool { queue.hasPrefix("local") }

/// The value for docker's `--gpus`, or nil for none; `auto` means `all` when this host has an NVIDIA GPU.
func gpuOption(_ setting: String, environment: [String: String]) -> String? {
    switch setting {
    case "none": return nil
    case "auto":
        let hasNVIDIA = access("/dev/nvidiactl", F_OK) == 0
            || findExecutable("nvidia-smi", path: environment["PATH"] ?? "") != nil
        return hasNVIDIA ? "all" : nil
    default: return setting
    }
}

/// The full path of an executable `name` (searched in `path` unless it contains a slash), or nil.
func findExecutable(_ name: String, path: String) -> String? {
    if name.contains("/") { return isExecutableFile(name) ? name : nil }
    for directory in path.split(separator: ":", omittingEmptySubsequences: false) {
        let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + name
        if isExecutableFile(candidate) { return candidate }
    }
    return nil
}

private func isExecutableFile(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
}

private func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}

/// The canonical absolute path of a readable regular file named by GOOGLE_APPLICATION_CREDENTIALS.
private func readableRegularFile(_ path: String, currentDirectory: String) throws -> String {
    let absolute = absolutePath(path, currentDirectory: currentDirectory)
    let problem: String?
    var info = stat()
    if stat(absolute, &info) != 0 {
        problem = "does not exist"
    } else if (info.st_mode & S_IFMT) != S_IFREG {
        problem = "is not a regular file"
    } else if access(absolute, R_OK) != 0 {
        problem = "is not readable"
    } else {
        problem = nil
    }
    if let problem {
        throw LauncherError(
            exitCode: 42,
            description: "GOOGLE_APPLICATION_CREDENTIALS names \(path), which \(problem); "
                + "point it at your service-account key file, or unset it")
    }
    // Resolve links so docker mounts the key itself (a Kubernetes-style ..data link would dangle in the container).
    guard let resolved = realpath(absolute, nil) else { return absolute }
    defer { free(resolved) }
    return String(cString: resolved)
}

private func absolutePath(_ path: String, currentDirectory: String) -> String {
    path.hasPrefix("/") ? path : currentDirectory + "/" + path
}

private func lastPathComponent(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
}

private func currentUserHome() -> String {
    guard let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir else { return "/" }
    return String(cString: directory)
}

private func makeDirectory(_ path: String) throws {
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
        throw LauncherError(exitCode: 42, description: "cannot create \(path): \(error); check STUDIOML_HOME and HOME")
    }
}

/// `arguments` as one line a user can paste into a shell (values with spaces or quotes are single-quoted).
func shellQuoted(_ arguments: [String]) -> String {
    let plain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@%+")
    return arguments.map { argument in
        if !argument.isEmpty && argument.allSatisfy({ plain.contains($0) }) { return argument }
        return "'" + argument.replacing("'", with: "'\\''") + "'"
    }.joined(separator: " ")
}
