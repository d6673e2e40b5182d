import GatewayCore
import Testing

/// What log lines may and may not show: customers' numbers, addresses, credentials and bodies
/// masked; ids, times, amounts and counts left as they were.
@Suite struct LogMaskingTests {
    static let masked: [(String, String)] = [
        // Phones: E.164 keeps the first four digits and the last two; national ones the last two.
        ("+50688887777", "+5068****77"),
        ("to +50688887777 failed", "to +5068****77 failed"),
        ("The 'To' number +15005550001 is not a valid phone number.", "The 'To' number +1500****01 is not a valid phone number."),
        ("+506 8888 7777", "+5068****77"),
        ("+1 (415) 555-0100", "+1415****00"),
        ("phone:+50688887777", "phone:+5068****77"),
        ("From=%2B50688887777&Body=x", "From=+5068****77&Body=x"),
        ("88887777", "****77"),
        ("call 8888-7777.", "call ****77."),
        ("(506) 8888-7777", "****77"),
        ("415.555.0100", "****00"),
        ("555-0100 or 415 555 0100", "****00 or ****00"),
        ("\"phone\":\"+50688887777\"", "\"phone\":\"+5068****77\""),
        ("+50688887777: refused", "+5068****77: refused"),
        // E-mail: first letter and domain.
        ("ana@example.cr", "a***@example.cr"),
        ("to ana.mora+collections@mail.example.com, cc b@x.io", "to a***@mail.example.com, cc b***@x.io"),
        ("<ana@example.com>", "<a***@example.com>"),
        // Credentials.
        ("redis://:s3cret@redis.internal:6379/0", "redis://:***@redis.internal:6379/0"),
        ("postgres://gateway:pa55word@db.example.com:5432/log", "postgres://gateway:***@db.example.com:5432/log"),
        ("Authorization: Bearer 9f86d081884c7d659a2feaa0c55ad015", "Authorization: Bearer ***"),
        ("auth_token=abc123XYZ&x=1", "auth_token=***&x=1"),
        ("{\"password\": \"hunter2\"}", "{\"password\": \"***\"}"),
        ("Configuration(accountSID: \"AC12\", authToken: \"test-token-4FED19C9\", from: nil)", "Configuration(accountSID: \"AC12\", authToken: \"***\", from: nil)"),
        ("SendGrid(apiKey: \"SG.abc.def\", privateKey: \"k1\")", "SendGrid(apiKey: \"***\", privateKey: \"***\")"),
        ("api_key: SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "api_key: ***"),
        ("device 740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad gone", "device 740f*** gone"),
        ("fcm dAbC1234efGH5678:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx1j8LMJnr2J6M8XPpUG-2aN9TDPdE0X4t8yZZqrFfJ8_Lk7ck9sWv1 dead",
         "fcm dAbC*** dead"),
    ]

    static let unchanged: [String] = [
        "LN-77-reminder-2026-12-01",
        "job APP-3F2A1B4C sent",
        "C-1001",
        "2026-12-01T13:00:00.123Z",
        "deferred until 2026-12-01 13:00 (quiet hours)",
        "01/12/2026",
        "amount 125.50 USD, total 1234567.89",
        "stream id 1700000000000-0 acked",
        "1700000000000-12",
        "at 1700000000 (epoch) or 1700000000123 ms",
        "open-file limit 1048576, was 1024",
        "retry_in_ms=1600",
        "listening on 127.0.0.1:26379 and 192.168.100.200",
        "SM0123456789abcdef0123456789abcdef",
        "payment-reminder.sms.friendly.es-CR.mustache",
        "gateway:jobs:dead",
        "collections-LN-000123-payment-reminder-2026-12-01-second-notice",
        "needs a bearer token with the route's role",
        "token_present=false signature_present=true",
        "api_tokens: 3",
        "Swift 6.3.1, hummingbird 2.5.0",
        "",
    ]

    @Test(arguments: masked) func masks(_ input: String, _ expected: String) {
        #expect(LogMasking.mask(input) == expected)
    }

    @Test(arguments: unchanged) func leavesAlone(_ input: String) {
        #expect(LogMasking.mask(input) == input)
    }

    @Test func urlsShownInErrorsLoseTheirPassword() {
        #expect(LogMasking.url("redis://:s3cret@redis.internal:6379/0") == "redis://:***@redis.internal:6379/0")
        #expect(LogMasking.url("postgres://gateway:pa/ss@word@db:5432/log?sslmode=require") == "postgres://gateway:***@db:5432/log?sslmode=require")
        #expect(LogMasking.url("rediss://user:pw@[bad/0") == "rediss://user:***@[bad/0")
        #expect(LogMasking.url("redis://redis.internal:6379/0") == "redis://redis.internal:6379/0")
        #expect(LogMasking.url("postgres://gateway@db/log") == "postgres://gateway@db/log")
        #expect(LogMasking.url("var/contact-log.sqlite") == "var/contact-log.sqlite")
    }

    @Test func metadataKeysThatCarryBodiesOrCredentialsLoseTheirValue() {
        #expect(LogMasking.value(forKey: "body", "Hola Ana, su pago de 125.50 vence hoy") == "[removed]")
        #expect(LogMasking.value(forKey: "Text", "anything") == "[removed]")
        #expect(LogMasking.value(forKey: "auth_token", "plain") == "***")
        #expect(LogMasking.value(forKey: "fcm_token", "plain") == "***")
        #expect(LogMasking.value(forKey: "token_present", "true") == "true")
        #expect(LogMasking.value(forKey: "job", "LN-77-reminder-2026-12-01") == "LN-77-reminder-2026-12-01")
        #expect(LogMasking.value(forKey: "error", "redis io: cannot connect to +50688887777") == "redis io: cannot connect to +5068****77")
    }

    /// Masking twice changes nothing more: a masked line stays readable.
    @Test(arguments: masked) func isIdempotent(_ input: String, _ expected: String) {
        #expect(LogMasking.mask(LogMasking.mask(input)) == expected)
    }
}
