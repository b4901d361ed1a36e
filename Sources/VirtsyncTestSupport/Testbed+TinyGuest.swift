import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Testbed {
    /// The qboot firmware: a guest with no OS starts in ~0.3 s and then idles. SeaBIOS, the
    /// default, spends ~4 s of CPU on every boot under nested KVM.
    public static let qboot = "/usr/share/qemu/qboot.rom"

    /// `kvm` when /dev/kvm opens (the testbed's QEMU runs as root), else `qemu` (TCG).
    public static let domainType: String = {
        let descriptor = open("/dev/kvm", O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return "qemu" }
        close(descriptor)
        return "kvm"
    }()

    /// Domain XML of a tiny guest: no disk, no OS, one vCPU, `memoryMiB` MiB, qboot when installed,
    /// and a virtio NIC on the libvirt network `network` when given. It migrates in about 0.5 s.
    public static func tinyDomainXML(name: String, memoryMiB: Int = 32, network: String? = nil) -> String {
        let loader = FileManager.default.fileExists(atPath: qboot) ? "\n    <loader type='rom'>\(qboot)</loader>" : ""
        let nic = network.map {
            "\n    <interface type='network'><source network='\(escaped($0))'/><model type='virtio'/></interface>"
        } ?? ""
        return """
        <domain type='\(domainType)'>
          <name>\(escaped(name))</name>
          <memory unit='MiB'>\(memoryMiB)</memory>
          <vcpu>1</vcpu>
          <os>
            <type arch='x86_64' machine='pc'>hvm</type>\(loader)
          </os>
          <on_crash>destroy</on_crash>
          <devices>\(nic)
            <memballoon model='none'/>
          </devices>
        </domain>

        """
    }

    /// Defines a tiny guest (`tinyDomainXML`) on `host` and starts it.
    public func startTinyGuest(on host: Host, name guest: String, memoryMiB: Int = 32, network: String? = nil) throws {
        let file = NSTemporaryDirectory() + "virtsync-testbed-\(guest)-\(UUID().uuidString).xml"
        defer { unlink(file) }
        try Self.tinyDomainXML(name: guest, memoryMiB: memoryMiB, network: network)
            .write(toFile: file, atomically: true, encoding: .utf8)
        try virsh(host, ["define", file])
        try virsh(host, ["start", guest], timeout: 60)
    }

    /// Live-migrates `guest` from `source` to `destination` peer to peer (the source's libvirtd
    /// connects to the destination over the testbed network), so it ends defined on the
    /// destination only. `--unsafe`: libvirt does not recognise the shared directory as shared
    /// storage and would refuse otherwise.
    public func migrate(_ guest: String, from source: Host, to destination: Host, timeout: Int = 60) throws {
        try virsh(source, ["migrate", "--live", "--p2p", "--persistent", "--undefinesource", "--unsafe",
                           guest, destination.peerURI], timeout: timeout)
    }

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "'", with: "&apos;")
    }
}
