import Testing
import VirtsyncCore
import VirtsyncSpec

/// Disk options in the spec: decoding, QEMU's refusals reported at their keys.
@Suite("disk options in the spec")
struct DiskOptionsSpecTests {
    private func load(_ disks: String) -> SpecLoadResult {
        let text = """
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: db-1
            memory: 1GiB
            disks:
            \(disks)
            """
        return SpecLoader.load(files: [SpecFile(path: "vm.yaml", bytes: Array(text.utf8))])
    }

    @Test("cache, io, discard, detectZeroes, serial, shareable and iotune reach the model")
    func decodes() throws {
        let result = load("""
              - file: /srv/db.raw
                cache: none
                io: native
                discard: unmap
                detectZeroes: unmap
                serial: db-data-01
                shareable: true
                iotune: {totalBytesPerSecond: 100MiB, readIops: 2000, writeIops: 500}
            """)
        let vm = try #require(result.desired?.hosts.first?.domains.first, "\(result.diagnostics)")
        #expect(vm.disks[0].options == DiskOptions(cache: DiskCache.none, io: .native, discard: .unmap, detectZeroes: .unmap, serial: "db-data-01",
                                                   shareable: true, iotune: IOTune(totalBytesSec: 100 << 20, readIopsSec: 2000, writeIopsSec: 500)))
    }

    @Test("a disk without options has none (libvirt's defaults, never compared)")
    func noOptions() throws {
        let result = load("  - file: /srv/db.raw")
        let vm = try #require(result.desired?.hosts.first?.domains.first, "\(result.diagnostics)")
        #expect(vm.disks[0].options == nil)
    }

    @Test("QEMU's refusals are reported at their keys with file and line")
    func mistakes() {
        let result = load("""
              - file: /srv/a.raw
                cache: writeback
                io: native
                serial: "this serial is far too long"
              - file: /srv/b.raw
                iotune: {totalIops: 100, readIops: 10}
              - file: /srv/c.raw
                iotune: {}
              - file: /srv/d.raw
                cache: sometimes
            """)
        let text = result.diagnostics.description
        #expect(result.desired == nil)
        #expect(text.contains("vm.yaml:8:9: error: VirtualMachine[db-1].disks[0].io: io: native needs cache: none or directsync"), "\(text)")
        #expect(text.contains("vm.yaml:9:13: error: VirtualMachine[db-1].disks[0].serial: a disk serial is 1 to 20 characters"), "\(text)")
        #expect(text.contains("vm.yaml:11:30: error: VirtualMachine[db-1].disks[1].iotune.readIops: 'readIops' cannot be given beside 'totalIops'"), "\(text)")
        #expect(text.contains("VirtualMachine[db-1].disks[2].iotune: iotune needs at least one limit"), "\(text)")
        #expect(text.contains("VirtualMachine[db-1].disks[3].cache: invalid value 'sometimes'; expected one of none, writethrough, writeback, directsync, unsafe"), "\(text)")
    }
}
