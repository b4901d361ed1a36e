import VirtsyncCore
import VirtsyncSpec

/// Generates a realistic spec of N VMs spread over files of 50 documents: one dir pool with a
/// root volume per VM, two networks, VMs with two NICs, alternating running/stopped.
enum SpecGenerator {
    /// - Parameter owner: the Settings document's `owner` (none: derived from where the spec is read).
    static func files(vms: Int, prefix: String, poolPath: String, withVolumes: Bool, owner: String? = nil) -> [SpecFile] {
        var out: [SpecFile] = []
        out.append(SpecFile(path: "infra.yaml", bytes: Array("""
        apiVersion: virtsync/v1
        kind: StoragePool
        name: \(prefix)pool
        type: dir
        path: \(poolPath)
        ---
        apiVersion: virtsync/v1
        kind: Network
        name: \(prefix)front
        mode: isolated
        ---
        apiVersion: virtsync/v1
        kind: Network
        name: \(prefix)back
        mode: isolated
        ---
        apiVersion: virtsync/v1
        kind: Settings
        maxDeletePercent: 10
        \(owner.map { "owner: \($0)" } ?? "")

        """.utf8)))
        var i = 0
        var file = 0
        while i < vms {
            var text = ""
            for _ in 0..<50 where i < vms {
                let name = "\(prefix)vm-\(String(format: "%05d", i))"
                let mac = String(format: "52:54:00:%02x:%02x:%02x", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff)
                text += """
                ---
                apiVersion: virtsync/v1
                kind: VirtualMachine
                name: \(name)
                vcpus: \(1 + i % 2)
                memory: \(32 + (i % 4) * 16)MiB
                power: stopped
                loader: /usr/share/qemu/qboot.rom
                interfaces:
                  - network: \(prefix)front
                    mac: "\(mac)"
                  - network: \(prefix)back

                """
                if withVolumes {
                    text += """
                    disks:
                      - volume: \(prefix)pool/\(name)-root.qcow2
                        size: 1GiB

                    """
                }
                i += 1
            }
            out.append(SpecFile(path: String(format: "vms/vms-%03d.yaml", file), bytes: Array(text.utf8)))
            file += 1
        }
        return out
    }
}
