import Crypto
import Foundation
import GatewayCore
import Providers
import Testing
@testable import Worker

@Suite struct ConfigurationTests {
    func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-\(UUID().uuidString).yml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theShippedFileLoadsWithItsDocumentedDefaults() throws {
        let c = try GatewayConfiguration.load(path: repositoryRoot.appendingPathComponent("config/gateway.yml").path, environment: [:])
        var expected = GatewayConfiguration()
        expected.consumer = c.consumer
        #expect(c == expected)
    }

    /// log_chains is read and range-checked; a SQLite log refuses more than one chain before it opens anything.
    @Test func logChainsNeedPostgreSQL() async throws {
        #expect(try GatewayConfiguration.load(path: try file("log_chains: 8\n"), environment: [:]).logChains == 8)
        #expect(throws: ConfigurationError.self) { try GatewayConfiguration.load(path: try file("log_chains: 0\n"), environment: [:]) }
        let signed = try GatewayConfiguration.load(path: try file("checkpoint_key: /etc/gateway/checkpoint.key\ncheckpoint_seconds: 600\n"), environment: [:])
        #expect(signed.checkpointKeyPath == "/etc/gateway/checkpoint.key" && signed.checkpointSeconds == 600)
        #expect(GatewayConfiguration().checkpointKeyPath == nil && GatewayConfiguration().checkpointSeconds == 3600)
        #expect(throws: ConfigurationError.self) { try GatewayConfiguration.load(path: try file("checkpoint_seconds: 1\n"), environment: [:]) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("never-\(UUID().uuidString).sqlite").path
        await #expect { _ = try await ContactLogs.open(path, chains: 2) } throws: { error in
            "\(error)".contains("log_chains: 2 needs the PostgreSQL contact log")
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func environmentOverridesTheFile() throws {
        let path = try file("batch_size: 10\nredis_url: redis://10.0.0.1:6379/0\n")
        let c = try GatewayConfiguration.load(path: path, environment: ["GATEWAY_BATCH_SIZE": "512", "REDIS_URL": "redis://127.0.0.1:7000/1"])
        #expect(c.batchSize == 512)
        #expect(c.redisURL == "redis://127.0.0.1:7000/1")
    }

    @Test(arguments: [
        ("batch_size: lots", "batch_size must be a whole number from 1 to 10000, got \"lots\""),
        ("batch_size: 0", "batch_size must be a whole number from 1 to 10000, got \"0\""),
        ("max_attempts: [1, 2]", "max_attempts must be a single value, not a list or mapping"),
        ("- a\n- b", "must be a mapping of key: value lines"),
        ("stream: [unclosed", "not valid YAML"),
        ("batch_size: 5\nbatch_size: 6", "not valid YAML: a key is written twice in the mapping at line 1, column 1: 'batch_size'; keep one"),
        ("retry_base_seconds: -1", "retry_base_seconds must be a number of seconds between 0.01 and 86400"),
        ("http_header_timeout_seconds: 0", "http_header_timeout_seconds must be a number of seconds from 0.1 to 3600, got \"0\""),
        ("http_max_connections: none", "http_max_connections must be a whole number from 1 to 1000000, got \"none\""),
    ])
    func mistakesNameTheFileAndTheKey(text: String, message: String) throws {
        let path = try file(text)
        #expect { try GatewayConfiguration.load(path: path, environment: [:]) } throws: { error in
            let text = "\(error)"
            return text.hasPrefix(path) && text.contains(message)
        }
    }

    @Test func httpConnectionLimitsAreRead() throws {
        let path = try file("http_header_timeout_seconds: 2.5\nhttp_body_timeout_seconds: 30\nhttp_idle_timeout_seconds: 5\n")
        let c = try GatewayConfiguration.load(path: path, environment: ["GATEWAY_HTTP_MAX_CONNECTIONS": "200"])
        #expect([c.httpHeaderTimeoutSeconds, c.httpBodyTimeoutSeconds, c.httpIdleTimeoutSeconds] == [2.5, 30, 5])
        #expect(c.httpMaxConnections == 200)
    }

