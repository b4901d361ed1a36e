import Foundation
import Testing
import VirtsyncCore

/// Encrypted volumes on a real libvirtd: the secret object, the LUKS volume qemu-img makes with
/// it, a guest that opens it, and the object's removal with its volume.
// Part of the serialized system suite: these create LUKS volumes and TPMs beside its checks.
extension SystemTests {
    @Test("an encrypted volume is made with a private libvirt secret, a guest opens it, a second plan is empty, and the secret goes with the volume")
    func luksVolume() throws {
        let tag = "sx\(UUID().uuidString.prefix(6).lowercased())"
        let dir = try System.tempDir(tag)
        let state = try System.tempDir("\(tag)-state")
        let secrets = try System.tempDir("\(tag)-secrets")
        let poolPath = "/tmp/\(tag)-pool"
        defer {
            try? System.cleanup(stateDir: state, tag: tag)
            try? FileManager.default.removeItem(atPath: poolPath)
        }
        let passphrase = "luks-canary-\(UUID().uuidString)"
        try System.write(secrets, "disk", passphrase + "\n")
        chmod(secrets + "/disk", 0o600)
        try System.write(dir, "spec.yaml", """
            apiVersion: virtsync/v1
            kind: Settings
            owner: system-tests-\(tag)
            ---
            apiVersion: virtsync/v1
            kind: StoragePool
            name: \(tag)-pool
            path: \(poolPath)
            volumes:
              - name: data.raw
                size: 16MiB
                format: raw
                encryptionSecret: disk
              - name: data.qcow2
                size: 16MiB
                format: qcow2
                encryptionSecret: disk
            ---
            apiVersion: virtsync/v1
            kind: Secret
            name: disk
            hostFile: disk
            ---
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: \(tag)-vm
            memory: 64MiB
            loader: /usr/share/qemu/qboot.rom
            power: running
            disks:
              - volume: \(tag)-pool/data.raw
              - volume: \(tag)-pool/data.qcow2

            """)
        let options = ["--connect", uri, "--state-dir", state, "--secrets-dir", secrets, "--secret-digest-key", state + "/digest.key"]
        let apply = try System.virtsync(["apply", dir, "--auto-approve"] + options)
        #expect(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
        #expect(!(apply.stdout + apply.stderr).contains(passphrase))
        #expect(try System.virsh(["domstate", "\(tag)-vm"]).stdout.contains("running"), "the guest opened its LUKS disk")

        let uuid = SecretObjectModel.uuid(consumer: "\(tag)-pool/data.raw")
        #expect(try System.virsh(["secret-list"]).stdout.contains(uuid))
        let dumped = try System.virsh(["secret-dumpxml", uuid]).stdout
        #expect(dumped.contains("private='yes'") && dumped.contains("<volume>\(poolPath)/data.raw</volume>"), "\(dumped)")
        #expect(!dumped.contains(passphrase))
        #expect(try System.virsh(["secret-get-value", uuid]).status != 0, "a private secret's value is never shown")
        let volume = try System.virsh(["vol-dumpxml", "data.raw", "--pool", "\(tag)-pool"]).stdout
        #expect(volume.contains("<encryption format='luks'>") && volume.contains(uuid), "\(volume)")
        let qcow2 = try System.virsh(["vol-dumpxml", "data.qcow2", "--pool", "\(tag)-pool"]).stdout
        #expect(qcow2.contains("<format type='qcow2'/>") && qcow2.contains("<encryption format='luks'>")
                && qcow2.contains(SecretObjectModel.uuid(consumer: "\(tag)-pool/data.qcow2")), "\(qcow2)")
        let header = try Data(contentsOf: URL(fileURLWithPath: poolPath + "/data.raw")).prefix(6)
        #expect(header == Data([0x4C, 0x55, 0x4B, 0x53, 0xBA, 0xBE]), "a LUKS header: \(Array(header))")
        #expect(try Data(contentsOf: URL(fileURLWithPath: poolPath + "/data.raw")).range(of: Data(passphrase.utf8)) == nil)

        let again = try System.virtsync(["plan", dir, "--detailed-exitcode"] + options)
        #expect(again.status == 0, "a second plan is empty: \(again.stdout)\n\(again.stderr)")

        // Cleanup removes the VM, the volume and then its secret object.
        try System.cleanup(stateDir: state, tag: tag)
        #expect(try !System.virsh(["secret-list"]).stdout.contains(uuid))
    }

    @Test("the escape hatch's emulated TPM gets its state encrypted with a secret object virtsync keeps; the object goes once the VM is gone")
    func vtpmObject() throws {
        let tag = "sv\(UUID().uuidString.prefix(6).lowercased())"
        let dir = try System.tempDir(tag)
        let state = try System.tempDir("\(tag)-state")
        let secrets = try System.tempDir("\(tag)-secrets")
        defer { try? System.cleanup(stateDir: state, tag: tag) }
        try System.write(secrets, "tpm", "tpm-canary-\(UUID().uuidString)\n")
        chmod(secrets + "/tpm", 0o600)
        try System.write(dir, "spec.yaml", """
            apiVersion: virtsync/v1
            kind: Settings
            owner: system-tests-\(tag)
            ---
            apiVersion: virtsync/v1
            kind: Secret
            name: tpm-state
            hostFile: tpm
            ---
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: \(tag)-vm
            memory: 64MiB
            loader: /usr/share/qemu/qboot.rom
            power: running
            xml:
              devices: |
                <tpm model='tpm-crb'>
                  <backend type='emulator' version='2.0'>
                    <encryption secret='((secret-uuid:tpm-state:vtpm))'/>
                  </backend>
                </tpm>

            """)
        let options = ["--connect", uri, "--state-dir", state, "--secrets-dir", secrets, "--secret-digest-key", state + "/digest.key"]
        let apply = try System.virtsync(["apply", dir, "--auto-approve"] + options)
        #expect(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
        #expect(try System.virsh(["domstate", "\(tag)-vm"]).stdout.contains("running"), "swtpm opened its state with the secret")
        let uuid = SecretObjectModel.uuid(consumer: "\(tag)-vm:tpm-state:vtpm")
        let object = try System.virsh(["secret-dumpxml", uuid]).stdout
        #expect(object.contains("<usage type='vtpm'>") && object.contains("<name>virtsync/\(tag)-vm/tpm-state</name>"), "\(object)")
        #expect(try System.virsh(["dumpxml", "\(tag)-vm"]).stdout.contains("secret='\(uuid)'"))
        let again = try System.virtsync(["plan", dir, "--detailed-exitcode"] + options)
        #expect(again.status == 0, "a second plan is empty: \(again.stdout)\n\(again.stderr)")

        try System.cleanup(stateDir: state, tag: tag)
        #expect(try !System.virsh(["secret-list"]).stdout.contains(uuid), "the object went with its VM")
    }
}
