import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine

/// Ownership, one writer per host, and import, against a real libvirtd.
@Suite("System: owners, host lock and import", .serialized, .enabled(if: System.enabled, "set VIRTSYNC_SYSTEM_URI (scripts/test.sh does)"))
struct OwnershipSystemTests {
    let uri = System.uri ?? "qemu:///system"

    /// Everything of a tag: domains with their state, networks, pools, volumes.
    private func world(_ tag: String) throws -> [String] {
        let domains = try System.names(["list", "--all", "--name"]).filter { $0.hasPrefix(tag) }.sorted()
        let networks = try System.names(["net-list", "--all", "--name"]).filter { $0.hasPrefix(tag) }.sorted()
        let pools = try System.names(["pool-list", "--all", "--name"]).filter { $0.hasPrefix(tag) }.sorted()
        var volumes: [String] = []
        for pool in pools {
            volumes += try System.virsh(["vol-list", pool]).stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        }
        return domains + networks + pools + volumes.sorted()
    }

    @Test("two owners on one libvirtd, each with pruning and its own state directory, never touch each other's domains, networks, pools or volumes")
    func twoOwners() throws {
        let a = "vsoa", b = "vsob"
        let stateA = try System.tempDir("state"), stateB = try System.tempDir("state")
        let specA = try System.tempDir("spec"), specB = try System.tempDir("spec")
        let poolA = try System.tempDir("pool"), poolB = try System.tempDir("pool")
        defer {
            try? System.cleanup(stateDir: stateA, tag: a)
            try? System.cleanup(stateDir: stateB, tag: b)
        }
        try System.write(specA, "spec.yaml", System.tinySpec(tag: a, subnet: 41, poolPath: poolA, vms: 2))
        try System.write(specB, "spec.yaml", System.tinySpec(tag: b, subnet: 42, poolPath: poolB, vms: 1))
        for (spec, state) in [(specA, stateA), (specB, stateB)] {
            let out = try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--prune", "--auto-approve"])
            #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        }
        let before = try world(b)
        #expect(before.contains("\(b)-vm0") && before.contains("\(b)-net") && before.contains("\(b)-pool"), "\(before)")
        // Each plan, with pruning, is empty: the other's resources are not "managed but left the spec".
        for (spec, state) in [(specA, stateA), (specB, stateB)] {
            let plan = try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state, "--prune", "--detailed-exitcode"])
            #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
        }
        // A's spec now also names B's VM: reported as B's, never changed.
        try System.write(specA, "spec.yaml", System.tinySpec(tag: a, subnet: 41, poolPath: poolA, vms: 1, extra: """

        ---
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: \(b)-vm0
        memory: 96MiB
        """))
        let domainXML = try System.virsh(["dumpxml", "--inactive", "\(b)-vm0"]).stdout
        let out = try System.virtsync(["apply", specA, "--connect", uri, "--state-dir", stateA, "--prune", "--auto-approve", "--allow-mass-delete"])
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        #expect(out.stdout.contains("domain \(b)-vm0 is owned by system-tests-\(b)"), "\(out.stdout)")
        #expect(try System.virsh(["dumpxml", "--inactive", "\(b)-vm0"]).stdout == domainXML)
        #expect(try world(b) == before)
        #expect(try System.names(["list", "--all", "--name"]).contains("\(a)-vm0"))
        #expect(!(try System.names(["list", "--all", "--name"]).contains("\(a)-vm1")))   // A's own prune worked
        // Everything of A goes; B stays exactly as it was.
        try System.cleanup(stateDir: stateA, tag: a)
        #expect(try world(a).isEmpty)
        #expect(try world(b) == before)
    }

    @Test("an apply waits for the host's lock held by another virtsync (another state directory), and gives up naming the holder")
    func hostLock() throws {
        let tag = "vsolk"
        let state = try System.tempDir("state"), spec = try System.tempDir("spec"), pool = try System.tempDir("pool")
        // A hosts directory of its own: the system suites run side by side, and another suite's
        // apply holding the shared lock would be named instead of the holder this test makes.
        let hostsDir = try System.tempDir("hosts")
        defer { try? System.cleanup(stateDir: state, tag: tag, hostsDir: hostsDir) }
        try System.write(spec, "spec.yaml", System.tinySpec(tag: tag, subnet: 43, poolPath: pool, vms: 0))
        // The host's lock file is keyed by libvirt's host UUID, whatever the URI.
        let capabilities = try System.virsh(["capabilities"]).stdout
        guard let start = capabilities.range(of: "<uuid>"), let end = capabilities.range(of: "</uuid>", range: start.upperBound..<capabilities.endIndex) else {
            Issue.record("no host UUID in the capabilities"); return
        }
        let hostUUID = String(capabilities[start.upperBound..<end.lowerBound]).lowercased()
        let lockFile = hostsDir + "/\(hostUUID).lock"
        // Another writer: flock(1) holds it (as the other virtsync would) for a few seconds and,
        // once it holds it, writes who it is (other system tests apply to the same host, and a
        // holder's release clears the file: text written before the lock was held can vanish).
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [lockFile, "sh", "-c", "printf 'virtsync agent, pid 4242, owner team-x/prod\\n' > \"$0\"; sleep 4", lockFile]
        try holder.run()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, ((try? String(contentsOfFile: lockFile, encoding: .utf8)) ?? "").contains("pid 4242") == false {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let refused = try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve", "--lock-timeout", "1",
                                           "--hosts-dir", hostsDir])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("is locked by another virtsync (virtsync agent, pid 4242, owner team-x/prod)"), "\(refused.stderr)")
        #expect(try world(tag).isEmpty)   // nothing was applied
        // With a longer wait, it goes through once the holder is done.
        let waited = try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", try System.tempDir("state"), "--auto-approve", "--lock-timeout", "30",
                                          "--hosts-dir", hostsDir])
        holder.waitUntilExit()
        #expect(waited.status == 0, "\(waited.stdout)\(waited.stderr)")
        #expect(try world(tag).contains("\(tag)-net"))
    }
}
