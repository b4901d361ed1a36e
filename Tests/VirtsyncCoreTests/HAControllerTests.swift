import Testing
import VirtsyncCore

/// The HA state machine, event by event, with instants on a hand-driven monotonic clock.
@Suite("HA controller")
struct HAControllerTests {
    static let timings = HATimings(leaseTTL: .seconds(9), margin: .seconds(2), guardTime: .seconds(1), watchdogTimeout: .seconds(5))

    static func machine(_ name: String, memoryGiB: UInt64 = 1, pinned: String? = nil) -> HAMachine {
        HAMachine(request: PlacementRequest(name: name, rule: PlacementRule(pinned: pinned), memory: .gib(memoryGiB), vcpus: 1, ha: true))
    }

    static func spec(hosts: [String], machines: [HAMachine], memoryGiB: UInt64 = 8) -> HASpec {
        HASpec(hosts: hosts.map { PlacementHost(name: $0, memory: .gib(memoryGiB)) }, machines: machines)
    }

    /// A controller for `host` holding lease `lease` granted at 0 s, with members, owners and
    /// local domains already seen.
    static func holding(_ host: String, lease: Int64, spec: HASpec, members: [String: Int64], owners: [String: OwnerRecord],
                        local: [String: HALocalDomain] = [:], timings: HATimings = timings, watchdog: Bool = false) -> HAController {
        holdingWithCommands(host, lease: lease, spec: spec, members: members, owners: owners, local: local, timings: timings, watchdog: watchdog).0
    }

    /// `holding`, with the commands the last of those events gave (the first decisions on a full view).
    static func holdingWithCommands(_ host: String, lease: Int64, spec: HASpec, members: [String: Int64], owners: [String: OwnerRecord],
                                    local: [String: HALocalDomain] = [:], timings: HATimings = timings,
                                    watchdog: Bool = false) -> (HAController, [HACommand]) {
        var controller = HAController(host: host, timings: timings, spec: spec, now: .zero, leaseIDs: HALeaseIDs(sequentialAfter: lease - 1),
                                      watchdog: watchdog)
        _ = controller.handle(.tick, now: .zero)
        _ = controller.handle(.leaseGranted(id: lease, sentAt: .zero), now: .zero)
        _ = controller.handle(.members(members), now: .zero)
        _ = controller.handle(.owners(owners), now: .zero)
        let commands = controller.handle(.localDomains(local), now: .zero)
        return (controller, commands)
    }

    static func claims(_ commands: [HACommand]) -> [String: HAClaim] {
        var claims: [String: HAClaim] = [:]
        for case .claim(let vm, let claim) in commands { claims[vm] = claim }
        return claims
    }

    static func stops(_ commands: [HACommand]) -> [String: HAStopCause] {
        var stops: [String: HAStopCause] = [:]
        for case .stop(let vm, let cause) in commands { stops[vm] = cause }
        return stops
    }

    /// The grants among `commands`.
    static func grants(_ commands: [HACommand]) -> [HACommand] {
        commands.filter { if case .grantLease = $0 { true } else { false } }
    }

    @Test("a failed grant is asked for again one renew interval after it was sent, not on every tick")
    func grantBackoff() {
        var controller = HAController(host: "a", timings: Self.timings, now: .zero, leaseIDs: HALeaseIDs(sequentialAfter: 0))
        #expect(controller.handle(.tick, now: .zero) == [.grantLease(id: 1, retry: false)])
        #expect(controller.handle(.leaseGrantFailed, now: .milliseconds(100)) == [])
        #expect(controller.handle(.tick, now: .seconds(1)) == [])
        #expect(controller.handle(.tick, now: .milliseconds(2900)) == [])
        #expect(controller.handle(.tick, now: .seconds(3)) == [.grantLease(id: 1, retry: true)], "renew interval is 9 s / 3, same id")
        #expect(controller.handle(.tick, now: .seconds(4)) == [], "in flight")
    }

