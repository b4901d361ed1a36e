import Testing
import VirtsyncCore

/// Review plans: the head commit planned against the state the base commit leaves, as for a
/// pull request, with no host read.
@Suite("review plans")
struct ReviewPlanTests {
    /// The plan of `head` against the base's assumed state.
    private func review(_ settings: SpecSettings = SpecSettings(), _ change: (inout DesiredHost) -> Void) -> Plan {
        Planner.plan(desired: ReviewLab.head(settings: settings, change), observed: .assuming(ReviewLab.base(settings: settings)))
    }

    @Test("the base against itself plans nothing")
    func unchanged() {
        let plan = review { _ in }
        #expect(plan.steps.isEmpty)
        #expect(plan.notes.isEmpty)
    }

    @Test("more memory on a running VM, within its maximum, is a live update")
    func memoryGrowsLive() throws {
        let plan = review { $0.domains[0].memory = .mib(768) }
        #expect(plan.steps.map(\.id) == ["update:domain:local/web-1"])
        let step = try #require(plan.steps.first)
        #expect(step.disruption == .live)
        #expect(step.changes == [FieldChange(field: "memory", before: ByteSize.mib(512), after: .mib(768), disruption: .live)])
        #expect(step.changes.first?.afterValue == .integer(768 << 20) && step.changes.first?.unit == .bytes)
        guard case .domain(_, let live, let marker) = step.payload else { Issue.record("no domain payload"); return }
        #expect(live == [.setMemory(.mib(768))])
        #expect(marker.commit == PlanCase.commit)
        #expect(plan.notes.isEmpty)
    }

    @Test("more memory than the running VM's maximum waits for its next boot, with a note")
    func memoryGrowsPastMaximum() throws {
        let plan = review { host in
            host.domains[0].memory = .gib(2)
            host.domains[0].maxMemory = .gib(2)
        }
        #expect(plan.steps.map(\.id) == ["update:domain:local/web-1"])
        #expect(plan.steps.first?.disruption == .nextBoot)
        #expect(plan.notes.map(\.severity) == [.info])
        #expect(plan.notes.first?.message.contains("next boot") == true)
    }

    @Test("a disk bus change restarts a VM that allows it, waits for the next boot otherwise, and is free on a stopped VM")
    func diskBus() throws {
        let restarted = review { host in host.domains[1].disks[1].bus = .sata }
        #expect(restarted.steps.map(\.id) == ["update:domain:local/db-1", "restart:domain:local/db-1"])
        #expect(restarted.steps.map(\.disruption) == [.nextBoot, .restart])
        #expect(restarted.steps.first?.changes.first?.after == "vdb sata volume lab/db-1-data.qcow2")

        let pending = review { host in host.domains[1].disks[1].bus = .sata; host.domains[1].restartForUpdates = false }
        #expect(pending.steps.map(\.id) == ["update:domain:local/db-1"])
        #expect(pending.steps.first?.disruption == .nextBoot)
        #expect(pending.notes.contains { $0.severity == .info && $0.message.contains("disks[1]") })

        // batch-1 is stopped: a bus change just lands in its definition.
        var base = ReviewLab.base(settings: SpecSettings())
        base.hosts[0].domains[3].disks = [DiskModel(target: "vda", source: .file(path: "/srv/batch.img"))]
        var head = base
        head.commit = PlanCase.commit
        head.hosts[0].domains[3].disks[0].bus = .sata
        let stopped = Planner.plan(desired: head, observed: .assuming(base))
        #expect(stopped.steps.map(\.id) == ["update:domain:local/batch-1"])
        #expect(stopped.steps.first?.disruption == Disruption.none)
        #expect(stopped.notes.isEmpty)
    }

    @Test("a removed VM is deleted with pruning (stopped first when running) and only noted without")
    func vmRemoved() throws {
        let pruned = review(SpecSettings(prune: true)) { host in host.domains.removeAll { $0.name == "cache-1" || $0.name == "batch-1" } }
        #expect(pruned.steps.map(\.id) == ["delete:domain:local/batch-1", "delete:domain:local/cache-1"])
        #expect(pruned.steps.map(\.disruption) == [Disruption.none, .stop])
        #expect(pruned.notes.isEmpty)

        let kept = review { host in host.domains.removeAll { $0.name == "cache-1" } }
        #expect(kept.steps.isEmpty)
        #expect(kept.notes.map(\.severity) == [.info])
        #expect(kept.notes.first?.message.contains("pruning is off") == true)
    }

