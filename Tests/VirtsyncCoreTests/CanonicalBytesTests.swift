import Foundation
import Testing
@testable import VirtsyncCore

/// The canonical bytes behind the observed-state fingerprint: the same value always gives the
/// same bytes (whatever order its dictionaries were filled in), and any change gives others.
@Suite("canonical bytes of values (the observed fingerprint)")
struct CanonicalBytesTests {
    /// Every shape a `Codable` type can take: nested keyed, unkeyed and single-value
    /// containers, optionals, enums with payloads, dictionaries, every scalar kind.
    struct Sample: Codable, Equatable {
        enum Kind: Codable, Equatable { case a, b(Int), c(name: String, more: [Int]) }
        var text: String
        var number: Int
        var small: Int8
        var unsigned: UInt64
        var ratio: Double
        var flag: Bool
        var optional: String?
        var list: [String]
        var nested: [[Int]]
        var table: [String: Int]
        var deep: [String: [String: Bool]]
        var kind: Kind
        var size: ByteSize
    }

    static func random(_ rng: inout SplitMix64) -> Sample {
        func word(_ rng: inout SplitMix64) -> String {
            String((0..<Int.random(in: 0...6, using: &rng)).map { _ in "abcé-_:/ ".randomElement(using: &rng)! })
        }
        var table: [String: Int] = [:]
        for _ in 0..<Int.random(in: 0...8, using: &rng) { table[word(&rng)] = Int.random(in: -5...5, using: &rng) }
        var deep: [String: [String: Bool]] = [:]
        for _ in 0..<Int.random(in: 0...4, using: &rng) {
            var inner: [String: Bool] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &rng) { inner[word(&rng)] = Bool.random(using: &rng) }
            deep[word(&rng)] = inner
        }
        let kinds: [Sample.Kind] = [.a, .b(Int.random(in: 0...3, using: &rng)), .c(name: word(&rng), more: [Int.random(in: 0...3, using: &rng)])]
        return Sample(text: word(&rng), number: Int.random(in: Int.min...Int.max, using: &rng), small: Int8.random(in: -3...3, using: &rng),
                      unsigned: UInt64.random(in: 0...UInt64.max, using: &rng), ratio: Double(Int.random(in: -4...4, using: &rng)) / 4,
                      flag: Bool.random(using: &rng), optional: Bool.random(using: &rng) ? word(&rng) : nil,
                      list: (0..<Int.random(in: 0...4, using: &rng)).map { _ in word(&rng) },
                      nested: (0..<Int.random(in: 0...3, using: &rng)).map { _ in (0..<Int.random(in: 0...3, using: &rng)).map { $0 } },
                      table: table, deep: deep, kind: kinds.randomElement(using: &rng)!, size: .mib(UInt64.random(in: 0...64, using: &rng)))
    }

    /// The same dictionary contents, inserted in another order and into a larger table (which
    /// iterates in a different order).
    static func reordered(_ s: Sample) -> Sample {
        var copy = s
        var table = Dictionary<String, Int>(minimumCapacity: 64)
        for key in s.table.keys.sorted().reversed() { table[key] = s.table[key] }
        copy.table = table
        var deep = Dictionary<String, [String: Bool]>(minimumCapacity: 32)
        for key in s.deep.keys.sorted().reversed() {
            var inner = Dictionary<String, Bool>(minimumCapacity: 16)
            for k in (s.deep[key] ?? [:]).keys.sorted() { inner[k] = s.deep[key]?[k] }
            deep[key] = inner
        }
        copy.deep = deep
        return copy
    }

    @Test("equal values give equal bytes, whatever order their dictionaries iterate in (2,000 random values)")
    func orderIndependent() throws {
        var rng = SplitMix64(seed: 20261207)
        var differentOrder = 0
        for _ in 0..<2_000 {
            let value = Self.random(&rng)
            let again = Self.reordered(value)
            if Array(again.table.keys) != Array(value.table.keys) { differentOrder += 1 }
            #expect(CanonicalBytes.of(value) == CanonicalBytes.of(again))
        }
        // The check means something only if iteration orders did differ.
        #expect(differentOrder > 500)
    }

    @Test("values that differ give different bytes (2,000 random pairs, and every single-field change)")
    func injective() throws {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2_000 {
            let a = Self.random(&rng)
            let b = Self.random(&rng)
            #expect((CanonicalBytes.of(a) == CanonicalBytes.of(b)) == (a == b))
        }
        let base = Self.random(&rng)
        var changes: [Sample] = []
        func change(_ edit: (inout Sample) -> Void) { var c = base; edit(&c); changes.append(c) }
        change { $0.text += "x" }
        change { $0.number &+= 1 }
        change { $0.small = $0.small == 0 ? 1 : 0 }
        change { $0.unsigned &+= 1 }
        change { $0.ratio += 0.25 }
        change { $0.flag.toggle() }
        change { $0.optional = $0.optional == nil ? "" : nil }
        change { $0.list.append("") }
        change { $0.nested.append([]) }
        change { $0.table["new key"] = 0 }
        change { $0.deep["new key"] = [:] }
        change { $0.kind = $0.kind == .a ? .b(0) : .a }
        change { $0.size = ByteSize(bytes: $0.size.bytes + 1024) }
        let bytes = CanonicalBytes.of(base)
        for changed in changes {
            #expect(changed != base)
            #expect(CanonicalBytes.of(changed) != bytes)
        }
        // Boundaries are part of the form: ["ab", ""] and ["a", "b"] differ, as do "" and nil.
        #expect(CanonicalBytes.of(["ab", ""]) != CanonicalBytes.of(["a", "b"]))
        #expect(CanonicalBytes.of([String?.none]) != CanonicalBytes.of([""]))
        #expect(CanonicalBytes.of(0.0) == CanonicalBytes.of(-0.0))
    }

    @Test("the observed fingerprint ignores dictionary order and sees a change in any domain")
    func observedFingerprint() throws {
        var host = ObservedHost(name: "h")
        for i in 0..<600 {
            let model = DomainModel(name: "vm-\(i)", vcpus: 1, memory: .mib(64))
            host.domains[model.name] = ObservedDomain(model: model, uuid: "u-\(i)", state: i % 3 == 0 ? .running : .shutoff)
        }
        let state = ObservedState(hosts: ["h": host])
        var rebuilt = ObservedHost(name: "h")
        for name in host.domains.keys.sorted().reversed() { rebuilt.domains[name] = host.domains[name] }
        #expect(Fingerprint.of(state) == Fingerprint.of(ObservedState(hosts: ["h": rebuilt])))
        for name in ["vm-0", "vm-299", "vm-599"] {
            var changed = host
            changed.domains[name]?.model.vcpus = 2
            #expect(Fingerprint.of(ObservedState(hosts: ["h": changed])) != Fingerprint.of(state), "\(name)")
        }
        var removed = host
        removed.domains["vm-42"] = nil
        #expect(Fingerprint.of(ObservedState(hosts: ["h": removed])) != Fingerprint.of(state))
        #expect(Fingerprint.of(ObservedState(unreachable: ["h": "down"])) != Fingerprint.of(ObservedState()))
    }
}
