import Testing
import VirtsyncCore

/// Rule 6 (a libvirt that gives no answer) and the watchdog's last pet.
extension HAControllerTests {
    /// TTL 9 s, margin 2 s, guard 1 s, watchdog 5 s, and a fence after 10 s of silence.
    static let hangTimings = HATimings(leaseTTL: .seconds(9), margin: .seconds(2), guardTime: .seconds(1), watchdogTimeout: .seconds(5),
                                       hypervisorHang: .seconds(10))

    /// Host a owning vm-1 (epoch 5), which is down here (or running, with `running`).
    static func owner(watchdog: Bool, running: Bool = false) -> (HAController, [HACommand]) {
        let spec = Self.spec(hosts: ["a", "b"], machines: [Self.machine("vm-1")])
        return Self.holdingWithCommands("a", lease: 1, spec: spec, members: ["a": 1, "b": 2],
                                        owners: ["vm-1": OwnerRecord(host: "a", epoch: 5, lease: 1)],
                                        local: ["vm-1": HALocalDomain(running: running, epoch: running ? 5 : nil)],
                                        timings: hangTimings, watchdog: watchdog)
    }

    /// Ticks every second from `from` to `to` (seconds), renewing the lease every 3 s with an
    /// answer at once, and reporting libvirt silent at each tick when `silent`.
    static func run(_ controller: inout HAController, from: Int, to: Int, silent: Bool) -> [HACommand] {
        var commands: [HACommand] = []
        for second in from...to {
            let now = Duration.seconds(second)
            if second % 3 == 0, case .held(let id, _) = controller.lease {
                commands += controller.handle(.leaseRenewed(id: id, sentAt: now), now: now)
            }
            if silent { commands += controller.handle(.libvirtUnanswered(vm: nil), now: now) }
            commands += controller.handle(.tick, now: now)
        }
        return commands
    }

    @Test("the watchdog is petted no later than validUntil + margin + guard - watchdogTimeout, so a host whose stops hang resets in time")
    func lastPet() {
        var (controller, _) = Self.owner(watchdog: true, running: true)
        // Granted at 0 s: valid until 7 s; the last pet may come at 7 + 2 + 1 - 5 = 5 s.
        #expect(controller.handle(.tick, now: .milliseconds(4900)).contains(.petWatchdog))
        let late = controller.handle(.tick, now: .milliseconds(5100))
        #expect(!late.contains(.petWatchdog))
        #expect(controller.validLease(at: .milliseconds(5100)) == 1, "the lease itself is still valid")
        // A renewal moves the last pet on.
        _ = controller.handle(.leaseRenewed(id: 1, sentAt: .seconds(5)), now: .milliseconds(5200))
        #expect(controller.handle(.tick, now: .milliseconds(5300)).contains(.petWatchdog))
    }

    @Test("a start that gets no answer, and libvirt silent for hypervisorHang while the VM is down: a host with a watchdog fences for good")
    func hangFences() {
        var (controller, first) = Self.owner(watchdog: true)
        #expect(first.contains(.start(vm: "vm-1", epoch: 5)))
        _ = controller.handle(.libvirtUnanswered(vm: "vm-1"), now: .seconds(3))
        let before = Self.run(&controller, from: 3, to: 12, silent: true)
        #expect(controller.validLease(at: .seconds(12)) == 1 && before.contains(.petWatchdog), "9 s of silence: still held")
        #expect(before.contains(.start(vm: "vm-1", epoch: 5)), "the start is tried again meanwhile")
        let fenced = controller.handle(.tick, now: .seconds(13))
        #expect(controller.hypervisorFenced)
        #expect(controller.lease == .none(requested: false))
        #expect(fenced.contains(.persist(nil)) && !fenced.contains(.petWatchdog))
        let decisions = controller.takeDecisions().map(\.text)
        #expect(decisions.contains { $0.contains("libvirt has not answered for 10.0 seconds while vm-1 is down here") }, "\(decisions)")
        // For good: libvirt answering again does not bring the lease back; the watchdog resets the host.
        var after = controller.handle(.localDomains(["vm-1": HALocalDomain(running: false, epoch: nil)]), now: .seconds(14))
        after += Self.run(&controller, from: 15, to: 30, silent: false)
        #expect(Self.grants(after).isEmpty && !after.contains(.petWatchdog))
        #expect(!after.contains { if case .start = $0 { true } else { false } })
    }

