import _CryptoExtras
import Crypto
import Foundation
import GatewayCore
import Providers
import Testing

/// Each provider type reads its own file: what it takes, what it refuses, the webhooks it asks for.
@Suite struct ProviderSettingsTests {
    let client = CurlHTTPClient()
    static let sid = "AC" + String(repeating: "0", count: 32)

    static func temporaryFile(_ name: String, _ text: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString)-\(name)").path
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let p8 = temporaryFile("AuthKey.p8", P256.Signing.PrivateKey().pemRepresentation)
    static let serviceAccount: String = {
        let key = (try? _RSA.Signing.PrivateKey(keySize: .bits2048))?.pemRepresentation ?? ""
        let json = try? JSONSerialization.data(withJSONObject: [
            "project_id": "bank-app", "private_key": key, "client_email": "push@bank-app.iam.gserviceaccount.com",
            "token_uri": "https://oauth2.googleapis.com/token",
        ])
        return temporaryFile("service-account.json", String(decoding: json ?? Data(), as: UTF8.self))
    }()

    /// The smallest valid file of every type the gateway knows.
    static let minimal: [(type: String, provider: any ConfigurableProvider.Type, values: [String: String])] = [
        ("twilio", TwilioProvider.self, ["account_sid": sid, "auth_token": "tok", "from": "+15005550006"]),
        ("infobip", InfobipProvider.self, ["api_key": "key", "from": "BANCO"]),
        ("sendgrid", SendGridProvider.self, ["api_key": "key", "from_email": "cobros@banco.example"]),
        ("smtp", SMTPProvider.self, ["url": "smtp://127.0.0.1:2525", "from_email": "cobros@banco.example"]),
        ("fcm", FCMProvider.self, ["service_account_file": serviceAccount]),
        ("apns", APNsProvider.self, ["key_id": "ABC123DEFG", "team_id": "DEF123GHIJ", "topic": "com.bank.app", "private_key_file": p8]),
        ("webhook", WebhookProvider.self, ["url": "https://hooks.bank.example/send", "secret": "0123456789abcdef", "channels": "sms, push"]),
        ("sandbox", SandboxProvider.self, ["outbox": temporaryFile("outbox.jsonl", "")]),
    ]

    func settings(_ values: [String: String], name: String = "p") -> ProviderSettings {
        ProviderSettings(name: name, file: "providers/\(name).yml", values: values)
    }

