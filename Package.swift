// swift-tools-version:6.0
import PackageDescription

// Targets are stacked in the layers of the pipeline (DESIGN.md §2; docs/architecture.md draws them), in this order:
// StackModel → StackLoader (+ ProviderKit, for the providers' settings schemas) → Checks → ProviderKit → Expansion →
// ResourceGraph → StateStore → Planning → Execution → Engine → providers (each on ProviderKit alone) → BuiltinProviders →
// MAIFCommands → maifctl. Only MAIFCommands knows which providers are built in; the Engine names none.
let package = Package(
    name: "maifctl",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "maifctl", targets: ["maifctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // Already there through AsyncHTTPClient; named because the swarm provider builds TLS client configurations.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
    ],
    targets: [
        // Diagnostics, source locations, typed values (durations, sizes, …) and the typed stack model.
        .target(name: "StackModel"),
        // YAML files → merged, interpolated, schema-checked `Stack` plus diagnostics.
        .target(name: "StackLoader", dependencies: ["StackModel", "ProviderKit", .product(name: "Yams", package: "Yams")]),
        // The production checklist and quorum rules of the guide, as a catalogue of rules with stable ids.
        .target(name: "Checks", dependencies: ["StackModel"]),
        // The provider contract: addresses, attribute values, schemas, the `Provider` protocol and registry.
        .target(name: "ProviderKit", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // The one place that maps stack sections onto provider resource types.
        .target(name: "Expansion", dependencies: ["StackModel", "ProviderKit"]),
        // A small generic DAG: topological order, cycle detection, Mermaid/DOT rendering.
        .target(name: "ResourceGraph"),
        // libgit2, found with pkg-config (apt-get install libgit2-dev).
        .systemLibrary(name: "CGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        // State in git: canonical per-resource JSON files, one commit per apply.
        .target(name: "StateStore", dependencies: ["ProviderKit", "CGit2", .product(name: "Crypto", package: "swift-crypto")]),
        // Desired resources + prior state + providers → a plan of actions with attribute diffs.
        .target(name: "Planning", dependencies: ["StackModel", "ProviderKit", "Expansion", "ResourceGraph", "StateStore",
                                          .product(name: "Crypto", package: "swift-crypto")]),
        // Walks a plan's DAG with bounded parallelism, recording every finished action in state.
        .target(name: "Execution", dependencies: ["ProviderKit", "ResourceGraph", "Planning", "StateStore"]),
        // The verbs: open a stack against its state and providers; plan, apply, destroy, refresh, import, recover.
        .target(name: "Engine", dependencies: [
            "StackModel", "StackLoader", "Checks", "ProviderKit", "Expansion", "Planning", "StateStore", "Execution",
        ]),
        // The embedded default provider: "deploys" into a folder on this machine.
        .target(name: "LocalProvider", dependencies: ["ProviderKit"], path: "providers/local"),
        // Cloud and platform providers: each declares its resource types and speaks its system's protocol.
        .target(name: "AWSProvider", dependencies: [
            "ProviderKit", .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "Crypto", package: "swift-crypto"),
        ], path: "providers/aws"),
        // Google's REST APIs (Compute Engine v1, Cloud Storage, Cloud DNS, Cloud Monitoring) with OAuth 2.0 (JWT RS256).
        .target(name: "GCPProvider", dependencies: [
            "ProviderKit", .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ], path: "providers/gcp"),
        // Azure Resource Manager over AsyncHTTPClient; client assertions signed RS256 with _CryptoExtras.
        .target(name: "AzureProvider", dependencies: [
            "ProviderKit", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], path: "providers/azure"),
        // The Kubernetes API over HTTPS (server-side apply, discovery, kubeconfig with exec plugins, in-cluster).
        .target(name: "KubernetesProvider", dependencies: [
            "ProviderKit", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Yams", package: "Yams"),
        ], path: "providers/kubernetes"),
        // Docker Engine API v1.41 over a unix socket or TCP with TLS client certificates.
        .target(name: "SwarmProvider", dependencies: [
            "ProviderKit", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], path: "providers/swarm"),
        .target(name: "OnPremProvider", dependencies: ["ProviderKit"], path: "providers/onprem"),
        // Every provider that ships inside maifctl, by name.
        .target(name: "BuiltinProviders", dependencies: [
            "ProviderKit", "LocalProvider", "AWSProvider", "GCPProvider", "AzureProvider", "KubernetesProvider", "SwarmProvider",
            "OnPremProvider",
        ]),
        // The command line: parses flags, calls the engine, hands results to a view.
        .target(name: "MAIFCommands", dependencies: [
            "StackModel", "StackLoader", "Checks", "ProviderKit", "Planning", "StateStore", "Execution", "Engine", "BuiltinProviders",
            // `maifctl render --platform kubernetes` writes the objects as the k8s provider applies them.
            "KubernetesProvider",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "maifctl", dependencies: ["MAIFCommands"]),

        // What test suites share: finding the built maifctl, running processes bounded in time, a seeded generator.
        .target(name: "TestSupport", path: "Tests/TestSupport"),

        .testTarget(name: "StackLoaderTests", dependencies: ["StackLoader", "StackModel", "BuiltinProviders", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "EngineTests", dependencies: [
            "StackLoader", "StackModel", "ProviderKit", "Expansion", "Planning", "StateStore", "Execution", "Engine", "LocalProvider",
        ]),
        .testTarget(name: "ChecksTests", dependencies: ["Checks", "StackLoader", "StackModel"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ExpansionTests", dependencies: [
            "StackLoader", "StackModel", "Checks", "ProviderKit", "Expansion", "Planning", "StateStore", "Engine", "BuiltinProviders",
            .product(name: "Yams", package: "Yams"),
            "KubernetesProvider",
        ], resources: [.copy("Snapshots")]),
        .testTarget(name: "StateStoreTests", dependencies: ["StateStore"]),
        // Through the built maifctl: help, colour, validate, plan, apply, graph and state commands.
        // Pull-request plans, apply events, the live status line, init and examples/ci are checked with the tools
        // scripts/ci-tools.sh installs (markdown-it-py, jsonschema, tmux, actionlint, check-jsonschema); Checkers/ holds
        // their Python side.
        .testTarget(name: "CLITests", dependencies: ["maifctl"], exclude: ["Checkers"]),
        // End to end through the built maifctl: crashes, concurrent runs, remotes, secrets, saved plans.
        .testTarget(name: "StateSafetyTests", dependencies: ["maifctl", "TestSupport"]),
        // Against real sshd processes on loopback addresses, started by scripts/sshd-hosts.sh.
        .testTarget(name: "OnPremIntegrationTests", dependencies: ["OnPremProvider", "ProviderKit", "maifctl", "TestSupport"]),
        .testTarget(name: "AWSUnitTests", dependencies: ["AWSProvider", "ProviderKit"]),
        // Against moto's server on loopback (scripts/moto.sh, started by scripts/test.sh); checked with the AWS CLI.
        .testTarget(name: "AWSIntegrationTests", dependencies: ["AWSProvider", "ProviderKit", "maifctl", "TestSupport"]),
        .testTarget(name: "GCPUnitTests", dependencies: [
            "GCPProvider", "ProviderKit", .product(name: "_CryptoExtras", package: "swift-crypto"), .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Against the local GCP servers (scripts/gcp-servers.sh, started by scripts/test.sh): requests checked against
        // Google's discovery documents; end to end through the built maifctl, checked with Google's Python clients.
        .testTarget(name: "GCPIntegrationTests", dependencies: ["GCPProvider", "ProviderKit", "maifctl", "TestSupport"]),
        .testTarget(name: "SwarmUnitTests", dependencies: ["SwarmProvider", "ProviderKit"]),
        // The azure provider without a server: names, shapes, settings, retries, the client assertion.
        .testTarget(name: "AzureUnitTests", dependencies: [
            "AzureProvider", "ProviderKit", .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        // Against the ARM stand-in (scripts/arm-standin.sh, started by scripts/test.sh), through the provider and the
        // built maifctl; checked through the stand-in's own API.
        .testTarget(name: "AzureIntegrationTests", dependencies: ["AzureProvider", "ProviderKit", "maifctl", "TestSupport"]),
        // Kubeconfig resolution, exec plugins, drift projection, conflicts, readiness, render's YAML: no server.
        .testTarget(name: "KubernetesUnitTests", dependencies: ["KubernetesProvider", "ProviderKit", .product(name: "Yams", package: "Yams")]),
        // Against the kube-apiserver stand-in (scripts/kube-apiserver.sh, started by scripts/test.sh), through the built
        // maifctl; checked with the real kubectl.
        .testTarget(name: "KubernetesIntegrationTests", dependencies: [
            "KubernetesProvider", "ProviderKit", "maifctl", "TestSupport", .product(name: "Yams", package: "Yams"),
        ]),
        // Against a real dockerd swarm (scripts/dockerd.sh, started by scripts/test.sh), through the built maifctl;
        // checked with the docker CLI.
        .testTarget(name: "SwarmIntegrationTests", dependencies: ["maifctl", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
