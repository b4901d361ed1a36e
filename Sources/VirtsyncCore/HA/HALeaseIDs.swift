/// The lease ids an agent asks etcd for. Each join chooses its id up front and sends every retry
/// of that join with the same id, so a grant whose answer was lost and a retry land on one lease:
/// the member key can never end up on a lease the agent does not know it holds (decision record
/// 0009, "Found"). A new join (after a lease was lost) takes a new id.
///
/// The agent's ids are a SplitMix64 sequence from a random seed; the simulator numbers them in
/// order from a base of its own per host and agent run, so its traces stay readable. etcd's own ids, and other agents' random ones, collide with one of these with a
/// probability of about 2^-62 per join; a first attempt that finds its id taken is refused by the
/// coordinator (`HAJoinError.leaseIDTaken`) and the controller moves on to the next id.
public struct HALeaseIDs: Hashable, Sendable {
    private var state: UInt64
    private let sequential: Bool

    /// Ids from `seed`.
    public init(seed: UInt64) {
        state = seed
        sequential = false
    }

    /// Ids from a random seed.
    public init() {
        var generator = SystemRandomNumberGenerator()
        self.init(seed: generator.next())
    }

    /// `base + 1`, `base + 2`, … (`base` ≥ 0).
    public init(sequentialAfter base: Int64) {
        state = UInt64(max(0, base))
        sequential = true
    }

    /// The next id: positive, never 0 (which asks etcd to choose).
    public mutating func next() -> Int64 {
        if sequential {
            state += 1
            return Int64(state)
        }
        while true {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            let id = Int64(bitPattern: z & 0x7FFF_FFFF_FFFF_FFFF)
            if id != 0 { return id }
        }
    }
}
