import Foundation
import VirtsyncCore
import VirtsyncSpec

extension AgentConfigLoader.Reader {
    static let haKeys = KeySet(["etcd", "leaseTTL", "margin", "guard", "watchdog", "failback", "failbackSettle", "hypervisorHang"])
    static let etcdKeys = KeySet(["endpoints", "prefix", "caFile", "certificateFile", "keyFile", "electionTimeout"])
    static let watchdogKeys = KeySet(["device", "timeout"])

    /// The `ha` section, checked: endpoints as `host:port`, files that exist (the key a secret),
    /// timings in range and in the order that makes a takeover safe (`HATimings.problems`).
    mutating func readHA(_ ha: MapReader) -> AgentConfig.HA? {
        record(ha, Self.haKeys)
        var result = AgentConfig.HA(endpoints: [])
        var valid = true
        // etcd's --election-timeout, as the cluster runs it: only for the check of the timings.
        var election: Duration = .seconds(1)
        let etcd = ha.map("etcd", keys: Self.etcdKeys, required: true)
        if let etcd, let timeout = etcd.duration("electionTimeout", range: 0.01...50) {
            election = .milliseconds(Int64(timeout.value * 1000))
        }
        if let etcd {
            record(etcd, Self.etcdKeys)
            if let endpoints = etcd.stringList("endpoints") {
                if endpoints.isEmpty {
                    reporter.error(etcd.valueLocation("endpoints"), etcd.keyPath("endpoints"), "give at least one etcd endpoint (host:port)")
                    valid = false
                }
                for endpoint in endpoints {
                    switch AgentConfig.Listen.parse(endpoint.value) {
                    case .success(let address): result.endpoints.append(address)
                    case .failure(let problem):
                        reporter.error(endpoint.location, etcd.keyPath("endpoints"), "etcd endpoint: \(problem.description)")
                        valid = false
                    }
                }
            } else if !etcd.has("endpoints") {
                etcd.missing("endpoints", required: true)
                valid = false
            }
            if let prefix = etcd.string("prefix") {
                if !prefix.value.hasPrefix("/") || prefix.value.hasSuffix("/") || prefix.value.contains("//") || prefix.value.count < 2 {
                    reporter.error(prefix.location, etcd.keyPath("prefix"),
                                   "\(prefix.value.quotedForMessage) is not a key prefix such as /virtsync/prod (a leading /, no trailing /)")
                    valid = false
                } else {
                    result.prefix = prefix.value
                }
            }
            result.caFile = existingFile(etcd, "caFile")
            result.certificateFile = existingFile(etcd, "certificateFile")
            result.keyFile = secretFile(etcd, "keyFile")
            if etcd.has("certificateFile") != etcd.has("keyFile") {
                let (given, absent) = etcd.has("certificateFile") ? ("certificateFile", "keyFile") : ("keyFile", "certificateFile")
                reporter.error(etcd.valueLocation(given), etcd.keyPath(given), "a client certificate needs both certificateFile and keyFile; give \(absent) too")
                valid = false
            }
        } else {
            valid = false
        }
        var timings = HATimings()
        if let ttl = ha.duration("leaseTTL", range: 2...600) { timings.leaseTTL = .milliseconds(Int64(ttl.value * 1000)) }
        if let margin = ha.duration("margin", range: 0.1...300) { timings.margin = .milliseconds(Int64(margin.value * 1000)) }
        if let guardTime = ha.duration("guard", range: 0...60) { timings.guardTime = .milliseconds(Int64(guardTime.value * 1000)) }
        if let settle = ha.duration("failbackSettle", range: 0...86_400) { timings.failbackSettle = .milliseconds(Int64(settle.value * 1000)) }
        // 0: never fence for a silent libvirt (the VM then stays down until libvirt answers).
        if let hang = ha.duration("hypervisorHang", range: 0...3600) {
            timings.hypervisorHang = hang.value == 0 ? nil : .milliseconds(Int64(hang.value * 1000))
        }
        let watchdog = ha.map("watchdog", keys: Self.watchdogKeys)
        if let watchdog {
            record(watchdog, Self.watchdogKeys)
            if let timeout = watchdog.duration("timeout", range: 1...600) { timings.watchdogTimeout = .milliseconds(Int64(timeout.value * 1000)) }
            if let device = watchdog.string("device") {
                if device.value == "off" {
                    result.watchdogDevice = nil
                } else if let problem = Formats.absolutePathProblem(device.value) {
                    reporter.error(device.location, watchdog.keyPath("device"), problem)
                    valid = false
                } else if fileChecks && access(device.value, F_OK) != 0 {
                    reporter.error(device.location, watchdog.keyPath("device"),
                                   "cannot use \(device.value.quotedForMessage): \(String(cString: strerror(errno))); write off to run without a watchdog")
                    valid = false
                } else {
                    result.watchdogDevice = device.value
                }
            }
        }
        if watchdog?.has("timeout") != true {
            // Without a timeout given, the watchdog follows the lease: it fires when the lease
            // could no longer be valid, before it can expire for the others.
            timings.watchdogTimeout = timings.leaseTTL - timings.margin
        }
        if watchdog?.has("device") != true, fileChecks, let device = result.watchdogDevice, access(device, F_OK) != 0 {
            reporter.error(watchdog?.location ?? ha.location, "ha.watchdog.device",
                           "\(device) does not exist: load a watchdog driver (softdog), name another device, or write device: off to run without one (a frozen host is then not reset)")
            valid = false
        }
        if let failback = ha.bool("failback") { result.failback = failback }
        for problem in timings.problems {
            reporter.error(ha.has("leaseTTL") ? ha.valueLocation("leaseTTL") : ha.location, "ha", problem)
            valid = false
        }
        if timings.problems.isEmpty {
            for warning in timings.warnings(electionTimeout: election) {
                reporter.warning(ha.has("leaseTTL") ? ha.valueLocation("leaseTTL") : ha.location, "ha", warning)
            }
        }
        result.timings = timings
        return valid ? result : nil
    }
}
