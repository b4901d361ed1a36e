import Foundation
import Testing
import VirtsyncCore
import VirtsyncSpec

/// `ha: true`: never with libvirt autostart, and its disks on shared storage so that another
/// host can restart it; `failback` says whether it goes home after a failover.
@Suite("HA VMs: autostart, shared storage and failback")
struct HASpecTests {
    /// Two hosts (one with `hosts: 1`), a `shared` pool and a `local` one, and the VM `db`
    /// pinned to host-a, HA unless `ha` is false, with `extra` appended from line 30 on (line 25
    /// with one host).
    private func load(_ extra: String, hosts: Int = 2, vm: String = "host: host-a", ha: Bool = true) -> SpecLoadResult {
        var text = "apiVersion: virtsync/v1\nkind: Host\nname: host-a\nuri: qemu+ssh://a/system\n---\n"
        if hosts == 2 { text += "apiVersion: virtsync/v1\nkind: Host\nname: host-b\nuri: qemu+ssh://b/system\n---\n" }
        text += """
            apiVersion: virtsync/v1
            kind: StoragePool
            name: shared
            path: /srv/shared
            shared: true
            volumes: [{name: db.qcow2, size: 1GiB}]
            ---
            apiVersion: virtsync/v1
            kind: StoragePool
            name: local
            path: /var/lib/local
            volumes: [{name: db.qcow2, size: 1GiB}]
            ---
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: db
            \(vm)
            ha: \(ha)
            memory: 64MiB

            """
        return SpecLoader.load(files: [SpecFile(path: "spec.yaml", bytes: Array((text + extra).utf8))])
    }

    static let noFailover = "this HA VM will not be restarted on another host when its host dies"

