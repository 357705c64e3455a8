import Foundation
import XCTest

/// docker/k8s/ui-deployment.yaml, read with PyYAML: the UI listens beyond loopback only with a token, and
/// that token comes from a Secret; the Service reaches the container's port.
final class UIManifestTests: XCTestCase {
    func testTheUIDeploymentTakesItsTokenFromASecretAndTheServiceReachesIt() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))",
                             root + "/docker/k8s/ui-deployment.yaml"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw XCTSkip("PyYAML is missing: pip install pyyaml") }
        let documents = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        let deployment = try XCTUnwrap(documents.first { $0["kind"] as? String == "Deployment" })
        let service = try XCTUnwrap(documents.first { $0["kind"] as? String == "Service" })
        let pod = try XCTUnwrap(((deployment["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let container = try XCTUnwrap((pod["containers"] as? [[String: Any]])?.first)
        let args = try XCTUnwrap(container["args"] as? [String])
        XCTAssertEqual(Array(args.prefix(1)), ["ui"])
        XCTAssertEqual(args.firstIndex(of: "--host").map { args[$0 + 1] }, "0.0.0.0")
        XCTAssertFalse(args.contains("--token"), "a token on the command line shows in ps and the pod spec")
        let env = try XCTUnwrap(container["env"] as? [[String: Any]])
        let token = try XCTUnwrap(env.first { $0["name"] as? String == "STUDIO_UI_TOKEN" })
        XCTAssertNil(token["value"], "the token is not written in the manifest")
        XCTAssertNotNil((token["valueFrom"] as? [String: Any])?["secretKeyRef"], "the token comes from a Secret")
        let port = try XCTUnwrap(args.firstIndex(of: "--port").map { Int(args[$0 + 1]) } ?? nil)
        let containerPort = try XCTUnwrap((container["ports"] as? [[String: Any]])?.first)
        XCTAssertEqual(containerPort["containerPort"] as? Int, port)
        let servicePort = try XCTUnwrap(((service["spec"] as? [String: Any])?["ports"] as? [[String: Any]])?.first)
        XCTAssertEqual(servicePort["targetPort"] as? String, containerPort["name"] as? String)
        let selector = (service["spec"] as? [String: Any])?["selector"] as? [String: String]
        let labels = (((deployment["spec"] as? [String: Any])?["template"] as? [String: Any])?["metadata"] as? [String: Any])?["labels"] as? [String: String]
        XCTAssertEqual(selector, labels)
    }
}
