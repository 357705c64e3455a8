// swift-tools-version: 6.0
import PackageDescription

// One executable, `studio`, built from small targets with one-way dependencies (each arrow: "is used by"):
//   CStudioInit, StudioThreads (the one thread helper: Glibc only) → StudioInit (the PID-1 core: the C library only)
//   StudioThreads → StudioQueues, StudioWorker, StudioCLI (blocking waits off the cooperative pool)
//   StudioModel (pure values), StudioHTTP (the one HTTP client) → StudioCredentials
//   AMQP091 (an AMQP 0-9-1 client on swift-nio; knows nothing of StudioML) → StudioQueues
//   StudioModel, StudioHTTP, StudioCredentials, CZlib → StudioStorage, StudioQueues (siblings)
//   StudioInit, StudioStorage, StudioQueues → StudioWorker → StudioCLI (parsing and wiring) → studio
//   StudioModel, StudioStorage → StudioUI (the web UI, beside StudioWorker) → StudioCLI
let package = Package(
    name: "studio",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "studio", targets: ["studio"]),
    ],
    // The direct dependencies, pinned `exact:` (the repository keeps no Package.resolved):
    // scripts/build-static.sh drops runtime objects by name and the binary's size budget is thin,
    // so a silent update must not change what is linked. The packages these bring in are pinned
    // by scripts/pinned-packages.txt, which CI checks (scripts/check-pins.sh) after resolving.
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),     // the CLI
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),              // SHA-256, HMAC, RSA for JWTs
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"), // every cloud API call
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),               // event loops, HTTP/1
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),            // TLS (BoringSSL)
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),                // the worker's log API (async-http-client links it anyway)
    ],
    targets: [
        // The PID-1 core: C for what must run between fork and exec, Swift for the rest.
        .target(name: "CStudioInit"),
        .target(name: "StudioInit", dependencies: ["CStudioInit", "StudioThreads"]),
        // The one way to start a thread (for blocking work off the cooperative pool): Glibc only.
        .target(name: "StudioThreads"),

        // StudioML's wire schema: pure values.
        .target(name: "StudioModel"),

        // Object stores (records and artifacts) and the tar format.
        .target(name: "CZlib", path: "Sources/CZlib", linkerSettings: [.linkedLibrary("z")]),
        .target(name: "StudioStorage", dependencies: [
            "StudioModel", "CZlib", "StudioCredentials", "StudioHTTP",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),

        // One HTTP client for every cloud backend: timeouts, retries with backoff, streaming to files.
        .target(name: "StudioHTTP", dependencies: [
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),

        // Cloud credentials and request signing (Google ADC, AWS chain, SigV4).
        .target(name: "StudioCredentials", dependencies: [
            "StudioHTTP", "StudioModel",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),

        // An AMQP 0-9-1 client (frames, methods, connection and channel) for RabbitMQ queues.
        .target(name: "AMQP091", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),

        // Job queues: the protocol and one file per backend.
        .target(name: "StudioQueues", dependencies: ["StudioModel", "StudioCredentials", "StudioHTTP", "StudioThreads", "AMQP091"]),

        // The worker loop and the experiment executor.
        .target(name: "StudioWorker", dependencies: [
            "StudioInit", "StudioModel", "StudioStorage", "StudioQueues", "StudioThreads",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // The web UI: an HTTP/1 server on swift-nio over the database and storage stores. Its HTML, JS and
        // CSS are files in Assets/, embedded by scripts/embed-ui-assets.sh into EmbeddedAssets/.
        .target(name: "StudioUI", dependencies: [
            "StudioModel", "StudioStorage", "StudioCredentials",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], exclude: ["Assets"]),

        // Argument parsing and wiring only.
        .target(name: "StudioCLI", dependencies: [
            "StudioInit", "StudioModel", "StudioStorage", "StudioQueues", "StudioWorker", "StudioUI", "StudioThreads",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "studio", dependencies: ["StudioCLI", "StudioInit"]),

        .testTarget(name: "StudioInitTests", dependencies: ["StudioInit"]),
        .testTarget(name: "StudioModelTests", dependencies: ["StudioModel"]),
        .testTarget(name: "StudioStorageTests", dependencies: ["StudioStorage"]),
        .testTarget(name: "StudioHTTPTests", dependencies: ["StudioHTTP"]),
        .testTarget(name: "StudioThreadsTests", dependencies: ["StudioThreads"]),
        .testTarget(name: "StudioCLITests", dependencies: ["StudioCLI"]),
        .testTarget(name: "StudioCredentialsTests", dependencies: ["StudioCredentials"]),
        .testTarget(name: "AMQP091Tests", dependencies: ["AMQP091"]),
        .testTarget(name: "StudioQueuesTests", dependencies: ["StudioQueues", "AMQP091"]),
        .testTarget(name: "StudioWorkerTests", dependencies: ["StudioWorker"]),
        .testTarget(name: "StudioUITests", dependencies: ["StudioUI", "StudioWorker", "StudioModel", "StudioStorage", "StudioCredentials", "StudioHTTP"]),
        // Runs the built `studio` binary: PID namespaces, chroots, end-to-end runs.
        .testTarget(name: "IntegrationTests", dependencies: ["studio", "StudioInit", "StudioModel"],
                    exclude: ["ui_browser_test.py"]),
    ]
)
