import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncSpec
import VirtsyncTesting
@testable import VirtsyncLibvirt

/// Property: a spec that `validate` accepts never fails to apply for a reason in the spec. Random
/// specs (seeded, so a failure is reproducible) mix valid values with the edges of every field
/// (long and dotted names, odd sizes, subnets of /30, full DHCP ranges, MACs, escape-hatch
/// fragments, overlays, CD-ROMs); each one validate accepts is applied to a fresh libvirt test
/// driver, where every step must succeed and a second plan must be empty.
@Suite("property: validate implies apply")
struct SpecPropertyTests {
    static let seeds = 0..<300

    @Test("a spec validate accepts applies on the test driver with every step succeeding, and a second plan is empty")
    func validImpliesApplies() async throws {
        var accepted = 0, refused = 0
        for seed in Self.seeds {
            var generator = SpecGenerator(seed: UInt64(seed))
            let text = generator.spec(uri: Fixture.nodeURI)
            let result = SpecLoader.load(files: [SpecFile(path: "spec.yaml", bytes: Array(text.utf8))])
            guard let desired = result.desired else {
                refused += 1
                continue
            }
            accepted += 1
            let state = FileManager.default.temporaryDirectory.appendingPathComponent("virtsync-prop-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: state) }
            let workflow = ApplyWorkflow(connector: OneSessionConnector(), inventory: try InventoryStore(stateDirectory: state.path),
                                         defaultURI: Fixture.nodeURI)
            let applied = try await workflow.apply(desired)
            let failures = applied.report?.results.filter { $0.outcome != StepOutcome.succeeded } ?? []
            #expect(failures.isEmpty, "seed \(seed): steps failed on a spec validate accepted: \(failures)\n--- spec:\n\(text)")
            guard failures.isEmpty else { continue }
            let (sessions, failed) = await workflow.reader.connect(desired)
            let (again, _) = await workflow.reader.plan(desired, sessions: sessions, failed: failed, options: PlanOptions())
            #expect(again.isEmpty, "seed \(seed): not idempotent: \(again.steps.map { "\($0.id) \($0.changes)" })\n--- spec:\n\(text)")
        }
        print("property validate-implies-apply: \(Self.seeds.count) specs, \(accepted) accepted and applied, \(refused) refused by validate")
        // The generator must exercise both sides, or the property says nothing.
        #expect(accepted >= Self.seeds.count / 3, "accepted \(accepted), refused \(refused)")
        #expect(refused >= Self.seeds.count / 10, "accepted \(accepted), refused \(refused)")
    }
}

/// Random spec text from a seed (the HA simulator's SplitMix64).
struct SpecGenerator {
    var rng: SplitMix64
    init(seed: UInt64) { rng = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ 1) }

    mutating func next() -> UInt64 { rng.next() }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func chance(_ percent: Int) -> Bool { int(1...100) <= percent }
    mutating func pick<T>(_ options: [T]) -> T { options[int(0...(options.count - 1))] }

    /// Mostly a good value, now and then (`percent`) one validation must refuse.
    mutating func mostly<T>(_ good: [T], else bad: [T], percent: Int = 4) -> T { chance(percent) ? pick(bad) : pick(good) }

    mutating func name(_ prefix: String) -> String {
        let good = [prefix + "-" + String(int(1...99)), prefix + "." + String(repeating: "x", count: int(1...50)),
                    prefix + "_" + String(int(0...999)), String(repeating: "n", count: 64 - prefix.count) + prefix]
        return mostly(good, else: [prefix + "-" + String(repeating: "y", count: 64), "-" + prefix, prefix + "..x"], percent: 3)
    }

    /// A memory or volume size. Volumes stay small: the test driver's pools hold 100 GiB, and a
    /// full pool is the host's problem, not the spec's.
    mutating func size(volume: Bool = false) -> String {
        let good = volume ? ["64MiB", "1GiB", "1025KiB", "1500KiB", "10G"] : ["64MiB", "1GiB", "128MiB", "1025KiB", "1500KiB", "65536KiB", "1MiB", "20G", "2T"]
        return mostly(good, else: ["0MiB", "4096", "512KiB", "3M", "1.5GiB"])
    }

