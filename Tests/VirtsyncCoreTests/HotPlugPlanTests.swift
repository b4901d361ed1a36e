import Foundation
import Testing
import VirtsyncCore

/// Hot-plug: a disk or NIC added at the end of a running VM's lists is attached live; what QEMU
/// cannot plug in while running waits for the next boot.
@Suite("hot-plug in plans")
struct HotPlugPlanTests {
    static let base = DomainModel(name: "vm", memory: .mib(64),
                                  disks: [DiskModel(target: "vda", source: .file(path: "/srv/os.qcow2")),
                                          DiskModel(target: "sda", bus: .virtioScsi, source: .file(path: "/srv/a.raw"))],
                                  interfaces: [InterfaceModel(source: .bridge("br0"), mac: "52:54:00:00:c1:01")], power: .running)

    static func plan(_ vm: DomainModel, seen: DomainModel = base, state: RunState = .running) -> PlanStep? {
        let observed = Lab.observed(seen, uuid: "u", state: state)
        let desired = DesiredState(hosts: [DesiredHost(name: "local", domains: [vm])], specDigest: PlanCase.specDigest)
        return Planner.plan(desired: desired, observed: ObservedState(hosts: ["local": ObservedHost(name: "local", domains: ["vm": observed])]))
            .steps.first
    }

    static func live(_ step: PlanStep?) -> [LiveOperation] {
        guard case .domain(_, let live, _)? = step?.payload else { return [] }
        return live
    }

    @Test("a virtio disk, a second virtio-scsi disk and a NIC added to a running VM are attached live")
    func attached() throws {
        var vm = Self.base
        vm.disks += [DiskModel(target: "vdb", source: .file(path: "/srv/b.raw")),
                     DiskModel(target: "sdb", bus: .virtioScsi, source: .file(path: "/srv/c.raw"))]
        vm.interfaces.append(InterfaceModel(source: .network("lan")))
        let step = try #require(Self.plan(vm))
        #expect(step.disruption == .live, "\(step.changes)")
        #expect(step.changes.map(\.field) == ["disks[2]", "disks[3]", "interfaces[1]"])
        #expect(Self.live(step) == [.attachDisk(target: "vdb"), .attachDisk(target: "sdb"), .attachInterface(mac: nil, index: 1)])
    }

    @Test("a sata disk, a CD-ROM, a first virtio-scsi disk and a removed disk wait for the next boot; a stopped VM has no live operations")
    func notLive() throws {
        for added in [DiskModel(target: "sdb", bus: .sata, source: .file(path: "/srv/b.raw")),
                      DiskModel(target: "sdc", bus: .sata, cdrom: true, source: .file(path: "/srv/b.iso"))] {
            var vm = Self.base
            vm.disks.append(added)
            let step = try #require(Self.plan(vm))
            #expect(step.disruption == .nextBoot && Self.live(step).isEmpty, "\(added.bus) \(step.changes)")
        }
        var firstSCSI = Self.base
        firstSCSI.disks = [Self.base.disks[0]]
        var vm = firstSCSI
        vm.disks.append(Self.base.disks[1])
        let scsi = try #require(Self.plan(vm, seen: firstSCSI))
        #expect(scsi.disruption == .nextBoot && Self.live(scsi).isEmpty, "the guest has no virtio-scsi controller yet")

        let removed = try #require(Self.plan(firstSCSI))
        #expect(removed.disruption == .nextBoot && Self.live(removed).isEmpty)

        var stoppedVM = Self.base
        stoppedVM.power = .stopped
        stoppedVM.disks.append(DiskModel(target: "vdb", source: .file(path: "/srv/b.raw")))
        stoppedVM.interfaces.append(InterfaceModel(source: .network("lan")))
        let stopped = try #require(Self.plan(stoppedVM, state: .shutoff))
        #expect(stopped.changes.allSatisfy { $0.disruption == .none } && Self.live(stopped).isEmpty, "\(stopped.changes)")
    }

    @Test("hot-plug operations keep their meaning in a saved plan")
    func coding() throws {
        for op in [LiveOperation.attachDisk(target: "vdb"), .attachInterface(mac: nil, index: 2), .attachInterface(mac: "52:54:00:00:c1:02", index: 1)] {
            let data = try JSONEncoder().encode(op)
            #expect(try JSONDecoder().decode(LiveOperation.self, from: data) == op, "\(String(decoding: data, as: UTF8.self))")
        }
    }
}
