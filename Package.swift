// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "notification-gateway",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "gateway", targets: ["gateway"]),
        .executable(name: "gateway-bench", targets: ["gateway-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.0.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.70.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.0.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
    ],
    targets: [
        // C libraries, wrapped as system library targets. Their types never leave the Swift module
        // that imports them (RedisQueue, Providers).
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),

        // Pure logic: jobs, validation, decisions, outcomes, configuration. No I/O.
        .target(name: "GatewayCore"),
        // Templates on disk -> rendered messages (swift-mustache plus strict variable checks).
        .target(name: "Templates", dependencies: [
            "GatewayCore", "YAMLMessages",
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "Yams", package: "Yams"),
        ]),
        // A YAML parse error worded for the person editing the file (every config reader uses it).
        .target(name: "YAMLMessages", dependencies: [.product(name: "Yams", package: "Yams")]),
        // Customers' replies -> intents, label, score, promise, with the reasons (lexicons in config/replies/).
        // Optimized in debug builds too: the labeled-set checks (RepliesTests) and scripts/train-replies
        // read 24,000 replies, half an hour of CPU unoptimized, a few minutes optimized.
        .target(name: "Replies", dependencies: [
            "GatewayCore", "YAMLMessages",
            .product(name: "Yams", package: "Yams"),
        ], swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // hiredis connection on its own thread, stream consumer, scheduled set.
        .target(name: "RedisQueue", dependencies: [
            "CHiredis", "GatewayCore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // libcurl multi HTTP client on its own thread, provider adapters.
        .target(name: "Providers", dependencies: [
            "CCurl", "GatewayCore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The append-only contact log (SQLite through GRDB).
        .target(name: "ContactLog", dependencies: [
            "GatewayCore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "GRDB", package: "GRDB.swift"),
            // SQLite's C API, for binding an event's values without boxing each one.
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
        ]),
        // The contact log in PostgreSQL (postgres-nio), for several workers on several machines.
        .target(name: "PostgresContactLog", dependencies: [
            "ContactLog", "GatewayCore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The HTTP API (Hummingbird): health, templates.
        .target(name: "GatewayHTTP", dependencies: [
            "GatewayCore", "YAMLMessages", "Templates", "ContactLog", "Providers", "RedisQueue", "Replies", "Conversations",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Hummingbird", package: "hummingbird"),
            // HTTP1Channel and its pipeline, for the connection limits.
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The web console at /console/ for marketing and compliance: sessions in Redis, CSRF, pages.
        .target(name: "Console", dependencies: [
            "GatewayHTTP", "GatewayCore", "Templates", "ContactLog", "RedisQueue", "Providers", "Conversations",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Customers' replies acted on (opt-outs, pauses, escalations) and what people do with escalations.
        .target(name: "Conversations", dependencies: [
            "GatewayCore", "YAMLMessages", "ContactLog", "Replies", "RedisQueue",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Yams", package: "Yams"),
        ]),
        // The batch pipeline: decode, decide, render, dispatch, record, ack.
        .target(name: "Worker", dependencies: [
            "GatewayCore", "YAMLMessages", "Templates", "RedisQueue", "Providers", "ContactLog", "PostgresContactLog", "Conversations",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Yams", package: "Yams"),
        ]),
        // Prometheus metrics: the contact log and the providers wrapped to count what happens, the
        // queue's figures read from Redis when scraped, GET /metrics' exposition.
        .target(name: "GatewayMetrics", dependencies: [
            "GatewayCore", "ContactLog", "Providers", "RedisQueue", "Worker",
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // The worker and the HTTP API wired together, as `gateway run` and the end-to-end tests run them.
        .target(name: "GatewayApp", dependencies: [
            "Worker", "GatewayHTTP", "GatewayCore", "RedisQueue", "Replies", "Conversations", "GatewayMetrics", "Console",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "gateway", dependencies: [
            "GatewayApp", "Worker", "GatewayCore", "ContactLog", "RedisQueue", "Templates", "GatewayHTTP", "Replies", "Conversations", "GatewayMetrics",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // scripts/bench: enqueues jobs, plays Twilio on loopback, measures `gateway run` processes.
        .executableTarget(name: "gateway-bench", dependencies: [
            "GatewayCore", "RedisQueue", "ContactLog", "Providers", "Worker",
        ]),

        // Loopback fakes and real-server helpers shared by the test targets.
        .target(name: "TestSupport", dependencies: [
            "RedisQueue", "Providers", "ContactLog", "GatewayCore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdHTTP2", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ], path: "Tests/TestSupport"),

        // Unit tests (`XUnitTests`): no Redis, PostgreSQL or SQLite, no sockets, servers or subprocesses;
        // they may read the repository's config/ and templates/ and write a temporary file
        // (`swift test --filter Unit`). Integration tests (`XTests`): real Redis and PostgreSQL,
        // SQLite files, loopback fakes of the providers, the built binary. As postgres-nio keeps
        // its unit and integration tests apart.
        .testTarget(name: "GatewayCoreUnitTests", dependencies: ["GatewayCore", "TestSupport"]),
        .testTarget(name: "GatewayHTTPUnitTests", dependencies: [
            "GatewayHTTP",
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        .testTarget(name: "GatewayHTTPTests", dependencies: [
            "GatewayHTTP", "Templates", "GatewayCore", "ContactLog", "Providers", "RedisQueue", "Replies", "TestSupport", "Conversations", "Worker",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "ConsoleUnitTests", dependencies: ["Console", "GatewayCore", "Worker"]),
        .testTarget(name: "ConsoleTests", dependencies: [
            "Console", "GatewayHTTP", "Templates", "GatewayCore", "ContactLog", "RedisQueue", "TestSupport", "Worker",
            // The audit page's test breaks a chain as someone with write access to the file could.
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "RepliesUnitTests", dependencies: ["Replies", "TestSupport"]),
        // The labeled-set evaluation and the shipped model trained again: no I/O, but minutes of CPU.
        .testTarget(name: "RepliesTests", dependencies: ["Replies", "TestSupport"]),
        .testTarget(name: "TemplatesUnitTests", dependencies: ["Templates", "GatewayCore", "TestSupport", "Worker"]),
        .testTarget(name: "RedisQueueUnitTests", dependencies: ["RedisQueue", "GatewayCore"]),
        .testTarget(name: "RedisQueueTests", dependencies: ["RedisQueue", "GatewayCore", "TestSupport"]),
        .testTarget(name: "ContactLogUnitTests", dependencies: [
            "ContactLog", "GatewayCore",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "ContactLogTests", dependencies: [
            "ContactLog", "PostgresContactLog", "GatewayCore", "TestSupport",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "ProvidersUnitTests", dependencies: [
            "Providers", "GatewayCore", "TestSupport",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        .testTarget(name: "ProvidersTests", dependencies: [
            "Providers", "GatewayCore", "TestSupport",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
        ]),
        .testTarget(name: "WorkerUnitTests", dependencies: [
            "Worker", "GatewayApp", "GatewayCore", "GatewayMetrics", "Providers", "RedisQueue", "ContactLog", "Templates", "Conversations", "TestSupport",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "WorkerTests", dependencies: [
            "Worker", "GatewayApp", "GatewayHTTP", "GatewayCore", "RedisQueue", "ContactLog", "Providers", "Templates", "TestSupport", "Conversations", "Replies",
            "GatewayMetrics",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
    ]
)
