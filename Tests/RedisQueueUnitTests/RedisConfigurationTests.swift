import Foundation
import Testing
@testable import RedisQueue

@Suite struct RedisConfigurationTests {
    @Test func parsesURLs() throws {
        let plain = try RedisConfiguration(url: "redis://127.0.0.1:6380/2")
        #expect(plain.host == "127.0.0.1" && plain.port == 6380 && plain.database == 2 && plain.password == nil)
        let auth = try RedisConfiguration(url: "redis://:s%40cret@redis.internal")
        #expect(auth.host == "redis.internal" && auth.port == 6379 && auth.password == "s@cret")
        #expect(auth.redacted == "redis://redis.internal:6379/0")
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "http://localhost") }
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "redis://localhost/x") }
    }

    /// The error names what is wrong with the URL and never shows its password, even when the URL
    /// does not parse (a startup error is printed as it is, before the log's masking).
    @Test func aBadURLIsRefusedWithoutItsPassword() {
        for url in ["redis://:s3cretpw@127.0.0.1:notaport/0", "rediss://user:s3cretpw@[bad/0", "redis://:s3c/ret@host:x"] {
            do {
                _ = try RedisConfiguration(url: url)
                Issue.record("\(url) was accepted")
            } catch {
                let message = "\(error)"
                #expect(!message.contains("s3c"), "\(message)")
                #expect(message.contains(":***@"), "\(message)")
            }
        }
    }
}
