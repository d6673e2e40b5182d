import Crypto
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import Logging
import Providers
import YAMLMessages
import Yams

/// Who may call what. `admin` may call everything.
public enum Role: String, Sendable, CaseIterable, Comparable {
    /// Enqueues jobs (POST /jobs).
    case scoring
    /// Reads the contact log, exports it, reads reports, manages opt-outs.
    case compliance
    /// Lists and previews templates.
    case marketing
    /// Works the escalations: lists, reads and resolves them (GET /escalations, POST /escalations/{id}/resolve).
    case agent
    /// Scrapes GET /metrics (Prometheus).
    case metrics
    case admin

    public static func < (a: Role, b: Role) -> Bool { a.rawValue < b.rawValue }
}

/// The caller a token identifies.
public struct Caller: Sendable, Equatable {
    public var name: String
    public var roles: Set<Role>

    public init(name: String, roles: Set<Role>) {
        self.name = name
        self.roles = roles
    }

    public var description: String { "\(name) (\(roles.sorted().map(\.rawValue).joined(separator: ", ")))" }
}

/// API tokens as stored in `config/api-tokens.yml`: a name, roles and the token's SHA-256, never
/// the token itself. Tokens are 32 random bytes, so a plain hash is enough (nothing to guess).
public struct APITokens: Sendable {
    public struct Entry: Sendable {
        public var name: String
        public var roles: Set<Role>
        public var sha256: [UInt8]
    }

    public var entries: [Entry]

    public init(entries: [Entry] = []) { self.entries = entries }

