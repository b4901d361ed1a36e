import Foundation
import Testing
import VirtsyncTestSupport

/// Whether this machine runs the cluster tests, and why not.
private enum Gate {
    static let disabledReason: String? = {
        if ProcessInfo.processInfo.environment["VIRTSYNC_CLUSTER_TESTS"] == "0" { return "VIRTSYNC_CLUSTER_TESTS=0" }
        return Testbed.unavailableReason.map { "no multi-host testbed here: \($0)" }
    }()
    static var enabled: Bool { disabledReason == nil }
    static var comment: Comment { Comment(rawValue: disabledReason ?? "") }
}

/// scripts/testbed.sh through `Testbed`: the hosts are independent libvirt hosts, guests migrate
/// between them, failures come on demand, and nothing survives `down`.
@Suite("Testbed: several libvirt hosts on one machine", .serialized, .enabled(if: Gate.enabled, Gate.comment))
struct TestbedTests {
    @Test("three hosts answer as themselves, with distinct UUIDs, reach each other by name and share one directory")
    func threeHosts() throws {
        let testbed = try Testbed.up(hosts: 3)
        defer { try? testbed.down() }
        #expect(testbed.hosts.map(\.name) == ["host-1", "host-2", "host-3"])

        for host in testbed.hosts {
            #expect(try testbed.virsh(host, ["hostname"]).trimmed == host.name)
            #expect(try testbed.virsh(host, ["uri"]).trimmed == host.uri)
            #expect(hostUUID(try testbed.virsh(host, ["capabilities"])) == host.uuid)
            #expect(try testbed.exec(host, ["cat", "/proc/sys/kernel/hostname"]).stdout.trimmed == host.name)
        }
        #expect(Set(testbed.hosts.map(\.uuid)).count == 3)
        #expect(Set(testbed.hosts.map(\.address)).count == 3)

        // Over the testbed network, by address and by the name in the testbed's /etc/hosts.
        let (first, second, third) = (testbed.hosts[0], testbed.hosts[1], testbed.hosts[2])
        #expect(try testbed.virsh(first, via: third, ["hostname"]).trimmed == "host-1")
        let byName = try testbed.exec(first, ["timeout", "10", "virsh", "-c", "qemu+tcp://host-2/system", "hostname"])
        #expect(byName.stdout.trimmed == "host-2", "\(byName.stderr)")

        let marker = UUID().uuidString
        try marker.write(toFile: testbed.sharedDirectory + "/from-root", atomically: true, encoding: .utf8)
        for host in testbed.hosts {
            #expect(try testbed.exec(host, ["cat", testbed.sharedDirectory + "/from-root"]).stdout == marker)
        }
        #expect(try testbed.exec(second, ["sh", "-c", "hostname >\(testbed.sharedDirectory)/from-host-2"]).succeeded)
        #expect(try testbed.exec(third, ["cat", testbed.sharedDirectory + "/from-host-2"]).stdout.trimmed == "host-2")
    }

    @Test("a tiny guest live-migrates from host-1 to host-2 and ends defined there only")
    func liveMigration() throws {
        let testbed = try Testbed.up(hosts: 2)
        defer { try? testbed.down() }
        let (source, destination) = (try testbed.host("host-1"), try testbed.host("host-2"))
        let guest = "tiny-" + Testbed.uniqueName(prefix: "")
        try testbed.startTinyGuest(on: source, name: guest)
        #expect(try testbed.virsh(source, ["domstate", guest]).trimmed == "running")

        // Peer to peer from inside host-1, as an operator on that host would.
        let started = ContinuousClock.now
        let migrate = try testbed.exec(source, ["timeout", "60", "virsh", "migrate", "--live", "--p2p", "--persistent",
                                                "--undefinesource", "--unsafe", guest, destination.peerURI])
        let took = ContinuousClock.now - started
        #expect(migrate.succeeded, "\(migrate.stderr)")
        #expect(took < .seconds(20), "migration took \(took)")
        #expect(try testbed.virsh(destination, ["domstate", guest]).trimmed == "running")
        #expect(try domainNames(testbed, source).contains(guest) == false)
        #expect(try domainNames(testbed, destination).contains(guest))
        #expect(try testbed.virsh(destination, ["dominfo", guest]).range(of: #"Persistent:\s+yes"#, options: .regularExpression) != nil)

        // And back, driven from the root namespace.
        try testbed.migrate(guest, from: destination, to: source)
        #expect(try testbed.virsh(source, ["domstate", guest]).trimmed == "running")
        #expect(try domainNames(testbed, destination).contains(guest) == false)
    }

    @Test("a killed host is unreachable until it reboots, and the reboot autostarts its guests")
    func killAndReboot() throws {
        let testbed = try Testbed.up(hosts: 2)
        defer { try? testbed.down() }
        let (peer, host) = (try testbed.host("host-1"), try testbed.host("host-2"))
        let guest = "tiny-" + Testbed.uniqueName(prefix: "")
        try testbed.startTinyGuest(on: host, name: guest)
        try testbed.virsh(host, ["autostart", guest])

        try testbed.kill(host)
        #expect(try testbed.status()["host-2"] == "killed")
        #expect(throws: TestbedError.self) { try testbed.virsh(host, ["version"], timeout: 5) }
        #expect(throws: TestbedError.self) { try testbed.virsh(host, via: peer, ["version"], timeout: 5) }
        #expect(try testbed.status()["host-1"] == "running")

        try testbed.reboot(host)
        #expect(try testbed.status()["host-2"] == "running")
        #expect(try testbed.virsh(host, ["hostname"]).trimmed == "host-2")
        #expect(hostUUID(try testbed.virsh(host, ["capabilities"])) == host.uuid)
        #expect(try testbed.virsh(host, via: peer, ["hostname"]).trimmed == "host-2")
        #expect(try testbed.virsh(host, ["domstate", guest]).trimmed == "running")
    }