    @Test("autostart on an HA VM is an error at the value, saying why and what to do")
    func autostart() {
        let result = load("autostart: true\ndisks: [{volume: shared/db.qcow2}]\n")
        #expect(result.desired == nil)
        #expect(result.diagnostics.description == """
            spec.yaml:30:12: error: VirtualMachine[db].autostart: an HA VM never uses libvirt autostart: HA starts it on the host \
            that owns it, and autostart would start a stale copy on a host that reboots after the VM was restarted elsewhere; \
            remove 'autostart' (HA keeps the VM running)
            """)
    }

    @Test("autostart is an error on an HA VM of a single-host spec too; autostart false, or without ha, is fine")
    func autostartElsewhere() {
        let single = load("autostart: true\n", hosts: 1)
        #expect(single.desired == nil)
        #expect(single.diagnostics.description.hasPrefix("spec.yaml:25:12: error: VirtualMachine[db].autostart: an HA VM never uses"),
                "\(single.diagnostics)")
        let off = load("autostart: false\ndisks: [{volume: shared/db.qcow2}]\n")
        #expect(off.diagnostics.items.isEmpty, "\(off.diagnostics)")
        #expect(off.desired != nil)
        let text = "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: vm\nmemory: 64MiB\nha: false\nautostart: true\n"
        let plain = SpecLoader.load(files: [SpecFile(path: "vm.yaml", bytes: Array(text.utf8))])
        #expect(plain.diagnostics.items.isEmpty, "\(plain.diagnostics)")
    }

    @Test("a disk given by a plain path is a warning at the path: the VM cannot fail over")
    func pathDisk() {
        let result = load("disks:\n  - volume: shared/db.qcow2\n  - file: /var/lib/images/db.img\n")
        #expect(result.desired != nil)
        #expect(result.diagnostics.description == """
            spec.yaml:32:11: warning: VirtualMachine[db].disks[1].file: disk /var/lib/images/db.img is a plain path, not a volume \
            of a shared pool: \(Self.noFailover); use a volume of a pool with 'shared: true'
            """)
    }

    @Test("a disk in a pool that is not shared is a warning at the volume: the VM cannot fail over")
    func localPool() {
        let result = load("disks:\n  - volume: local/db.qcow2\n")
        #expect(result.desired != nil)
        #expect(result.diagnostics.description == """
            spec.yaml:31:13: warning: VirtualMachine[db].disks[0].volume: disk local/db.qcow2 is in pool 'local', which is not \
            shared: \(Self.noFailover); put it in a pool with 'shared: true'
            """)
    }

    @Test("a placed HA VM gets the failover warning at a local disk, instead of the one about copying")
    func placedLocalPool() {
        let result = load("disks:\n  - volume: local/db.qcow2\n    existing: true\n", vm: "placement: {}")
        #expect(result.diagnostics.description == """
            spec.yaml:31:13: warning: VirtualMachine[db].disks[0].volume: disk local/db.qcow2 is in pool 'local', which is not \
            shared: \(Self.noFailover); put it in a pool with 'shared: true'
            """)
    }

    @Test("the cloud-init seed's pool counts: written, or taken from the first volume disk")
    func seedPool() {
        let written = load("disks: [{volume: shared/db.qcow2}]\ncloudInit:\n  pool: local\n")
        #expect(written.diagnostics.description == """
            spec.yaml:32:9: warning: VirtualMachine[db].cloudInit.pool: the cloud-init seed goes to pool 'local', which is not \
            shared: \(Self.noFailover); set cloudInit.pool to a pool with 'shared: true'
            """)
        let implied = load("disks: [{volume: local/db.qcow2}]\ncloudInit: {userData: '#cloud-config'}\n")
        let lines = implied.diagnostics.description.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(implied.diagnostics)")
        #expect(lines.last == "spec.yaml:31:12: warning: VirtualMachine[db].cloudInit.pool: the cloud-init seed goes to pool 'local' "
            + "(the pool of its first volume disk), which is not shared: \(Self.noFailover); set cloudInit.pool to a pool with 'shared: true'")
        let shared = load("disks: [{volume: shared/db.qcow2}]\ncloudInit: {userData: '#cloud-config'}\n")
        #expect(shared.diagnostics.items.isEmpty, "\(shared.diagnostics)")
    }

    @Test("disks in a shared pool draw no warning")
    func sharedPool() {
        let result = load("disks:\n  - volume: shared/db.qcow2\n")
        #expect(result.diagnostics.items.isEmpty, "\(result.diagnostics)")
        #expect(result.desired?.machines.first?.placement.ha == true)
    }

    @Test("a single-host spec draws no warning: there is no other host to fail over to")
    func singleHost() {
        let result = load("disks:\n  - volume: local/db.qcow2\n  - file: /var/lib/images/db.img\ncloudInit: {pool: local}\n", hosts: 1)
        #expect(result.diagnostics.items.isEmpty, "\(result.diagnostics)")
        #expect(result.desired?.hosts.first?.domains.map(\.name) == ["db"])
    }

    @Test("failback: false is carried into the VM's placement; left out, it is true")
    func failbackCarried() {
        let off = load("failback: false\ndisks: [{volume: shared/db.qcow2}]\n")
        #expect(off.diagnostics.items.isEmpty, "\(off.diagnostics)")
        #expect(off.desired?.machines.first?.placement.failback == false)
        #expect(off.desired?.machines.first?.placement.ha == true)
        let on = load("failback: true\ndisks: [{volume: shared/db.qcow2}]\n")
        #expect(on.diagnostics.items.isEmpty, "\(on.diagnostics)")
        #expect(on.desired?.machines.first?.placement.failback == true)
        let absent = load("disks: [{volume: shared/db.qcow2}]\n")
        #expect(absent.desired?.machines.first?.placement.failback == true)
    }

    @Test("a failback that is not true or false is an error at the value")
    func failbackNotBoolean() {
        let result = load("failback: maybe\ndisks: [{volume: shared/db.qcow2}]\n")
        #expect(result.desired == nil)
        #expect(result.diagnostics.description == "spec.yaml:30:11: error: VirtualMachine[db].failback: expected true or false, got 'maybe'")
        let quoted = load("failback: \"false\"\ndisks: [{volume: shared/db.qcow2}]\n")
        #expect(quoted.desired == nil)
        #expect(quoted.diagnostics.description.hasPrefix("spec.yaml:30:11: error: VirtualMachine[db].failback: expected true or false"),
                "\(quoted.diagnostics)")
    }

    @Test("failback on a VM without ha: true is a warning at the key, with several hosts or one")
    func failbackWithoutHA() {
        let result = load("failback: false\ndisks: [{volume: shared/db.qcow2}]\n", ha: false)
        #expect(result.desired != nil)
        #expect(result.diagnostics.description
            == "spec.yaml:30:1: warning: VirtualMachine[db].failback: failback has no effect without 'ha: true'")
        let text = "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: vm\nmemory: 64MiB\nfailback: true\n"
        let single = SpecLoader.load(files: [SpecFile(path: "vm.yaml", bytes: Array(text.utf8))])
        #expect(single.desired != nil)
        #expect(single.diagnostics.description == "vm.yaml:5:1: warning: VirtualMachine[vm].failback: failback has no effect without 'ha: true'")
    }

    @Test("a placement reads without failback as failback true, and writes it only when false")
    func failbackCoding() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let placement = DesiredPlacement(rule: PlacementRule(pinned: "host-a"), ha: true)
        let json = String(decoding: try encoder.encode(placement), as: UTF8.self)
        #expect(!json.contains("failback"), "\(json)")
        let decoded = try JSONDecoder().decode(DesiredPlacement.self, from: Data(json.utf8))
        #expect(decoded == placement)
        #expect(decoded.failback)
        var off = placement
        off.failback = false
        let offJSON = try encoder.encode(off)
        #expect(String(decoding: offJSON, as: UTF8.self).contains("\"failback\":false"))
        #expect(try JSONDecoder().decode(DesiredPlacement.self, from: offJSON) == off)
    }
}
