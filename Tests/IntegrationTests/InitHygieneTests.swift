import XCTest
import Glibc
import StudioInit

/// `studio init`: cwd, fds and the child's signal state; TTY sessions; the static binary alone.
final class InitHygieneTests: StudioInitTestCase {
    func testInitLeavesCwdAndFdsButTheChildKeepsThemAndTheCallersIgnoredSignals() async throws {
        let d = directory!
        // grep reads its own status: dash itself blocks every signal while it waits for a child.
        let workload = "grep -E '^Sig(Blk|Ign)' /proc/self/status > \(d.file("signals")); pwd > \(d.file("cwd")); "
            + "[ -e /proc/$$/fd/7 ] && echo open > \(d.file("fd7")); touch \(d.file("ready")); "
            + "while [ ! -e \(d.file("finish")) ]; do sleep 0.02; done"
        // The shell leaves INT and QUIT ignored and fd 7 open (not CLOEXEC) for the init to inherit.
        let wrapper = "trap '' INT QUIT; exec 7<\(d.file("signals-source")); exec \"$0\" init sh -c \"$1\""
        XCTAssertTrue(FileManager.default.createFile(atPath: d.file("signals-source"), contents: nil))
        let run = try SupervisedRun(["sh", "-c", wrapper, studio, workload], in: d, workingDirectory: d.path)
        try waitForReady()

        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/\(run.pid)/cwd", &buffer, buffer.count - 1)
        XCTAssertEqual(length, 1)
        XCTAssertEqual(buffer[0], CChar(UInt8(ascii: "/")), "the init must chdir to /")
        let initFDs = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(run.pid)/fd").sorted()
        XCTAssertEqual(initFDs, ["0", "1", "2"], "the init must close its fds >= 3")

        XCTAssertEqual(d.read("cwd"), d.path + "\n", "the child keeps the original cwd")
        XCTAssertEqual(d.read("fd7"), "open\n", "the child keeps inherited fds")
        // As with tini (and without an init), the INT and QUIT the shell ignored stay ignored.
        let signals = d.read("signals") ?? ""
        XCTAssertTrue(signals.contains("SigBlk:\t0000000000000000"), signals)
        XCTAssertTrue(signals.contains("SigIgn:\t0000000000000006"), signals)

        XCTAssertTrue(FileManager.default.createFile(atPath: d.file("finish"), contents: nil))
        let status = await run.wait()
        XCTAssertEqual(status, .exited(0))
    }

    /// The init leads the terminal's session (a container's PID 1 with `-t`): the child gets a new
    /// session of its own, with the terminal as its controlling terminal and its group in front.
    func testTTYChildGetsItsOwnSessionAndTheForeground() async throws {
        // `exec`: whatever shell `script` starts must not stay between it and the init.
        let stat = try await childStatUnderATerminal("exec \(studio) init sh -c '\(Self.reportStat)'")
        XCTAssertEqual(stat?.group, stat?.pid, "pgrp")
        XCTAssertEqual(stat?.session, stat?.pid, "session (setsid)")
        XCTAssertEqual(stat?.foreground, stat?.pid, "tpgid: the child's group is the terminal's foreground group")
    }

    /// The init started from an interactive shell: the child joins the shell's session in a group
    /// of its own, which becomes the terminal's foreground group (job control keeps working).
    func testTTYChildStartedFromAShellJoinsItsSessionInTheForeground() async throws {
        // `; exit $?` keeps the shell alive as the session leader.
        let command = "echo $$ > \(directory.file("shell")); \(studio) init sh -c '\(Self.reportStat)'; exit $?"
        let stat = try await childStatUnderATerminal(command)
        let shell = (directory.read("shell") ?? "").split(separator: "\n").first.map(String.init)
        XCTAssertEqual(stat?.group, stat?.pid, "pgrp")
        XCTAssertEqual(stat?.session, shell, "the shell's session")
        XCTAssertEqual(stat?.foreground, stat?.pid, "tpgid: the child's group is the terminal's foreground group")
    }

    private static let reportStat = "cat /proc/$$/stat > stat; echo $$ >> stat"

    /// Runs `command` under util-linux `script` (a new pseudo-terminal session) in the test directory
    /// and returns the pid, pgrp, session and terminal foreground group the child reported.
    private func childStatUnderATerminal(_ command: String) async throws
        -> (pid: String, group: String, session: String, foreground: String)? {
        guard access("/usr/bin/script", X_OK) == 0 else { throw XCTSkip("util-linux `script` is not installed") }
        let run = try SupervisedRun(["script", "-qec", command, "/dev/null"], in: directory, workingDirectory: directory.path)
        let status = await run.wait()
        XCTAssertEqual(status, .exited(0), run.standardError)
        // Fields after the command: state ppid pgrp session tty_nr tpgid.
        let lines = (directory.read("stat") ?? "").split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        guard lines.count == 2, let close = lines[0].lastIndex(of: ")") else { return nil }
        let fields = lines[0][lines[0].index(after: close)...].split(separator: " ").map(String.init)
        return (String(lines[1]), fields[2], fields[3], fields[5])
    }

    func testStaticBinaryRunsAloneInAnEmptyChroot() async throws {
        guard let binary = ProcessInfo.processInfo.environment["STUDIO_STATIC_BINARY"] else {
            throw XCTSkip("set STUDIO_STATIC_BINARY to a static release build of studio to run this test")
        }
        let root = directory.file("root")
        try FileManager.default.createDirectory(atPath: root + "/proc", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: binary, toPath: root + "/studio")
        let script = "mount -t proc proc \(root)/proc && exec chroot \(root) /studio init -- /studio init --log-format json -- /missing"
        let run = try SupervisedRun(["unshare", "--pid", "--fork", "--mount", "--kill-child", "sh", "-c", script], in: directory)
        let status = await run.wait()
        // The outer init (PID 1) runs an inner init, whose command is missing: 127 travels out.
        XCTAssertEqual(status, .exited(127), run.standardError)
        XCTAssertTrue(run.standardError.contains("/missing: command not found"), run.standardError)
        let version = try SupervisedRun(["unshare", "--pid", "--fork", "--mount", "--kill-child", "sh", "-c",
                                         "mount -t proc proc \(root)/proc && exec chroot \(root) /studio init /studio --version"], in: directory)
        let versionStatus = await version.wait()
        XCTAssertEqual(versionStatus, .exited(0), version.standardError)
        XCTAssertFalse(version.standardOutput.isEmpty)
    }
}