    @Test("a read taken during a start saw the VM active, then the start got no answer: its power is unknown, and the silence fences")
    func activeDuringHungStart() {
        var (controller, first) = Self.owner(watchdog: true)
        #expect(first.contains(.start(vm: "vm-1", epoch: 5)))
        // libvirt marks a domain active before its QEMU is up; the start then hangs (seen in CI).
        _ = controller.handle(.localDomains(["vm-1": HALocalDomain(running: true, epoch: 5)]), now: .seconds(1))
        _ = controller.handle(.libvirtUnanswered(vm: "vm-1"), now: .seconds(3))
        _ = Self.run(&controller, from: 3, to: 12, silent: true)
        #expect(!controller.hypervisorFenced, "9 s of silence")
        _ = controller.handle(.tick, now: .seconds(13))
        #expect(controller.hypervisorFenced && controller.lease == .none(requested: false))

        // A read that answers after the unanswered start settles it: a VM it sees running stays.
        var (settled, _) = Self.owner(watchdog: true)
        _ = settled.handle(.libvirtUnanswered(vm: "vm-1"), now: .seconds(1))
        _ = settled.handle(.localDomains(["vm-1": HALocalDomain(running: true, epoch: 5)]), now: .seconds(2))
        _ = Self.run(&settled, from: 3, to: 30, silent: true)
        #expect(!settled.hypervisorFenced)
    }

    @Test("libvirt silent, last seen running: a QEMU process gone in the silence makes the VM down; one still running keeps the host")
    func processGoneInSilence() {
        var (gone, _) = Self.owner(watchdog: true, running: true)
        _ = gone.handle(.libvirtUnanswered(vm: nil), now: .seconds(1))
        _ = gone.handle(.processesSeen(["vm-1": false]), now: .seconds(1))
        _ = Self.run(&gone, from: 2, to: 10, silent: true)
        #expect(!gone.hypervisorFenced, "9 s of silence")
        _ = gone.handle(.tick, now: .seconds(11))
        #expect(gone.hypervisorFenced)

        var alive = Self.owner(watchdog: true, running: true).0
        _ = alive.handle(.libvirtUnanswered(vm: nil), now: .seconds(1))
        _ = alive.handle(.processesSeen(["vm-1": true]), now: .seconds(1))
        _ = Self.run(&alive, from: 2, to: 30, silent: true)
        #expect(!alive.hypervisorFenced, "its guest runs: libvirtd alone is not worth a reset")

        // Read while libvirt answers, the table is no evidence (libvirt's answer is).
        var answered = Self.owner(watchdog: true, running: true).0
        _ = answered.handle(.processesSeen(["vm-1": false]), now: .seconds(1))
        _ = Self.run(&answered, from: 2, to: 30, silent: true)
        #expect(!answered.hypervisorFenced)
    }

    @Test("without a watchdog the host does not fence for a silent libvirt: it says once that the VM stays down")
    func hangWithoutWatchdog() {
        var (controller, _) = Self.owner(watchdog: false)
        _ = controller.handle(.libvirtUnanswered(vm: "vm-1"), now: .seconds(3))
        let commands = Self.run(&controller, from: 3, to: 30, silent: true)
        #expect(!controller.hypervisorFenced && controller.validLease(at: .seconds(30)) == 1)
        #expect(Self.stops(commands).isEmpty && Self.grants(commands).isEmpty)
        let said = controller.takeDecisions().map(\.text).filter { $0.contains("without a watchdog this host cannot fence") }
        #expect(said.count == 1, "\(said)")
    }

    @Test("a silent libvirt while the owned VM is known to run, or silences broken by an answer, fence nothing")
    func silenceWithoutDownVM() {
        var (running, _) = Self.owner(watchdog: true, running: true)
        let commands = Self.run(&running, from: 1, to: 30, silent: true)
        #expect(!running.hypervisorFenced && Self.stops(commands).isEmpty, "libvirtd down, its guests alive: nothing to give up")

        var (down, _) = Self.owner(watchdog: true)
        _ = Self.run(&down, from: 1, to: 8, silent: true)
        _ = down.handle(.localDomains(["vm-1": HALocalDomain(running: false, epoch: nil)]), now: .milliseconds(8500))
        _ = Self.run(&down, from: 9, to: 18, silent: true)
        #expect(!down.hypervisorFenced, "silent since 9 s only")
        _ = Self.run(&down, from: 19, to: 19, silent: true)
        #expect(down.hypervisorFenced)
    }

    @Test("a fenced host asks for no new lease while a start that got no answer may still complete")
    func unresolvedStartHoldsTheJoin() {
        var (controller, _) = Self.owner(watchdog: false)
        _ = controller.handle(.libvirtUnanswered(vm: "vm-1"), now: .seconds(1))
        // Renewals stop: the own deadline (7 s) passes.
        var commands: [HACommand] = []
        for second in 2...12 { commands += controller.handle(.tick, now: .seconds(second)) }
        #expect(controller.lease == .none(requested: false))
        #expect(Self.grants(commands).isEmpty, "the start may still bring vm-1 up")
        let answered = controller.handle(.localDomains(["vm-1": HALocalDomain(running: false, epoch: nil)]), now: .seconds(13))
        #expect(Self.grants(answered) == [.grantLease(id: 2, retry: false, replacing: 1)])
    }
}
