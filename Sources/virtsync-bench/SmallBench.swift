import CLibvirt
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A few real guests, as an operator's everyday commands see them, each figure beside its floor
/// in the same run:
///
/// - create and start N tiny guests: `virtsync apply` (parallel) against the same domain XML
///   defined and started one after another through the C API (sequential raw libvirt);
/// - a no-op `virtsync apply` of those N guests (the whole process: start, load, connect, read,
///   plan, nothing to do) against `virsh list` (a process that connects and lists);
/// - Ansible's `community.libvirt.virt` run of the same N guests (define with their XML, ensure
///   running), which has nothing to change either.
///
/// Rounds alternate the order of the two sides so that neither always runs on a warmer daemon.
enum SmallBench {
    static let owner = "virtsync-bench-small"
    static let prefix = "bench-small-"

    struct Figures {
        var virtsyncCreate: [Double] = []
        var rawCreate: [Double] = []
        var noopApply: [Double] = []
        var virshList: [Double] = []
        var ansible: [Double] = []
        var ansibleChanged: [Int] = []
    }

    static func run(vms: Int, uri: String, rounds: Int) throws -> Int32 {
        let root = NSTemporaryDirectory() + "virtsync-smallbench-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        let spec = root + "/spec"
        let state = root + "/state"
        try FileManager.default.createDirectory(atPath: spec, withIntermediateDirectories: true)
        try Data(specText(vms: vms).utf8).write(to: URL(fileURLWithPath: spec + "/vms.yaml"))
        defer { try? FileManager.default.removeItem(atPath: root) }
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("virtsync").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            print("small: \(binary) is missing; build it first (swift build -c release --product virtsync)")
            return 3
        }
        // Expected "not found" errors of the cleanup are read, not printed.
        virSetErrorFunc(nil, quietLibvirt)
        let names = (0..<vms).map { name($0) }
        removeAll(names, uri: uri)
        var figures = Figures()
        var xmls: [String] = []
        print("small: \(vms) tiny guests (64 MiB, no disk), \(rounds) rounds, \(uri)")
        for round in 0..<rounds {
            // virtsync creates and starts them; the XML it defined is what the raw side defines.
            func virtsyncSide() throws {
                try? FileManager.default.removeItem(atPath: state)
                let t = try timed(binary, ["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve", "--color", "never"])
                guard t.status == 0 else { throw BenchError.failed("virtsync apply exited \(t.status): \(t.output.suffix(400))") }
                figures.virtsyncCreate.append(t.seconds)
                xmls = try names.map { try domainXML($0, uri: uri) }
                // The no-op apply and its floor, alternating.
                for k in 0..<3 {
                    let pair = [("noop", binary, ["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve", "--color", "never"]),
                                ("virsh", "/usr/bin/virsh", ["-c", uri, "list", "--all"])]
                    for (label, path, args) in (k % 2 == 0 ? pair : pair.reversed()) {
                        let r = try timed(path, args)
                        guard r.status == 0 else { throw BenchError.failed("\(label) exited \(r.status): \(r.output.suffix(400))") }
                        if label == "noop" {
                            guard r.output.contains("No changes.") else {
                                throw BenchError.failed("the second apply was not a no-op:\n\(r.output.suffix(600))")
                            }
                            figures.noopApply.append(r.seconds)
                        } else {
                            figures.virshList.append(r.seconds)
                        }
                    }
                }
                if round == 0, let a = try ansible(names: names, xmls: xmls, uri: uri, root: root) {
                    figures.ansible.append(a.seconds)
                    figures.ansibleChanged.append(a.changed)
                }
                removeAll(names, uri: uri)
            }
            func rawSide() throws {
                guard !xmls.isEmpty else { return }
                figures.rawCreate.append(try rawCreate(xmls, uri: uri))
                removeAll(names, uri: uri)
            }
            if round % 2 == 0 {
                try virtsyncSide()
                try rawSide()
            } else {
                try rawSide()
                try virtsyncSide()
            }
        }
        if figures.rawCreate.count < figures.virtsyncCreate.count, !xmls.isEmpty {
            figures.rawCreate.append(try rawCreate(xmls, uri: uri))
            removeAll(names, uri: uri)
        }
        report(figures, vms: vms)
        return 0
    }

    static func name(_ i: Int) -> String { prefix + String(format: "%02d", i) }

    static func specText(vms: Int) -> String {
        var text = """
            apiVersion: virtsync/v1
            kind: Settings
            owner: \(owner)

            """
        for i in 0..<vms {
            text += """
                ---
                apiVersion: virtsync/v1
                kind: VirtualMachine
                name: \(name(i))
                vcpus: 1
                memory: 64MiB
                power: running
                loader: /usr/share/qemu/qboot.rom

                """
        }
        return text
    }

    enum BenchError: Error, CustomStringConvertible {
        case failed(String)
        var description: String { if case .failed(let s) = self { return s }; return "" }
    }

    /// Runs a program to its end; its wall time from spawn to exit, exit status and output.
    static func timed(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (seconds: Double, status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        if let environment { p.environment = environment }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        let start = ContinuousClock.now
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let d = ContinuousClock.now - start
        return (Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18, p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func domainXML(_ name: String, uri: String) throws -> String {
        guard let conn = virConnectOpen(uri) else { throw BenchError.failed("cannot connect to \(uri)") }
        defer { virConnectClose(conn) }
        guard let dom = virDomainLookupByName(conn, name) else { throw BenchError.failed("\(name) was not created") }
        defer { virDomainFree(dom) }
        guard let xml = virDomainGetXMLDesc(dom, UInt32(VIR_DOMAIN_XML_INACTIVE.rawValue)) else { throw BenchError.failed("no XML for \(name)") }
        defer { free(xml) }
        return String(cString: xml)
    }

    /// Defines and starts each domain in turn through the C API (connection included).
    static func rawCreate(_ xmls: [String], uri: String) throws -> Double {
        let clock = ContinuousClock()
        var failure: String?
        let t = clock.measure {
            guard let conn = virConnectOpen(uri) else { failure = "cannot connect"; return }
            defer { virConnectClose(conn) }
            for xml in xmls {
                guard let dom = virDomainDefineXML(conn, xml) else { failure = "define failed"; return }
                defer { virDomainFree(dom) }
                guard virDomainCreate(dom) == 0 else { failure = "start failed"; return }
            }
        }
        if let failure { throw BenchError.failed("raw libvirt: \(failure): \(String(cString: virGetLastErrorMessage()))") }
        return Double(t.components.seconds) + Double(t.components.attoseconds) / 1e18
    }

    /// Destroys and undefines the bench's guests (and nothing else).
    static func removeAll(_ names: [String], uri: String) {
        guard let conn = virConnectOpen(uri) else { return }
        defer { virConnectClose(conn) }
        for name in names {
            guard let dom = virDomainLookupByName(conn, name) else { virResetLastError(); continue }
            _ = virDomainDestroy(dom)
            _ = virDomainUndefineFlags(dom, UInt32(VIR_DOMAIN_UNDEFINE_NVRAM.rawValue))
            virDomainFree(dom)
            virResetLastError()
        }
    }

    /// Ansible's run of the same guests, when `ansible-playbook` and the collection exist:
    /// every guest defined from its XML and ensured running, which changes nothing here.
    static func ansible(names: [String], xmls: [String], uri: String, root: String) throws -> (seconds: Double, changed: Int)? {
        let playbookPath = "/usr/bin/ansible-playbook"
        guard FileManager.default.isExecutableFile(atPath: playbookPath) else {
            print("small: ansible-playbook not installed (apt-get install ansible python3-libvirt); its column is left out")
            return nil
        }
        var vars = "guests:\n"
        for (name, xml) in zip(names, xmls) {
            vars += "  - name: \(name)\n    xml: |\n" + xml.split(separator: "\n", omittingEmptySubsequences: false).map { "      " + $0 }.joined(separator: "\n") + "\n"
        }
        try Data(vars.utf8).write(to: URL(fileURLWithPath: root + "/guests.yaml"))
        let playbook = """
            - hosts: localhost
              connection: local
              gather_facts: false
              vars_files: [guests.yaml]
              tasks:
                - name: define
                  community.libvirt.virt:
                    command: define
                    xml: "{{ item.xml }}"
                    uri: \(uri)
                  loop: "{{ guests }}"
                  loop_control: { label: "{{ item.name }}" }
                - name: running
                  community.libvirt.virt:
                    name: "{{ item.name }}"
                    state: running
                    uri: \(uri)
                  loop: "{{ guests }}"
                  loop_control: { label: "{{ item.name }}" }

            """
        try Data(playbook.utf8).write(to: URL(fileURLWithPath: root + "/playbook.yaml"))
        var environment = ProcessInfo.processInfo.environment
        environment["ANSIBLE_NOCOLOR"] = "1"
        environment["ANSIBLE_LOCALHOST_WARNING"] = "False"
        environment["ANSIBLE_INVENTORY_UNPARSED_WARNING"] = "False"
        let r = try timed(playbookPath, [root + "/playbook.yaml"], environment: environment)
        guard r.status == 0 else {
            print("small: ansible-playbook exited \(r.status); its column is left out:\n\(r.output.suffix(800))")
            return nil
        }
        // The recap line: "localhost : ok=40 changed=0 unreachable=0 failed=0 ..."
        let changed = r.output.split(separator: "\n").last { $0.contains("changed=") }
            .flatMap { line in line.split(separator: " ").first { $0.hasPrefix("changed=") } }
            .flatMap { Int($0.dropFirst("changed=".count)) } ?? -1
        return (r.seconds, changed)
    }

    static func report(_ f: Figures, vms: Int) {
        func median(_ xs: [Double]) -> Double {
            let s = xs.sorted()
            guard !s.isEmpty else { return .nan }
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        func cell(_ xs: [Double]) -> String {
            xs.isEmpty ? "-" : String(format: "%.2f s (best %.2f)", median(xs), xs.min() ?? .nan)
        }
        let createRatio = median(f.virtsyncCreate) / median(f.rawCreate)
        let noopRatio = median(f.noopApply) / median(f.virshList)
        print("")
        print("| \(vms) guests | virtsync, median (best) | floor, median (best) | ratio | target |")
        print("|---|---:|---:|---:|---:|")
        print("| create + start | \(cell(f.virtsyncCreate)) | sequential raw libvirt \(cell(f.rawCreate)) | \(String(format: "%.2fx", createRatio)) | ≤ 0.6x: \(createRatio <= 0.6 ? "met" : "missed") |")
        print("| no-op apply (whole process) | \(cell(f.noopApply)) | `virsh list` \(cell(f.virshList)) | \(String(format: "%.2fx", noopRatio)) | ≤ 1.3x: \(noopRatio <= 1.3 ? "met" : "missed") |")
        if let a = f.ansible.first {
            print("| Ansible community.libvirt, same guests | \(String(format: "%.2f s", a)) (changed=\(f.ansibleChanged.first ?? -1)) | virtsync no-op apply \(cell(f.noopApply)) | \(String(format: "%.1fx", a / median(f.noopApply))) slower | |")
        }
        print("")
        print(String(format: "small_create_virtsync_s=%.4f small_create_raw_s=%.4f small_noop_s=%.4f small_virsh_s=%.4f small_ansible_s=%.4f",
                     median(f.virtsyncCreate), median(f.rawCreate), median(f.noopApply), median(f.virshList), f.ansible.first ?? -1))
    }
}

/// Capture-free C callback (closures that capture crash the Swift 6.3 compiler as callbacks).
private let quietLibvirt: virErrorFunc = { _, _ in }
