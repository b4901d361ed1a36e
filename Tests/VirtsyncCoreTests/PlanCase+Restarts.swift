import VirtsyncCore

extension PlanCase {
    /// Restart policies: VMs that should run, found stopped in every way, under each policy.
    /// Crashed or destroyed outside virtsync (a failure): started under `always` and
    /// `on-failure`, a warning under `never`. Shut down from inside: started under `always`,
    /// an info note otherwise. Stopped by virtsync itself: started whatever the policy (not a
    /// restart). An unmanaged crashed domain: only the usual warning. A new VM with a policy
    /// other than the default carries it in its payload.
    static let restartPolicies: PlanCase = {
        func vm(_ name: String, _ mode: RestartPolicy.Mode) -> DomainModel {
            DomainModel(name: name, memory: .mib(256), power: .running, restart: RestartPolicy(mode: mode))
        }
        func stopped(_ vm: DomainModel, _ uuid: String, _ reason: StopReason?, state: RunState = .shutoff,
                     byVirtsync: Bool = false, managed: Bool = true) -> ObservedDomain {
            var domain = Lab.observed(vm, uuid: uuid, state: state, managed: managed)
            domain.stopReason = reason
            domain.stoppedByVirtsync = byVirtsync
            return domain
        }
        let crashedAlways = vm("crashed-always", .always)
        let crashedOnFailure = vm("crashed-on-failure", .onFailure)
        let crashedNever = vm("crashed-never", .never)
        let destroyedOnFailure = vm("destroyed-on-failure", .onFailure)
        let shutdownAlways = vm("shutdown-always", .always)
        let shutdownOnFailure = vm("shutdown-on-failure", .onFailure)
        let shutdownNever = vm("shutdown-never", .never)
        let stoppedNever = vm("stopped-by-virtsync-never", .never)
        let theirs = vm("theirs", .always)
        var fresh = vm("new-on-failure", .onFailure)
        fresh.restart.maxRestarts = 3
        fresh.restart.window = 3600
        let host = DesiredHost(name: "local", domains: [
            crashedAlways, crashedNever, crashedOnFailure, destroyedOnFailure, fresh, shutdownAlways, shutdownNever,
            shutdownOnFailure, stoppedNever, theirs,
        ])
        let observed = ObservedHost(name: "local", domains: [
            "crashed-always": stopped(crashedAlways, "r-01", .crashed),
            "crashed-on-failure": stopped(crashedOnFailure, "r-02", nil, state: .crashed),
            "crashed-never": stopped(crashedNever, "r-03", .crashed),
            "destroyed-on-failure": stopped(destroyedOnFailure, "r-04", .destroyed),
            "shutdown-always": stopped(shutdownAlways, "r-05", .shutdown),
            "shutdown-on-failure": stopped(shutdownOnFailure, "r-06", .shutdown),
            "shutdown-never": stopped(shutdownNever, "r-07", .shutdown),
            "stopped-by-virtsync-never": stopped(stoppedNever, "r-08", .destroyed, byVirtsync: true),
            "theirs": stopped(theirs, "r-09", .crashed, managed: false),
        ])
        return PlanCase("restart-policies", desired: DesiredState(hosts: [host], specDigest: specDigest),
                        observed: ObservedState(hosts: ["local": observed]))
    }()
}
