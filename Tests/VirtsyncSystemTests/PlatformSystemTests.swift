import Foundation
import Testing

/// Boot, firmware and platform devices on a real libvirtd with QEMU. A tiny guest (qboot) runs
/// for real with an emulated TPM (swtpm), the guest agent channel, rng, watchdog, video, tablet
/// and a CD-ROM that boots first. UEFI guests are defined and read back but not started: on this
/// machine's (nested) KVM, OVMF stops with a KVM internal error and Secure Boot's System
/// Management Mode is refused; direct kernel boot and host devices are defined too (there is no
/// guest kernel and no hardware to give away).
@Suite("System: boot, firmware and devices", .serialized, .enabled(if: System.enabled, "set VIRTSYNC_SYSTEM_URI (scripts/test.sh does)"))
struct PlatformSystemTests {
    let uri = System.uri ?? "qemu:///system"

    static func settings(_ tag: String) -> String {
        "apiVersion: virtsync/v1\nkind: Settings\nowner: system-tests-\(tag)\n"
    }

    @Test("TPM, guest agent, rng, watchdog, video, tablet and an installer ISO that boots first: running, read back, the next plan is empty; a watchdog change waits for the next boot")
    func firmwareAndDevices() throws {
        let tag = "vsb-fw"
        let state = try System.tempDir("state"), spec = try System.tempDir("spec"), media = try System.tempDir("iso")
        defer { try? System.cleanup(stateDir: state, tag: tag) }
        // An "installer ISO": any readable file will do as CD-ROM media for a guest that never reads it.
        let iso = media + "/installer.iso"
        try Data(count: 64 * 1024).write(to: URL(fileURLWithPath: iso))
        try Data(count: 1024 * 1024).write(to: URL(fileURLWithPath: media + "/root.img"))
        func write(action: String) throws {
            try System.write(spec, "spec.yaml", Self.settings(tag) + """
            ---
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: \(tag)-vm
            memory: 64MiB
            machine: pc
            loader: /usr/share/qemu/qboot.rom
            power: running
            boot: {order: [cdrom, disk], menu: false}
            tpm: {model: tis, version: "2.0"}
            guestAgent: true
            rng: {source: /dev/urandom, bytesPerSecond: 4096}
            watchdog: {model: i6300esb, action: \(action)}
            video: virtio
            tablet: true
            disks:
              - file: \(media)/root.img
                bus: ide
              - file: \(iso)
                cdrom: true
                bus: ide

            """)
        }
        try write(action: "reset")
        let first = try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(try System.virsh(["domstate", "\(tag)-vm"]).stdout.contains("running"))
        let inactive = try System.virsh(["dumpxml", "--inactive", "\(tag)-vm"]).stdout
        for piece in ["<tpm model='tpm-tis'>", "<backend type='emulator' version='2.0'", "name='org.qemu.guest_agent.0'",
                      "<rate bytes='4096' period='1000'/>", "<watchdog model='i6300esb' action='reset'", "<model type='virtio'",
                      "<input type='tablet' bus='usb'", "<boot dev='cdrom'/>", "<bootmenu enable='no'/>"] {
            #expect(inactive.contains(piece), "missing \(piece) in\n\(inactive)")
        }
        #expect(inactive.range(of: "<boot dev='cdrom'/>")?.lowerBound ?? inactive.endIndex
            < inactive.range(of: "<boot dev='hd'/>")?.lowerBound ?? inactive.startIndex, "the CD-ROM boots first")
        // The running guest has its TPM emulator (swtpm) and the agent's socket.
        let live = try System.virsh(["dumpxml", "\(tag)-vm"]).stdout
        #expect(live.contains("<tpm model='tpm-tis'>"), "\(live)")
        #expect(live.contains("<alias name='tpm0'/>"), "\(live)")
        #expect(live.contains("org.qemu.guest_agent.0"))
        let again = try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state, "--detailed-exitcode"])
        #expect(again.status == 0, "the second plan is not empty:\n\(again.stdout)\(again.stderr)")

        let id = try System.virsh(["domid", "\(tag)-vm"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try write(action: "poweroff")
        let plan = try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state])
        #expect(plan.stdout.contains("update domain \(tag)-vm  [next-boot]"), "\(plan.stdout)")
        #expect(plan.stdout.contains("watchdog: i6300esb reset → i6300esb poweroff"), "\(plan.stdout)")
        // Only what changed: no false drift from what libvirt filled in around the other fields.
        for field in ["boot.order:", "tpm:", "guestAgent:", "rng:", "video:", "tablet:", "disks["] {
            #expect(!plan.stdout.contains(field), "\(field) in\n\(plan.stdout)")
        }
        let changed = try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(changed.status == 0, "\(changed.stdout)\(changed.stderr)")
        #expect(try System.virsh(["domid", "\(tag)-vm"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == id, "the VM was restarted")
        #expect(try System.virsh(["dumpxml", "--inactive", "\(tag)-vm"]).stdout.contains("<watchdog model='i6300esb' action='poweroff'"))
        let settled = try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state, "--detailed-exitcode"])
        #expect(settled.status == 0, "\(settled.stdout)")
    }

    @Test("UEFI with Secure Boot (autoselected, and from a loader with its NVRAM template), direct kernel boot and host devices are defined, read back, and the next plan is empty")
    func kernelLoaderAndHostDevices() throws {
        let tag = "vsb-kern"
        let state = try System.tempDir("state"), spec = try System.tempDir("spec"), files = try System.tempDir("boot")
        defer { try? System.cleanup(stateDir: state, tag: tag) }
        for name in ["vmlinuz", "initrd.img"] { try Data(count: 4096).write(to: URL(fileURLWithPath: "\(files)/\(name)")) }
        func write(cmdline: String, devices: String) throws {
            try System.write(spec, "spec.yaml", Self.settings(tag) + """
            ---
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: \(tag)-vm
            memory: 256MiB
            machine: q35
            firmware: uefi
            loader: /usr/share/OVMF/OVMF_CODE_4M.ms.fd
            nvramTemplate: /usr/share/OVMF/OVMF_VARS_4M.ms.fd
            secureBoot: true
            power: stopped
            kernel:
              path: \(files)/vmlinuz
              initrd: \(files)/initrd.img
              cmdline: "\(cmdline)"
            hostDevices:
            \(devices)
            ---
            apiVersion: virtsync/v1
            kind: VirtualMachine
            name: \(tag)-efi
            memory: 256MiB
            machine: q35
            firmware: uefi
            secureBoot: true
            power: stopped
            tpm: {model: crb}

            """)
        }
        try write(cmdline: "console=ttyS0 quiet", devices: "  - pci: \"0000:7f:1f.7\"\n  - usb: {vendor: \"0x1d6b\", product: \"0x0002\"}")
        let first = try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let inactive = try System.virsh(["dumpxml", "--inactive", "\(tag)-vm"]).stdout
        for piece in ["<kernel>\(files)/vmlinuz</kernel>", "<initrd>\(files)/initrd.img</initrd>", "<cmdline>console=ttyS0 quiet</cmdline>",
                      "secure='yes'", "template='/usr/share/OVMF/OVMF_VARS_4M.ms.fd'", "<hostdev mode='subsystem' type='pci' managed='yes'>",
                      "bus='0x7f' slot='0x1f' function='0x7'", "<vendor id='0x1d6b'/>"] {
            #expect(inactive.contains(piece), "missing \(piece) in\n\(inactive)")
        }
        let efi = try System.virsh(["dumpxml", "--inactive", "\(tag)-efi"]).stdout
        for piece in ["<os firmware='efi'>", "<feature enabled='yes' name='secure-boot'/>", "<feature enabled='yes' name='enrolled-keys'/>",
                      "<smm state='on'/>", "<tpm model='tpm-crb'>"] {
            #expect(efi.contains(piece), "missing \(piece) in\n\(efi)")
        }
        let second = try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state, "--detailed-exitcode"])
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")

        // The command line changes and the USB device goes: applied to the definition, nothing else moves.
        try write(cmdline: "console=ttyS0", devices: "  - pci: \"7f:1f.7\"")
        let plan = try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state])
        #expect(plan.stdout.contains("kernel: \(files)/vmlinuz initrd \(files)/initrd.img cmdline \"console=ttyS0 quiet\" → "), "\(plan.stdout)")
        #expect(plan.stdout.contains("hostDevices: pci 0000:7f:1f.7, usb 0x1d6b:0x0002 → pci 0000:7f:1f.7"), "\(plan.stdout)")
        let changed = try System.virtsync(["apply", spec, "--connect", uri, "--state-dir", state, "--auto-approve"])
        #expect(changed.status == 0, "\(changed.stdout)\(changed.stderr)")
        let updated = try System.virsh(["dumpxml", "--inactive", "\(tag)-vm"]).stdout
        #expect(updated.contains("<cmdline>console=ttyS0</cmdline>"))
        #expect(!updated.contains("<vendor id='0x1d6b'/>"))
        #expect(updated.contains("bus='0x7f' slot='0x1f' function='0x7'"))
        #expect(try System.virtsync(["plan", spec, "--connect", uri, "--state-dir", state, "--detailed-exitcode"]).status == 0)
    }
}