    @Test("a frozen host times out until thawed; a partitioned host is cut off from its peers until healed")
    func freezeAndPartition() throws {
        let testbed = try Testbed.up(hosts: 2)
        defer { try? testbed.down() }
        let (peer, host) = (try testbed.host("host-1"), try testbed.host("host-2"))

        try testbed.freeze(host)
        #expect(try testbed.status()["host-2"] == "frozen")
        let frozen = #expect(throws: TestbedError.self) { try testbed.virsh(host, ["version"], timeout: 5) }
        #expect(frozen?.code == .timedOut)
        try testbed.thaw(host)
        #expect(try testbed.virsh(host, ["hostname"], timeout: 5).trimmed == "host-2")

        try testbed.partition(host)
        #expect(try testbed.status()["host-2"] == "partitioned")
        #expect(throws: TestbedError.self) { try testbed.virsh(host, via: peer, ["version"], timeout: 5) }
        #expect(throws: TestbedError.self) { try testbed.virsh(peer, via: host, ["version"], timeout: 5) }
        // The root namespace reaches it by its socket: only the testbed network is cut.
        #expect(try testbed.virsh(host, ["hostname"], timeout: 5).trimmed == "host-2")
        try testbed.heal(host)
        #expect(try testbed.virsh(host, via: peer, ["hostname"], timeout: 5).trimmed == "host-2")
        #expect(try testbed.status()["host-2"] == "running")
    }

    @Test("down leaves no process, namespace, mount, interface or directory behind, and is idempotent")
    func cleanTeardown() async throws {
        let interfacesBefore = try await interfaceNames()
        let testbed = try Testbed.up(hosts: 2)
        defer { try? testbed.down() }
        // The hardest case: a running guest on one host, the other frozen.
        try testbed.startTinyGuest(on: try testbed.host("host-1"), name: "tiny-teardown")
        try testbed.freeze(try testbed.host("host-2"))
        let namespaces = testbed.namespaceIdentities()
        #expect(namespaces.count == 5, "3 network and 2 mount namespaces: \(namespaces)")
        #expect(!processes(in: namespaces).isEmpty)

        try testbed.down()
        #expect(processes(in: namespaces).isEmpty)
        await expectNothingLeft(of: testbed)
        #expect(try await interfaceNames() == interfacesBefore)
        try testbed.down()
    }

    @Test("an up cut short by its deadline tears down what it had started")
    func interruptedUp() async throws {
        let name = Testbed.uniqueName()
        let probe = try Testbed.up(hosts: 1, name: name)
        try probe.down()
        let error = #expect(throws: TestbedError.self) { try Testbed.up(hosts: 3, name: name, timeout: 0.7) }
        #expect(error?.code == .timedOut)
        await expectNothingLeft(of: probe)
    }
}

// MARK: - Helpers

private extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}

/// The `<host><uuid>` of `virsh capabilities`.
private func hostUUID(_ capabilities: String) -> String? {
    guard let open = capabilities.range(of: "<uuid>"), let close = capabilities.range(of: "</uuid>") else { return nil }
    return String(capabilities[open.upperBound..<close.lowerBound])
}

private func domainNames(_ testbed: Testbed, _ host: Testbed.Host) throws -> Set<String> {
    Set(try testbed.virsh(host, ["list", "--all", "--name"]).split(separator: "\n").map(String.init))
}

/// The root namespace's interfaces by name (indexes and flags may differ; names must not).
private func interfaceNames() async throws -> [String] {
    try await Command.check("ip", ["-o", "link"]).split(separator: "\n").compactMap { line in
        line.split(separator: ":", maxSplits: 2).dropFirst().first
            .map { $0.trimmingCharacters(in: .whitespaces).split(separator: "@").first.map(String.init) ?? "" }
    }.sorted()
}

/// Processes whose network or mount namespace is one of `namespaces` (`net:[...]`, `mnt:[...]`).
private func processes(in namespaces: Set<String>) -> [String] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.filter { $0.allSatisfy(\.isNumber) }.filter { pid in
        ["net", "mnt"].contains { kind in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(kind)")).map(namespaces.contains) ?? false
        }
    }
}

private func expectNothingLeft(of testbed: Testbed, sourceLocation: SourceLocation = #_sourceLocation) async {
    let namespaces = (try? await Command.check("ip", ["netns", "list"])) ?? ""
    #expect(!namespaces.contains("\(testbed.name)-"), "namespaces left: \(namespaces)", sourceLocation: sourceLocation)
    let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
    #expect(!mounts.contains(testbed.directory), "mounts left under \(testbed.directory)", sourceLocation: sourceLocation)
    #expect(!FileManager.default.fileExists(atPath: testbed.directory), "\(testbed.directory) left", sourceLocation: sourceLocation)
}
