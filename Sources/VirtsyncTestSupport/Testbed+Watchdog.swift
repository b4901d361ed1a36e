import Foundation

/// The emulated hardware watchdog of a host (scripts/testbed.sh `watchdog`): a process in the
/// root namespaces, outside the host it guards, petted through a FIFO the host sees as
/// `/run/libvirt/watchdog`. The first pet arms it; once armed, a timeout without a pet makes it
/// kill the whole host (`kill`), log the firing and exit. Freezing, cutting off or killing the
/// host does not stop it; `reboot` and `down` do (a reset disarms a real watchdog too).
///
/// nowayout: neither a `V` nor a writer's close disarms it, and a writer may close and reopen the
/// FIFO at will (the watchdog holds both ends, so an open never fails with ENXIO while it runs).
/// `FileWatchdog` of VirtsyncEngine opens it as it would open /dev/watchdog.
extension Testbed {
    /// (Re)starts `host`'s watchdog with a fresh FIFO and `timeout` seconds between pets.
    ///
    /// - Returns: the FIFO's path inside the host (`/run/libvirt/watchdog`), for the agent's
    ///   `ha.watchdog.device`; `watchdogFIFO(host)` is the same FIFO from the root namespace.
    @discardableResult
    public func startWatchdog(_ host: Host, timeout: TimeInterval) throws -> String {
        let output = try Self.script("watchdog", [host.name, "--timeout", String(timeout)], name: name)
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops `host`'s watchdog without firing (nothing happens when none runs).
    public func stopWatchdog(_ host: Host) throws { try Self.script("watchdog-stop", [host.name], name: name) }

    /// `host`'s watchdog FIFO as the root namespace sees it (the test process can pet it here).
    public func watchdogFIFO(_ host: Host) -> String { "\(directory)/hosts/\(host.name)/run/watchdog" }

    /// `host`'s watchdog log: a line per start, arming, firing (`fired at=EPOCH_SECONDS ...`),
    /// kill and stop, each with its UTC time.
    public func watchdogLog(_ host: Host) -> String { "\(logDirectory(host))/watchdog.log" }

    /// When `host`'s latest watchdog fired (the moment it decided to kill the host), or nil when
    /// it has not (or none was started).
    public func watchdogFired(_ host: Host) -> Date? {
        guard let log = try? String(contentsOfFile: watchdogLog(host), encoding: .utf8) else { return nil }
        let lines = log.split(separator: "\n")
        let latest = lines.lastIndex { $0.contains(": started pid=") }.map { lines[$0...] } ?? lines[...]
        guard let fired = latest.last(where: { $0.contains(": fired at=") }),
              let value = fired.split(separator: " ").first(where: { $0.hasPrefix("at=") })?.dropFirst(3),
              let seconds = TimeInterval(value) else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }
}
