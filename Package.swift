// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "virtsync",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "virtsync", targets: ["virtsync"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // The libvirt C API, found with pkg-config (Debian: libvirt-dev).
        .systemLibrary(
            name: "CLibvirt",
            pkgConfig: "libvirt",
            providers: [.apt(["libvirt-dev"])]
        ),
        // The libgit2 C API, found with pkg-config (Debian: libgit2-dev).
        .systemLibrary(
            name: "CLibgit2",
            pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"])]
        ),
        // Pure core: spec/desired/observed model, diff, planner, plan, renderers. No I/O; hashing
        // from swift-crypto and the heap from swift-collections (decision record 0007); the
        // escape hatch's fragments read with VirtsyncXML (decision record 0012).
        .target(
            name: "VirtsyncCore",
            dependencies: ["VirtsyncXML",
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "HeapModule", package: "swift-collections")]
        ),
        // The spec fuzz target (Fuzz/Spec): built by scripts/fuzz.sh with libFuzzer; a plain build
        // makes the replay tool `virtsync-fuzz-spec FILE...`, which runs the same checks once.
        .executableTarget(name: "virtsync-fuzz-spec", dependencies: ["SpecFuzzChecks"], path: "Fuzz/Spec/Entry"),
        .target(name: "SpecFuzzChecks", dependencies: ["VirtsyncSpec", "VirtsyncCore"], path: "Fuzz/Spec/Checks"),
        // A small XML parser and tree (standard library only): libvirt's documents, read leniently,
        // and a spec's escape-hatch fragments, read strictly (Fuzz/README.md says why by hand).
        .target(name: "VirtsyncXML"),
        // ISO 9660 images (the cloud-init seed's NoCloud volume), written by hand (decision record 0007).
        .target(name: "VirtsyncISO"),
        // YAML files to validated desired state, with file:line:column diagnostics.
        .target(
            name: "VirtsyncSpec",
            dependencies: ["VirtsyncCore", "VirtsyncISO", "VirtsyncXML", .product(name: "Yams", package: "Yams")]
        ),
        // Ports (spec source, hypervisor reader/writer, inventory), executor, the apply workflow.
        .target(
            name: "VirtsyncEngine",
            dependencies: ["VirtsyncCore", .product(name: "Logging", package: "swift-log")]
        ),
        // The hypervisor ports over the libvirt C API; domain/network/pool XML in and out.
        .target(
            name: "VirtsyncLibvirt",
            dependencies: ["VirtsyncEngine", "VirtsyncCore", "VirtsyncXML", "CLibvirt"]
        ),
        // The spec repository port over libgit2 (bare cache, fetch, trees, ancestry, signatures)
        // and SSH signature verification with OpenSSH's ssh-keygen (run through swift-subprocess,
        // with a deadline).
        .target(
            name: "VirtsyncGit",
            dependencies: ["VirtsyncEngine", "VirtsyncCore", "CLibgit2",
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "Subprocess", package: "swift-subprocess"),
                           .product(name: "SystemPackage", package: "swift-system")]
        ),
        // The secret reader port over the host: files under the secrets directory, age files
        // decrypted with Debian's `age` (through swift-subprocess, with a deadline), the digest key.
        .target(
            name: "VirtsyncSecrets",
            dependencies: ["VirtsyncEngine", "VirtsyncCore",
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "Subprocess", package: "swift-subprocess"),
                           .product(name: "SystemPackage", package: "swift-system")]
        ),
        // The image store port over the machine: OS images downloaded (AsyncHTTPClient, resumed
        // with Range, retried) or copied into a cache named by SHA-256, checked and converted with
        // Debian's qemu-img (through swift-subprocess, with a deadline).
        .target(
            name: "VirtsyncImages",
            dependencies: ["VirtsyncEngine", "VirtsyncCore",
                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio"),
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "Subprocess", package: "swift-subprocess"),
                           .product(name: "SystemPackage", package: "swift-system")]
        ),
        // A Hummingbird server on loopback that serves image files to tests (Range, broken
        // connections, request counts).
        .target(
            name: "VirtsyncTestImageServer",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
        ),
        // In-memory hypervisor and helpers for tests of the core and engine.
        .target(
            name: "VirtsyncTesting",
            dependencies: ["VirtsyncEngine", "VirtsyncCore"]
        ),
        // Process-level test support: real git repositories, sshd on loopback, child processes
        // (short-lived ones through swift-subprocess, with a deadline), the built virtsync binary,
        // the multi-host testbed. Used by test targets and the benchmark program.
        .target(
            name: "VirtsyncTestSupport",
            dependencies: [.product(name: "Subprocess", package: "swift-subprocess"),
                           .product(name: "SystemPackage", package: "swift-system")]
        ),
        // The golden-file helper of the test targets (compare, or record and fail the test).
        .target(name: "VirtsyncGolden"),
        // HTTP plumbing, outside the domain modules: the agent's endpoint on Hummingbird (limits,
        // loopback checks, bearer token, TLS) and the client on AsyncHTTPClient, both speaking
        // the plain request and response values the agent's routes take and give.
        .target(
            name: "VirtsyncHTTP",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HummingbirdCore", package: "hummingbird"),
                           .product(name: "HummingbirdTLS", package: "hummingbird"),
                           .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl"),
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
        ),
        // The REST API (`/api/v1`, described by Resources/openapi.yaml, which specs/api/openapi.yaml
        // links to) and the dashboard page, over a cluster view an agent or `virtsync serve`
        // provides; the page, its script and style sheet and the document are compiled in.
        .target(
            name: "VirtsyncDashboard",
            dependencies: ["VirtsyncCore", "VirtsyncHTTP"],
            resources: [.embedInCode("Assets/dashboard.html"), .embedInCode("Assets/dashboard.js"),
                        .embedInCode("Assets/dashboard.css"), .embedInCode("Resources/openapi.yaml")]
        ),
        // etcd v3 over its own gRPC API (leases, keys, compare-and-put transactions, watches) for
        // HA; the messages and client stubs in Generated/ come from etcd's .proto files
        // (scripts/generate-etcd.sh). `EtcdHACoordinator` is HA's coordination port over it.
        .target(
            name: "VirtsyncEtcd",
            dependencies: ["VirtsyncEngine", "VirtsyncCore",
                           .product(name: "GRPCCore", package: "grpc-swift-2"),
                           .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                           .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                           .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        // The agent: its configuration (agent.yaml), the reconcile pass over the engine's ports,
        // status, metrics, the routes of its HTTP endpoint (health, status, metrics, webhook),
        // systemd notification and the services of its group. Imports no adapter.
        .target(
            name: "VirtsyncAgent",
            dependencies: ["VirtsyncEngine", "VirtsyncCore", "VirtsyncSpec", "VirtsyncHTTP", "VirtsyncDashboard",
                           .product(name: "Logging", package: "swift-log"), .product(name: "Yams", package: "Yams"),
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                           .product(name: "Metrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus")]
        ),
        // The agent's composition root: wires the agent to libvirt and git (the adapters), the
        // HTTP endpoint and the service group. With the executables, the only place that
        // imports adapters.
        .target(
            name: "VirtsyncAgentService",
            dependencies: ["VirtsyncAgent", "VirtsyncHTTP", "VirtsyncDashboard", "VirtsyncEngine", "VirtsyncCore", "VirtsyncSpec", "VirtsyncGit", "VirtsyncLibvirt", "VirtsyncEtcd", "VirtsyncSecrets", "VirtsyncImages",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Metrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus")]
        ),
        // Thin CLI: parse options, call the engine, map the outcome to an exit code.
        .executableTarget(
            name: "virtsync",
            dependencies: [
                "VirtsyncCore", "VirtsyncSpec", "VirtsyncEngine", "VirtsyncLibvirt", "VirtsyncGit", "VirtsyncAgent", "VirtsyncAgentService", "VirtsyncHTTP", "VirtsyncEtcd", "VirtsyncSecrets", "VirtsyncImages", "VirtsyncDashboard",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Benchmark program: prints validate/plan/libvirt-listing figures for generated specs.
        .executableTarget(
            name: "virtsync-bench",
            dependencies: ["VirtsyncCore", "VirtsyncSpec", "VirtsyncEngine", "VirtsyncLibvirt", "VirtsyncGit", "VirtsyncAgent", "VirtsyncHTTP", "CLibvirt",
                           "VirtsyncTestSupport", "VirtsyncTesting", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "VirtsyncCoreTests", dependencies: ["VirtsyncCore", "VirtsyncTesting", "VirtsyncGolden"],
                    resources: [.copy("Golden")]),
        .testTarget(name: "VirtsyncSpecTests", dependencies: ["VirtsyncSpec", "VirtsyncCore", "VirtsyncISO", "VirtsyncXML", "VirtsyncGolden", "VirtsyncTestSupport", "SpecFuzzChecks"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "VirtsyncEngineTests",
                    dependencies: ["VirtsyncEngine", "VirtsyncCore", "VirtsyncTesting", "VirtsyncSpec"]),
        .testTarget(name: "VirtsyncLibvirtTests",
                    dependencies: ["VirtsyncLibvirt", "VirtsyncXML", "VirtsyncEngine", "VirtsyncCore", "VirtsyncSpec", "VirtsyncTesting", "VirtsyncGolden"],
                    resources: [.copy("Golden")]),
        // Real repositories in temporary folders (git CLI), file:// and ssh:// (sshd on loopback).
        .testTarget(name: "VirtsyncGitTests",
                    dependencies: ["VirtsyncGit", "VirtsyncEngine", "VirtsyncSpec", "VirtsyncCore", "VirtsyncTestSupport"]),
        // The agent: its loop with an injected clock, HTTP endpoint, and the service run as a
        // process against real git repositories and (with VIRTSYNC_SYSTEM_URI) a real libvirtd.
        .testTarget(name: "VirtsyncAgentTests",
                    dependencies: ["VirtsyncAgent", "VirtsyncHTTP", "VirtsyncDashboard", "VirtsyncEngine", "VirtsyncSpec", "VirtsyncCore", "VirtsyncTesting", "VirtsyncLibvirt",
                                   "VirtsyncTestSupport", .product(name: "HummingbirdTesting", package: "hummingbird")]),
        // The host's secret reader: real files with real permissions, real age encryption.
        .testTarget(name: "VirtsyncSecretsTests",
                    dependencies: ["VirtsyncSecrets", "VirtsyncEngine", "VirtsyncCore", "VirtsyncTestSupport"]),
        // The image cache: downloads from a server on loopback (resumed, retried, refused), real
        // qemu-img, real files.
        .testTarget(name: "VirtsyncImagesTests",
                    dependencies: ["VirtsyncImages", "VirtsyncEngine", "VirtsyncCore", "VirtsyncTestSupport", "VirtsyncTestImageServer",
                                   .product(name: "Crypto", package: "swift-crypto")]),
        // Against a real single-member etcd on loopback, started by the tests (skipped without etcd).
        .testTarget(name: "VirtsyncEtcdTests", dependencies: ["VirtsyncEtcd", "VirtsyncEngine", "VirtsyncCore", "VirtsyncTesting", "VirtsyncTestSupport"]),
        // Several libvirt hosts on one machine (scripts/testbed.sh, network and mount namespaces)
        // with real guests: cluster view, live migration, maintenance.
        .testTarget(name: "VirtsyncClusterTests",
                    dependencies: ["VirtsyncLibvirt", "VirtsyncEngine", "VirtsyncSpec", "VirtsyncCore", "VirtsyncTestSupport"]),
        // Against a real libvirtd started by scripts/test.sh (VIRTSYNC_SYSTEM_URI).
        .testTarget(name: "VirtsyncSystemTests",
                    dependencies: ["VirtsyncLibvirt", "VirtsyncSpec", "VirtsyncEngine", "VirtsyncCore", "VirtsyncTestSupport",
                                   "VirtsyncImages", "VirtsyncTestImageServer", .product(name: "Crypto", package: "swift-crypto")],
                    exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
