import Foundation
import Logging
import VirtsyncCore
import VirtsyncEngine

/// The lease an agent persists (`STATEDIR/ha-lease.json`) so that a restart of the agent alone
/// resumes it instead of fencing. The deadline in it is on `CLOCK_BOOTTIME`, which starts again
/// at zero when the machine boots: after a reboot the old deadline would look far in the future,
/// and the host would take a lease that etcd expired long ago for a valid one. So the file also
/// names the boot it was written in (`/proc/sys/kernel/random/boot_id`), and a file from another
/// boot, or without one, is not resumed.
package struct HALeaseFile {
    package let path: String
    /// This boot's identifier.
    package let bootID: String?

    package init(path: String, bootID: String? = HALeaseFile.currentBootID()) {
        self.path = path
        self.bootID = bootID
    }

    struct Content: Codable {
        var boot: String
        var lease: HAPersisted
    }

    /// The kernel's identifier of the running boot; nil where there is none.
    package static func currentBootID() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8) else { return nil }
        let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return id.isEmpty ? nil : id
    }

    /// The lease persisted in this boot; nil when there is none, it is from another boot, or it
    /// cannot be read (which only costs a new lease: the old one is fenced by its deadline).
    package func read(logger: Logger) -> HAPersisted? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard let content = try? JSONDecoder().decode(Content.self, from: data) else {
            logger.warning("the persisted HA lease cannot be read; a new one is asked for", metadata: ["file": "\(path)"])
            return nil
        }
        guard let bootID, content.boot == bootID else {
            logger.notice("the persisted HA lease is from another boot; a new one is asked for", metadata: ["file": "\(path)"])
            return nil
        }
        return content.lease
    }

    /// Persists `persisted`, or removes the file for nil. Without a boot identifier nothing is
    /// kept: a lease that cannot be tied to this boot must not be resumed.
    package func write(_ persisted: HAPersisted?, logger: Logger) {
        do {
            if let persisted, let bootID {
                try AtomicFile.write(path: path, data: try JSONEncoder().encode(Content(boot: bootID, lease: persisted)))
            } else if FileManager.default.fileExists(atPath: path) {
                try FileManager.default.removeItem(atPath: path)
            }
        } catch {
            logger.error("cannot persist the HA lease", metadata: ["file": "\(path)", "error": "\(error)"])
        }
    }
}