    @Test(arguments: minimal.indices)
    func everyTypeBuildsFromItsSmallestFileAndRefusesAKeyItDoesNotKnow(index: Int) throws {
        let (type, providerType, values) = Self.minimal[index]
        let read = settings(values, name: type)
        let configured = try providerType.configured(read, client: client)
        try read.finish(type: type)
        #expect(configured.provider.name == type)

        var misspelt = values
        misspelt["timeout_secs"] = "5"
        let withTypo = settings(misspelt, name: type)
        _ = try providerType.configured(withTypo, client: client)
        #expect { try withTypo.finish(type: type) } throws: { error in
            "\(error)" == "providers/\(type).yml: unknown key \"timeout_secs\" for a \(type) provider"
        }
        guard type != "webhook" else { return }
        var withChannels = values
        withChannels["channels"] = "sms"
        let fixed = settings(withChannels, name: type)
        _ = try providerType.configured(fixed, client: client)
        #expect { try fixed.finish(type: type) } throws: { error in "\(error)".contains("channels is fixed by the provider type") }
    }

    /// A configuration printed, interpolated, dumped or reflected (a log line, an error, a debugger)
    /// shows `***` for its credentials, never their value.
    @Test func configurationsNeverShowTheirCredentials() throws {
        let secrets = ["tw-auth-Zq81", "ib-key-Zq82", "ib-report-Zq83-0123456789", "sg-key-Zq84", "sg-inbound-Zq85-0123456789", "smtp-pass-Zq86", "hook-secret-Zq87-0123456789"]
        let configurations: [Any] = [
            try TwilioProvider.Configuration(settings: settings(["account_sid": Self.sid, "auth_token": secrets[0], "from": "+15005550006"])),
            try InfobipProvider.Configuration(settings: settings(["api_key": secrets[1], "from": "BANCO", "report_token": secrets[2],
                                                                  "notify_url": "https://gateway.example.com/webhooks/infobip/reports"])),
            try SendGridProvider.Configuration(settings: settings(["api_key": secrets[3], "from_email": "cobros@banco.example", "inbound_token": secrets[4]])),
            try SMTPProvider.Configuration(settings: settings(["url": "smtp://127.0.0.1:2525", "from_email": "cobros@banco.example",
                                                               "username": "cobros", "password": secrets[5]])),
            try WebhookProvider.Configuration(settings: settings(["url": "https://hooks.bank.example/send", "secret": secrets[6], "channels": "sms"])),
            try APNsProvider.Configuration(settings: settings(["key_id": "ABC123DEFG", "team_id": "DEF123GHIJ", "topic": "com.bank.app", "private_key_file": Self.p8])),
            try FCMProvider.Configuration(settings: settings(["service_account_file": Self.serviceAccount])),
        ]
        for configuration in configurations {
            var dumped = ""
            dump(configuration, to: &dumped)
            for shown in ["\(configuration)", String(reflecting: configuration), dumped] {
                for secret in secrets { #expect(!shown.contains(secret), "\(shown)") }
                #expect(!shown.contains("PRIVATE KEY"), "\(shown)")
            }
        }
        // The value is still there for signing and authenticating.
        let twilio = try TwilioProvider.Configuration(settings: settings(["account_sid": Self.sid, "auth_token": secrets[0], "from": "+15005550006"]))
        #expect(twilio.authToken.value == secrets[0])
    }

    @Test func twilioAsksForTheStatusAndInboundWebhooksItNames() throws {
        let configuration = try TwilioProvider.Configuration(settings: settings([
            "account_sid": Self.sid, "auth_token": "tok", "messaging_service_sid": "MG1", "timeout_seconds": "4.5",
            "status_callback": "https://gw.bank.example/webhooks/twilio/status", "inbound_url": "https://gw.bank.example/webhooks/twilio/inbound",
        ]))
        #expect(configuration.timeout == 4.5)
        #expect(configuration.messagingServiceSID == "MG1")
        let webhooks = configuration.webhooks(provider: "twilio")
        #expect(webhooks.count == 2)
        guard case .twilioStatus(let status) = webhooks.first, case .twilioInbound(let inbound) = webhooks.last else {
            Issue.record("expected the status then the inbound webhook, got \(webhooks)")
            return
        }
        #expect(status.callbackURL == "https://gw.bank.example/webhooks/twilio/status")
        #expect(inbound.callbackURL == "https://gw.bank.example/webhooks/twilio/inbound")
        #expect(try TwilioProvider.Configuration(settings: settings(["account_sid": Self.sid, "auth_token": "tok", "from": "BANCO"]))
            .webhooks(provider: "twilio").isEmpty)
    }

    @Test func infobipPutsTheReportTokenInTheNotifyURLAndChecksReportsWithIt() throws {
        let configuration = try InfobipProvider.Configuration(settings: settings([
            "api_key": "key", "from": "BANCO", "notify_url": "https://gw.bank.example/webhooks/infobip/reports?x=1",
            "report_token": "0123456789abcdef+/",
        ]))
        #expect(configuration.notifyURL?.value == "https://gw.bank.example/webhooks/infobip/reports?x=1&token=0123456789abcdef%2B%2F")
        guard case .infobipReports(let reports)? = configuration.webhooks(provider: "infobip").first else {
            Issue.record("no report check")
            return
        }
        #expect(reports.token == "0123456789abcdef+/")
        #expect { try InfobipProvider.Configuration(settings: settings(["api_key": "k", "from": "B", "notify_url": "https://x.example/r"])) } throws: { error in
            "\(error)".contains("notify_url needs report_token")
        }
        #expect { try InfobipProvider.Configuration(settings: settings(["api_key": "k", "from": "B", "report_token": "0123456789abcdef"])) } throws: { error in
            "\(error)".contains("report_token needs notify_url")
        }
    }

    @Test func sendGridReceivesEventsOnlyWhenSignedOrExplicitlyUnsigned() throws {
        let base = ["api_key": "key", "from_email": "cobros@banco.example"]
        #expect(try SendGridProvider.Configuration(settings: settings(base)).webhooks(provider: "sg").isEmpty)
        let key = P256.Signing.PrivateKey().publicKey.derRepresentation.base64EncodedString()
        let signed = try SendGridProvider.Configuration(settings: settings(base.merging(["event_webhook_public_key": key]) { $1 }))
        guard case .sendGridEvents(let events)? = try signed.webhooks(provider: "sg").first else {
            Issue.record("no event webhook")
            return
        }
        #expect(events.acceptUnsigned == false)
        #expect { try SendGridProvider.Configuration(settings: settings(base.merging(["event_webhook_public_key": "bm90IGEga2V5"]) { $1 })) } throws: { error in
            "\(error)".contains("event_webhook_public_key:")
        }
        #expect { try SendGridProvider.Configuration(settings: settings(base.merging(["accept_unsigned_receipts": "yes"]) { $1 })) } throws: { error in
            "\(error)".contains("accept_unsigned_receipts must be true or false")
        }
    }

    @Test func aKeyFileThatIsNotAKeyIsNamed() {
        let notKey = Self.temporaryFile("AuthKey.p8", "not a key")
        #expect { try APNsProvider.Configuration(settings: settings(Self.minimal[5].values.merging(["private_key_file": notKey]) { $1 })) } throws: { error in
            "\(error)".contains("\(notKey) is not an APNs signing key")
        }
        let account = Self.temporaryFile("sa.json", #"{"project_id":"p","private_key":"nope","client_email":"e@x","token_uri":"https://o"}"#)
        #expect { try FCMProvider.Configuration(settings: settings(["service_account_file": account])) } throws: { error in
            "\(error)".contains("the private_key in \(account) is not an RSA key")
        }
    }
}