    @Test("a lease is asked for, renewed every third of the TTL, and the watchdog is petted only while it is valid")
    func leaseLifecycle() {
        var controller = HAController(host: "a", timings: Self.timings, now: .zero, leaseIDs: HALeaseIDs(sequentialAfter: 6))
        #expect(controller.handle(.tick, now: .zero) == [.grantLease(id: 7, retry: false)])
        // No second grant while one is in flight.
        #expect(controller.handle(.tick, now: .seconds(1)) == [])
        let granted = controller.handle(.leaseGranted(id: 7, sentAt: .seconds(1)), now: .seconds(1))
        #expect(granted.contains(.persist(HAPersisted(lease: 7, validUntil: .seconds(7)))), "counted from the first attempt, sent at 0 s")
        #expect(granted.contains(.petWatchdog))
        #expect(controller.handle(.tick, now: .seconds(3)) == [.petWatchdog])
        #expect(controller.handle(.tick, now: .seconds(4)) == [.renewLease(id: 7), .petWatchdog])
        // The renewal counts from when it was sent, not from when the answer came.
        let renewed = controller.handle(.leaseRenewed(id: 7, sentAt: .seconds(4)), now: .seconds(6))
        #expect(renewed.contains(.persist(HAPersisted(lease: 7, validUntil: .seconds(11)))))
        #expect(controller.validLease(at: .milliseconds(10_999)) == 7)
        #expect(controller.validLease(at: .seconds(11)) == nil)
    }

