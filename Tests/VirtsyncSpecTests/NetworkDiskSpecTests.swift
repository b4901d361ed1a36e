import Testing
import VirtsyncCore
import VirtsyncSpec

/// Block devices and network disks in the spec: decoding, the secret object a disk's auth names,
/// and mistakes reported at their keys.
@Suite("block and network disks in the spec")
struct NetworkDiskSpecTests {
    private func load(_ disks: String, secrets: String = "") -> SpecLoadResult {
        let text = """
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: db-1
            memory: 1GiB
            disks:
            \(disks)
            """ + secrets
        return SpecLoader.load(files: [SpecFile(path: "vm.yaml", bytes: Array(text.utf8))])
    }

    static let cephKey = """

        ---
        apiVersion: virtsync/v1
        kind: Secret
        name: ceph-key
        hostFile: ceph.key

        """

    @Test("block, rbd with auth and nbd disks reach the model; the auth names the VM's secret object for the Secret")
    func decodes() throws {
        let result = load("""
              - block: /dev/mapper/vg0-db
              - network: {protocol: rbd, name: vms/db-1, hosts: ["mon-1:6789", mon-2], auth: {username: libvirt, secret: ceph-key}}
              - network: {protocol: nbd, hosts: ["127.0.0.1:10809"]}
                readonly: true
            """, secrets: Self.cephKey)
        let host = try #require(result.desired?.hosts.first, "\(result.diagnostics)")
        let vm = try #require(host.domains.first)
        #expect(vm.disks.map(\.target) == ["vda", "vdb", "vdc"])
        #expect(vm.disks[0].source == .block(path: "/dev/mapper/vg0-db"))
        let uuid = SecretObjectModel.uuid(consumer: SecretObjectModel.consumer(domain: "db-1", secret: "ceph-key", type: "ceph"))
        #expect(vm.disks[1].source == .network(NetworkDisk(protocol: .rbd, name: "vms/db-1", hosts: ["mon-1:6789", "mon-2"],
                                                           auth: DiskAuth(username: "libvirt", secretType: "ceph", secretUUID: uuid))))
        #expect(vm.disks[2].source == .network(NetworkDisk(protocol: .nbd, name: nil, hosts: ["127.0.0.1:10809"])) && vm.disks[2].readonly)
        let object = try #require(host.secretObjects.first { $0.uuid == uuid }, "\(host.secretObjects)")
        #expect(object.usage == .named(type: "ceph", id: "virtsync/db-1/ceph-key"))
    }

    @Test("mistakes are reported at their keys with file and line")
    func mistakes() {
        let text = load("""
              - block: dev/sdb
              - network: {protocol: rbd, name: just-an-image, hosts: []}
              - network: {protocol: iscsi, name: "iqn.2013-06.com.example:san", hosts: ["san:99999"]}
              - network: {protocol: nbd, hosts: [a, b], auth: {username: u, secret: k}}
              - file: /srv/a.raw
                block: /dev/sdc
              - network: {protocol: ftp, hosts: [a]}
            """).diagnostics.description
        #expect(text.contains("VirtualMachine[db-1].disks[0].block"), "\(text)")
        #expect(text.contains("vm.yaml:7:36: error: VirtualMachine[db-1].disks[1].network.name: an rbd disk's name is pool/image"), "\(text)")
        #expect(text.contains("VirtualMachine[db-1].disks[1].network.hosts: give at least one server (host or host:port)"), "\(text)")
        #expect(text.contains("VirtualMachine[db-1].disks[2].network.name: an iscsi disk's name is the target's IQN and the LUN"), "\(text)")
        #expect(text.contains("VirtualMachine[db-1].disks[2].network.hosts[0]: 'san:99999': the port must be 1 to 65535"), "\(text)")
        #expect(text.contains("VirtualMachine[db-1].disks[3].network.hosts: an nbd disk names exactly one server"), "\(text)")
        #expect(text.contains("VirtualMachine[db-1].disks[3].network.auth: an nbd disk has no authentication in libvirt"), "\(text)")
        #expect(text.contains("VirtualMachine[db-1].disks[4]: a disk has one of 'volume', 'file', 'block' and 'network', not 'file' and 'block'"), "\(text)")
        #expect(text.contains("VirtualMachine[db-1].disks[5].network.protocol: invalid value 'ftp'; expected one of rbd, iscsi, nbd"), "\(text)")
        let unknown = load("  - network: {protocol: rbd, name: vms/x, hosts: [mon], auth: {username: libvirt, secret: ceph-kye}}",
                           secrets: Self.cephKey).diagnostics.description
        #expect(unknown.contains("vm.yaml:6:91: error: VirtualMachine[db-1].disks[0].network.auth.secret: unknown secret 'ceph-kye'; did you mean 'ceph-key'?"),
                "\(unknown)")
    }
}
