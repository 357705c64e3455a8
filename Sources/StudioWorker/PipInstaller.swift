import Glibc
import StudioInit

/// Installs an experiment's missing requirements with one `pip install`, its output going to the
/// experiment's log; a failure fails the experiment with pip's words in that log.
struct PipInstaller: Sendable {
    enum Result: Sendable, Equatable { case installed(count: Int), failed(String) }

    let python: String
    let environment: [String: String]
    let outputPath: String
    /// The experiment's workspace: pip runs there, so `-e .`, `./pkg` and `-r other.txt` mean what they
    /// meant next to the submitter's requirements.txt.
    let workspace: String
    let log: WorkerLog

    func installMissing(_ requirements: [String]) async -> Result {
        let installed: [String]
        do {
            installed = try await installedDistributions()
        } catch {
            return .failed("cannot run \(python) to check the experiment's requirements: \(error). Install Python in the image, or run the worker with --pip never")
        }
        let selection = PipRequirements.select(from: requirements, installed: installed)
        if !selection.refused.isEmpty {
            let shown = selection.refused.prefix(3).map { "'\($0)'" }.joined(separator: ", ")
            log.warning("not passing \(selection.refused.count) line(s) of the experiment's requirements to pip, as they are not requirements: "
                        + shown + (selection.refused.count > 3 ? ", ..." : ""))
        }
        let missing = selection.toInstall
        if missing.isEmpty { return .installed(count: 0) }
        let count = missing.filter { PipRequirements.kind(of: $0) != .option }.count
        log.info("installing \(count) missing requirement(s)", ["requirements": missing.joined(separator: " ")])
        // One requirements file, not arguments: pip reads options, hashes, `-e` and markers in a file exactly as in
        // the user's requirements.txt. It sits in the workspace (relative `-r` lines resolve from the file's
        // directory) under a name no experiment uses, and is gone before the experiment starts.
        let listPath = workspace + "/.studio-requirements-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).txt"
        defer { unlink(listPath) }
        do {
            try writeFile(listPath, (missing.joined(separator: "\n") + "\n"))
            let pump = try OutputPump(outputPath: outputPath)
            let pid = try ProcessSupervisor.shared.spawn(SpawnRequest(
                arguments: [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-r", listPath],
                environment: environment, workingDirectory: workspace, stdin: nil, stdout: pump.writeEnd, stderr: pump.writeEnd))
            pump.closeWriteEnd()
            async let pumped = pump.run()
            let status = await ProcessSupervisor.shared.waitForExit(pid)
            _ = await pumped
            if status != .exited(0) {
                return .failed("pip install of the experiment's requirements failed (exit \(status.shellCode)); see the output artifact. Pre-install them in the image, or run the worker with --pip never")
            }
            return .installed(count: count)
        } catch {
            return .failed("cannot run pip: \(error)")
        }
    }

    private func writeFile(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WorkerError("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw WorkerError("cannot write \(path): \(String(cString: strerror(errno)))") }
            written += count
        }
    }

    /// What is installed, as `name==version` lines. importlib.metadata answers in one interpreter
    /// start (tens of ms) where `pip freeze` takes about a second and 45 MiB; pip answers for
    /// Pythons older than 3.8, and nothing at all means every requirement counts as missing.
    private func installedDistributions() async throws -> [String] {
        let listing = "import importlib.metadata as m\nfor d in m.distributions():\n    n = d.metadata['Name']\n    if n: print(n + '==' + d.version)"
        var result = try await ChildCommand.capture([python, "-c", listing], environment: environment)
        if result.status != .exited(0) {
            result = try await ChildCommand.capture([python, "-m", "pip", "freeze", "--all"], environment: environment)
        }
        guard result.status == .exited(0) else { return [] }
        return String(decoding: result.output, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

/// Runs a short helper command to completion and collects its standard output.
enum ChildCommand {
    static func capture(_ arguments: [String], environment: [String: String]) async throws -> (status: ExitStatus, output: [UInt8]) {
        var fds: [Int32] = [0, 0]
        guard makePipe(&fds) else { throw WorkerError("cannot create a pipe: \(String(cString: strerror(errno)))") }
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { if devNull >= 0 { close(devNull) } }
        let pid: Int32
        do {
            pid = try ProcessSupervisor.shared.spawn(SpawnRequest(
                arguments: arguments, environment: environment, workingDirectory: nil,
                stdin: devNull, stdout: fds[1], stderr: devNull))
        } catch {
            close(fds[0]); close(fds[1])
            throw error
        }
        close(fds[1])
        let readEnd = fds[0]
        let output = await BlockingThread.run { () -> [UInt8] in
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                bytes.append(contentsOf: buffer[0..<count])
            }
            close(readEnd)
            return bytes
        }
        let status = await ProcessSupervisor.shared.waitForExit(pid)
        return (status, output)
    }
}
