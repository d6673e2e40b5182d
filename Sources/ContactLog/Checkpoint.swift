import Crypto
import Foundation
import GatewayCore
#if canImport(Glibc)
import Glibc
#endif

/// RFC 6962 (Certificate Transparency) Merkle tree hashes, as RFC 9162 §2.1 defines them: a leaf
/// is SHA-256(0x00 ‖ data), a node SHA-256(0x01 ‖ left ‖ right), a tree of n leaves splits at the
/// largest power of two below n.
public enum MerkleTree {
    public static func leafHash(_ data: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: [0x00] + data))
    }

    static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: [0x01] + left + right))
    }

    static func split(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// MTH(D[n]) of leaf hashes; the empty tree's is SHA-256 of nothing.
    public static func root(_ leaves: ArraySlice<[UInt8]>) -> [UInt8] {
        switch leaves.count {
        case 0: return Array(SHA256.hash(data: [UInt8]()))
        case 1: return leaves[leaves.startIndex]
        default:
            let k = leaves.startIndex + split(leaves.count)
            return nodeHash(root(leaves[..<k]), root(leaves[k...]))
        }
    }

    /// PATH(m, D[n]): the sibling hashes from leaf `index` up to the root.
    public static func auditPath(_ index: Int, _ leaves: ArraySlice<[UInt8]>) -> [[UInt8]] {
        guard leaves.count > 1 else { return [] }
        let k = split(leaves.count)
        let middle = leaves.startIndex + k
        if index < k { return auditPath(index, leaves[..<middle]) + [root(leaves[middle...])] }
        return auditPath(index - k, leaves[middle...]) + [root(leaves[..<middle])]
    }

    /// The root an inclusion proof leads to (RFC 9162 §2.1.3.2), nil if the path cannot belong to a
    /// tree of `size` leaves.
    public static func root(fromLeaf leaf: [UInt8], index: Int, size: Int, path: [[UInt8]]) -> [UInt8]? {
        guard index >= 0, index < size else { return nil }
        var fn = index, sn = size - 1
        var r = leaf
        for p in path {
            guard sn != 0 else { return nil }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 ? r : nil
    }
}

/// A signed tree head over every chain's head: `gateway audit checkpoint` appends one as a
/// `checkpoint` event on chain 0 while it holds every head, so the heads it names are exactly the
/// chains' tips at that point of the log. Verify checks each named head against the chain it walks
/// (a chain rewritten afterwards, hashes and all, no longer reaches it), recomputes the root and
/// checks the Ed25519 signature; `--public-key` says whose key that must be. One chain's head is a
/// leaf `"<chain> <head>"`, leaves in chain order.
public struct Checkpoint: Sendable, Equatable {
    public var heads: [Int: String]
    public var at: String
    public var root: String
    /// The signer's Ed25519 public key (32 bytes, base64) and its signature over `message`.
    public var key: String
    public var signature: String

    public static func leaves(_ heads: [Int: String]) -> [[UInt8]] {
        heads.sorted { $0.key < $1.key }.map { MerkleTree.leafHash(Array("\($0.key) \($0.value)".utf8)) }
    }

    /// What is signed: the tree's size and root and when, in one line each.
    public static func message(size: Int, root: String, at: String) -> [UInt8] {
        Array("notification-gateway checkpoint v1\nsize \(size)\nroot \(root)\nat \(at)\n".utf8)
    }

    public static func make(heads: [Int: String], at: Date, signingKey: Curve25519.Signing.PrivateKey) throws -> Checkpoint {
        let at = formatTimestamp(at)
        let root = MerkleTree.root(leaves(heads)[...]).withUnsafeBytes(hexString(of:))
        let signature = try signingKey.signature(for: message(size: heads.count, root: root, at: at))
        return Checkpoint(heads: heads, at: at, root: root, key: signingKey.publicKey.rawRepresentation.base64EncodedString(),
                          signature: Data(signature).base64EncodedString())
    }

    /// The first 16 hex digits of SHA-256 of the public key: how reports name a key.
    public static func fingerprint(_ key: String) -> String {
        String(SHA256.hash(data: Data(base64Encoded: key) ?? Data()).withUnsafeBytes(hexString(of:)).prefix(16))
    }

    /// What is wrong with it on its own (root, signature), or nil.
    public func problem() -> String? {
        let expected = MerkleTree.root(Self.leaves(heads)[...]).withUnsafeBytes(hexString(of:))
        guard expected == root else { return "its root \(root.prefix(12))… is not the tree of the heads it names (\(expected.prefix(12))…)" }
        guard let raw = Data(base64Encoded: key), let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
              let signature = Data(base64Encoded: signature),
              publicKey.isValidSignature(signature, for: Self.message(size: heads.count, root: root, at: at)) else {
            return "its signature does not verify with the key it names (\(Self.fingerprint(key)))"
        }
        return nil
    }

    public var event: ContactEvent {
        var data: [String: JSONValue] = ["heads": .object(Dictionary(uniqueKeysWithValues: heads.map { (String($0.key), JSONValue.string($0.value)) })),
                                         "size": .number(Double(heads.count)), "root": .string(root), "at": .string(at),
                                         "key": .string(key), "signature": .string(signature)]
        data["alg"] = .string("Ed25519")
        return ContactEvent(jobID: nil, contactID: nil, kind: .checkpoint, at: parseTimestamp(at) ?? Date(), reason: "signed_tree_head",
                            detail: "signed tree head over \(heads.count) chain\(heads.count == 1 ? "" : "s"): root \(root.prefix(12))…, key \(Self.fingerprint(key))",
                            data: JSONValue.object(data).serialized)
    }

    /// The checkpoint a `checkpoint` event's data records, nil if it is not one.
    public static func recorded(in data: [UInt8]?) -> Checkpoint? {
        guard let data, case .object(let object)? = try? JSONParser.parse(data),
              case .object(let named)? = object["heads"], case .string(let at)? = object["at"], case .string(let root)? = object["root"],
              case .string(let key)? = object["key"], case .string(let signature)? = object["signature"] else { return nil }
        var heads: [Int: String] = [:]
        for (chain, head) in named {
            guard let number = Int(chain), case .string(let hash) = head else { return nil }
            heads[number] = hash
        }
        return Checkpoint(heads: heads, at: at, root: root, key: key, signature: signature)
    }
}

/// The checkpoint signing key (swift-crypto's Ed25519 private key), named so callers need not import Crypto.
public typealias Curve25519SigningKey = Curve25519.Signing.PrivateKey

/// A store that can append signed tree heads (PostgreSQL; a SQLite log has one chain, whose head
/// `gateway audit verify` prints).
public protocol LogCheckpointing: Sendable {
    func checkpoint(signingKey: Curve25519.Signing.PrivateKey, at: Date) async throws -> Checkpoint
    /// Proof that event `seq` is in the log, up to the first checkpoint after it.
    func inclusionProof(seq: Int64) async throws -> InclusionProof
}

/// The checkpoint signing key's files: the private key as one line of base64 (32 bytes, mode 0600),
/// the public key beside it in `<file>.pub`.
public enum CheckpointKeys {
    public static func create(at path: String) throws -> String {
        // Created with its mode in one call, and only if it is not there: never readable by others,
        // never overwriting a key.
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY, 0o600)
        guard descriptor >= 0 else {
            throw ContactLogError(errno == EEXIST ? "\(path) exists; a signing key is never overwritten (move it away first)"
                                                   : "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        let key = Curve25519.Signing.PrivateKey()
        let line = Array((key.rawRepresentation.base64EncodedString() + "\n").utf8)
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard written == line.count else { throw ContactLogError("cannot write \(path)") }
        let publicKey = key.publicKey.rawRepresentation.base64EncodedString()
        try (publicKey + "\n").write(toFile: path + ".pub", atomically: true, encoding: .utf8)
        return publicKey
    }

    public static func signingKey(file path: String) throws -> Curve25519.Signing.PrivateKey {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ContactLogError("cannot read the signing key \(path)") }
        guard let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            throw ContactLogError("\(path) is not a signing key (one line of base64, 32 bytes, as `gateway audit keygen` writes)")
        }
        return key
    }

    /// A public key given as base64 or as a file holding it, as base64.
    public static func publicKey(_ text: String) throws -> String {
        let value = (try? String(contentsOfFile: text, encoding: .utf8)) ?? text
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let raw = Data(base64Encoded: trimmed), (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil else {
            throw ContactLogError("--public-key: \(text) is neither an Ed25519 public key in base64 nor a file holding one (`gateway audit keygen` writes <key>.pub)")
        }
        return raw.base64EncodedString()
    }
}

/// Proof that one event is in the log a checkpoint signed: the event's canonical bytes and the
/// hash before it, the canonical bytes of every later event of its chain up to the head the
/// checkpoint names, and that head's RFC 6962 audit path to the signed root. Anyone holding the
/// bank's public key can check it without the database (`gateway audit check-proof`).
public struct InclusionProof: Sendable, Equatable {
    public var seq: Int64
    public var chain: Int
    public var previous: String
    public var canonical: [UInt8]
    public var following: [[UInt8]]
    public var checkpointSeq: Int64
    public var leafIndex: Int
    public var size: Int
    public var auditPath: [String]
    public var root: String
    public var at: String
    public var key: String
    public var signature: String

    public init(seq: Int64, chain: Int, previous: String, canonical: [UInt8], following: [[UInt8]], checkpointSeq: Int64, checkpoint: Checkpoint) throws {
        let chains = checkpoint.heads.keys.sorted()
        guard let index = chains.firstIndex(of: chain) else { throw ContactLogError("checkpoint event \(checkpointSeq) does not name chain \(chain)") }
        self.seq = seq
        self.chain = chain
        self.previous = previous
        self.canonical = canonical
        self.following = following
        self.checkpointSeq = checkpointSeq
        leafIndex = index
        size = chains.count
        auditPath = MerkleTree.auditPath(index, Checkpoint.leaves(checkpoint.heads)[...]).map { $0.withUnsafeBytes(hexString(of:)) }
        root = checkpoint.root
        at = checkpoint.at
        key = checkpoint.key
        signature = checkpoint.signature
    }

    /// The head the event's chain reaches through the following events.
    public var head: String {
        following.reduce(EventChain.hash(previous: previous, canonical: canonical)) { EventChain.hash(previous: $0, canonical: $1) }
    }

    /// Nil when the proof holds (and, with `trustedKey`, is signed with it); else what fails.
    public func problem(trustedKey: String?) -> String? {
        let head = self.head
        let leaf = MerkleTree.leafHash(Array("\(chain) \(head)".utf8))
        let path = auditPath.compactMap(hexBytes)
        guard path.count == auditPath.count,
              let computed = MerkleTree.root(fromLeaf: leaf, index: leafIndex, size: size, path: path),
              computed.withUnsafeBytes(hexString(of:)) == root else {
            return "the event's chain does not lead to the signed root: the event, a later event of chain \(chain) or the audit path was changed"
        }
        guard let raw = Data(base64Encoded: key), let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
              let signature = Data(base64Encoded: signature),
              publicKey.isValidSignature(signature, for: Checkpoint.message(size: size, root: root, at: at)) else {
            return "the checkpoint's signature does not verify"
        }
        if let trustedKey, trustedKey != key {
            return "the checkpoint is signed with key \(Checkpoint.fingerprint(key)), not the trusted \(Checkpoint.fingerprint(trustedKey))"
        }
        return nil
    }

    /// The event's columns as the chain hashed them (name → text, nil for NULL).
    public var columns: [(String, String?)] {
        var result: [(String, String?)] = []
        var index = canonical.startIndex
        for (position, name) in EventChain.columns.enumerated() {
            let prefix = Array("\(name)=".utf8)
            guard index < canonical.endIndex, canonical[index...].starts(with: prefix) else {
                // A later column is left out of the canonical bytes when NULL.
                if position >= EventChain.firstColumns.count { result.append((name, nil)); continue }
                break
            }
            index += prefix.count
            guard index < canonical.endIndex else { break }
            if canonical[index] == UInt8(ascii: "-") {
                result.append((name, nil))
                index += 2
                continue
            }
            guard let colon = canonical[index...].firstIndex(of: UInt8(ascii: ":")),
                  let count = Int(String(decoding: canonical[index..<colon], as: UTF8.self)), count >= 0 else { break }
            let start = colon + 1
            guard count <= canonical.endIndex - start else { break }
            result.append((name, String(decoding: canonical[start..<start + count], as: UTF8.self)))
            index = start + count + 1
        }
        return result
    }

    public var json: String {
        JSONValue.object([
            "proof": .string("notification-gateway inclusion proof v1"),
            "event": .object(["seq": .number(Double(seq)), "chain": .number(Double(chain)), "prev_hash": .string(previous),
                              "canonical": .string(Data(canonical).base64EncodedString())]),
            "following": .array(following.map { .string(Data($0).base64EncodedString()) }),
            "checkpoint": .object(["seq": .number(Double(checkpointSeq)), "leaf_index": .number(Double(leafIndex)), "size": .number(Double(size)),
                                   "audit_path": .array(auditPath.map(JSONValue.string)), "root": .string(root), "at": .string(at),
                                   "key": .string(key), "signature": .string(signature)]),
        ]).serialized
    }

    public init(json: [UInt8]) throws {
        func fail() -> ContactLogError { ContactLogError("not an inclusion proof `gateway audit prove` writes") }
        guard case .object(let object)? = try? JSONParser.parse(json), case .object(let event)? = object["event"],
              case .object(let checkpoint)? = object["checkpoint"], case .array(let following)? = object["following"],
              case .number(let seq)? = event["seq"], case .number(let chain)? = event["chain"], case .string(let previous)? = event["prev_hash"],
              case .string(let canonical)? = event["canonical"], let canonicalBytes = Data(base64Encoded: canonical),
              case .number(let checkpointSeq)? = checkpoint["seq"], case .number(let leafIndex)? = checkpoint["leaf_index"],
              case .number(let size)? = checkpoint["size"], case .array(let path)? = checkpoint["audit_path"],
              case .string(let root)? = checkpoint["root"], case .string(let at)? = checkpoint["at"],
              case .string(let key)? = checkpoint["key"], case .string(let signature)? = checkpoint["signature"] else { throw fail() }
        func integer(_ number: Double) throws -> Int {
            guard number.isFinite, number >= 0, number <= 9_007_199_254_740_992, number == number.rounded() else { throw fail() }
            return Int(number)
        }
        var later: [[UInt8]] = []
        for item in following {
            guard case .string(let text) = item, let bytes = Data(base64Encoded: text) else { throw fail() }
            later.append(Array(bytes))
        }
        var hashes: [String] = []
        for item in path {
            guard case .string(let hex) = item else { throw fail() }
            hashes.append(hex)
        }
        self.seq = Int64(try integer(seq))
        self.chain = try integer(chain)
        self.previous = previous
        self.canonical = Array(canonicalBytes)
        self.following = later
        self.checkpointSeq = Int64(try integer(checkpointSeq))
        self.leafIndex = try integer(leafIndex)
        self.size = try integer(size)
        auditPath = hashes
        self.root = root
        self.at = at
        self.key = key
        self.signature = signature
    }
}
