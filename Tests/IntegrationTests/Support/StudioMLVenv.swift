#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import XCTest

/// The real StudioML 0.0.49 in a venv made by `scripts/studioml-venv.sh DIR`, named by `$STUDIOML_VENV`
/// (the Makefile and CI set it). Tests that need it skip when it is not there.
struct StudioMLVenv {
    /// The venv directory.
    let path: String

    /// The venv named by `STUDIOML_VENV`, or an XCTSkip that says how to make one.
    static func required() throws -> StudioMLVenv {
        guard let path = ProcessEnvironment.current["STUDIOML_VENV"], !path.isEmpty else {
            throw XCTSkip("STUDIOML_VENV is not set; make the real StudioML 0.0.49 with `scripts/studioml-venv.sh DIR` and set STUDIOML_VENV=DIR")
        }
        guard FileManager.default.fileExists(atPath: path + "/.studioml-0.0.49-ready") else {
            throw XCTSkip("STUDIOML_VENV=\(path) is not a ready StudioML 0.0.49 venv; run `scripts/studioml-venv.sh \(path)`")
        }
        return StudioMLVenv(path: path)
    }

    /// The venv's interpreter.
    var python: String { path + "/bin/python" }
    /// StudioML's submit command (`studio run` is a bash wrapper that evals it, so call it directly).
    var studioRun: String { path + "/bin/studio-run" }
    /// StudioML's worker, with the import shim of scripts/studioml-venv.sh.
    var remoteWorker: String { path + "/bin/studio-remote-worker" }

    /// An environment for StudioML's processes (and ours, alongside them) against `moto`:
    /// no AWS settings but moto's, the venv first on PATH (StudioML's worker runs `which python3`
    /// and pip-installs into it), HOME and STUDIOML_HOME private, and pip kept off the network.
    func environment(moto: MotoServer, home: String) -> [String: String] {
        var environment = ProcessEnvironment.current.filter {
            !$0.key.hasPrefix("AWS_") && !$0.key.hasPrefix("STUDIOML_") && !$0.key.hasPrefix("PIP_") && !$0.key.hasPrefix("PYTHON")
        }
        environment.merge(moto.awsEnvironment) { $1 }
        // botocore reads AWS_DEFAULT_REGION, not AWS_REGION; StudioML's worker builds `boto3.client('sqs')`
        // with no region and no endpoint, so both come from here (AWS_ENDPOINT_URL: boto3 >= 1.28.57).
        environment["AWS_DEFAULT_REGION"] = "us-east-1"
        environment["HOME"] = home
        environment["STUDIOML_HOME"] = home + "/.studioml"
        environment["PATH"] = path + "/bin:" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        environment["PIP_INDEX_URL"] = "http://127.0.0.1:9/simple"
        environment["PIP_RETRIES"] = "0"
        environment["PIP_TIMEOUT"] = "1"
        environment["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        return environment
    }

    /// A StudioML client config with database and storage on `moto` (StudioML reads only this one file
    /// and merges no defaults, so every key its runner and worker read is here: docs/wire-format.md §10.9).
    static func config(moto: MotoServer) -> String {
        moto.studioConfig + """
        verbose: debug
        resources_needed:
            cpus: 1
            ram: 1g
            hdd: 1g
            gpus: 0
        sleep_time: 1
        worker_timeout: 30

        """
    }
}
