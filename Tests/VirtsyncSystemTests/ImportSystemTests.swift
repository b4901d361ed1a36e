import Foundation
import Testing
import VirtsyncCore

/// `virtsync import` of domains made by other tools (Tests/VirtsyncSystemTests/Fixtures/import),
/// then adoption, against a real libvirtd.
@Suite("System: import and adopt existing VMs", .serialized, .enabled(if: System.enabled, "set VIRTSYNC_SYSTEM_URI (scripts/test.sh does)"))
struct ImportSystemTests {
    let uri = System.uri ?? "qemu:///system"
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/import").path
    static let domains = ["imp-uefi", "imp-disks-nics", "imp-devices", "imp-tpm", "imp-numa", "imp-v2.0_odd-name-01", "imp-legacy-bios"]
    static let networks = ["imp-nat", "imp-isolated"]
    /// Started before the import: they must keep running, untouched, through the adoption.
    static let started = ["imp-legacy-bios", "imp-devices"]

    /// Defines the fixtures as another tool would, with the placeholders filled in.
    private func defineFixtures(root: String) throws {
        let pool = root + "/pool", share = root + "/share", scratch = root + "/xml"
        for dir in [root, pool, share, scratch] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir)
        }
        let type = FileManager.default.fileExists(atPath: "/dev/kvm") ? "kvm" : "qemu"
        func fixture(_ name: String) throws -> String {
            let text = try String(contentsOfFile: Self.fixtures + "/" + name, encoding: .utf8)
                .replacingOccurrences(of: "@DOMAIN_TYPE@", with: type)
                .replacingOccurrences(of: "@POOL_DIR@", with: pool)
                .replacingOccurrences(of: "@SHARE_DIR@", with: share)
            let path = scratch + "/" + name
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        for (file, name) in [("network-nat.xml", "imp-nat"), ("network-isolated.xml", "imp-isolated")] {
            try expectOK(System.virsh(["net-define", try fixture(file)]))
            try expectOK(System.virsh(["net-start", name]))
        }
        try expectOK(System.virsh(["pool-define", try fixture("pool-dir.xml")]))
        try expectOK(System.virsh(["pool-start", "imp-pool"]))
        let volumes = try String(contentsOfFile: Self.fixtures + "/volumes.txt", encoding: .utf8)
        for line in volumes.split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(separator: " ").map(String.init)
            guard f.count == 4 else { continue }
            try expectOK(System.virsh(["vol-create-as", f[0], f[1], f[2], "--format", f[3]]))
        }
        for n in 1...7 { try expectOK(System.virsh(["define", try fixture("domain-\(n).xml")])) }
        for name in Self.started { try expectOK(System.virsh(["start", name])) }
    }

    private func expectOK(_ out: System.Output, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)", sourceLocation: sourceLocation)
    }

    /// Removes what is left of the fixtures, whatever state a failed run left them in.
    private func removeFixtures(root: String) {
        for name in Self.domains {
            _ = try? System.virsh(["destroy", name])
            _ = try? System.virsh(["undefine", name, "--nvram", "--managed-save", "--snapshots-metadata"])
        }
        for name in Self.networks { _ = try? System.virsh(["net-destroy", name]); _ = try? System.virsh(["net-undefine", name]) }
        _ = try? System.virsh(["pool-destroy", "imp-pool"])
        _ = try? System.virsh(["pool-undefine", "imp-pool"])
        try? FileManager.default.removeItem(atPath: root)
    }

    /// A domain's persistent definition without virtsync's ownership marker (and the empty
    /// `<metadata>` libvirt leaves when the marker was its only child).
    private func withoutMarker(_ xml: String) -> String {
        var lines = xml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeAll { $0.contains("<virtsync:managed") }
        if let i = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "<metadata>" }), i + 1 < lines.count,
           lines[i + 1].trimmingCharacters(in: .whitespaces) == "</metadata>" {
            lines.removeSubrange(i...(i + 1))
        }
        return lines.joined(separator: "\n")
    }

    private func snapshot() throws -> [String: String] {
        var out: [String: String] = [:]
        for name in Self.domains {
            out["dom " + name] = try System.virsh(["dumpxml", "--inactive", name]).stdout
            out["state " + name] = try System.virsh(["domstate", name]).stdout
        }
        for name in Self.networks { out["net " + name] = try System.virsh(["net-dumpxml", "--inactive", name]).stdout }
        // Capacity, allocation and available follow the host's free space.
        out["pool"] = try System.virsh(["pool-dumpxml", "--inactive", "imp-pool"]).stdout
            .split(separator: "\n").filter { !$0.contains("<capacity") && !$0.contains("<allocation") && !$0.contains("<available") }.joined(separator: "\n")
        return out
    }

    @Test("import of varied real-world domains writes a valid spec; applying it adopts each with no change but the marker, running VMs keep running, and the next plan is empty")
    func importAdopt() throws {
        let root = "/var/lib/virtsync-test/import-\(UUID().uuidString.prefix(8))"
        let state = try System.tempDir("state"), out = try System.tempDir("import") + "/spec"
        removeFixtures(root: root)
        defer { removeFixtures(root: root) }
        try defineFixtures(root: root)
        let before = try snapshot()

        let imported = try System.virtsync(["import", "--connect", uri, "--out", out, "--owner", "import-test/lab"] + Self.domains + Self.networks + ["imp-pool"])
        #expect(imported.status == 0, "\(imported.stdout)\(imported.stderr)")
        #expect(try snapshot() == before, "import changed the host")
        let files = try FileManager.default.subpathsOfDirectory(atPath: out).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.count == 3 + Self.domains.count, "\(files)")
        let numa = try String(contentsOfFile: out + "/vms/imp-numa.yaml", encoding: .utf8)
        #expect(numa.contains("adopt: true"))
        #expect(numa.contains("#   kept on the host, not in this spec: <cpu"), "\(numa)")   // its NUMA topology is listed, not dropped
        let devices = try String(contentsOfFile: out + "/vms/imp-devices.yaml", encoding: .utf8)
        #expect(devices.contains("<filesystem"), "\(devices)")
        // Each element carried in the escape hatch is also named in the comment above the VM.
        #expect(devices.contains("#   xml.devices: <filesystem"), "filesystem is not listed: \(devices)")
        // The devices the spec has fields for are written as fields, not carried as raw XML.
        for field in ["rng: {source: /dev/urandom, bytesPerSecond: 1024}", "watchdog: {model: i6300esb, action: poweroff}",
                      "guestAgent: true", "tablet: true", "video: virtio"] {
            #expect(devices.contains("\n" + field + "\n"), "\(field) is not written: \(devices)")
        }
        for element in ["<rng", "<watchdog", "<video", "org.qemu.guest_agent.0", "<input type='tablet'"] {
            #expect(!devices.contains(element), "\(element) is carried as raw XML: \(devices)")
        }
        let tpmSpec = try String(contentsOfFile: out + "/vms/imp-tpm.yaml", encoding: .utf8)
        #expect(tpmSpec.contains("tpm: {model: crb, version: \"2.0\"}") && tpmSpec.contains("boot:\n  order: [network, disk]"), "\(tpmSpec)")
        let odd = try String(contentsOfFile: out + "/vms/imp-v2.0_odd-name-01.yaml", encoding: .utf8)
        #expect(odd.contains("日本語") && odd.contains("<description>"), "\(odd)")
        #expect(odd.contains("<metadata> element"), "\(odd)")

        // The plan: adopt steps only, nothing disruptive.
        let plan = try System.virtsync(["plan", out, "--connect", uri, "--state-dir", state, "--format", "json"])
        #expect(plan.status == 0, "\(plan.stderr)")
        let steps = try JSONDecoder().decode(PlanFile.self, from: Data(plan.stdout.utf8)).steps
        #expect(Set(steps.map(\.action)) == ["adopt"], "\(steps.map { "\($0.action) \($0.resource.name)" })")
        #expect(steps.filter { $0.resource.kind == "domain" }.count == Self.domains.count)
        #expect(steps.allSatisfy { $0.disruption == "none" })

        let apply = try System.virtsync(["apply", out, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        let after = try snapshot()
        for key in before.keys.sorted() {
            let was = before[key] ?? "", now = after[key] ?? ""
            if key.hasPrefix("dom ") {
                #expect(now.contains("<virtsync:managed"), "\(key) has no marker")
                #expect(now.contains("owner=\"import-test/lab\"") || now.contains("owner='import-test/lab'"), "\(key): \(now)")
                #expect(withoutMarker(now) == was, "\(key) changed beyond the marker")
            } else {
                #expect(now == was, "\(key) changed")
            }
        }
        for name in Self.started { #expect(after["state " + name]?.contains("running") == true) }

        let again = try System.virtsync(["plan", out, "--connect", uri, "--state-dir", state, "--detailed-exitcode"])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(!again.stdout.contains("warning"), "\(again.stdout)")

        // Adopted, a VM is managed like any other: a memory change is an ordinary update.
        let path = out + "/vms/imp-tpm.yaml"
        let tpm = try String(contentsOfFile: path, encoding: .utf8)
        try Data(tpm.replacingOccurrences(of: "memory: 128MiB", with: "memory: 96MiB").utf8).write(to: URL(fileURLWithPath: path))
        let change = try System.virtsync(["plan", out, "--connect", uri, "--state-dir", state, "--detailed-exitcode"])
        #expect(change.status == 2 && change.stdout.contains("update domain imp-tpm"), "\(change.stdout)\(change.stderr)")
    }

    @Test("a domain another owner holds is not imported, and its spec cannot adopt it")
    func otherOwnerNotImported() throws {
        let tag = "vsoimp"
        let state = try System.tempDir("state"), spec = try System.tempDir("spec"), pool = try System.tempDir("pool")
        defer { try? System.cleanup(stateDir: state, tag: tag) }
        try System.write(spec, "spec.yaml", System.tinySpec(tag: tag, subnet: 44, poolPath: pool, vms: 1, running: false))
        let applied = try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let out = try System.tempDir("import") + "/spec"
        let imported = try System.virtsync(["import", "--connect", uri, "--out", out, "--owner", "someone-else", "\(tag)-vm0"])
        #expect(imported.stderr.contains("domain \(tag)-vm0 is owned by system-tests-\(tag); not imported"), "\(imported.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "/vms/\(tag)-vm0.yaml"))
    }
}

/// The parts of the JSON plan this test reads.
private struct PlanFile: Decodable {
    struct Step: Decodable {
        struct Resource: Decodable { var kind: String; var name: String }
        var action: String
        var resource: Resource
        var disruption: String
    }
    var steps: [Step]
}
