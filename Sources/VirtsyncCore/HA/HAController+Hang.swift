/// Rule 6: a host whose libvirt does not answer gives its HA VMs up.
///
/// A hung libvirtd (seen on the testbed: a start that never returned, after which every call
/// timed out) or one that is not running leaves the VMs this host owns down for as long as it
/// lasts: the agent holds its lease, so no other host may take them over. Once an owned HA VM is
/// down (or its power is unknown: libvirt never answered) and libvirt has given no answer for
/// `hypervisorHang`, a host with a watchdog fences itself for good: it stops its HA VMs (the
/// stops may hang too), takes no lease again and stops petting, so the watchdog resets it before
/// its lease can expire for the others, who then take its VMs over. A start that may still
/// complete is harmless: the reset ends it. Without a watchdog nothing would end such a start or
/// the copies still running here, so the host only says once that it cannot fence.
extension HAController {
    mutating func libvirtUnanswered(_ vm: String?, now: Duration) {
        if silentSince == nil { silentSince = now }
        guard let vm else { return }
        pendingStarts.remove(vm)
        unresolvedStarts.insert(vm)
        failedStarts[vm] = now
        log(now, "start of \(vm) got no answer from libvirt (it may still complete); trying again in \(timings.startRetry)")
    }

    mutating func libvirtAnswered() {
        silentSince = nil
        silenceReported = false
        processes = [:]
    }

    /// The HA VMs this host owns under its lease that are down here, or whose power is unknown:
    /// libvirt never answered, or a start of it got no answer. A read taken while that start was
    /// under way may have seen the domain active (libvirt marks it so before QEMU is up), and no
    /// read answered since, so what the last read said proves nothing (CI saw exactly this: the
    /// guest's QEMU died in its hung start, and the host held on to a VM it believed running).
    /// Also down: a VM libvirt last saw running whose QEMU process has gone during the silence.
    func ownedAndDown() -> [String] {
        guard ownersKnown, case .held(let id, _) = lease else { return [] }
        return spec.machines.filter(\.shouldRun).map(\.name).filter { name in
            guard let record = owners[name], record.host == host, record.lease == id, record.moving == nil else { return false }
            return !localKnown || local[name]?.running != true || unresolvedStarts.contains(name) || processes[name] == false
        }.sorted()
    }

    mutating func giveUpOnSilence(now: Duration, into commands: inout [HACommand]) {
        guard let hang = timings.hypervisorHang, let since = silentSince, now - since >= hang, !hypervisorFenced else { return }
        let down = ownedAndDown()
        guard !down.isEmpty else { return }
        let which = down.joined(separator: ", ")
        if watchdog {
            fence(now: now, cause: .hypervisorHang, into: &commands)
            hypervisorFenced = true
            log(now, "libvirt has not answered for \(now - since) while \(which) \(down.count == 1 ? "is" : "are") down here: "
                + "no lease is taken again; the watchdog resets this host and the others take its HA VMs over")
        } else if !silenceReported {
            silenceReported = true
            log(now, "libvirt has not answered for \(now - since) while \(which) \(down.count == 1 ? "is" : "are") down here; "
                + "without a watchdog this host cannot fence, so \(down.count == 1 ? "it stays" : "they stay") down until libvirt answers")
        }
    }
}
