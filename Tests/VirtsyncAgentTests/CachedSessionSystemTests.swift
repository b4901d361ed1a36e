import Foundation
import Logging
import Testing
@testable import VirtsyncAgent
import VirtsyncCore
import VirtsyncEngine
import VirtsyncLibvirt
import VirtsyncTestSupport

/// The agent's event-maintained view of its host (`CachedSession`) against the real libvirtd:
/// every way an operator changes a host behind virtsync's back shows in the view, without a
/// full read, and a resync corrects a view whose event was lost. Part of the serialized agent
/// suite on the real libvirtd: one of its tests restarts libvirtd.
extension AgentSystemTests {
    /// The reads a view made: (full, domains read).
    final class Reads: @unchecked Sendable {
        private let lock = NSLock()
        private var all: [(Bool, Int)] = []
        func add(_ full: Bool, _ domains: Int) { lock.withLock { all.append((full, domains)) } }
        var last: (Bool, Int)? { lock.withLock { all.last } }
        var fulls: Int { lock.withLock { all.count { $0.0 } } }
    }

    /// The session with the events of one domain dropped, as if the stream had lost them.
    struct Lossy: HypervisorSession, HypervisorEventSource, HypervisorDomainReader {
        let base: any HypervisorSession
        let dropped: String
        var uri: String { base.uri }
        var hostKey: String { base.hostKey }
        func observe(host: String) async throws -> ObservedHost { try await base.observe(host: host) }
        func apply(_ step: PlanStep) async throws { try await base.apply(step) }
        func migrate(_ step: PlanStep, _ migration: Migration, destination: any HypervisorSession) async throws -> MigrationReport {
            try await base.migrate(step, migration, destination: destination)
        }
        func observeDomains(_ names: Set<String>) async throws -> [String: ObservedDomain] {
            try await (base as! any HypervisorDomainReader).observeDomains(names)
        }
        func observeAllButDomains(host: String) async throws -> ObservedHost {
            try await (base as! any HypervisorDomainReader).observeAllButDomains(host: host)
        }
        func events() async throws -> AsyncStream<HypervisorEvent> {
            let upstream = try await (base as! any HypervisorEventSource).events()
            let dropped = dropped
            return AsyncStream { continuation in
                let task = Task {
                    for await event in upstream {
                        if case .domain(let name, _) = event, name == dropped { continue }
                        continuation.yield(event)
                    }
                    continuation.finish()
                }
                continuation.onTermination = { _ in task.cancel() }
            }
        }
    }

    static func virsh(_ arguments: String...) async throws {
        let result = try await Command.run("/usr/bin/virsh", ["-c", uri] + arguments)
        try #require(result.status == 0, "virsh \(arguments.joined(separator: " ")): \(result.stderr)")
    }

    /// Best effort, for clean-up.
    static func quietly(_ commands: [[String]]) {
        let uri = uri
        let done = DispatchSemaphore(value: 0)
        Task {
            for command in commands { _ = try? await Command.run("/usr/bin/virsh", ["-c", uri] + command) }
            done.signal()
        }
        done.wait()
    }

    static func domainXML(_ name: String, uuid: UUID, memoryMiB: Int) -> String {
        """
        <domain type='qemu'><name>\(name)</name><uuid>\(uuid.uuidString.lowercased())</uuid><memory unit='MiB'>\(memoryMiB)</memory><vcpu>1</vcpu>
        <os><type arch='x86_64' machine='pc'>hvm</type><loader type='rom'>/usr/share/qemu/qboot.rom</loader></os>
        <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>
        """
    }

    /// Reads the view until `check` holds (events arrive a moment after virsh returns).
    static func eventually(_ view: CachedSession, _ what: String, _ check: (ObservedHost) -> Bool) async throws -> ObservedHost {
        var seen = try await view.observe(host: "local")
        for _ in 0..<50 where !check(seen) {
            try await Task.sleep(for: .milliseconds(100))
            seen = try await view.observe(host: "local")
        }
        #expect(check(seen), "\(what) shows in the view")
        return seen
    }