    @Test("a removed VM's volume leaves with it only with pruning and deleteVolumesWithVM, as data loss")
    func volumeRemovedWithVM() {
        let settings = SpecSettings(prune: true, deleteVolumesWithVM: true)
        let plan = review(settings) { host in
            host.domains.removeAll { $0.name == "cache-1" }
            host.volumes.removeAll { $0.name == "cache-1-root.qcow2" }
        }
        #expect(plan.steps.map(\.id) == ["delete:domain:local/cache-1", "delete:volume:local/lab/cache-1-root.qcow2"])
        #expect(plan.steps.last?.disruption == .dataLoss)
        #expect(plan.steps.last?.dependsOn == ["delete:domain:local/cache-1"])

        let keptVolume = review(SpecSettings(prune: true)) { host in
            host.domains.removeAll { $0.name == "cache-1" }
            host.volumes.removeAll { $0.name == "cache-1-root.qcow2" }
        }
        #expect(keptVolume.steps.map(\.id) == ["delete:domain:local/cache-1"])
        #expect(keptVolume.notes.contains { $0.resource?.name == "lab/cache-1-root.qcow2" && $0.message.contains("kept") })
    }

    @Test("an added network is created; one whose subnet overlaps a base network is an error")
    func networkAdded() {
        let plan = review { host in
            host.networks.append(NetworkModel(name: "storage", mode: .routed, ipv4: IPv4Config(address: "10.50.0.1", prefix: 24)))
        }
        #expect(plan.steps.map(\.id) == ["create:network:local/storage"])
        #expect(plan.steps.first?.disruption == Disruption.none)
        #expect(plan.notes.isEmpty)

        let clash = review { host in
            host.networks.append(NetworkModel(name: "lab2", mode: .nat, ipv4: IPv4Config(address: "10.213.0.254", prefix: 16)))
        }
        #expect(clash.notes.contains { $0.severity == .error && $0.message.contains("overlaps network labnet") })
    }

    @Test("a shrunk volume is refused with an error; a grown one is resized, live through the running VM that uses it")
    func volumeSizes() {
        let shrunk = review { host in host.volumes[3].capacity = .gib(10) }
        #expect(shrunk.steps.isEmpty)
        #expect(shrunk.notes.map(\.severity) == [.error])
        #expect(shrunk.notes.first?.message.contains("would shrink from 20GiB to 10GiB") == true)

        let grownInUse = review { host in host.volumes[3].capacity = .gib(40) }
        #expect(grownInUse.steps.map(\.disruption) == [.live])
        #expect(grownInUse.steps.first?.reason.contains("grown live through running domain db-1") == true)

        let grownFree = review { host in host.volumes[0].capacity = .gib(4) }
        #expect(grownFree.steps.map(\.id) == ["update:volume:local/lab/debian-12.qcow2"])
        #expect(grownFree.steps.first?.changes.first.map { [$0.before, $0.after] } == ["2GiB", "4GiB"])
    }

    @Test("a new cloud-init seed replaces the old one, which is kept while a running VM still uses it")
    func seedReplaced() throws {
        var newSeed = Lab.seed
        newSeed.name = "web-1-seed-0123456789abcdef.iso"
        newSeed.source = .generated(digest: "0123456789abcdef")
        let settings = SpecSettings()
        var base = ReviewLab.base(settings: settings)
        base.hosts[0].volumes.append(Lab.seed)
        base.hosts[0].domains[0].disks.append(Lab.seedDisk(Lab.seed))
        var head = base
        head.commit = PlanCase.commit
        head.hosts[0].volumes[5] = newSeed
        head.hosts[0].domains[0].disks[1] = Lab.seedDisk(newSeed)
        let plan = Planner.plan(desired: head, observed: .assuming(base))
        #expect(plan.steps.map(\.id) == ["create:volume:local/lab/\(newSeed.name)", "update:domain:local/web-1"])
        #expect(plan.notes.contains { $0.resource?.name == Lab.seed.key && $0.message.contains("still uses it") })
        // Once web-1 is stopped in the spec, the old seed goes (it holds nothing of the user's).
        head.hosts[0].domains[0].power = .stopped
        let stopped = Planner.plan(desired: head, observed: .assuming(base))
        #expect(stopped.steps.contains { $0.id == "delete:volume:local/\(Lab.seed.key)" && $0.disruption == Disruption.none })
    }

    @Test("the golden review case shows each change of the pull request")
    func pullRequest() throws {
        let plan = PlanCase.reviewPullRequest.plan
        #expect(plan.basis.baseCommit == ReviewLab.baseCommit)
        #expect(plan.basis.commit == PlanCase.commit)
        #expect(plan.basis.signer == ReviewLab.signer)
        #expect(Set(plan.steps.map(\.id)) == [
            "update:domain:local/web-1", "update:domain:local/db-1", "restart:domain:local/db-1",
            "delete:domain:local/cache-1", "delete:volume:local/lab/cache-1-root.qcow2", "create:network:local/storage",
        ])
        #expect(plan.notes.map(\.severity) == [.error])
    }
}
