import Testing
import VirtsyncCore

/// Boot, firmware and platform devices in the plan: only what the spec manages is compared,
/// every change waits for the next boot, and host devices keep a VM on its host.
@Suite("boot, firmware and devices in the plan")
struct PlatformPlanTests {
    static let full = DomainPlatform(
        bootOrder: [.cdrom, .disk], bootMenu: true,
        kernel: .present(KernelBoot(path: "/var/lib/images/vmlinuz", initrd: "/var/lib/images/initrd.img", cmdline: "console=ttyS0")),
        secureBoot: true, tpm: .present(TPMDevice(model: .crb)), guestAgent: true, rng: .present(RNGDevice(bytesPerSecond: 1024)),
        watchdog: .present(WatchdogDevice(action: .poweroff)), video: VideoDevice(model: .virtio), tablet: true,
        hostDevices: [.pci(address: "0000:03:00.0"), .usb(vendor: "0x1d6b", product: "0x0002")])

    static func vm(_ platform: DomainPlatform) -> DomainModel {
        var model = DomainModel(name: "vm", memory: .mib(64), machine: "q35", firmware: .uefi)
        model.platform = platform
        return model
    }

    /// One host running `seen`, one desired domain `wanted`.
    static func plan(wanted: DomainPlatform, seen: DomainPlatform, state: RunState = .running) -> Plan {
        let desired = DesiredState(hosts: [DesiredHost(name: "local", domains: [vm(wanted)])], specDigest: "d1")
        var observedModel = vm(seen)
        observedModel.maxVcpus = 1
        observedModel.maxMemory = .mib(64)
        let live = state.isActive ? LiveDomainValues(memory: .mib(64), maxMemory: .mib(64), vcpus: 1, maxVcpus: 1) : nil
        let domain = ObservedDomain(model: observedModel, uuid: "6c3b1d52-1f0e-4c2a-9e1a-0d2f4b6a8c10", state: state, live: live,
                                    marker: OwnershipMarker(specDigest: "d0"))
        return Planner.plan(desired: desired, observed: ObservedState(hosts: ["local": ObservedHost(name: "local", domains: ["vm": domain])]))
    }

    static func changes(_ plan: Plan) -> [FieldChange] { plan.steps.filter { $0.action == .update }.flatMap(\.changes) }

    @Test("a domain that has everything the spec asks for plans nothing")
    func idempotent() {
        let plan = Self.plan(wanted: Self.full, seen: Self.full)
        #expect(plan.steps.isEmpty, "\(plan.steps.map(\.id))")
    }

    @Test("a watchdog action change on a running VM is an update for the next boot, and nothing else changes")
    func watchdogNextBoot() throws {
        var seen = Self.full
        seen.watchdog = .present(WatchdogDevice(action: .reset))
        let plan = Self.plan(wanted: Self.full, seen: seen)
        #expect(Self.changes(plan) == [FieldChange(field: "watchdog", before: "i6300esb reset", after: "i6300esb poweroff", disruption: .nextBoot)])
        #expect(plan.steps.first?.disruption == .nextBoot)
    }