    /// Reads the file; a missing file means no tokens (every protected endpoint answers 401).
    public static func load(path: String) throws -> APITokens {
        guard FileManager.default.fileExists(atPath: path) else { return APITokens() }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw TokenFileError("\(path): cannot read: \(error.localizedDescription)")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> APITokens {
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch { throw TokenFileError("\(file): not valid YAML: \(YAMLMessages.describe(error))") }
        guard let root else { return APITokens() }
        guard let object = root as? [String: Any], Set(object.keys).isSubset(of: ["tokens"]) else {
            throw TokenFileError("\(file): expected a single key, tokens: a list of {name, roles, sha256}")
        }
        let value = object["tokens"]
        guard let list = value as? [[String: Any]] ?? (value == nil || value is NSNull ? [] : nil) else {
            throw TokenFileError("\(file): tokens must be a list of {name, roles, sha256}")
        }
        var entries: [Entry] = []
        for (index, item) in list.enumerated() {
            let place = "\(file): tokens[\(index)]"
            if let unknown = item.keys.sorted().first(where: { !["name", "roles", "sha256"].contains($0) }) {
                throw TokenFileError("\(place): unknown key \"\(unknown)\" (known: name, roles, sha256)")
            }
            guard let name = item["name"] as? String, !name.isEmpty else { throw TokenFileError("\(place): name is required") }
            guard let roleNames = item["roles"] as? [String], !roleNames.isEmpty else {
                throw TokenFileError("\(place) (\(name)): roles must be a list, like [compliance]")
            }
            var roles: Set<Role> = []
            for roleName in roleNames {
                guard let role = Role(rawValue: roleName) else {
                    throw TokenFileError("\(place) (\(name)): unknown role \"\(roleName)\" (known: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                roles.insert(role)
            }
            guard let hex = item["sha256"] as? String, let digest = Self.bytes(hex: hex), digest.count == 32 else {
                throw TokenFileError("\(place) (\(name)): sha256 must be the 64 hex digits `gateway tokens new` printed")
            }
            guard !entries.contains(where: { $0.name == name }) else { throw TokenFileError("\(place): the name \(name) is used twice") }
            entries.append(Entry(name: name, roles: roles, sha256: digest))
        }
        return APITokens(entries: entries)
    }

    /// A new random token and the line that stores its hash.
    public static func generate() -> (token: String, sha256: String) {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = UInt8.random(in: .min ... .max, using: &generator) }
        let token = "gw_" + Base64URL.encode(bytes)
        return (token, SHA256.hash(data: Data(token.utf8)).hexString)
    }

    static func bytes(hex: String) -> [UInt8]? { hexBytes(hex) }

    /// The caller a presented token belongs to. Every entry is compared, in constant time, so
    /// the answer's timing says nothing about which entry (if any) came close.
    public func caller(token: String) -> Caller? {
        let digest = Array(SHA256.hash(data: Data(token.utf8)))
        var found: Caller?
        for entry in entries where ConstantTime.equal(entry.sha256, digest) {
            found = Caller(name: entry.name, roles: entry.roles)
        }
        return found
    }

    /// 401 without a valid bearer token, 403 without the role; otherwise the caller.
    func authorize(_ request: Request, _ role: Role) -> Result<Caller, AuthRefusal> {
        guard let header = request.headers[.authorization] else {
            return .failure(AuthRefusal(status: .unauthorized, code: "unauthorized",
                                        message: entries.isEmpty ? "no API tokens are configured; create one with gateway tokens new (see README)"
                                                                 : "send Authorization: Bearer <token>"))
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", let caller = caller(token: String(parts[1]).trimmingCharacters(in: .whitespaces)) else {
            return .failure(AuthRefusal(status: .unauthorized, code: "unauthorized", message: "the bearer token is not valid"))
        }
        guard caller.roles.contains(role) || caller.roles.contains(.admin) else {
            return .failure(AuthRefusal(status: .forbidden, code: "forbidden",
                                        message: "\(caller.description) may not do this: it needs the \(role.rawValue) role"))
        }
        return .success(caller)
    }
}

/// The tokens file as it is now: read again when it changes (looked at no more than once every
/// `checkInterval`), so adding or revoking a token takes effect without a restart. A changed file
/// that does not load is logged as an error, once, and the tokens read last stay in force until it
/// is fixed (`gateway tokens new` checks the file before writing it).
public final class TokenFile: @unchecked Sendable {
    // @unchecked: `tokens`, `signature`, `refused` and `checkedAt` are guarded by `lock`.
    public let path: String
    private let logger: Logger
    private let checkInterval: Duration
    private let lock = NSLock()
    private var tokens: APITokens
    private var signature: [Int]
    /// The signature of a changed file that did not load (nil: none), so it is reported once.
    private var refused: [Int]?
    private var checkedAt: ContinuousClock.Instant

    /// Reads the file; a file that does not load fails the start.
    public init(path: String, logger: Logger, checkInterval: Duration = .seconds(1)) throws {
        self.path = path
        self.logger = logger
        self.checkInterval = checkInterval
        signature = Self.signature(path)
        tokens = try APITokens.load(path: path)
        checkedAt = ContinuousClock.now
    }

    public func current() -> APITokens {
        lock.withLock {
            let now = ContinuousClock.now
            if now - checkedAt >= checkInterval {
                checkedAt = now
                reloadIfChanged()
            }
            return tokens
        }
    }

    private func reloadIfChanged() {
        let now = Self.signature(path)
        guard now != signature, now != refused else { return }
        do {
            let fresh = try APITokens.load(path: path)
            let before = Set(tokens.entries.map(\.name)), after = Set(fresh.entries.map(\.name))
            tokens = fresh
            signature = now
            refused = nil
            logger.notice("API tokens reloaded", metadata: [
                "api_tokens": "\(path)", "count": "\(fresh.entries.count)",
                "added": "\(after.subtracting(before).sorted().joined(separator: ", "))",
                "removed": "\(before.subtracting(after).sorted().joined(separator: ", "))",
            ])
        } catch {
            refused = now
            logger.error("API tokens file changed but does not load; the tokens read before stay in force until it is fixed", metadata: [
                "api_tokens": "\(path)", "error": "\(error)",
            ])
        }
    }

    /// Inode, size and modification time; empty when there is no file.
    static func signature(_ path: String) -> [Int] {
        var info = stat()
        guard stat(path, &info) == 0 else { return [] }
        return [Int(info.st_ino), Int(info.st_size), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec)]
    }
}

struct AuthRefusal: Error {
    var status: HTTPResponse.Status
    var code: String
    var message: String

    var response: Response {
        var response = JSONResponse.error(status, code, message)
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }
}

public struct TokenFileError: Error, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
