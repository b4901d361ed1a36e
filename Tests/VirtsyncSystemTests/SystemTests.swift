import Foundation
import Testing
import VirtsyncCore
import VirtsyncEngine
import VirtsyncSpec

@Suite("System: a real libvirtd", .serialized, .enabled(if: System.enabled, "set VIRTSYNC_SYSTEM_URI (scripts/test.sh does)"))
struct SystemTests {
    let uri = System.uri ?? "qemu:///system"

    @Test("the lab example applies, everything exists as specified, and a second plan is empty")
    func examplesApply() throws {
        let state = try System.tempDir("state")
        let lab = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/lab").path
        let (files, readProblems) = DirectorySource(root: lab).files()
        #expect(!readProblems.hasErrors)
        let loaded = SpecLoader.load(files: files)
        guard let host = loaded.desired?.hosts.first else { Issue.record("examples/lab does not load: \(loaded.diagnostics)"); return }
        // scripts/setup.sh applies the same example with the default state directory: remove
        // that copy first (through virtsync, so only what it owns goes), or nothing would be created.
        let existing = try System.names(["list", "--all", "--name"])
        // The example declares its owner; copies applied before it did carry the derived one.
        let owner = try #require(loaded.desired?.settings.owner)
        if host.domains.contains(where: { existing.contains($0.name) }) {
            for earlier in [owner, SpecOwner.directory(lab)] {
                try System.cleanup(stateDir: "/var/lib/virtsync", tag: "lab", owner: earlier, hostsDir: HostsDirectory.resolve(nil))
            }
        }
        defer { try? System.cleanup(stateDir: state, tag: "lab", owner: owner) }
        let plan = try System.virtsync(["plan", lab, "--connect", uri, "--state-dir", state, "--detailed-exitcode"])
        #expect(plan.status == 2, "\(plan.stdout)\(plan.stderr)")
        let apply = try System.virtsync(["apply", lab, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
        // Everything in the spec exists as specified, checked with virsh.
        let domains = try System.names(["list", "--all", "--name"])
        let running = try System.names(["list", "--name"])
        let nets = try System.names(["net-list", "--name"])
        let pools = try System.names(["pool-list", "--name"])
        for vm in host.domains {
            #expect(domains.contains(vm.name), "domain \(vm.name)")
            #expect(running.contains(vm.name) == (vm.power == .running), "power of \(vm.name)")
            let xml = try System.virsh(["dumpxml", "--inactive", vm.name]).stdout
            #expect(xml.contains("<currentMemory unit='KiB'>\(vm.memory.bytes / 1024)</currentMemory>"), "memory of \(vm.name)")
            #expect(xml.contains(OwnershipMarker.namespace), "ownership marker on \(vm.name)")
            for nic in vm.interfaces { if let mac = nic.mac { #expect(xml.contains(mac), "MAC \(mac) on \(vm.name)") } }
        }
        for net in host.networks { #expect(nets.contains(net.name), "active network \(net.name)") }
        for pool in host.pools { #expect(pools.contains(pool.name), "active pool \(pool.name)") }
        for vol in host.volumes {
            let info = try System.virsh(["vol-info", "--bytes", "--pool", vol.pool, vol.name])
            #expect(info.status == 0, "volume \(vol.key)")
            if vol.format != .iso { #expect(info.stdout.contains("\(vol.capacity.bytes) bytes"), "size of \(vol.key): \(info.stdout)") }
        }
        let again = try System.virtsync(["plan", lab, "--connect", uri, "--state-dir", state, "--detailed-exitcode"])
        #expect(again.status == 0, "second plan is not empty:\n\(again.stdout)\(again.stderr)")
    }

    @Test("a memory change on a running VM is applied live (no restart) and the next plan is empty")
    func memoryLive() throws {
        let tag = "vstmem"
        let state = try System.tempDir("state"), spec = try System.tempDir("spec"), pool = try System.tempDir("pool")
        defer { try? System.cleanup(stateDir: state, tag: tag) }
        try System.write(spec, "spec.yaml", System.tinySpec(tag: tag, subnet: 31, poolPath: pool, vms: 1, memory: "64MiB"))
        let first = try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let idBefore = try System.virsh(["domid", "\(tag)-vm0"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try System.write(spec, "spec.yaml", System.tinySpec(tag: tag, subnet: 31, poolPath: pool, vms: 1, memory: "96MiB"))
        let plan = try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state])
        #expect(plan.stdout.contains("update domain \(tag)-vm0  [live]"), "\(plan.stdout)")
        let second = try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        let idAfter = try System.virsh(["domid", "\(tag)-vm0"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!idBefore.isEmpty && idBefore == idAfter, "the VM was restarted (id \(idBefore) -> \(idAfter))")
        let inactive = try System.virsh(["dumpxml", "--inactive", "\(tag)-vm0"]).stdout
        #expect(inactive.contains("<currentMemory unit='KiB'>98304</currentMemory>"))
        let again = try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state, "--detailed-exitcode"])
        #expect(again.status == 0, "\(again.stdout)")
    }

    @Test("an unmanaged domain, network and pool are never touched, with or without pruning")
    func unmanagedUntouched() throws {
        let tag = "vstown"
        let state = try System.tempDir("state"), spec = try System.tempDir("spec"), pool = try System.tempDir("pool"), theirs = try System.tempDir("theirs")
        defer {
            try? System.cleanup(stateDir: state, tag: tag)
            for args in [["destroy", "\(tag)-theirs"], ["undefine", "\(tag)-theirs"], ["net-destroy", "\(tag)-theirnet"], ["net-undefine", "\(tag)-theirnet"],
                         ["pool-destroy", "\(tag)-theirpool"], ["pool-undefine", "\(tag)-theirpool"]] { _ = try? System.virsh(args) }
        }
        try System.write(theirs, "dom.xml", """
        <domain type='qemu'><name>\(tag)-theirs</name><memory unit='MiB'>32</memory>
        <os><type arch='x86_64'>hvm</type><loader readonly='yes' type='rom'>/usr/share/qemu/qboot.rom</loader></os></domain>
        """)
        try System.write(theirs, "net.xml", "<network><name>\(tag)-theirnet</name><ip address='10.219.33.1' prefix='24'/></network>")
        try System.write(theirs, "pool.xml", "<pool type='dir'><name>\(tag)-theirpool</name><target><path>\(theirs)</path></target></pool>")
        #expect(try System.virsh(["define", theirs + "/dom.xml"]).status == 0)
        #expect(try System.virsh(["net-define", theirs + "/net.xml"]).status == 0)
        #expect(try System.virsh(["net-start", "\(tag)-theirnet"]).status == 0)
        #expect(try System.virsh(["pool-define", theirs + "/pool.xml"]).status == 0)
        #expect(try System.virsh(["pool-start", "\(tag)-theirpool"]).status == 0)
        func snapshot() throws -> [String] {
            [try System.virsh(["dumpxml", "--inactive", "\(tag)-theirs"]).stdout, try System.virsh(["domstate", "\(tag)-theirs"]).stdout,
             try System.virsh(["net-dumpxml", "\(tag)-theirnet"]).stdout, try System.virsh(["pool-dumpxml", "\(tag)-theirpool"]).stdout]
        }
        let before = try snapshot()
        // The spec names the unmanaged domain too: it must be reported, not adopted.
        try System.write(spec, "spec.yaml", System.tinySpec(tag: tag, subnet: 34, poolPath: pool, vms: 1, extra: """

        ---
        apiVersion: virtsync/v1
        kind: VirtualMachine
        name: \(tag)-theirs
        memory: 64MiB
        power: running
        """))
        for prune in [false, true] {
            var args = ["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve"]
            if prune { args += ["--prune", "--allow-mass-delete"] }
            let out = try System.virtsync(args)
            #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
            #expect(out.stdout.contains("\(tag)-theirs exists and is not managed by virtsync"))
            #expect(try snapshot() == before)
        }
        try System.cleanup(stateDir: state, tag: tag)
        #expect(try snapshot() == before)
    }

    @Test("SIGKILL in the middle of apply, then apply again, converges with nothing lost or duplicated")
    func killMidApply() throws {
        let tag = "vstkill"
        let state = try System.tempDir("state"), spec = try System.tempDir("spec"), pool = try System.tempDir("pool")
        defer { try? System.cleanup(stateDir: state, tag: tag) }
        let count = 8
        try System.write(spec, "spec.yaml", System.tinySpec(tag: tag, subnet: 35, poolPath: pool, vms: count))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: System.virtsyncPath)
        p.arguments = ["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve", "--parallel", "1"]
        p.environment = ProcessInfo.processInfo.environment.merging(["VIRTSYNC_HOSTS_DIR": System.hostsDir]) { _, new in new }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Kill it once a few steps are done: the pool, some volumes, maybe a domain.
        var seen = ""
        while p.isRunning {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
            if seen.components(separatedBy: "  ok ").count > 6 { kill(p.processIdentifier, SIGKILL); break }
        }
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal, "apply finished before it could be killed:\n\(seen)")
        let again = try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        let domains = try System.names(["list", "--all", "--name"]).filter { $0.hasPrefix("\(tag)-") }
        #expect(domains.count == count)
        let running = try System.names(["list", "--name"]).filter { $0.hasPrefix("\(tag)-") }
        #expect(running.count == count)
        let vols = try System.virsh(["vol-list", "\(tag)-pool"]).stdout.split(separator: "\n").filter { $0.contains("-root.qcow2") }
        #expect(vols.count == count)
        let files = try FileManager.default.contentsOfDirectory(atPath: pool)
        #expect(files.count == count, "stray files in the pool: \(files.sorted())")
        let plan = try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state, "--detailed-exitcode"])
        #expect(plan.status == 0, "\(plan.stdout)")
        #expect(!plan.stdout.contains("not managed"), "something created before the kill was orphaned:\n\(plan.stdout)")
    }

    @Test("every kind of bad input is refused before any change")
    func badInputChangesNothing() throws {
        let tag = "vstbad"
        let state = try System.tempDir("state"), pool = try System.tempDir("pool")
        let good = System.tinySpec(tag: tag, subnet: 36, poolPath: pool, vms: 1)
        let cases: [(String, [String: String])] = [
            ("unknown key", ["a.yaml": good + "---\napiVersion: virtsync/v1\nkind: VirtualMachine\nname: \(tag)-x\nmemroy: 64MiB\n"]),
            ("bad unit", ["a.yaml": good.replacingOccurrences(of: "memory: 64MiB", with: "memory: 64")]),
            ("dangling network", ["a.yaml": good.replacingOccurrences(of: "network: \(tag)-net", with: "network: nowhere")]),
            ("malformed yaml", ["a.yaml": good, "b.yaml": "kind: [unclosed\n"]),
            ("duplicate name", ["a.yaml": good, "b.yaml": "apiVersion: virtsync/v1\nkind: Network\nname: \(tag)-net\nmode: isolated\n"]),
            ("unsafe name", ["a.yaml": good.replacingOccurrences(of: "name: \(tag)-vm0", with: "name: ../\(tag)")]),
            ("binary file", ["a.yaml": good, "b.yaml": "\u{0}\u{1}\u{2}binary"]),
        ]
        let before = try System.inventory()
        for (label, files) in cases {
            let dir = try System.tempDir("bad")
            for (name, text) in files { try System.write(dir, name, text) }
            let out = try System.virtsync(["apply", dir, "--connect", uri, "--state-dir", state, "--auto-approve"])
            #expect(out.status == 1, "\(label): \(out.stdout)")
            #expect(out.stderr.contains(".yaml"), "\(label): the error names no file: \(out.stderr)")
            #expect(try System.inventory() == before, "\(label) changed libvirt")
        }
        // A symlink leading outside the spec directory.
        let dir = try System.tempDir("bad")
        try System.write(dir, "a.yaml", good)
        try FileManager.default.createSymbolicLink(atPath: dir + "/b.yaml", withDestinationPath: "/etc/hostname")
        let out = try System.virtsync(["apply", dir, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(out.status == 1)
        #expect(try System.inventory() == before)
    }

    @Test("apply --plan carries out the saved plan, and refuses it once the spec or the host moved")
    func savedPlan() throws {
        let tag = "vstsaved"
        let state = try System.tempDir("state"), spec = try System.tempDir("spec"), pool = try System.tempDir("pool")
        defer { try? System.cleanup(stateDir: state, tag: tag) }
        let planFile = state + "/plan.json"
        try System.write(spec, "spec.yaml", System.tinySpec(tag: tag, subnet: 37, poolPath: pool, vms: 2, running: false))
        let first = try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state, "--out", planFile])
        #expect(first.status == 0, "\(first.stderr)")
        // The spec moves: refused, nothing applied.
        try System.write(spec, "spec.yaml", System.tinySpec(tag: tag, subnet: 37, poolPath: pool, vms: 3, running: false))
        let moved = try System.virtsync(["apply", "--plan", planFile, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(moved.status == 1)
        #expect(moved.stderr.contains("spec changed"), "\(moved.stderr)")
        #expect(try System.names(["list", "--all", "--name"]).filter { $0.hasPrefix(tag) }.isEmpty)
        // A fresh plan, then the host moves (a network appears): refused.
        #expect(try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state, "--out", planFile]).status == 0)
        try System.write(state, "net.xml", "<network><name>\(tag)-intruder</name></network>")
        #expect(try System.virsh(["net-define", state + "/net.xml"]).status == 0)
        let hostMoved = try System.virtsync(["apply", "--plan", planFile, "--connect", uri, "--state-dir", state, "--auto-approve"])
        try System.virsh(["net-undefine", "\(tag)-intruder"])
        #expect(hostMoved.status == 1)
        #expect(hostMoved.stderr.contains("hosts changed"), "\(hostMoved.stderr)")
        // Nothing moved since the plan: it is carried out as reviewed.
        #expect(try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state, "--out", planFile]).status == 0)
        let ok = try System.virtsync(["apply", "--plan", planFile, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(try System.names(["list", "--all", "--name"]).filter { $0.hasPrefix(tag) }.count == 3)
        #expect(try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state, "--detailed-exitcode"]).status == 0)
    }

    @Test("a link-state change and a vCPU hot-plug on a running VM are applied live and the next plan is empty")
    func linkAndVcpusLive() throws {
        let tag = "vstlink"
        let state = try System.tempDir("state"), spec = try System.tempDir("spec"), pool = try System.tempDir("pool")
        defer { try? System.cleanup(stateDir: state, tag: tag) }
        func write(link: String, vcpus: Int) throws {
            try System.write(spec, "spec.yaml", System.tinySpec(tag: tag, subnet: 38, poolPath: pool, vms: 0) + """
            ---
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: \(tag)-vm
            memory: 64MiB
            vcpus: \(vcpus)
            maxVcpus: 2
            loader: /usr/share/qemu/qboot.rom
            power: running
            interfaces:
              - network: \(tag)-net
                mac: "52:54:00:5e:00:38"
                link: \(link)

            """)
        }
        try write(link: "up", vcpus: 1)
        let first = try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let idBefore = try System.virsh(["domid", "\(tag)-vm"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try write(link: "down", vcpus: 2)
        let plan = try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state])
        #expect(plan.stdout.contains("update domain \(tag)-vm  [live]"), "\(plan.stdout)")
        let second = try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        let idAfter = try System.virsh(["domid", "\(tag)-vm"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!idBefore.isEmpty && idBefore == idAfter, "the VM was restarted")
        let link = try System.virsh(["domif-getlink", "\(tag)-vm", "52:54:00:5e:00:38"]).stdout
        #expect(link.contains("down"), "live link state: \(link)")
        let vcpus = try System.virsh(["vcpucount", "\(tag)-vm", "--live", "--active"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(vcpus == "2", "live vCPUs: \(vcpus)")
        let again = try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state, "--detailed-exitcode"])
        #expect(again.status == 0, "\(again.stdout)")
    }

    @Test("a change that needs a boot waits for one, or restarts the VM when restartForUpdates allows it")
    func nextBootAndRestart() throws {
        let tag = "vstboot"
        let state = try System.tempDir("state"), spec = try System.tempDir("spec"), pool = try System.tempDir("pool")
        defer { try? System.cleanup(stateDir: state, tag: tag) }
        func write(maxMemory: String, restart: Bool) throws {
            try System.write(spec, "spec.yaml", System.tinySpec(tag: tag, subnet: 39, poolPath: pool, vms: 0) + """
            ---
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: \(tag)-vm
            memory: 64MiB
            maxMemory: \(maxMemory)
            loader: /usr/share/qemu/qboot.rom
            power: running
            restartForUpdates: \(restart)

            """)
        }
        func domid() throws -> String { try System.virsh(["domid", "\(tag)-vm"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
        try write(maxMemory: "128MiB", restart: false)
        #expect(try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve"]).status == 0)
        let id1 = try domid()
        // Without permission: the definition changes, the running VM does not, and the plan says so.
        try write(maxMemory: "192MiB", restart: false)
        let pending = try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(pending.status == 0, "\(pending.stdout)\(pending.stderr)")
        #expect(pending.stdout.contains("[next-boot]") && pending.stdout.contains("take effect at its next boot"), "\(pending.stdout)")
        #expect(try domid() == id1)
        #expect(try System.virsh(["dumpxml", "--inactive", "\(tag)-vm"]).stdout.contains("<memory unit='KiB'>196608</memory>"))
        let later = try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state, "--detailed-exitcode"])
        #expect(later.status == 0)
        #expect(later.stdout.contains("restart pending"), "a later plan no longer mentions the pending restart:\n\(later.stdout)")
        // With permission: a restart step, the VM comes back with the new definition.
        try write(maxMemory: "256MiB", restart: true)
        let restarted = try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(restarted.status == 0, "\(restarted.stdout)\(restarted.stderr)")
        #expect(restarted.stdout.contains("restart domain \(tag)-vm"), "\(restarted.stdout)")
        let id2 = try domid()
        #expect(!id2.isEmpty && id2 != "-" && id2 != id1, "the VM was not restarted (\(id1) -> \(id2))")
        #expect(try System.virsh(["dumpxml", "\(tag)-vm"]).stdout.contains("<memory unit='KiB'>262144</memory>"))
        #expect(try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state, "--detailed-exitcode"]).status == 0)
    }

    @Test("a static DHCP entry is added in place: the network is not restarted and running guests stay plugged in")
    func dhcpHostLive() throws {
        let tag = "vstdhcp"
        let state = try System.tempDir("state"), spec = try System.tempDir("spec")
        defer { try? System.cleanup(stateDir: state, tag: tag, owner: SpecOwner.directory(spec)) }
        func write(hosts: [String]) throws {
            try System.write(spec, "spec.yaml", """
            apiVersion: virtsync/v1
            kind: Network
            name: \(tag)-net
            mode: isolated
            bridge: vs-\(tag)
            ipv4:
              address: 10.219.40.1/24
              dhcp:
                start: 10.219.40.100
                end: 10.219.40.199
                hosts:
            \(hosts.joined(separator: "\n"))
            ---
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: \(tag)-vm
            memory: 64MiB
            loader: /usr/share/qemu/qboot.rom
            power: running
            interfaces:
              - network: \(tag)-net
                mac: "52:54:00:5e:00:40"

            """)
        }
        let first = "      - {mac: \"52:54:00:5e:00:40\", ip: 10.219.40.10, name: one}"
        let second = "      - {mac: \"52:54:00:5e:00:41\", ip: 10.219.40.11, name: two}"
        try write(hosts: [first])
        let applied = try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        func plugged() throws -> String { try System.run("/usr/sbin/ip", ["-o", "link", "show", "master", "vs-\(tag)"]).stdout }
        let before = try plugged()
        #expect(before.contains("vnet"), "the guest is not on the bridge: \(before)")
        try write(hosts: [first, second])
        let plan = try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state])
        #expect(plan.stdout.contains("update network \(tag)-net  [live]"), "\(plan.stdout)")
        let update = try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(update.status == 0, "\(update.stdout)\(update.stderr)")
        #expect(try System.virsh(["net-dumpxml", "\(tag)-net"]).stdout.contains("52:54:00:5e:00:41"))
        #expect(try System.virsh(["net-dumpxml", "--inactive", "\(tag)-net"]).stdout.contains("52:54:00:5e:00:41"))
        #expect(try plugged() == before, "the guest's interface left the bridge: the network was restarted")
        #expect(try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state, "--detailed-exitcode"]).status == 0)
    }

    @Test("an invalid spec exits 1 every time, even while the host is still being read")
    func invalidSpecExitsCleanly() throws {
        let state = try System.tempDir("state"), spec = try System.tempDir("spec")
        try System.write(spec, "a.yaml", "apiVersion: virtsync/v1\nkind: Network\nname: x\nmodee: nat\n")
        // Once, one run in twenty crashed on exit while libvirt was being read on another thread.
        var statuses: [Int32] = []
        for _ in 0..<40 {
            statuses.append(try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve"]).status)
        }
        #expect(statuses.allSatisfy { $0 == 1 }, "exit statuses: \(statuses)")
    }

    @Test("power: stopped asks the guest to shut down first and destroys it only after the shutdown timeout")
    func gracefulStop() throws {
        let tag = "vststop"
        let state = try System.tempDir("state"), spec = try System.tempDir("spec"), pool = try System.tempDir("pool")
        defer { try? System.cleanup(stateDir: state, tag: tag) }
        try System.write(spec, "spec.yaml", System.tinySpec(tag: tag, subnet: 41, poolPath: pool, vms: 1))
        #expect(try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve"]).status == 0)
        try System.write(spec, "spec.yaml", System.tinySpec(tag: tag, subnet: 41, poolPath: pool, vms: 1, running: false))
        let clock = ContinuousClock()
        var out: System.Output?
        // The tiny guest has no OS to answer the ACPI request: after 2 s it is destroyed.
        let took = try clock.measure {
            out = try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve", "--shutdown-timeout", "2"])
        }
        #expect(out?.status == 0, "\(out?.stdout ?? "")\(out?.stderr ?? "")")
        #expect(took >= .seconds(2), "the guest was destroyed without a shutdown request (\(took))")
        #expect(try System.virsh(["domstate", "\(tag)-vm0"]).stdout.contains("shut off"))
        #expect(try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state, "--detailed-exitcode"]).status == 0)
    }

    @Test("on a terminal apply asks first: anything but 'yes' changes nothing, 'yes' applies; without a terminal it needs --auto-approve")
    func confirmation() throws {
        let tag = "vstask"
        let state = try System.tempDir("state"), spec = try System.tempDir("spec"), pool = try System.tempDir("pool")
        defer { try? System.cleanup(stateDir: state, tag: tag) }
        try System.write(spec, "spec.yaml", System.tinySpec(tag: tag, subnet: 42, poolPath: pool, vms: 1, running: false))
        let command = [System.virtsyncPath, "apply", spec, "--connect", uri, "--state-dir", state, "--no-color"]
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        // `script` gives the command a pseudo-terminal; the answer comes on its standard input.
        func onTerminal(answer: String) throws -> System.Output {
            try System.run("/usr/bin/script", ["-qec", command, "/dev/null"], stdin: answer + "\n")
        }
        let no = try onTerminal(answer: "y")
        #expect(no.stdout.contains("Only 'yes' is accepted"), "\(no.stdout)")
        #expect(no.stdout.contains("Apply cancelled"))
        #expect(no.status == 1, "a declined apply is a failure to scripts: \(no.status)")
        #expect(try System.names(["list", "--all", "--name"]).filter { $0.hasPrefix(tag) }.isEmpty)
        let noTTY = try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state])
        #expect(noTTY.status == 1)
        #expect(noTTY.stderr.contains("--auto-approve"))
        let yes = try onTerminal(answer: "yes")
        #expect(yes.stdout.contains("Apply: "), "\(yes.stdout)")
        #expect(try System.names(["list", "--all", "--name"]).contains("\(tag)-vm0"))
    }
}