    @Test("virsh define, start, destroy, undefine, net-destroy, pool-destroy and vol-delete all show in the view; an idle read reads no domain; the view equals a live read")
    func driftShows() async throws {
        let tag = "cs\(UUID().uuidString.prefix(6).lowercased())"
        let scratch = try ScratchDirectory(prefix: "cached-session")
        let (vm, net, pool, uuid) = ("\(tag)-vm", "\(tag)-net", "\(tag)-pool", UUID())
        defer {
            Self.quietly([["destroy", vm], ["undefine", vm], ["net-destroy", net], ["net-undefine", net], ["pool-destroy", pool], ["pool-undefine", pool]])
        }
        try Self.domainXML(vm, uuid: uuid, memoryMiB: 64).write(toFile: scratch.path("vm.xml"), atomically: true, encoding: .utf8)
        try "<network><name>\(net)</name></network>".write(toFile: scratch.path("net.xml"), atomically: true, encoding: .utf8)
        let poolDir = try scratch.makeDirectory("pool")
        try await Self.virsh("define", scratch.path("vm.xml"))
        try await Self.virsh("start", vm)
        try await Self.virsh("net-define", scratch.path("net.xml"))
        try await Self.virsh("net-start", net)
        try await Self.virsh("pool-define-as", pool, "dir", "--target", poolDir)
        try await Self.virsh("pool-start", pool)
        try await Self.virsh("vol-create-as", pool, "data.raw", "1M")

        let base = try await LibvirtConnector().connect(host: "local", uri: Self.uri)
        let reads = Reads()
        let view = CachedSession(base: base, resync: .seconds(3600), logger: Logger(label: "test")) { full, domains in reads.add(full, domains) }
        let first = try await view.observe(host: "local")
        #expect(reads.last?.0 == true && first.domains[vm]?.state == .running && first.volumes["\(pool)/data.raw"] != nil)
        _ = try await view.observe(host: "local")
        // Nothing happened to this test's domain; other suites may be changing theirs on the same
        // libvirtd meanwhile, so the read may name theirs (ObservedCacheTests: none when idle).
        #expect(reads.last?.0 == false && !view.lastAsked.contains(vm), "not a full read, and not of \(vm): \(view.lastAsked)")

        try await Self.virsh("destroy", vm)
        _ = try await Self.eventually(view, "destroy") { $0.domains[vm]?.state == .shutoff }
        try await Self.virsh("start", vm)
        _ = try await Self.eventually(view, "start") { $0.domains[vm]?.state == .running }
        try Self.domainXML(vm, uuid: uuid, memoryMiB: 96).write(toFile: scratch.path("vm.xml"), atomically: true, encoding: .utf8)
        try await Self.virsh("define", scratch.path("vm.xml"))
        _ = try await Self.eventually(view, "a changed definition") { $0.domains[vm]?.model.memory == .mib(96) }
        try await Self.virsh("net-destroy", net)
        _ = try await Self.eventually(view, "net-destroy") { $0.networks[net]?.active == false }
        try await Self.virsh("vol-delete", "data.raw", "--pool", pool)
        _ = try await Self.eventually(view, "vol-delete") { $0.volumes["\(pool)/data.raw"] == nil }
        try await Self.virsh("pool-destroy", pool)
        _ = try await Self.eventually(view, "pool-destroy") { $0.pools[pool]?.active == false }
        try await Self.virsh("destroy", vm)
        try await Self.virsh("undefine", vm)
        let seen = try await Self.eventually(view, "undefine") { $0.domains[vm] == nil }
        #expect(reads.fulls == 1, "one full read, the first: everything else came from events")

        // The view and a live read agree on everything of this test (other suites may be
        // changing their own resources on the same libvirtd meanwhile).
        let live = try await base.observe(host: "local")
        func mine<V>(_ all: [String: V]) -> [String: V] { all.filter { $0.key.hasPrefix(tag) } }
        #expect(mine(seen.domains) == mine(live.domains) && mine(seen.networks) == mine(live.networks), "the view equals a live read")
        #expect(mine(seen.pools) == mine(live.pools) && mine(seen.volumes) == mine(live.volumes))
        #expect(mine(live.networks).count == 1 && mine(live.pools).count == 1, "the comparison covers something")
    }

    @Test("a lost event leaves the view stale until the resync reads everything again; the next read is back to events")
    func resyncCorrectsALostEvent() async throws {
        let tag = "cs\(UUID().uuidString.prefix(6).lowercased())"
        let scratch = try ScratchDirectory(prefix: "cached-session")
        let vm = "\(tag)-vm"
        defer { Self.quietly([["destroy", vm], ["undefine", vm]]) }
        try Self.domainXML(vm, uuid: UUID(), memoryMiB: 64).write(toFile: scratch.path("vm.xml"), atomically: true, encoding: .utf8)
        try await Self.virsh("define", scratch.path("vm.xml"))
        try await Self.virsh("start", vm)

        let base = try await LibvirtConnector().connect(host: "local", uri: Self.uri)
        let reads = Reads()
        let resync = Duration.seconds(4)
        let view = CachedSession(base: Lossy(base: base, dropped: vm), resync: resync, logger: Logger(label: "test")) { full, domains in
            reads.add(full, domains)
        }
        let started = ContinuousClock.now
        #expect(try await view.observe(host: "local").domains[vm]?.state == .running)
        try await Self.virsh("destroy", vm)
        try await Task.sleep(for: .seconds(1))
        let stale = try await view.observe(host: "local")
        #expect(stale.domains[vm]?.state == .running && reads.last?.0 == false,
                "its event was lost: the view cannot know (this is what the events otherwise catch)")
        try await Task.sleep(until: started + resync + .milliseconds(200))
        let corrected = try await view.observe(host: "local")
        #expect(reads.last?.0 == true, "the resync interval passed: a full read")
        #expect(corrected.domains[vm]?.state == .shutoff)
        _ = try await view.observe(host: "local")
        #expect(reads.last?.0 == false, "back to events")
    }
}
