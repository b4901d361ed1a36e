import Foundation
import Testing
import VirtsyncCore
import VirtsyncISO
import VirtsyncSpec

/// Behaviour of `SpecLoader.load` on small specs given as files in memory.
@Suite("spec loader")
struct LoaderBehaviourTests {
    private func file(_ path: String, _ text: String) -> SpecFile { SpecFile(path: path, bytes: Array(text.utf8)) }

    private func load(_ files: SpecFile...) -> SpecLoadResult { SpecLoader.load(files: files) }

    @Test("no files at all is an empty spec")
    func noFiles() {
        let result = SpecLoader.load(files: [])
        #expect(result.desired == nil)
        #expect(result.diagnostics.description == ".: error: empty spec: no .yaml or .yml files")
    }

    @Test("without Host documents everything goes to the implicit host 'local' with no URI")
    func implicitHost() throws {
        let result = load(file("vm.yaml", """
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: tiny
            memory: 64MiB
            """))
        let desired = try #require(result.desired, "\(result.diagnostics)")
        #expect(desired.hosts.map(\.name) == ["local"])
        #expect(desired.hosts.first?.uri == nil)
        #expect(desired.hosts.first?.domains.map(\.name) == ["tiny"])
        #expect(desired.settings == SpecSettings())
    }

    @Test("with a single Host document a VM without 'host' is placed on it, and the URI may be left out")
    func singleHost() throws {
        let result = load(file("spec.yaml", """
            apiVersion: virtsync/v1
            kind: Host
            name: box
            ---
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: tiny
            memory: 64MiB
            """))
        let desired = try #require(result.desired, "\(result.diagnostics)")
        #expect(desired.hosts.map(\.name) == ["box"])
        #expect(desired.hosts.first?.uri == nil)
        #expect(desired.hosts.first?.domains.count == 1)
    }

    @Test("a .yaml file starting with #cloud-config is cloud-init data, not a spec document")
    func cloudConfigFile() throws {
        let result = load(
            file("a.yaml", "apiVersion: virtsync/v1\nkind: Settings\n"),
            file("user-data.yaml", "#cloud-config\npackages: [nginx]\n"))
        #expect(result.desired != nil, "\(result.diagnostics)")
    }

    @Test("an existing volume is attached without being managed")
    func existingVolume() throws {
        let result = load(file("spec.yaml", """
            apiVersion: virtsync/v1
            kind: StoragePool
            name: images
            path: /srv/images
            ---
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: tiny
            memory: 64MiB
            disks:
              - volume: images/handmade.qcow2
                existing: true
            """))
        let host = try #require(result.desired?.hosts.first, "\(result.diagnostics)")
        #expect(host.volumes.isEmpty)
        #expect(host.domains.first?.disks == [DiskModel(target: "vda", source: .volume(pool: "images", volume: "handmade.qcow2"))])
    }

    @Test("diagnostics of every file are reported in one run, sorted by file and line")
    func allAtOnce() {
        let result = load(
            file("b.yaml", "apiVersion: virtsync/v1\nkind: Settings\nprnue: true\n"),
            file("a.yaml", "apiVersion: virtsync/v1\nkind: VirtualMachine\nname: x\nmemory: 1\n"))
        #expect(result.diagnostics.description == """
            a.yaml:4:9: error: VirtualMachine[x].memory: size '1' has no unit; write it with one, e.g. '1MiB' or '1GiB'
            b.yaml:3:1: error: Settings.prnue: unknown key 'prnue'; did you mean 'prune'?
            """)
    }

    @Test("YAML anchors, aliases and merge keys share settings within a document; its own keys win")
    func mergeKeys() throws {
        let result = load(file("vms.yaml", """
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: a
            memory: 1GiB
            vcpus: 2
            interfaces:
              - bridge: br0
            ---
            apiVersion: virtsync/v1
            kind: VirtualMachine
            <<: &defaults {memory: 2GiB, vcpus: 4, graphics: vnc}
            name: b
            vcpus: 1
            interfaces: &nics
              - bridge: br0
            cloudInit:
              pool: images
              userData: {users: [{name: ops}], defaults: *defaults, nics: *nics}
            ---
            apiVersion: virtsync/v1
            kind: StoragePool
            name: images
            path: /var/lib/images
            """))
        let domains = try #require(result.desired?.hosts.first?.domains, "\(result.diagnostics)")
        #expect(domains.map(\.name) == ["a", "b"])
        #expect(domains[1].memory == .gib(2))
        #expect(domains[1].vcpus == 1)
        #expect(domains[1].graphics == .vnc)
        #expect(domains[1].interfaces == domains[0].interfaces)
    }

    @Test("cloud-init files are taken from non-YAML files of the spec, by path relative to the root")
    func cloudInitFiles() throws {
        let result = load(
            file("vms/tiny.yaml", """
                apiVersion: virtsync/v1
                kind: VirtualMachine
                name: tiny
                memory: 64MiB
                disks:
                  - volume: vms/tiny-root
                    size: 1GiB
                cloudInit:
                  metaDataFile: cloud/meta.cfg
                  networkConfigFile: ./cloud//network.cfg
                """),
            file("pool.yaml", "apiVersion: virtsync/v1\nkind: StoragePool\nname: vms\npath: /srv/vms\n"),
            file("cloud/meta.cfg", "instance-id: tiny-2\n"),
            file("cloud/network.cfg", "version: 2\n"))
        let host = try #require(result.desired?.hosts.first, "\(result.diagnostics)")
        let image = ISO9660.image(volumeID: "cidata", files: [
            ("meta-data", Array("instance-id: tiny-2\n".utf8)),
            ("network-config", Array("version: 2\n".utf8)),
            ("user-data", Array("#cloud-config\n".utf8)),
        ])
        #expect(host.volumes.first { $0.format == .iso }?.content == image)
        #expect(host.volumes.first { $0.format == .iso }?.name == "tiny-cidata-\(Digest.sha256Hex(image).prefix(8)).iso")
    }

    @Test("a VM with cloud-init but no pool to put the seed in is an error")
    func seedWithoutPool() {
        let result = load(file("vm.yaml", """
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: tiny
            memory: 64MiB
            cloudInit:
              userData: "#cloud-config\\n"
            """))
        #expect(result.diagnostics.errors.map(\.path) == ["VirtualMachine[tiny].cloudInit.pool"])
    }

    @Test("many VMs load, and the result is the same whatever the file order")
    func manyMachines() throws {
        var files: [SpecFile] = [file("pool.yaml", "apiVersion: virtsync/v1\nkind: StoragePool\nname: vms\npath: /srv/vms\n")]
        for index in 0..<200 {
            files.append(file("vms/vm-\(index).yaml", """
                apiVersion: virtsync/v1
                kind: VirtualMachine
                name: vm-\(index)
                memory: 512MiB
                disks:
                  - volume: vms/vm-\(index)-root
                    size: 4GiB
                interfaces:
                  - bridge: br0
                    mac: "52:54:00:00:\(String(format: "%02x", index / 256)):\(String(format: "%02x", index % 256))"
                """))
        }
        let forward = try #require(SpecLoader.load(files: files).desired)
        let backward = try #require(SpecLoader.load(files: files.reversed()).desired)
        #expect(forward == backward)
        #expect(forward.hosts.first?.domains.count == 200)
        #expect(forward.hosts.first?.volumes.count == 200)
    }
}
