import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The QEMU processes of this host's domains, read without libvirt: what HA asks when libvirtd
/// gives no answer (hung, or gone), so that a guest that died meanwhile is not taken for running.
///
/// libvirt's QEMU driver writes each running domain's pid to `<run directory>/<name>.pid` and
/// removes the file when it has cleaned up after the process. A file left behind by a libvirtd
/// that never got to clean up names a process that is gone, or (after pid reuse) one that is
/// not that guest's QEMU: only a live process whose command line names the guest counts.
public struct QEMUProcesses: Sendable {
    /// Where libvirt keeps the pid files.
    public let runDirectory: String

    /// For the local system daemon (`qemu:///system`); nil for other URIs, whose processes this
    /// host either cannot see or keeps elsewhere.
    public init?(uri: String) {
        guard uri == "qemu:///system" else { return nil }
        self.init(runDirectory: "/run/libvirt/qemu")
    }

    public init(runDirectory: String) {
        self.runDirectory = runDirectory
    }

    /// Whether each of `names` has a live QEMU process here.
    public func alive(_ names: Set<String>) -> [String: Bool] {
        Dictionary(uniqueKeysWithValues: names.map { ($0, runs($0)) })
    }

    private func runs(_ name: String) -> Bool {
        guard let text = try? String(contentsOfFile: "\(runDirectory)/\(name).pid", encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 else { return false }
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        // QEMU's arguments, NUL-separated; libvirt names the guest `-name guest=NAME,...`.
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return arguments.contains { $0 == "guest=\(name)" || $0.hasPrefix("guest=\(name),") }
    }
}
