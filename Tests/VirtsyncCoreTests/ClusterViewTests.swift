import Foundation
import Testing
import VirtsyncCore

/// The cluster view the API and the dashboard show: built from the spec, what was read and what
/// agents reported, it must tell the truth about where each VM is and what would change.
@Suite("Cluster view")
struct ClusterViewTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let server = ClusterView.Server(kind: "serve", version: "test")

    static func domain(_ name: String, memory: UInt64 = 64, vcpus: Int = 1, state: RunState = .running, managed: Bool = true,
                       epoch: Int64? = nil, owner: String = "team") -> ObservedDomain {
        var marker = OwnershipMarker(specDigest: "d", owner: owner)
        marker.haEpoch = epoch
        return ObservedDomain(model: DomainModel(name: name, vcpus: vcpus, memory: .mib(memory)), uuid: "u-\(name)", state: state,
                              marker: managed ? marker : nil)
    }

    static func cluster() -> DesiredState {
        var a = DomainModel(name: "web-1", vcpus: 2, memory: .mib(512))
        a.power = .running
        var b = DomainModel(name: "db-1", memory: .mib(1024))
        b.power = .stopped
        let c = DomainModel(name: "new-1", memory: .mib(128))
        var desired = DesiredState(hosts: [DesiredHost(name: "h1", uri: "qemu+ssh://h1/system", memoryCapacity: .gib(4), cpuCapacity: 8, domains: [a, b]),
                                    DesiredHost(name: "h2", uri: "qemu+ssh://h2/system", memoryCapacity: .gib(2), cpuCapacity: 4, domains: [c],
                                                maintenance: true),
                                    DesiredHost(name: "h3", uri: "qemu+ssh://h3/system")],
                            settings: SpecSettings(), specDigest: "d")
        desired.owner = "team"
        return desired
    }

    @Test("hosts carry capacity and what their running VMs use; VMs say where the spec wants them and where they are")
    func hostsAndVMs() throws {
        var observed = ObservedState()
        observed.hosts["h1"] = ObservedHost(name: "h1", domains: ["web-1": Self.domain("web-1", memory: 512, vcpus: 2),
                                                                  "db-1": Self.domain("db-1", memory: 1024, state: .shutoff),
                                                                  "stray": Self.domain("stray", managed: false),
                                                                  "theirs": Self.domain("theirs", memory: 128, owner: "other-team"),
                                                                  "old": Self.domain("old", state: .shutoff, owner: "team")])
        observed.hosts["h2"] = ObservedHost(name: "h2")
        observed.unreachable["h3"] = "connection refused"
        let view = ClusterViewBuilder(server: Self.server, source: "spec", desired: Self.cluster(), observed: observed).build(at: Self.now)

        #expect(view.hosts.map(\.name) == ["h1", "h2", "h3"], "in the spec's order")
        let h1 = try #require(view.hosts.first)
        #expect(h1.reachable && h1.vmCount == 3 && h1.runningCount == 1)
        #expect(h1.capacity == CapacityView(memoryMiB: 4096, vcpus: 8))
        #expect(h1.used == CapacityView(memoryMiB: 512 + 64 + 128, vcpus: 4), "every active domain uses the host, managed or not; stopped ones do not")
        #expect(view.hosts[1].maintenance)
        #expect(!view.hosts[2].reachable && view.hosts[2].unreachableReason == "connection refused")
        #expect(view.banners.contains { $0.kind == "unreachable" && $0.host == "h3" })

        #expect(view.vms.map(\.name) == ["db-1", "new-1", "old", "web-1"],
                "neither an unmanaged domain nor another owner's; the owner's own VM the spec dropped is")
        #expect(view.vms.first { $0.name == "old" }?.desiredHost == nil)
        let web = try #require(view.vms.first { $0.name == "web-1" })
        #expect(web.host == "h1" && web.desiredHost == "h1" && web.power == "running" && web.desiredPower == "running")
        #expect(web.memoryMiB == 512 && web.vcpus == 2)
        let new = try #require(view.vms.first { $0.name == "new-1" })
        #expect(new.host == nil && new.desiredHost == "h2" && new.power == "absent", "its host was read: it is not there")
    }

    @Test("hosts nobody here reads are shown unread, without a banner; a host tried and failed gets one")
    func unreadHostsAreQuiet() throws {
        let observed = ObservedState(hosts: ["h1": ObservedHost(name: "h1")])
        let view = ClusterViewBuilder(server: Self.server, source: "spec", desired: Self.cluster(), observed: observed,
                                      unread: "an agent reads only its own host").build(at: Self.now)
        #expect(view.hosts.filter { !$0.reachable }.map(\.unreachableReason) == ["an agent reads only its own host", "an agent reads only its own host"])
        #expect(view.banners.isEmpty, "\(view.banners)")
        var tried = observed
        tried.unreachable["h3"] = "connection refused"
        let failed = ClusterViewBuilder(server: Self.server, source: "spec", desired: Self.cluster(), observed: tried).build(at: Self.now)
        #expect(failed.banners.map(\.host) == ["h3"])
    }

    @Test("a VM on a host that could not be read is unknown, not absent")
    func unknownPower() throws {
        var desired = Self.cluster()
        desired.hosts[2].domains = [DomainModel(name: "far-1", memory: .mib(64))]
        let observed = ObservedState(hosts: ["h1": ObservedHost(name: "h1"), "h2": ObservedHost(name: "h2")], unreachable: ["h3": "timeout"])
        let view = ClusterViewBuilder(server: Self.server, source: "spec", desired: desired, observed: observed).build(at: Self.now)
        #expect(view.vms.first { $0.name == "far-1" }?.power == "unknown")
    }

    @Test("plan steps show as drift on their VM and are grouped by host in the plan, with the disruption class")
    func planAndDrift() throws {
        let desired = Self.cluster()
        let observed = ObservedState(hosts: ["h1": ObservedHost(name: "h1", domains: ["web-1": Self.domain("web-1", memory: 256, vcpus: 2)]),
                                             "h2": ObservedHost(name: "h2"), "h3": ObservedHost(name: "h3")])
        let plan = Planner.plan(desired: desired, observed: observed, options: PlanOptions())
        let view = ClusterViewBuilder(server: Self.server, source: "spec", desired: desired, observed: observed, plan: plan).build(at: Self.now)
        #expect(view.plan.steps.count == plan.steps.count && !plan.steps.isEmpty)
        #expect(view.plan.summary.hasPrefix("Plan: "), "\(view.plan.summary)")
        let web = try #require(view.vms.first { $0.name == "web-1" })
        #expect(web.drift.contains { $0.hasPrefix("update: ") && $0.contains("memory") }, "\(web.drift) \(plan.steps.map(\.id)) \(plan.notes.map(\.message))")
        #expect(Set(view.plan.steps.map(\.disruption)).isSubset(of: Set(Disruption.allCases.map(\.rawValue))))
    }

    @Test("peers known from their agents' reports: their VMs, plan and history; a dead host's stale copies are not preferred")
    func reports() throws {
        let desired = Self.cluster()
        let observed = ObservedState(hosts: ["h1": ObservedHost(name: "h1", domains: ["web-1": Self.domain("web-1", memory: 512, vcpus: 2, epoch: 9)])],
                                     dead: ["h3": ["web-1"]])
        let agent = HostView.Agent(reportedAt: Self.now, lastPass: 4, lastOutcome: "converged")
        var h2 = HostReport(host: "h2", reportedAt: Self.now, agent: agent,
                            vms: [VMView(name: "new-1", host: "h2", power: "running", memoryMiB: 128, vcpus: 1)],
                            used: CapacityView(memoryMiB: 128, vcpus: 1))
        h2.passes = [PassView(host: "h2", id: 4, trigger: "interval", startedAt: Self.now, seconds: 0.01, outcome: "converged", reason: "Converged")]
        h2.failovers = [FailoverView(vm: "web-1", from: "h3", to: "h2", epoch: 7, at: Self.now.addingTimeInterval(-60), seconds: 6.2)]
        // The dead host's last report still lists web-1 as running there.
        let h3 = HostReport(host: "h3", reportedAt: Self.now.addingTimeInterval(-120), agent: agent,
                            vms: [VMView(name: "web-1", host: "h3", power: "running", memoryMiB: 512, vcpus: 2)])
        let builder = ClusterViewBuilder(server: Self.server, source: "spec", desired: desired, observed: observed,
                                         reports: ["h2": h2, "h3": h3], owners: ["web-1": ("h1", 9)],
                                         leases: ["h1": HostView.Lease(id: 1), "h2": HostView.Lease(id: 2, secondsLeft: 4)])
        let view = builder.build(at: Self.now)
        let web = try #require(view.vms.first { $0.name == "web-1" })
        #expect(web.host == "h1" && web.haOwner == "h1" && web.haEpoch == 9, "the copy read directly wins over a dead host's report")
        #expect(view.vms.first { $0.name == "new-1" }?.host == "h2")
        let hosts = Dictionary(uniqueKeysWithValues: view.hosts.map { ($0.name, $0) })
        #expect(hosts["h2"]?.reachable == true && hosts["h2"]?.lease?.secondsLeft == 4 && hosts["h2"]?.agent?.lastPass == 4)
        #expect(hosts["h3"]?.reachable == false && hosts["h3"]?.dead == true)
        #expect(view.banners.first?.kind == "dead", "errors first: \(view.banners)")
        #expect(view.passes.count == 1 && view.failovers.count == 1)
        #expect(view.events.contains { $0.kind == "failover" && $0.vm == "web-1" && $0.message.contains("h3") })
    }

    @Test("between two reads: a move is a migration, a move away from a lost host is a failover for an HA VM, a host that stops answering is an event")
    func changes() throws {
        let old = ClusterView(generatedAt: Self.now, server: Self.server, source: "s",
                              hosts: [HostView(name: "a", reachable: true), HostView(name: "b", reachable: true), HostView(name: "c", reachable: true)],
                              vms: [VMView(name: "ha-1", host: "a", power: "running", ha: true),
                                    VMView(name: "web", host: "b", power: "running"),
                                    VMView(name: "db", host: "b", power: "running")])
        var new = old
        new.hosts[0].reachable = false
        new.hosts[0].unreachableReason = "timeout"
        new.vms = [VMView(name: "ha-1", host: "c", power: "running", ha: true, haEpoch: 12),
                   VMView(name: "web", host: "c", power: "running"),
                   VMView(name: "db", host: "b", power: "shutoff")]
        let changes = ViewChanges.between(old, new, at: Self.now)
        #expect(changes.failovers == [FailoverView(vm: "ha-1", from: "a", to: "c", epoch: 12, at: Self.now)])
        #expect(changes.migrations.map(\.vm) == ["web"] && changes.migrations.first?.outcome == "observed")
        #expect(changes.events.contains { $0.kind == "host" && $0.host == "a" && $0.severity == "error" })
        #expect(changes.events.contains { $0.vm == "db" && $0.message.contains("running → shutoff") })
        #expect(ViewChanges.between(new, new, at: Self.now).events.isEmpty, "nothing changed, nothing to tell")
    }

    @Test("the JSON leaves out absent optionals and round-trips")
    func json() throws {
        let view = ClusterViewBuilder(server: Self.server, source: "spec", desired: Self.cluster(),
                                      observed: ObservedState(hosts: ["h1": ObservedHost(name: "h1")])).build(at: Self.now)
        let data = try view.json()
        let text = String(decoding: data, as: UTF8.self)
        #expect(!text.contains("null"), "no nulls: \(text.prefix(300))")
        #expect(text.contains("\"generatedAt\":\"2027-01-15T08:00:00Z\""))
        #expect(try ClusterView.decode(data) == view)
    }
}
