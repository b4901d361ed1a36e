import Foundation
import Testing
import VirtsyncTestSupport

// Part of the serialized system suite.
extension SystemTests {
    @Test("a guest runs on a block device and an NBD export on loopback; rbd and iscsi disks with auth are defined with private secret objects; a second plan is empty")
    func networkDisks() async throws {
        let tag = "nd\(UUID().uuidString.prefix(6).lowercased())"
        let dir = try System.tempDir(tag), state = try System.tempDir("\(tag)-state"), secrets = try System.tempDir("\(tag)-secrets")
        let image = "/tmp/\(tag)-block.img", export = "/tmp/\(tag)-nbd.raw", log = "/tmp/\(tag)-nbd.log"
        try System.run("/usr/bin/truncate", ["-s", "16M", image])
        try System.run("/usr/bin/truncate", ["-s", "16M", export])
        let loop = try System.run("/usr/sbin/losetup", ["-f", "--show", image]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let port = try LoopbackPort.free()
        // In the foreground, as a child of the test: a forking daemon keeps Foundation's Process waiting.
        let server = try ChildProcess(executable: "/usr/bin/qemu-nbd", arguments: ["-f", "raw", "-b", "127.0.0.1", "-p", String(port), "-t", "-x", "data", export],
                                      environment: [:], outputPath: "/tmp/\(tag)-nbd.log")
        for _ in 0..<50 where !LoopbackPort.accepts(port) { try await Task.sleep(for: .milliseconds(100)) }
        #expect(LoopbackPort.accepts(port), "qemu-nbd serves on 127.0.0.1:\(port)")
        defer {
            try? System.cleanup(stateDir: state, tag: tag)
            server.terminate()
            if loop.hasPrefix("/dev/loop") { _ = try? System.run("/usr/sbin/losetup", ["-d", loop]) }
            for path in [image, export, log] { try? FileManager.default.removeItem(atPath: path) }
        }
        try System.write(secrets, "ceph", "ceph-canary-\(UUID().uuidString)\n")
        try System.write(secrets, "chap", "chap-canary-\(UUID().uuidString)\n")
        chmod(secrets + "/ceph", 0o600)
        chmod(secrets + "/chap", 0o600)
        try System.write(dir, "spec.yaml", """
            apiVersion: virtsync/v1
            kind: Settings
            owner: system-tests-\(tag)
            ---
            apiVersion: virtsync/v1
            kind: Secret
            name: ceph-key
            hostFile: ceph
            ---
            apiVersion: virtsync/v1
            kind: Secret
            name: chap
            hostFile: chap
            ---
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: \(tag)-vm
            memory: 64MiB
            loader: /usr/share/qemu/qboot.rom
            power: running
            disks:
              - block: \(loop)
              - network: {protocol: nbd, name: data, hosts: ["127.0.0.1:\(port)"]}
            ---
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: \(tag)-san
            memory: 64MiB
            loader: /usr/share/qemu/qboot.rom
            power: stopped
            disks:
              - network: {protocol: rbd, name: vms/\(tag), hosts: ["mon-1.invalid:6789"], auth: {username: libvirt, secret: ceph-key}}
              - network: {protocol: iscsi, name: "iqn.2013-06.com.example:\(tag)/0", hosts: ["san.invalid:3260"], auth: {username: chap-user, secret: chap}}

            """)
        let options = ["--connect", uri, "--state-dir", state, "--secrets-dir", secrets, "--secret-digest-key", state + "/digest.key"]
        let apply = try await Self.virtsyncAsync(["apply", dir, "--auto-approve"] + options)
        #expect(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
        #expect(try System.virsh(["domstate", "\(tag)-vm"]).stdout.contains("running"))
        let live = try System.virsh(["dumpxml", "\(tag)-vm"]).stdout
        #expect(live.contains("<source dev='\(loop)'") && live.contains("protocol='nbd' name='data'") && live.contains("port='\(port)'"), "\(live)")
        let san = try System.virsh(["dumpxml", "\(tag)-san"]).stdout
        let uuids = san.components(separatedBy: "uuid='").dropFirst().map { String($0.prefix(36)) }
        #expect(san.contains("protocol='rbd' name='vms/\(tag)'") && san.contains("<auth username='libvirt'>")
                && san.contains("<secret type='ceph' uuid=") && san.contains("<secret type='iscsi' uuid="), "\(san)")
        let objects = try System.virsh(["secret-list"]).stdout
        for uuid in uuids.suffix(2) {
            #expect(objects.contains(uuid), "secret object \(uuid) exists:\n\(objects)")
            let value = try System.virsh(["secret-get-value", uuid])
            #expect(value.status != 0, "a private secret object shows no value")
        }
        let again = try await Self.virtsyncAsync(["plan", dir, "--detailed-exitcode"] + options)
        #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")
    }
}