    @Test("a lease not renewed by the own deadline stops every HA VM here at once, and nothing else")
    func fenceByDeadline() {
        let spec = Self.spec(hosts: ["a", "b"], machines: [Self.machine("vm-1"), Self.machine("vm-2")])
        var controller = Self.holding("a", lease: 1, spec: spec, members: ["a": 1, "b": 2],
                                      owners: ["vm-1": OwnerRecord(host: "a", epoch: 5, lease: 1), "vm-2": OwnerRecord(host: "a", epoch: 6, lease: 1)],
                                      local: ["vm-1": HALocalDomain(running: true, epoch: 5), "vm-2": HALocalDomain(running: true, epoch: 6),
                                              "not-ha": HALocalDomain(running: true)])
        // Renewals go out but are never answered (cut off, or etcd without quorum).
        var commands: [HACommand] = []
        for tenth in stride(from: 1, through: 69, by: 1) {
            commands += controller.handle(.tick, now: .milliseconds(tenth * 100))
        }
        #expect(Self.stops(commands).isEmpty, "nothing stops before the deadline")
        #expect(commands.contains(.renewLease(id: 1)))
        let fenced = controller.handle(.tick, now: .seconds(7))
        #expect(Self.stops(fenced) == ["vm-1": .leaseDeadline, "vm-2": .leaseDeadline])
        #expect(!fenced.contains(.petWatchdog))
        #expect(fenced.contains(.persist(nil)))
        #expect(Self.grants(fenced).isEmpty, "no new lease while its HA VMs may still run")
        var stopped = controller.handle(.stopFinished(vm: "vm-1", succeeded: true), now: .milliseconds(7050))
        #expect(Self.grants(stopped).isEmpty, "vm-2 is still stopping")
        stopped = controller.handle(.stopFinished(vm: "vm-2", succeeded: true), now: .milliseconds(7080))
        #expect(Self.grants(stopped) == [.grantLease(id: 2, retry: false, replacing: 1)],
                "once both are stopped it asks for a new lease, with a new id, giving the old one back")
        // The deadline (7 s) comes before etcd can expire the lease for anyone else (9 s after it
        // received the grant, which was sent at 0 s).
        #expect(Duration.seconds(7) < Self.timings.leaseTTL)
        // No claim and no start without a lease, even when the VMs' owner is gone.
        let later = controller.handle(.members(["b": 2]), now: .seconds(12))
        #expect(Self.claims(later).isEmpty)
        #expect(!later.contains { if case .start = $0 { return true } else { return false } })
    }

    @Test("the HA VMs of a dead owner are claimed after the guard, by the host the placement picks, then started with the new epoch")
    func takeover() {
        let spec = Self.spec(hosts: ["a", "b"], machines: [Self.machine("vm-1")])
        var controller = Self.holding("b", lease: 2, spec: spec, members: ["a": 1, "b": 2],
                                      owners: ["vm-1": OwnerRecord(host: "a", epoch: 5, lease: 1)])
        #expect(Self.claims(controller.handle(.members(["b": 2]), now: .seconds(1))).isEmpty)
        #expect(Self.claims(controller.handle(.tick, now: .milliseconds(1900))).isEmpty, "the guard has not passed")
        let claims = Self.claims(controller.handle(.tick, now: .seconds(2)))
        #expect(claims == ["vm-1": HAClaim(expectedEpoch: 5, previousOwner: "a", previousLease: 1, lease: 2)])
        // While the claim is in flight it is not sent again.
        #expect(Self.claims(controller.handle(.tick, now: .milliseconds(2100))).isEmpty)
        // A start waits for a lease valid for at least the start window (9 s - 2 s - 1.5 s): with
        // 4.8 s left it waits for the next renewal.
        let early = controller.handle(.claimed(vm: "vm-1", OwnerRecord(host: "b", epoch: 9, lease: 2)), now: .milliseconds(2200))
        #expect(!early.contains(.start(vm: "vm-1", epoch: 9)))
        let started = controller.handle(.leaseRenewed(id: 2, sentAt: .milliseconds(2200)), now: .milliseconds(2210))
        #expect(started.contains(.start(vm: "vm-1", epoch: 9)))
        #expect(!controller.handle(.tick, now: .milliseconds(2300)).contains(.start(vm: "vm-1", epoch: 9)), "one start at a time")
        #expect(controller.deadHosts(at: .seconds(3)) == ["a"])
        #expect(controller.takeDecisions().contains { $0.text.contains("claiming vm-1: its owner a (epoch 5) lost its lease") })
    }

    @Test("every surviving host computes the same placement: each VM is claimed by exactly one of them")
    func oneClaimantPerVM() {
        let machines = (1...6).map { Self.machine("vm-\($0)", memoryGiB: 2) }
        let spec = Self.spec(hosts: ["a", "b", "c"], machines: machines)
        let owners = Dictionary(uniqueKeysWithValues: machines.map { ($0.name, OwnerRecord(host: "a", epoch: 3, lease: 1)) })
        var claimed: [String: [String]] = [:]
        for (host, lease) in [("b", Int64(2)), ("c", Int64(3))] {
            var controller = Self.holding(host, lease: lease, spec: spec, members: ["a": 1, "b": 2, "c": 3], owners: owners)
            _ = controller.handle(.members(["b": 2, "c": 3]), now: .seconds(1))
            for vm in Self.claims(controller.handle(.tick, now: .seconds(2))).keys { claimed[vm, default: []].append(host) }
        }
        #expect(claimed.count == 6, "every VM has a claimant: \(claimed)")
        #expect(claimed.values.allSatisfy { $0.count == 1 }, "never two: \(claimed)")
        #expect(Set(claimed.values.map { $0[0] }) == ["b", "c"], "spread by load")
    }

    @Test("a copy whose owner is another host, or whose epoch is older, is stopped; the owner's own copy stays")
    func staleCopies() {
        let spec = Self.spec(hosts: ["a", "b"], machines: [Self.machine("vm-1"), Self.machine("vm-2"), Self.machine("vm-3")])
        var (rebooted, commands) = Self.holdingWithCommands(
            "a", lease: 4, spec: spec, members: ["a": 4, "b": 2],
            owners: ["vm-1": OwnerRecord(host: "b", epoch: 9, lease: 2),
                     "vm-2": OwnerRecord(host: "a", epoch: 12, lease: 4),
                     "vm-3": OwnerRecord(host: "a", epoch: 13, lease: 4)],
            local: ["vm-1": HALocalDomain(running: true, epoch: 5),
                    "vm-2": HALocalDomain(running: true, epoch: 7),
                    "vm-3": HALocalDomain(running: true, epoch: 13)])
        #expect(Self.stops(commands) == ["vm-1": .notOwner, "vm-2": .staleEpoch])
        #expect(!commands.contains { if case .start = $0 { return true } else { return false } }, "no start while the old copy runs")
        // Once stopped, the owned one is started again with its epoch.
        _ = rebooted.handle(.leaseRenewed(id: 4, sentAt: .seconds(2)), now: .seconds(2))
        let restarted = rebooted.handle(.stopFinished(vm: "vm-2", succeeded: true), now: .seconds(2))
        #expect(restarted.contains(.start(vm: "vm-2", epoch: 12)))
    }

    @Test("an agent restarted within its deadline resumes its lease and keeps its VMs; after it, it stops them")
    func resume() {
        let spec = Self.spec(hosts: ["a", "b"], machines: [Self.machine("vm-1")])
        let owners = ["vm-1": OwnerRecord(host: "a", epoch: 5, lease: 1)]
        let local = ["vm-1": HALocalDomain(running: true, epoch: 5)]

        var resumed = HAController(host: "a", timings: Self.timings, spec: spec, resumed: HAPersisted(lease: 1, validUntil: .seconds(30)),
                                   now: .seconds(25))
        var commands = resumed.handle(.tick, now: .seconds(25))
        #expect(commands.contains(.renewLease(id: 1)), "renewed at once")
        commands += resumed.handle(.members(["a": 1, "b": 2]), now: .seconds(25))
        commands += resumed.handle(.owners(owners), now: .seconds(25))
        commands += resumed.handle(.localDomains(local), now: .seconds(25))
        #expect(Self.stops(commands).isEmpty)
        #expect(Self.grants(commands).isEmpty)

        var late = HAController(host: "a", timings: Self.timings, spec: spec, resumed: HAPersisted(lease: 1, validUntil: .seconds(30)),
                                now: .seconds(31))
        commands = late.handle(.tick, now: .seconds(31))
        #expect(Self.grants(commands).count == 1)
        commands += late.handle(.owners(owners), now: .seconds(31))
        commands += late.handle(.localDomains(local), now: .seconds(31))
        #expect(Self.stops(commands) == ["vm-1": .staleLease])
    }

    @Test("a VM never owned is claimed where it runs or where the spec assigns it, and nowhere else")
    func firstOwner() {
        var spec = Self.spec(hosts: ["a", "b"], machines: [Self.machine("runs-here"), Self.machine("assigned-here"), Self.machine("assigned-there"),
                                                          HAMachine(request: Self.machine("stopped").request, shouldRun: false)])
        spec.assigned = ["assigned-here": "a", "assigned-there": "b", "stopped": "a"]
        var (controller, commands) = Self.holdingWithCommands("a", lease: 1, spec: spec, members: ["a": 1, "b": 2], owners: [:],
                                                              local: ["runs-here": HALocalDomain(running: true)])
        let claims = Self.claims(commands)
        #expect(Set(claims.keys) == ["runs-here", "assigned-here"])
        #expect(claims.values.allSatisfy { $0.expectedEpoch == nil && $0.previousOwner == nil && $0.lease == 1 })
        #expect(Self.stops(commands).isEmpty, "a running VM without a record keeps running while it is claimed")
        // Lost: the record shows the winner, and the copy here stops.
        _ = controller.handle(.claimLost(vm: "runs-here"), now: .seconds(2))
        let after = controller.handle(.owners(["runs-here": OwnerRecord(host: "b", epoch: 4, lease: 2)]), now: .seconds(2))
        #expect(Self.stops(after) == ["runs-here": .notOwner])
    }

    @Test("a domain that is not an HA VM of the spec is never stopped or started, whatever happens")
    func leavesOthersAlone() {
        let spec = Self.spec(hosts: ["a", "b"], machines: [Self.machine("vm-1")])
        var controller = Self.holding("a", lease: 1, spec: spec, members: ["a": 1, "b": 2],
                                      owners: ["other": OwnerRecord(host: "b", epoch: 2, lease: 2)],
                                      local: ["other": HALocalDomain(running: true, epoch: 1), "plain": HALocalDomain(running: true)])
        var commands: [HACommand] = []
        for second in 1...20 { commands += controller.handle(.tick, now: .seconds(second)) }
        for command in commands {
            switch command {
            case .stop(let vm, _), .start(let vm, _), .claim(let vm, _): #expect(vm == "vm-1", "\(command)")
            default: break
            }
        }
    }

    @Test("timings that would let a takeover overtake the fence are named")
    func timingProblems() {
        #expect(HATimings().problems.isEmpty)
        #expect(Self.timings.problems.isEmpty)
        let slowWatchdog = HATimings(leaseTTL: .seconds(5), margin: .seconds(1), watchdogTimeout: .seconds(6))
        #expect(slowWatchdog.problems.count == 1)
        #expect(slowWatchdog.problems.first?.hasPrefix("watchdogTimeout") == true)
        #expect(HATimings(leaseTTL: .seconds(1), margin: .milliseconds(100), watchdogTimeout: .milliseconds(500)).problems.count == 1)
    }

    @Test("an etcd election longer than TTL - margin - TTL/3 would fence every host: the timings warn of it")
    func electionAllowance() {
        // Defaults: 10 - 2 - 3.33 = 4.67 s, over twice etcd's default election timeout.
        #expect(HATimings().electionAllowance == .seconds(10) - .seconds(2) - .seconds(10) / 3)
        #expect(HATimings().warnings(electionTimeout: .seconds(1)).isEmpty)
        #expect(HATimings().warnings(electionTimeout: .seconds(3)).count == 1)
        // The testbed's TTL 5 s, margin 1.5 s: 1.83 s, enough for an election timeout of 900 ms, not 1 s.
        let testbed = HATimings(leaseTTL: .seconds(5), margin: .milliseconds(1500), watchdogTimeout: .seconds(3))
        #expect(testbed.warnings(electionTimeout: .milliseconds(900)).isEmpty)
        let warning = testbed.warnings(electionTimeout: .seconds(1))
        #expect(warning.count == 1)
        #expect(warning.first?.contains("leaves 1.83s for a renewal to be answered") == true, "\(warning)")
        #expect(warning.first?.contains("(2s)") == true, "\(warning)")
    }
}

