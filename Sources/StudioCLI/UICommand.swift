#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import StudioModel
import StudioUI
import StudioWorker

/// `studio ui`: the web UI over the config's database and storage.
struct UICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Serve the web UI: follow, stop and delete experiments.",
        usage: "studio ui [--config <file>] [--host <host>] [--port <port>] [--token <t>]",
        discussion: """
            Serves http://HOST:PORT/ from this binary: no files beside it, no network beyond the stores. It binds to 127.0.0.1 by default; any other address needs a token (--token or STUDIO_UI_TOKEN), which every request must then carry: open http://HOST:PORT/?token=TOKEN once and the browser keeps it in a cookie. docs/ui.md describes the pages and the JSON API.

            EXIT STATUS: 0 stopped; 42 unusable store or configuration; 64 bad command line, a port that cannot be bound, or a non-loopback --host without a token.
            """)

    @OptionGroup var store: StoreOptions
    @Option(name: .long, help: "The address to listen on.") var host = "127.0.0.1"
    @Option(name: .long, help: "The port to listen on (0 picks a free one).") var port = 5000
    @Option(name: .long, help: ArgumentHelp("The token every request must carry (default $STUDIO_UI_TOKEN).", valueName: "token"))
    var token: String?

    func run() async throws {
        let browser = try store.browser()
        let environment = Environment.current
        let token = token ?? environment["STUDIO_UI_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let configuration = UIConfiguration(
            host: host, port: port, token: token, database: browser.database, storage: browser.storage,
            control: BrowserControl(browser: browser),
            scratch: Environment.studioHome(environment) + "/tmp/ui-\(ProcessInfo.processInfo.processIdentifier)")
        let server: UIServer
        do {
            server = try await UIServer.start(configuration)
        } catch let error as UIError {
            printError(error.description)
            throw ExitCode(64)
        } catch {
            printError("studio ui: cannot listen on \(host):\(port): \(error)")
            throw ExitCode(64)
        }
        let shown = host.contains(":") ? "[\(host)]" : host
        // Written unbuffered: whoever started us (a test, a supervisor) reads the port from this line.
        writeOut(Array("studio ui: serving http://\(shown):\(server.port)/\(token == nil ? "" : " (token required)")\n".utf8))
        try await server.run()
    }
}

/// The UI's stop, delete and log reading are `studio stop`'s and `studio logs`' own code.
struct BrowserControl: ExperimentControl {
    let browser: ExperimentBrowser

    func requestStop(_ key: String) async throws -> ExperimentStatus? { try await browser.requestStop(key) }
    func delete(_ key: String) async throws -> ExperimentStatus? { try await browser.delete(key) }
    func output(_ key: String, from offset: Int?, limit: Int) async throws -> OutputSlice {
        try await browser.output(key, from: offset, limit: limit)
    }
    func liveArtifactPath(_ key: String, tag: String) -> String? { browser.liveArtifactPath(key, tag: tag) }
}

/// The web page of one experiment when a UI address is configured: `$STUDIO_UI_URL`, else the config's
/// `ui_url` (e.g. `http://studio-ui.example:5000/`). `studio run` prints it after submitting.
enum UIPageAddress {
    static func experiment(_ key: String, environment: [String: String], config: JSONObject) -> String? {
        let configured = environment["STUDIO_UI_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? config["ui_url"]?.stringValue
        guard var base = configured, base.hasPrefix("http://") || base.hasPrefix("https://") else { return nil }
        if !base.hasSuffix("/") { base += "/" }
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8)
        let encoded = key.utf8.map { allowed.contains($0) ? String(UnicodeScalar($0)) : "%" + String($0, radix: 16, uppercase: true).leftPadded(2) }.joined()
        return base + "#/e/" + encoded
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
