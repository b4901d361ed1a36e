import Testing
import VirtsyncCore

/// Rule 5 of the HA state machine: live migrations hand the owner record over, and a move whose
/// outcome was not recorded, or whose owner died, never leaves two copies running.
@Suite("HA controller: moves")
struct HAControllerMoveTests {
    typealias T = HAControllerTests
    static let two = T.spec(hosts: ["a", "b", "c"], machines: [T.machine("vm-1")])
    static let members: [String: Int64] = ["a": 1, "b": 2, "c": 3]

    static func marks(_ commands: [HACommand]) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for case .mark(let vm, let epoch) in commands { out[vm] = epoch }
        return out
    }

    static func starts(_ commands: [HACommand]) -> [String] {
        commands.compactMap { if case .start(let vm, _) = $0 { return vm } else { return nil } }
    }

    @Test("a running VM's first claim carries its epoch: it keeps running, and the new epoch is written into its marker")
    func firstClaimKeepsTheCopy() {
        let spec = T.spec(hosts: ["a", "b"], machines: [T.machine("vm-1")])
        var (controller, commands) = T.holdingWithCommands("a", lease: 1, spec: spec, members: ["a": 1, "b": 2], owners: [:],
                                                           local: ["vm-1": HALocalDomain(running: true)])
        #expect(T.claims(commands)["vm-1"]?.carried == 0, "a copy with no epoch in its marker")
        let claimed = controller.handle(.claimed(vm: "vm-1", OwnerRecord(host: "a", epoch: 7, lease: 1, carried: 0)), now: .seconds(1))
        #expect(T.stops(claimed).isEmpty, "no restart")
        #expect(Self.starts(claimed).isEmpty)
        #expect(Self.marks(claimed) == ["vm-1": 7])
        let marked = controller.handle(.markFinished(vm: "vm-1", epoch: 7, succeeded: true), now: .seconds(1))
        #expect(Self.marks(marked).isEmpty && T.stops(marked).isEmpty)
        #expect(controller.local["vm-1"] == HALocalDomain(running: true, epoch: 7))
    }

    @Test("a move marks the record, the target accepts the arriving copy, and the owner hands the record over")
    func handover() throws {
        var a = T.holding("a", lease: 1, spec: Self.two, members: Self.members, owners: ["vm-1": OwnerRecord(host: "a", epoch: 5, lease: 1)],
                          local: ["vm-1": HALocalDomain(running: true, epoch: 5)])
        #expect(a.moveBlocked("vm-1", to: "a", failback: false, now: .seconds(1)) != nil, "not to itself")
        let begin = try a.beginMove("vm-1", to: "b", now: .seconds(1))
        #expect(begin.expectedEpoch == 5 && begin.moving == HAMove(to: "b", lease: 2) && begin.carried == 5 && begin.host == nil)
        #expect(a.moveBlocked("vm-1", to: "b", failback: false, now: .seconds(1)) != nil, "one move at a time")
        let moving = OwnerRecord(host: "a", epoch: 8, lease: 1, carried: 5, moving: HAMove(to: "b", lease: 2))
        #expect(T.stops(a.handle(.claimed(vm: "vm-1", moving), now: .seconds(1))).isEmpty, "the owner's copy stays while it moves")

        // The target, meanwhile: the arriving copy is accepted, nothing is claimed or started.
        var b = T.holding("b", lease: 2, spec: Self.two, members: Self.members, owners: ["vm-1": moving],
                          local: ["vm-1": HALocalDomain(running: true, epoch: 5)])
        let during = b.handle(.tick, now: .seconds(2))
        #expect(T.stops(during).isEmpty && T.claims(during).isEmpty && Self.starts(during).isEmpty)
        // A third host stops nothing and claims nothing either.
        var c = T.holding("c", lease: 3, spec: Self.two, members: Self.members, owners: ["vm-1": moving])
        #expect(T.claims(c.handle(.tick, now: .seconds(3))).isEmpty)

        // The copy left: the owner names the target.
        _ = a.handle(.localDomains([:]), now: .seconds(3))
        #expect(Self.starts(a.handle(.tick, now: .seconds(3))).isEmpty, "never started again by its owner while moving")
        let finished = a.finishMove("vm-1", runsHere: false, now: .seconds(3))
        let finish = try #require(finished)
        #expect(finish.expectedEpoch == 8 && finish.host == "b" && finish.lease == 2 && finish.carried == 5 && finish.moving == nil)
        #expect(finish.attached(claimant: "a") == ["b": 2])
        let handed = OwnerRecord(host: "b", epoch: 9, lease: 2, carried: 5)
        _ = a.handle(.claimed(vm: "vm-1", handed), now: .seconds(3))
        _ = a.handle(.moveEnded(vm: "vm-1"), now: .seconds(3))
        #expect(Self.starts(a.handle(.tick, now: .seconds(4))).isEmpty && T.claims(a.handle(.tick, now: .seconds(4))).isEmpty)

        // The target owns it now: it keeps the copy and writes the new epoch into its marker.
        let owned = b.handle(.owners(["vm-1": handed]), now: .seconds(4))
        #expect(T.stops(owned).isEmpty && Self.starts(owned).isEmpty)
        #expect(Self.marks(owned) == ["vm-1": 9])
    }

    @Test("a migration that failed with the copy still here takes the record back; the target then drops nothing of its own")
    func failedMoveRevert() throws {
        var a = T.holding("a", lease: 1, spec: Self.two, members: Self.members, owners: ["vm-1": OwnerRecord(host: "a", epoch: 5, lease: 1)],
                          local: ["vm-1": HALocalDomain(running: true, epoch: 5)])
        _ = try a.beginMove("vm-1", to: "b", now: .seconds(1))
        _ = a.handle(.claimed(vm: "vm-1", OwnerRecord(host: "a", epoch: 8, lease: 1, carried: 5, moving: HAMove(to: "b", lease: 2))), now: .seconds(1))
        let reverted = a.finishMove("vm-1", runsHere: true, now: .seconds(2))
        let revert = try #require(reverted)
        #expect(revert.host == nil && revert.moving == nil && revert.lease == 1 && revert.carried == 5 && revert.expectedEpoch == 8)
        let back = a.handle(.claimed(vm: "vm-1", OwnerRecord(host: "a", epoch: 10, lease: 1, carried: 5)), now: .seconds(2))
        #expect(T.stops(back).isEmpty)
        #expect(Self.marks(back) == ["vm-1": 10])
    }

    @Test("a move whose outcome was not recorded: the owner stops its copy first, and only then names the target")
    func unrecordedMove() {
        let moving = OwnerRecord(host: "a", epoch: 8, lease: 1, carried: 5, moving: HAMove(to: "b", lease: 2))
        // A restarted agent (nothing in flight) that sees the record mid-move, with a stale view of no copy here.
        var (a, commands) = T.holdingWithCommands("a", lease: 1, spec: Self.two, members: Self.members, owners: ["vm-1": moving], local: [:])
        #expect(T.stops(commands) == ["vm-1": .handover], "stopped whatever the view says")
        #expect(T.claims(commands).isEmpty, "no handover before the stop finished")
        #expect(T.claims(a.handle(.tick, now: .seconds(1))).isEmpty)
        let after = a.handle(.stopFinished(vm: "vm-1", succeeded: true), now: .seconds(1))
        let claim = T.claims(after)["vm-1"]
        #expect(claim?.host == "b" && claim?.lease == 2 && claim?.expectedEpoch == 8 && claim?.carried == 5)

        // A failed stop hands nothing over.
        var (a2, _) = T.holdingWithCommands("a", lease: 1, spec: Self.two, members: Self.members, owners: ["vm-1": moving], local: [:])
        #expect(T.claims(a2.handle(.stopFinished(vm: "vm-1", succeeded: false), now: .seconds(1))).isEmpty)
    }

    @Test("a move's target that died: the owner stops its copy, waits the guard, and takes the record back without the target's lease")
    func deadTargetReclaim() {
        let moving = OwnerRecord(host: "a", epoch: 8, lease: 1, carried: 5, moving: HAMove(to: "b", lease: 2))
        var (a, _) = T.holdingWithCommands("a", lease: 1, spec: Self.two, members: ["a": 1, "c": 3], owners: ["vm-1": moving], local: [:])
        #expect(T.claims(a.handle(.stopFinished(vm: "vm-1", succeeded: true), now: .milliseconds(500))).isEmpty, "guard")
        let claim = T.claims(a.handle(.tick, now: .milliseconds(1100)))["vm-1"]
        #expect(claim?.host == nil && claim?.moving == nil && claim?.gone == ["b": 2] && claim?.lease == 1)
    }

    @Test("the owner dies mid-move: the living target alone takes the VM, keeping the copy that arrived")
    func ownerDiesMidMove() {
        let moving = OwnerRecord(host: "a", epoch: 8, lease: 1, carried: 5, moving: HAMove(to: "b", lease: 2))
        let alive: [String: Int64] = ["b": 2, "c": 3]
        var b = T.holding("b", lease: 2, spec: Self.two, members: alive, owners: ["vm-1": moving],
                          local: ["vm-1": HALocalDomain(running: true, epoch: 5)])
        var c = T.holding("c", lease: 3, spec: Self.two, members: alive, owners: ["vm-1": moving])
        #expect(T.claims(b.handle(.tick, now: .milliseconds(500))).isEmpty, "guard")
        let claim = T.claims(b.handle(.tick, now: .seconds(2)))["vm-1"]
        #expect(claim?.previousOwner == "a" && claim?.previousLease == 1 && claim?.carried == 5 && claim?.lease == 2)
        #expect(T.claims(c.handle(.tick, now: .seconds(2))).isEmpty, "only the target claims")
        // Without the copy (it never arrived), the target claims with nothing carried and starts it.
        var b2 = T.holding("b", lease: 2, spec: Self.two, members: alive, owners: ["vm-1": moving])
        let fresh = T.claims(b2.handle(.tick, now: .seconds(2)))["vm-1"]
        #expect(fresh != nil && fresh?.carried == nil)
    }

    @Test("owner and target both dead: the VM is placed anew, the claim requiring both leases gone")
    func bothDead() {
        let moving = OwnerRecord(host: "a", epoch: 8, lease: 1, carried: 5, moving: HAMove(to: "b", lease: 2))
        var c = T.holding("c", lease: 3, spec: Self.two, members: ["c": 3], owners: ["vm-1": moving])
        let claim = T.claims(c.handle(.tick, now: .seconds(2)))["vm-1"]
        #expect(claim?.previousOwner == "a" && claim?.gone == ["b": 2] && claim?.carried == nil)
    }

    @Test("a failback waits until the target has held its lease for the settling time; a member without a lease is no target")
    func failbackSettles() {
        let timings = HATimings(leaseTTL: .seconds(9), margin: .seconds(2), guardTime: .seconds(1), watchdogTimeout: .seconds(5),
                                failbackSettle: .seconds(30))
        var a = HAController(host: "a", timings: timings, spec: Self.two, now: .zero, leaseIDs: HALeaseIDs(sequentialAfter: 0))
        _ = a.handle(.tick, now: .zero)
        _ = a.handle(.leaseGranted(id: 1, sentAt: .zero), now: .zero)
        _ = a.handle(.members(["a": 1, "c": 3]), now: .zero)
        _ = a.handle(.owners(["vm-1": OwnerRecord(host: "a", epoch: 5, lease: 1)]), now: .zero)
        _ = a.handle(.localDomains(["vm-1": HALocalDomain(running: true, epoch: 5)]), now: .zero)
        #expect(a.moveBlocked("vm-1", to: "b", failback: false, now: .seconds(1))?.contains("holds no HA lease") == true)
        _ = a.handle(.members(["a": 1, "b": 7, "c": 3]), now: .seconds(2))
        _ = a.handle(.leaseRenewed(id: 1, sentAt: .seconds(2)), now: .seconds(2))
        #expect(a.moveBlocked("vm-1", to: "b", failback: true, now: .seconds(5))?.contains("failback waits") == true)
        #expect(a.moveBlocked("vm-1", to: "b", failback: false, now: .seconds(5)) == nil, "a planned move does not wait")
        _ = a.handle(.leaseRenewed(id: 1, sentAt: .seconds(31)), now: .seconds(31))
        #expect(a.moveBlocked("vm-1", to: "b", failback: true, now: .seconds(32)) == nil)
        #expect(a.memberFor("b", at: .seconds(32)) == .seconds(30))
    }
}
