import Crypto
import Foundation
import HTTPTypes
@testable import GatewayHTTP

/// One token per role (and one with two roles), as `gateway tokens new` would make them.
struct TestTokens {
    let plain: [String: String]
    let tokens: APITokens

    init() {
        var plain: [String: String] = [:]
        var entries: [APITokens.Entry] = []
        let people: [(String, Set<Role>)] = [("scoring-service", [.scoring]), ("compliance-ana", [.compliance]),
                                             ("marketing-luis", [.marketing]), ("ops-admin", [.admin]),
                                             ("agent-bea", [.agent])]
        for (name, roles) in people {
            let (token, hash) = APITokens.generate()
            plain[name] = token
            entries.append(.init(name: name, roles: roles, sha256: APITokens.bytes(hex: hash)!))
        }
        self.plain = plain
        tokens = APITokens(entries: entries)
    }

    func headers(_ name: String) -> HTTPFields {
        [.authorization: "Bearer \(plain[name]!)"]
    }

    var compliance: HTTPFields { headers("compliance-ana") }
    var marketing: HTTPFields { headers("marketing-luis") }
    var scoring: HTTPFields { headers("scoring-service") }
    var agent: HTTPFields { headers("agent-bea") }
}