    mutating func spec(uri: String) -> String {
        var docs = ["apiVersion: virtsync/v1\nkind: Host\nname: local\nuri: \"\(uri)\"\n"]
        var networks: [String] = []
        for index in 0..<int(0...2) {
            let name = self.name("net\(index)")
            networks.append(name)
            var doc = "apiVersion: virtsync/v1\nkind: Network\nname: \(name)\nmode: \(pick(["nat", "isolated", "routed", "nat"]))\n"
            if chance(90) {
                let net = "10.\(index).\(int(0...255))"
                let prefix = mostly([24, 24, 25, 28], else: [30, 31, 16])
                doc += "ipv4:\n  address: \(net).\(mostly([1, 1, 9], else: [0, 255]))/\(prefix)\n"
                if chance(60) {
                    doc += "  dhcp:\n    start: \(net).\(int(2...12))\n    end: \(net).\(mostly([int(13...120)], else: [1, 200, 255]))\n"
                    if chance(40) {
                        doc += "    hosts:\n      - {mac: \"52:54:00:aa:00:\(String(format: "%02x", int(0...255)))\", ip: \(net).\(int(2...100)), name: h\(int(0...9))}\n"
                    }
                }
            }
            if chance(20) { doc += "autostart: false\n" }
            docs.append(doc)
        }
        var volumes: [String] = []
        let pool = name("pool")
        if chance(70) {
            var doc = "apiVersion: virtsync/v1\nkind: StoragePool\nname: \(pool)\npath: /var/lib/virtsync-prop/\(pool)\n"
            let count = int(0...3)
            if count > 0 { doc += "volumes:\n" }
            for index in 0..<count {
                let volume = "v\(index)." + pick(["qcow2", "img", "raw"])
                var line = "  - {name: \(volume), size: \(size(volume: true))"
                if chance(30) { line += ", format: \(mostly(["qcow2", "raw"], else: ["vmdk"], percent: 10))" }
                if chance(20), let base = volumes.last { line += ", backing: \(pool)/\(base)" }
                volumes.append(volume)
                doc += line + "}\n"
            }
            docs.append(doc)
        }
        for index in 0..<int(0...3) {
            var doc = "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: \(name("vm\(index)"))\nmemory: \(size())\n"
            if chance(50) { doc += "vcpus: \(mostly([1, 2, 4, 16], else: [0, 4097]))\n" }
            if chance(20) { doc += "maxVcpus: \(pick([4, 8, 16]))\n" }
            if chance(20) { doc += "maxMemory: \(pick(["2T", "4T"]))\n" }
            if chance(30) { doc += "machine: \(mostly(["pc", "q35", "pc-i440fx-7.2"], else: ["bad machine"]))\n" }
            if chance(20) { doc += "firmware: \(pick(["bios", "uefi"]))\n" }
            if chance(20) { doc += "cpu: \(pick(["host-passthrough", "host-model", "maximum"]))\n" }
            if chance(40) { doc += "power: \(pick(["running", "stopped"]))\n" }
            if chance(20) { doc += "autostart: true\n" }
            if chance(30) { doc += "graphics: \(pick(["vnc", "spice", "none"]))\n" }
            if chance(20) { doc += "console: false\n" }
            var disks: [String] = []
            if !volumes.isEmpty, chance(60) { disks.append("{volume: \(pool)/\(pick(volumes))}") }
            if chance(30), docs.contains(where: { $0.contains("kind: StoragePool") }) {
                disks.append("{volume: \(pool)/own-\(index).qcow2, size: \(size(volume: true))}")
            }
            if chance(20) { disks.append("{file: /srv/iso/\(pick(["a.iso", "b.iso"])), cdrom: true}") }
            if chance(10) { disks.append("{file: /srv/img/x\(index).raw, bus: \(pick(["sata", "scsi", "ide", "virtio"]))}") }
            if !disks.isEmpty { doc += "disks:\n" + disks.map { "  - \($0)\n" }.joined() }
            var nics: [String] = []
            if !networks.isEmpty, chance(70) {
                var nic = "{network: \(pick(networks))"
                if chance(50) { nic += ", mac: \"52:54:00:10:0\(index):\(String(format: "%02x", int(0...255)))\"" }
                if chance(20) { nic += ", model: \(pick(["virtio", "e1000", "rtl8139"]))" }
                nics.append(nic + "}")
            }
            if chance(3) { nics.append("{network: missing-net}") }
            if !nics.isEmpty { doc += "interfaces:\n" + nics.map { "  - \($0)\n" }.joined() }
            if chance(30) {
                doc += "xml:\n"
                let devices = mostly(["<watchdog model='i6300esb' action='reset'/>", "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
                                      "<memballoon model='virtio'/>"], else: ["</devices><cpu/>", "<disk/>"], percent: 10)
                doc += "  devices: \"\(devices)\"\n"
                if chance(50) {
                    let domain = mostly(["<clock offset='utc'/>", "<on_crash>destroy</on_crash>", "<features><acpi/><apic/></features>"],
                                        else: ["<os/>", "<!DOCTYPE x>"], percent: 10)
                    doc += "  domain: \"\(domain)\"\n"
                }
            }
            docs.append(doc)
        }
        return docs.filter { !$0.isEmpty }.joined(separator: "---\n")
    }
}