extension HAControllerTests {
    @Test("every attempt of one join asks for the same lease id; its deadline counts from the first attempt")
    func joinRetriesKeepTheirID() {
        var controller = HAController(host: "a", timings: Self.timings, now: .zero, leaseIDs: HALeaseIDs(sequentialAfter: 40))
        #expect(controller.handle(.tick, now: .zero) == [.grantLease(id: 41, retry: false)])
        _ = controller.handle(.leaseGrantFailed, now: .seconds(2))
        #expect(controller.handle(.tick, now: .seconds(3)) == [.grantLease(id: 41, retry: true)])
        // The first attempt may be the one etcd granted: 0 s + 9 s TTL - 2 s margin.
        let granted = controller.handle(.leaseGranted(id: 41, sentAt: .seconds(3)), now: .seconds(4))
        #expect(granted.contains(.persist(HAPersisted(lease: 41, validUntil: .seconds(7)))))
        #expect(controller.validLease(at: .seconds(5)) == 41)
    }

    @Test("a join that took longer than its deadline is confirmed by a renewal before the lease counts")
    func lateJoinIsConfirmed() {
        let spec = Self.spec(hosts: ["a", "b"], machines: [Self.machine("vm-1")])
        var controller = HAController(host: "a", timings: Self.timings, spec: spec, now: .zero, leaseIDs: HALeaseIDs(sequentialAfter: 0))
        _ = controller.handle(.tick, now: .zero)
        for attempt in 1...3 {
            _ = controller.handle(.leaseGrantFailed, now: .seconds(Int64(attempt * 3 - 1)))
            #expect(controller.handle(.tick, now: .seconds(Int64(attempt * 3))) == [.grantLease(id: 1, retry: true)])
        }
        let granted = controller.handle(.leaseGranted(id: 1, sentAt: .seconds(9)), now: .seconds(9))
        #expect(controller.validLease(at: .seconds(9)) == nil, "0 s + 7 s has passed: the lease may be about to expire")
        #expect(granted.contains(.renewLease(id: 1)), "a renewal gives the deadline")
        #expect(!granted.contains(.petWatchdog))
        #expect(!granted.contains { if case .persist = $0 { true } else { false } })
        let confirmed = controller.handle(.leaseRenewed(id: 1, sentAt: .seconds(9)), now: .seconds(10))
        #expect(confirmed.contains(.persist(HAPersisted(lease: 1, validUntil: .seconds(16)))))
        #expect(controller.validLease(at: .seconds(10)) == 1)
    }