    @Test func badEnvironmentValuesNameTheVariable() {
        #expect { try GatewayConfiguration.load(path: nil, environment: ["GATEWAY_BLOCK_MS": "soon"]) } throws: { error in
            "\(error)".hasPrefix("environment GATEWAY_BLOCK_MS: block_ms must be a whole number")
        }
    }
}

@Suite struct ProviderRegistryTests {
    let client = CurlHTTPClient()

    func load(_ files: [String: String], environment: [String: String] = ["TOKEN": "s3cret"]) throws -> ProviderRegistry {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("providers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return try ProviderRegistry.load(directory: dir.path, outboxPath: dir.appendingPathComponent("outbox.jsonl").path,
                                         client: client, environment: environment)
    }

    let sid = "AC" + String(repeating: "0", count: 32)

    @Test func noProvidersMeansTheSandboxForEveryChannel() throws {
        let registry = try load([:])
        #expect(registry.provider(for: .sms)?.name == "sandbox")
        #expect(registry.provider(for: .push)?.name == "sandbox")
    }

    @Test func secretsComeFromTheEnvironmentAndPriorityDecides() throws {
        let registry = try load([
            "twilio.yml": "type: twilio\naccount_sid: \(sid)\nauth_token: ${TOKEN}\nfrom: \"+15005550006\"\npriority: 10\n",
            "sandbox.yml": "type: sandbox\npriority: 20\n",
            "README.txt": "ignored",
        ], environment: ["TOKEN": "s3cret"])
        #expect(registry.provider(for: .sms)?.name == "twilio")
        #expect(registry.provider(for: .email)?.name == "sandbox")
        #expect((registry.provider(for: .sms) as? TwilioProvider)?.configuration.authToken == "s3cret")
        #expect((registry.provider(for: .sms) as? TwilioProvider)?.configuration.baseURL == "https://api.twilio.com")
    }

