// swift-tools-version: 6.0
import PackageDescription

// One executable, `studio`, built from small targets with one-way dependencies:
// CStudioInit → StudioInit → (StudioModel, StudioStorage, StudioQueues) → StudioWorker → StudioCLI → studio.
let package = Package(
    name: "studio",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "studio", targets: ["studio"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // The PID-1 core: C for what must run between fork and exec, Swift for the rest.
        .target(name: "CStudioInit"),
        .target(name: "StudioInit", dependencies: ["CStudioInit"]),

        // StudioML's wire schema: pure values.
        .target(name: "StudioModel"),

        // Object stores (records and artifacts) and the tar format.
        .target(name: "CZlib", path: "Sources/CZlib", linkerSettings: [.linkedLibrary("z")]),
        .target(name: "StudioStorage", dependencies: [
            "StudioModel", "CZlib",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),

        // Cloud credentials and request signing (Google ADC, AWS chain, SigV4).
        .target(name: "StudioCredentials", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),

        // Job queues: the protocol and one file per backend.
        .target(name: "StudioQueues", dependencies: ["StudioModel"]),

        // The worker loop and the experiment executor.
        .target(name: "StudioWorker", dependencies: [
            "StudioInit", "StudioModel", "StudioStorage", "StudioQueues",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),

        // Argument parsing and wiring only.
        .target(name: "StudioCLI", dependencies: [
            "StudioInit", "StudioModel", "StudioStorage", "StudioQueues", "StudioWorker",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "studio", dependencies: ["StudioCLI", "StudioInit"]),

        .testTarget(name: "StudioInitTests", dependencies: ["StudioInit"]),
        .testTarget(name: "StudioModelTests", dependencies: ["StudioModel"]),
        .testTarget(name: "StudioStorageTests", dependencies: ["StudioStorage"]),
        .testTarget(name: "StudioCredentialsTests", dependencies: ["StudioCredentials"]),
        .testTarget(name: "StudioQueuesTests", dependencies: ["StudioQueues"]),
        .testTarget(name: "StudioWorkerTests", dependencies: ["StudioWorker"]),
        // Runs the built `studio` binary: PID namespaces, chroots, end-to-end runs.
        .testTarget(name: "IntegrationTests", dependencies: ["studio", "StudioModel"]),
    ]
)
