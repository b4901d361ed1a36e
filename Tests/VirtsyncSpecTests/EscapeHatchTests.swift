import Testing
import VirtsyncCore
import VirtsyncSpec

/// The escape hatch's rules on parsed fragments (the spec-level errors are golden:
/// Fixtures/diagnostics/raw-xml-hostile and raw-xml-owned).
@Suite("escape hatch")
struct EscapeHatchTests {
    private func messages(_ fragment: String, _ field: EscapeHatch.Field) -> [String] {
        EscapeHatch.check(fragment, as: field).map(\.message)
    }

    @Test("an owned element is refused naming the field that owns it, in every field")
    func ownedNamesItsField() {
        #expect(messages("<memory unit='MiB'>64</memory>", .domain) == ["<memory> is set by the field memory/maxMemory; raw XML may not set it"])
        #expect(messages("<os><loader>/x.fd</loader></os>", .domain) == ["<os><loader> is set by the field firmware/loader; raw XML may not set it"])
        #expect(messages("<disk type='file'/>", .devices) == ["<devices><disk> is set by the field disks; raw XML may not set it"])
        #expect(messages("<devices><interface type='network'/></devices>", .domain)
                == ["<devices><interface> is set by the field interfaces; raw XML may not set it"])
        #expect(messages("<forward mode='nat'/>", .network) == ["<forward> is set by the field mode; raw XML may not set it"])
        #expect(messages("<ip address='10.0.0.1' prefix='24'/>", .network) == ["<ip> is set by the field ipv4; raw XML may not set it"])
        #expect(messages("<target><path>/srv</path></target>", .pool) == ["<target><path> is set by the field path; raw XML may not set it"])
        #expect(messages("<name>x</name>", .pool) == ["<name> is set by the field name; raw XML may not set it"])
    }

    @Test("a container the model partly owns is descended into: only its owned parts are refused")
    func containersAreDescendedInto() {
        #expect(messages("<os><bios rebootTimeout='0'/></os>", .domain).isEmpty)
        #expect(messages("<cpu><cache mode='passthrough'/></cpu>", .domain).isEmpty)
        #expect(messages("<devices><rng model='virtio'><backend model='random'>/dev/urandom</backend></rng></devices>", .domain).isEmpty)
        #expect(messages("<target><permissions><mode>0755</mode></permissions></target>", .pool).isEmpty)
        #expect(messages("<os><bios rebootTimeout='0'/><type>hvm</type></os>", .domain) == ["<os><type> is set by the field machine; raw XML may not set it"])
        #expect(messages("<cpu mode='host-model'/>", .domain) == ["<cpu> attribute 'mode' is set by the field cpu; raw XML may not set it"])
        #expect(messages("<cpu match='exact'><cache mode='passthrough'/></cpu>", .domain).first?.contains("not set its attribute 'match'") == true)
    }

    @Test("elements the model does not own pass at any depth, whatever their names inside")
    func unownedAtAnyDepth() {
        // Once a field of its own (numa.tune), not refused as if it were the domain's <memory>.
        #expect(messages("<numatune><memory mode='strict' nodeset='0'/></numatune>", .domain) == ["<numatune><memory> is set by the field numa.tune; raw XML may not set it"])
        #expect(messages("<numatune><memnode cellid='0' mode='strict' nodeset='0'/></numatune>", .domain).isEmpty)
        #expect(messages("<memory model='dimm'><target><size unit='MiB'>64</size></target></memory>", .devices).isEmpty)
        #expect(messages("<sysinfo type='smbios'><os/></sysinfo>", .domain).isEmpty, "<sysinfo><os> is not the domain's <os>")
        #expect(messages("<disk type='block' device='lun'><source dev='/dev/sdb'/><target dev='sdb' bus='scsi'/></disk>", .devices).isEmpty,
                "a SCSI LUN passed through is not one the model has a field for")
        // Block devices and network disks are the model's (disks[].block, disks[].network).
        #expect(messages("<disk type='block' device='disk'><source dev='/dev/sdb'/><target dev='vdb' bus='virtio'/></disk>", .devices)
                == ["<devices><disk> is set by the field disks; raw XML may not set it"])
        // A macvtap interface is the model's (interfaces[].direct), with its options.
        #expect(messages("<interface type='direct'><source dev='eth0' mode='bridge'/></interface>", .devices)
                == ["<devices><interface> is set by the field interfaces; raw XML may not set it"])
        #expect(messages("<interface type='bridge'><source bridge='ovs0'/><vlan><tag id='42'/></vlan><virtualport type='openvswitch'/></interface>", .devices)
                == ["<devices><interface> is set by the field interfaces; raw XML may not set it"])
        #expect(messages("<interface type='ethernet'><target dev='tap7'/></interface>", .devices).isEmpty)
        #expect(messages("<disk type='file' device='floppy'><source file='/srv/f.img'/><target dev='fda'/></disk>", .devices).isEmpty,
                "a floppy is not a disk the model has a field for")
        #expect(messages("<disk device='cdrom'><source file='/srv/x.iso'/></disk>", .devices) == ["<devices><disk> is set by the field disks; raw XML may not set it"])
        #expect(messages("<dns><txt name='x' value='y'/></dns><port isolated='yes'/>", .network).isEmpty)
        // Spec 1.1: the MTU, the network's shaping and its port groups are the model's.
        #expect(messages("<mtu size='9000'/>", .network) == ["<mtu> is set by the field mtu; raw XML may not set it"])
        #expect(messages("<bandwidth><inbound average='1000'/></bandwidth>", .network) == ["<bandwidth> is set by the field bandwidth; raw XML may not set it"])
        #expect(messages("<portgroup name='web'/>", .network) == ["<portgroup> is set by the field portgroups; raw XML may not set it"])
        #expect(messages("<forward mode='nat' dev='eth0'/>", .network) == ["<forward> is set by the field mode; raw XML may not set it"])
        #expect(messages("<ip family='ipv6' address='fd00::1' prefix='64'/>", .network) == ["<ip> is set by the field ipv6; raw XML may not set it"])
        #expect(messages("<route address='10.20.0.0' prefix='16' gateway='10.8.0.1'/>", .network).isEmpty)
        #expect(messages("<dns><host ip='10.0.0.5'><hostname>a</hostname></host></dns>", .network) == ["<dns><host> is set by the field dns.hosts; raw XML may not set it"])
        #expect(messages("<domain name='lab.example'/>", .network) == ["<domain> is set by the field dns.domain; raw XML may not set it"])
        #expect(messages("<dns enable='no'/>", .network) == ["<dns> attribute 'enable' is set by the field dns.enable; raw XML may not set it"])
        #expect(messages("<source><format type='lvm2'/></source>", .pool).isEmpty)
        // An owned name inside a comment or CDATA is not an element.
        #expect(messages("<!-- <cpu/> --><description><![CDATA[<disk/>]]></description>", .domain).isEmpty)
    }

    @Test("each owned element is named once, in document order")
    func eachRefusalOnce() {
        #expect(messages("<vcpu>2</vcpu><uuid>u</uuid><vcpu>4</vcpu>", .domain)
                == ["<vcpu> is set by the field vcpus/maxVcpus; raw XML may not set it", "<uuid> is set by the field uuid; raw XML may not set it"])
    }

    @Test("a problem names its line within the fragment; text outside any element is refused")
    func linesAndText() {
        let problems = EscapeHatch.check("<watchdog model='i6300esb'/>\n<rng>\n<backend>x</rng>\n", as: .devices)
        #expect(problems.map(\.description) == ["line 3 of the XML: </rng> does not close <backend>"])
        #expect(messages("on_crash: destroy", .domain) == ["text outside any element ('on_crash: destroy'): a fragment holds elements only"])
    }

    @Test("fragments split into leaves at their paths")
    func leaves() {
        let leaves = Hatch.leaves(ExtraXML(devices: "<rng model='virtio'/>", domain: "<os><bios rebootTimeout='0'/></os><clock offset='utc'/>"))
        #expect(leaves.map(\.path) == ["os/bios", "clock", "devices/rng"])
        #expect(Hatch.leaves("<target><permissions><mode>0755</mode></permissions></target>", in: .pool).map(\.path) == ["target/permissions"])
    }
}