    @Test("every platform field that differs is listed, each for the next boot")
    func everyField() {
        let plan = Self.plan(wanted: Self.full, seen: DomainPlatform())
        let fields = Self.changes(plan).map(\.field)
        #expect(fields == ["boot.order", "boot.menu", "kernel", "secureBoot", "tpm", "guestAgent", "rng", "watchdog", "video", "tablet",
                           "hostDevices"])
        #expect(Self.changes(plan).allSatisfy { $0.disruption == .nextBoot })
    }

    @Test("on a VM that is not running the same changes just land in the definition")
    func stoppedVM() {
        let plan = Self.plan(wanted: Self.full, seen: DomainPlatform(), state: .shutoff)
        #expect(!Self.changes(plan).isEmpty)
        #expect(Self.changes(plan).allSatisfy { $0.disruption == .none })
    }

    @Test("fields the spec leaves out are not compared, whatever the domain has")
    func openFields() {
        #expect(Self.plan(wanted: DomainPlatform(), seen: Self.full).steps.isEmpty)
    }

    @Test("a device set to absent is no change on a domain without one, and a removal on a domain with one")
    func absentDevices() {
        let none = DomainPlatform(kernel: .absent, tpm: .absent, guestAgent: false, rng: .absent, watchdog: .absent, tablet: false, hostDevices: [])
        #expect(Self.plan(wanted: none, seen: DomainPlatform()).steps.isEmpty)
        let removals = Self.changes(Self.plan(wanted: none, seen: Self.full))
        #expect(removals.map(\.field) == ["kernel", "tpm", "guestAgent", "rng", "watchdog", "tablet", "hostDevices"])
        #expect(removals.first { $0.field == "tpm" } == FieldChange(field: "tpm", before: "crb 2.0", after: nil, disruption: .nextBoot))
        #expect(removals.first { $0.field == "hostDevices" }?.after == "none")
    }

    @Test("video memory is compared only when the spec sets it; host devices in another order are no change")
    func openDetails() {
        var seen = Self.full
        seen.video = VideoDevice(model: .virtio, vram: .mib(16))
        seen.hostDevices = Self.full.hostDevices?.reversed()
        #expect(Self.plan(wanted: Self.full, seen: seen).steps.isEmpty)
        var wanted = Self.full
        wanted.video = VideoDevice(model: .virtio, vram: .mib(32))
        #expect(Self.changes(Self.plan(wanted: wanted, seen: seen)).map(\.field) == ["video"])
    }

    @Test("a new VM lists its platform fields in the plan")
    func creation() throws {
        let desired = DesiredState(hosts: [DesiredHost(name: "local", domains: [Self.vm(Self.full)])], specDigest: "d1")
        let plan = Planner.plan(desired: desired, observed: desired.emptyCluster)
        let create = try #require(plan.steps.first { $0.action == .create && $0.resource.kind == .domain })
        let fields = Dictionary(create.changes.map { ($0.field, $0.after) }, uniquingKeysWith: { a, _ in a })
        #expect(fields["boot.order"] == "cdrom, disk")
        #expect(fields["secureBoot"] == "true")
        #expect(fields["tpm"] == "crb 2.0")
        #expect(fields["rng"] == "/dev/urandom 1024 bytes/s")
        #expect(fields["hostDevices"] == "pci 0000:03:00.0, usb 0x1d6b:0x0002")
        #expect(fields["kernel"] == "/var/lib/images/vmlinuz initrd /var/lib/images/initrd.img cmdline \"console=ttyS0\"")
    }

    // MARK: - Migration

    static func cluster(pinned: String, hostDevices: [HostDevice]) -> (DesiredState, ObservedState) {
        var model = DomainModel(name: "gpu", memory: .mib(64))
        model.platform.hostDevices = hostDevices
        let hosts = ["a", "b"].map { DesiredHost(name: $0, uri: "qemu+ssh://\($0)/system", memoryCapacity: .gib(8)) }
        let desired = DesiredState(hosts: hosts, specDigest: "d1",
                                   machines: [ClusterMachine(domain: model, placement: DesiredPlacement(rule: PlacementRule(pinned: pinned)))])
        var seen = model
        seen.maxVcpus = 1
        seen.maxMemory = .mib(64)
        let running = ObservedDomain(model: seen, uuid: "6c3b1d52-1f0e-4c2a-9e1a-0d2f4b6a8c10", state: .running,
                                     live: LiveDomainValues(memory: .mib(64), maxMemory: .mib(64), vcpus: 1, maxVcpus: 1),
                                     marker: OwnershipMarker(specDigest: "d1"))
        let observed = ObservedState(hosts: ["a": ObservedHost(name: "a", domains: ["gpu": running]), "b": ObservedHost(name: "b")])
        return (desired, observed)
    }

    @Test("the migration pre-flight refuses a VM with host devices: no migrate step, an error note, the VM stays")
    func migrationRefused() {
        let (desired, observed) = Self.cluster(pinned: "b", hostDevices: [.pci(address: "0000:03:00.0")])
        let plan = Planner.plan(desired: desired, observed: observed)
        #expect(!plan.steps.contains { $0.action == .migrate || $0.action == .create || $0.action == .delete }, "\(plan.steps.map(\.id))")
        let note = plan.notes.first { $0.message.contains("refused in pre-flight") }
        #expect(note?.severity == .error)
        #expect(note?.message.contains("host devices: pci 0000:03:00.0 belongs to a") == true, "\(plan.notes)")
        #expect(note?.message.contains("the VM stays on a") == true)
    }

    @Test("the same move without host devices is a live migration")
    func migrationWithoutHostDevices() {
        let (desired, observed) = Self.cluster(pinned: "b", hostDevices: [])
        let plan = Planner.plan(desired: desired, observed: observed)
        #expect(plan.steps.contains { $0.action == .migrate }, "\(plan.steps.map(\.id)) \(plan.notes)")
    }
}
