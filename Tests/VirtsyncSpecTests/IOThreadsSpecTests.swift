import Testing
import VirtsyncCore
import VirtsyncSpec

/// `iothreads`, a disk's `iothread` and the `virtio-scsi` bus in the spec.
@Suite("I/O threads and virtio-scsi in the spec")
struct IOThreadsSpecTests {
    private func load(_ body: String) -> SpecLoadResult {
        let text = """
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: db-1
            memory: 1GiB
            \(body)
            """
        return SpecLoader.load(files: [SpecFile(path: "vm.yaml", bytes: Array(text.utf8))])
    }

    @Test("iothreads, iothread on virtio and virtio-scsi disks, and the virtio-scsi bus reach the model")
    func decodes() throws {
        let result = load("""
            iothreads: 2
            disks:
              - file: /srv/os.qcow2
                iothread: 1
              - file: /srv/data.raw
                bus: virtio-scsi
                iothread: 2
                discard: unmap
              - file: /srv/logs.raw
                bus: virtio-scsi
            """)
        let vm = try #require(result.desired?.hosts.first?.domains.first, "\(result.diagnostics)")
        #expect(vm.cpu.iothreads == 2)
        #expect(vm.disks.map(\.bus) == [.virtio, .virtioScsi, .virtioScsi])
        #expect(vm.disks.map(\.target) == ["vda", "sda", "sdb"])
        #expect(vm.disks.map { $0.options?.iothread } == [1, 2, nil])
    }

    @Test("a VM without iothreads leaves libvirt's (nothing compared)")
    func leftOut() throws {
        let result = load("disks:\n  - file: /srv/os.qcow2")
        let vm = try #require(result.desired?.hosts.first?.domains.first, "\(result.diagnostics)")
        #expect(vm.cpu.iothreads == nil && vm.disks[0].options == nil)
    }

    @Test("mistakes are reported at their keys with file and line")
    func mistakes() {
        let result = load("""
            iothreads: 2
            disks:
              - file: /srv/a.raw
                iothread: 3
              - file: /srv/b.raw
                bus: sata
                iothread: 1
              - file: /srv/c.raw
                bus: virtio-scsi
                iothread: 1
              - file: /srv/d.raw
                bus: virtio-scsi
                iothread: 2
              - file: /srv/e.raw
                bus: scsi
            """)
        let text = result.diagnostics.description
        #expect(result.desired == nil)
        #expect(text.contains("vm.yaml:8:15: error: VirtualMachine[db-1].disks[0].iothread: iothread 3 is beyond the VM's iothreads: 2"), "\(text)")
        #expect(text.contains("vm.yaml:11:15: error: VirtualMachine[db-1].disks[1].iothread: iothread applies to virtio and virtio-scsi disks, not to a sata disk"), "\(text)")
        #expect(text.contains("vm.yaml:17:15: error: VirtualMachine[db-1].disks[3].iothread: virtio-scsi disks share one controller and its I/O thread: iothread 2 differs from iothread 1 at vm.yaml:14:15"), "\(text)")
        #expect(text.contains("vm.yaml:19:10: error: VirtualMachine[db-1].disks[4].bus: a VM's SCSI disks share one controller, so they are all 'scsi' or all 'virtio-scsi'"), "\(text)")

        let noCount = load("disks:\n  - file: /srv/a.raw\n    iothread: 1")
        #expect(noCount.diagnostics.description.contains("vm.yaml:7:15: error: VirtualMachine[db-1].disks[0].iothread: iothread 1 needs the VM's 'iothreads'"),
                "\(noCount.diagnostics)")
        let tooMany = load("iothreads: 65")
        #expect(tooMany.diagnostics.description.contains("vm.yaml:5:12: error: VirtualMachine[db-1].iothreads:"), "\(tooMany.diagnostics)")
    }

    @Test("the escape hatch refuses what iothreads and the virtio-scsi bus own, and keeps other controllers")
    func hatch() {
        let owned = load("""
            xml:
              domain: "<iothreads>4</iothreads>"
              devices: "<controller type='scsi' index='0' model='virtio-scsi'/>"
            """).diagnostics.description
        #expect(owned.contains("iothreads"), "\(owned)")
        #expect(owned.contains("disks (bus: virtio-scsi)"), "\(owned)")
        let other = load("""
            xml:
              devices: "<controller type='scsi' index='1' model='lsilogic'/>"
            """)
        #expect(other.desired != nil, "\(other.diagnostics)")
    }
}
