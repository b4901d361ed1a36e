import CLibvirt
import VirtsyncCore
import VirtsyncEngine

extension LibvirtSession {
    /// `suspend` (`virDomainSuspend`) or `resume` (`virDomainResume`) a managed domain. A domain
    /// already in the wanted state is a success; one that is not active is refused (a suspend
    /// follows its start in the plan, so a start that failed never gets here).
    func setPaused(_ name: String, _ paused: Bool) async throws {
        let operation = "\(paused ? "suspend" : "resume") domain \(name)"
        try await run(operation) { call in
            let domain = try call.existingDomain(name, operation)
            try LibvirtSession.requireMarker(domain, name, action: paused ? "suspend" : "resume", call)
            var state: Int32 = 0
            var reason: Int32 = 0
            try call.check(virDomainGetState(domain.pointer, &state, &reason, 0), operation)
            let isPaused = state == Int32(VIR_DOMAIN_PAUSED.rawValue)
            guard isPaused != paused else { return }
            guard isPaused || state == Int32(VIR_DOMAIN_RUNNING.rawValue) else {
                throw HypervisorError(code: .rejected, message: "domain \(name) is not running", operation: operation)
            }
            try call.check(paused ? virDomainSuspend(domain.pointer) : virDomainResume(domain.pointer), operation)
        }
    }

    /// libvirt's CPU bitmap for a set of host CPUs: bit `n % 8` of byte `n / 8` for CPU `n`,
    /// as long as the highest CPU needs (libvirt takes a shorter map than the host's CPU count).
    static func cpuMap(_ set: CPUSet) -> [UInt8] {
        var map = [UInt8](repeating: 0, count: (set.cpus.last ?? 0) / 8 + 1)
        for cpu in set.cpus { map[cpu / 8] |= UInt8(1) << UInt8(cpu % 8) }
        return map
    }
}
