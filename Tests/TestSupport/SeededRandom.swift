import Foundation

/// The random number generator for tests: seeded, so that a failure can be replayed. The seed is
/// TEST_SEED when set, else drawn at random; it is printed when the generator is made, and
/// `description` ("seed 123; rerun with TEST_SEED=123") belongs in each expectation's message.
/// SplitMix64: small, fast and good enough to draw test cases.
public struct SeededRandom: RandomNumberGenerator, CustomStringConvertible, Sendable {
    public let seed: UInt64
    private var state: UInt64

    public init(_ test: String = #function) {
        let seed = ProcessInfo.processInfo.environment["TEST_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64(UInt32.max))
        self.seed = seed
        state = seed
        print("\(test): random seed \(seed) (rerun with TEST_SEED=\(seed))")
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public var description: String { "seed \(seed); rerun with TEST_SEED=\(seed)" }
}