    @Test(arguments: [
        ("auth_token: ${TOKEN}\nfrom: \"+15005550006\"", "account_sid is required"),
        ("account_sid: AC12\nauth_token: ${TOKEN}\nfrom: \"+15005550006\"", "account_sid must be a Twilio Account SID"),
        ("account_sid: SID\nauth_token: ${TOKEN}", "account_sid must be a Twilio Account SID"),
        ("account_sid: SIDOK\nauth_token: ${TOKEN}", "give exactly one of from"),
        ("account_sid: SIDOK\nauth_token: ${TOKEN}\nfrom: \"+1500\"\nmessaging_service_sid: MG1", "give exactly one of from"),
        ("account_sid: SIDOK\nauth_token: ${TOKEN}\nfrom: \"+15005550006\"\nbase_url: file:///etc/passwd", "base_url must start with https://"),
        ("account_sid: SIDOK\nauth_token: ${TOKEN}\nfrom: \"+15005550006\"\ntimeout_seconds: 0", "timeout_seconds must be a number from 0 to 120"),
        ("account_sid: SIDOK\nauth_token: ${TOKEN}\nfrom: \"+15005550006\"\nauth_tokn: y", "unknown key \"auth_tokn\" for a twilio provider"),
        ("account_sid: SIDOK\nauth_token: the-token-itself\nfrom: \"+15005550006\"", "auth_token must be an environment reference like ${TWILIO_AUTH_TOKEN}, not the secret itself"),
        ("account_sid: SIDOK\nauth_token: ${TOKEN}-suffix\nfrom: \"+15005550006\"", "auth_token must be an environment reference"),
        ("account_sid: SIDOK\nauth_token: ${MISSING_TOKEN}\nfrom: \"+15005550006\"", "auth_token refers to ${MISSING_TOKEN}, but the environment variable MISSING_TOKEN is not set"),
    ])
    func twilioMistakesAreExplained(body: String, message: String) {
        let text = "type: twilio\n" + body.replacingOccurrences(of: "SIDOK", with: sid)
        #expect { try load(["twilio.yml": text]) } throws: { error in
            "\(error)".contains("twilio.yml: \(message)")
        }
    }

    @Test func aSendGridProviderWithAnInboundTokenTakesEmailReplies() throws {
        let base = "type: sendgrid\napi_key: ${TOKEN}\nfrom_email: cobros@banco.example\n"
        let registry = try load(["sendgrid.yml": base + "inbound_token: ${INBOUND}\n"], environment: ["TOKEN": "s3cret", "INBOUND": "0123456789abcdef-inbound"])
        #expect(registry.sendGridInbound.map(\.provider) == ["sendgrid"])
        #expect(registry.sendGridInbound.first?.token == "0123456789abcdef-inbound")
        #expect(try load(["sendgrid.yml": base]).sendGridInbound.isEmpty)
        #expect { try load(["sendgrid.yml": base + "inbound_token: ${INBOUND}\n"], environment: ["TOKEN": "s3cret", "INBOUND": "short"]) } throws: { error in
            "\(error)".contains("inbound_token must be at least 16 characters")
        }
        #expect { try load(["sendgrid.yml": base + "inbound_token: the-secret-itself-1234\n"]) } throws: { error in
            "\(error)".contains("inbound_token must be an environment reference")
        }
    }

    static let p8Path: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("AuthKey-\(UUID().uuidString).p8").path
        try? P256.Signing.PrivateKey().pemRepresentation.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }()

    @Test func apnsLoadsWithTheSandboxEnvironment() throws {
        let registry = try load(["apns.yml": "type: apns\nkey_id: ABC123DEFG\nteam_id: DEF123GHIJ\ntopic: com.bank.app\nprivate_key_file: \(Self.p8Path)\nenvironment: sandbox\n"])
        let apns = try #require(registry.provider(for: .push) as? APNsProvider)
        #expect(apns.configuration.baseURL == "https://api.sandbox.push.apple.com")
        #expect(apns.configuration.timeToLive == 3600)
        #expect(apns.pushPlatform == .apns)
    }

    @Test(arguments: [
        ("key_id: abc\nteam_id: DEF123GHIJ\ntopic: com.bank.app\nprivate_key_file: P8", "key_id must be Apple's 10-character id"),
        ("key_id: ABC123DEFG\nteam_id: DEF123GHIJ\ntopic: bankapp\nprivate_key_file: P8", "topic must be the app's bundle id"),
        ("key_id: ABC123DEFG\nteam_id: DEF123GHIJ\ntopic: com.bank.app\nprivate_key_file: /nonexistent.p8", "private_key_file /nonexistent.p8 cannot be read"),
        ("key_id: ABC123DEFG\nteam_id: DEF123GHIJ\ntopic: com.bank.app\nprivate_key_file: P8\nenvironment: dev", "environment must be production or sandbox"),
        ("key_id: ABC123DEFG\nteam_id: DEF123GHIJ\ntopic: com.bank.app\nprivate_key_file: P8\nbase_url: http://127.0.0.1:9", "base_url must start with https://"),
        ("key_id: ABC123DEFG\nteam_id: DEF123GHIJ\ntopic: com.bank.app\nprivate_key_file: P8\nttl_seconds: 604800", "ttl_seconds must be a number of seconds from 0 to 86400"),
        ("key_id: ABC123DEFG\nteam_id: DEF123GHIJ\ntopic: com.bank.app\nprivate_key_file: /etc/hostname", "/etc/hostname is not an APNs signing key"),
    ])
    func apnsMistakesAreExplained(body: String, message: String) {
        let text = "type: apns\n" + body.replacingOccurrences(of: "P8", with: Self.p8Path)
        #expect { try load(["apns.yml": text]) } throws: { error in
            "\(error)".contains("apns.yml: \(message)")
        }
    }

    @Test func unknownTypeIsRefused() {
        #expect { try load(["x.yml": "type: carrier-pigeon\n"]) } throws: { error in
            "\(error)".contains("unknown provider type \"carrier-pigeon\"")
        }
    }
}
