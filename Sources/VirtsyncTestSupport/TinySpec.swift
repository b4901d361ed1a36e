import Foundation

/// Spec documents for the CLI tests, in the style of `examples/lab`, as small as a spec gets.
///
/// The VM is the lab's router-1 cut down: no disk, no NIC, the qboot firmware that ships with
/// QEMU, 32 MiB, and stopped by default, so no guest ever has to boot.
public enum TinySpec {
    /// A resource name prefix unique to one test: `gt-` and eight random hex digits.
    public static func uniqueTag() -> String {
        "gt-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(8).lowercased()
    }

    /// A VirtualMachine document. Line 5 is `memory:`, line 8 is `power:`.
    public static func vm(_ name: String, memory: String = "32MiB", power: String = "stopped") -> String {
        """
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: \(name)
        vcpus: 1
        memory: \(memory)
        machine: pc
        loader: /usr/share/qemu/qboot.rom
        power: \(power)

        """
    }

    /// An isolated Network document without addresses (nothing to clash with the machine's own).
    public static func network(_ name: String) -> String {
        """
        apiVersion: virtsync/v1
        kind: Network
        name: \(name)
        mode: isolated
        autostart: false

        """
    }

    /// Several documents in one file.
    public static func documents(_ documents: [String]) -> String {
        documents.joined(separator: "---\n")
    }
}