    @Test("a lease confirmed gone starts a new join with a new id")
    func confirmingLeaseGone() {
        var controller = HAController(host: "a", timings: Self.timings, now: .zero, leaseIDs: HALeaseIDs(sequentialAfter: 0))
        _ = controller.handle(.tick, now: .zero)
        _ = controller.handle(.leaseGrantFailed, now: .seconds(2))
        _ = controller.handle(.tick, now: .seconds(8))
        _ = controller.handle(.leaseGranted(id: 1, sentAt: .seconds(8)), now: .seconds(8))
        let gone = controller.handle(.leaseGone(id: 1), now: .seconds(9))
        #expect(Self.grants(gone) == [.grantLease(id: 2, retry: false)])
    }

    @Test("an id found taken on the first attempt is dropped for the next; a grant of an id given up on is ignored")
    func leaseIDTaken() {
        var controller = HAController(host: "a", timings: Self.timings, now: .zero, leaseIDs: HALeaseIDs(sequentialAfter: 0))
        _ = controller.handle(.tick, now: .zero)
        let taken = controller.handle(.leaseIDTaken(id: 1), now: .milliseconds(10))
        #expect(Self.grants(taken) == [.grantLease(id: 2, retry: false)])
        // The answer of a join given up on comes late: it does not make the host a member.
        _ = controller.handle(.leaseGranted(id: 1, sentAt: .zero), now: .milliseconds(20))
        #expect(controller.validLease(at: .milliseconds(20)) == nil)
        _ = controller.handle(.leaseGranted(id: 2, sentAt: .milliseconds(10)), now: .milliseconds(30))
        #expect(controller.validLease(at: .milliseconds(30)) == 2)
    }
}

