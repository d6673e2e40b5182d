import Crypto
import Foundation
import Testing
@testable import ContactLog

@Suite struct MerkleTreeTests {
    /// RFC 6962's reference leaves (as certificate-transparency's test data has them) and the tree
    /// heads of their first 1...8, also computed independently with Python's hashlib.
    static let leaves: [[UInt8]] = [[], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
                                    [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57], Array(0x60...0x6f)]
    static let roots = ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test func rootsMatchRFC6962() {
        let hashes = Self.leaves.map(MerkleTree.leafHash)
        for size in 1...8 { #expect(Self.hex(MerkleTree.root(hashes[..<size])) == Self.roots[size - 1], "size \(size)") }
        #expect(Self.hex(MerkleTree.root([][...])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// Every leaf of every tree up to 40 leaves proves its way to the root, and only there.
    @Test func everyInclusionProofLeadsToTheRootAndNoWrongOneDoes() {
        for size in 1...40 {
            let hashes = (0..<size).map { MerkleTree.leafHash(Array("\($0) head".utf8)) }
            let root = MerkleTree.root(hashes[...])
            for index in 0..<size {
                let path = MerkleTree.auditPath(index, hashes[...])
                #expect(MerkleTree.root(fromLeaf: hashes[index], index: index, size: size, path: path) == root, "size \(size) leaf \(index)")
                if size > 1 {
                    let other = (index + 1) % size
                    #expect(MerkleTree.root(fromLeaf: hashes[other], index: index, size: size, path: path) != root)
                    #expect(MerkleTree.root(fromLeaf: hashes[index], index: other, size: size, path: path) != root)
                }
            }
            #expect(MerkleTree.root(fromLeaf: hashes[0], index: size, size: size, path: []) == nil)
        }
    }
}

@Suite struct CheckpointTests {
    let key = Curve25519.Signing.PrivateKey()
    let heads = [0: String(repeating: "a", count: 64), 1: String(repeating: "b", count: 64), 2: EventChain.genesis]

    @Test func aCheckpointRoundTripsThroughItsEventAndVerifies() throws {
        let checkpoint = try Checkpoint.make(heads: heads, at: Date(timeIntervalSince1970: 1_796_000_000), signingKey: key)
        #expect(checkpoint.problem() == nil)
        let event = checkpoint.event
        #expect(event.kind == .checkpoint && event.jobID == nil)
        let read = try #require(Checkpoint.recorded(in: event.rawData))
        #expect(read == checkpoint)
        #expect(read.key == key.publicKey.rawRepresentation.base64EncodedString())
    }

    @Test func aChangedHeadRootOrSignatureIsCaught() throws {
        let checkpoint = try Checkpoint.make(heads: heads, at: Date(), signingKey: key)
        var changed = checkpoint
        changed.heads[1] = String(repeating: "c", count: 64)
        #expect(changed.problem()?.contains("is not the tree of the heads it names") == true)
        changed = checkpoint
        changed.root = String(repeating: "0", count: 64)
        #expect(changed.problem() != nil)
        // Re-signed by someone else's key: valid on its own (verify --public-key says whose key it must be).
        let other = try Checkpoint.make(heads: heads, at: Date(), signingKey: Curve25519.Signing.PrivateKey())
        #expect(other.problem() == nil && other.key != checkpoint.key)
        changed = checkpoint
        changed.signature = other.signature
        #expect(changed.problem()?.contains("signature does not verify") == true)
        changed = checkpoint
        changed.at = "2027-01-01T00:00:00.000Z"
        #expect(changed.problem() != nil)
    }

    @Test func keyFilesAreWrittenOnceAndReadBack() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gw-key-\(UUID().uuidString)").path
        let publicKey = try CheckpointKeys.create(at: path)
        #expect(throws: ContactLogError.self) { try CheckpointKeys.create(at: path) }
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let signing = try CheckpointKeys.signingKey(file: path)
        #expect(signing.publicKey.rawRepresentation.base64EncodedString() == publicKey)
        #expect(try CheckpointKeys.publicKey(path + ".pub") == publicKey)
        #expect(try CheckpointKeys.publicKey(publicKey) == publicKey)
        #expect(throws: ContactLogError.self) { try CheckpointKeys.publicKey("not a key") }
        try "garbage\n".write(toFile: path + ".bad", atomically: true, encoding: .utf8)
        #expect(throws: ContactLogError.self) { try CheckpointKeys.signingKey(file: path + ".bad") }
    }
}