extension HAControllerTests {
    @Test("after fencing by its deadline, a host joins again only once every HA VM here is stopped, giving its old lease back")
    func fencedLeaseGivenBack() {
        let spec = Self.spec(hosts: ["a", "b"], machines: [Self.machine("vm-1")])
        var controller = Self.holding("a", lease: 1, spec: spec, members: ["a": 1, "b": 2],
                                      owners: ["vm-1": OwnerRecord(host: "a", epoch: 5, lease: 1)],
                                      local: ["vm-1": HALocalDomain(running: true, epoch: 5)])
        let fenced = controller.handle(.tick, now: .seconds(7))
        #expect(Self.stops(fenced) == ["vm-1": .leaseDeadline])
        #expect(Self.grants(fenced).isEmpty, "vm-1 is still stopping: no join yet")
        let stopped = controller.handle(.stopFinished(vm: "vm-1", succeeded: true), now: .milliseconds(7100))
        #expect(Self.grants(stopped) == [.grantLease(id: 2, retry: false, replacing: 1)])
        _ = controller.handle(.leaseGrantFailed, now: .milliseconds(7200))
        let again = controller.handle(.tick, now: .milliseconds(10_200))
        #expect(Self.grants(again) == [.grantLease(id: 2, retry: true, replacing: 1)])
        _ = controller.handle(.leaseGranted(id: 2, sentAt: .seconds(10)), now: .seconds(10))
        let later = controller.handle(.leaseGone(id: 2), now: .seconds(11))
        #expect(Self.grants(later) == [.grantLease(id: 3, retry: false, replacing: nil)], "a lease etcd said is gone needs no revoke")
    }
}
