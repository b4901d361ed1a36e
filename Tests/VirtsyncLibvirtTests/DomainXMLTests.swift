import VirtsyncXML
import Testing
import VirtsyncCore
@testable import VirtsyncLibvirt

@Suite("domain XML parsing and merging")
struct DomainXMLTests {
    @Test("the QEMU driver's persistent XML parses into the model, ignoring libvirt's additions")
    func parseQEMU() throws {
        let parsed = try LibvirtXML.parseDomain(Samples.qemuDomain)
        var expected = Models.fullDomain
        expected.machine = "pc-q35-7.2"
        expected.interfaces[1].mac = "52:54:00:9a:bc:de"
        expected.autostart = false
        expected.platform = Models.qemuDomainPlatform
        expected.graphicsListen = "127.0.0.1"
        #expect(parsed.model == expected)
        #expect(parsed.uuid == "6c3b1d52-1f0e-4c2a-9e1a-0d2f4b6a8c10")
        #expect(parsed.marker == OwnershipMarker(specDigest: "old", commit: "0ld", extraDigest: "1234"))
    }

    @Test("the live XML gives current memory, vCPUs and link states by lower-case MAC")
    func parseLive() throws {
        let live = try LibvirtXML.parseLiveValues(Samples.qemuLiveDomain)
        #expect(live == LiveDomainValues(memory: .mib(256), maxMemory: .gib(1), vcpus: 3, maxVcpus: 4,
                                         linkUp: ["52:54:00:12:34:56": false, "52:54:00:9a:bc:de": true]))
    }

    @Test("a domain without the marker, or with a foreign element of the same name, has no marker")
    func foreignMetadata() throws {
        let foreign = """
        <domain><name>x</name><memory>1024</memory><metadata>
          <other:managed xmlns:other="https://example.com/ns" spec-digest="nope"/>
        </metadata></domain>
        """
        #expect(try LibvirtXML.parseDomain(foreign).marker == nil)
        let otherPrefix = """
        <domain><name>x</name><memory>1024</memory><metadata>
          <vs:managed xmlns:vs="https://virtsync.dev/xmlns/domain/1" spec-digest="d"/>
        </metadata></domain>
        """
        #expect(try LibvirtXML.parseDomain(otherPrefix).marker == OwnershipMarker(specDigest: "d"))
    }

    @Test("a machine alias the spec asked for reads back as the alias while libvirt's machine matches it")
    func machineAlias() throws {
        func domain(_ canonical: String, requested: String?) -> String {
            let attribute = requested.map { " requested-machine='\($0)'" } ?? ""
            return """
            <domain><name>x</name><memory>1024</memory><metadata>
              <virtsync:managed xmlns:virtsync='https://virtsync.dev/xmlns/domain/1' spec-digest='d'\(attribute)/>
            </metadata><os><type machine='\(canonical)'>hvm</type></os></domain>
            """
        }
        #expect(try LibvirtXML.parseDomain(domain("pc-q35-7.2", requested: "q35")).model.machine == "q35")
        #expect(try LibvirtXML.parseDomain(domain("pc-i440fx-7.2", requested: "pc")).model.machine == "pc")
        #expect(try LibvirtXML.parseDomain(domain("virt-7.2", requested: "virt")).model.machine == "virt")
        // Drift (someone changed the machine) shows as the real machine.
        #expect(try LibvirtXML.parseDomain(domain("pc-i440fx-7.2", requested: "q35")).model.machine == "pc-i440fx-7.2")
        #expect(try LibvirtXML.parseDomain(domain("pc-q35-7.2", requested: "pc")).model.machine == "pc-q35-7.2")
        #expect(try LibvirtXML.parseDomain(domain("pc-q35-7.2", requested: nil)).model.machine == "pc-q35-7.2")
    }

    @Test("an update keeps the versioned machine an alias resolved to, and writes a new request")
    func mergeMachine() throws {
        var model = Models.fullDomain
        model.machine = "q35"
        let kept = try XMLParser.parse(try LibvirtXML.updatedDomain(current: Samples.qemuDomain, model: model,
                                                                    marker: OwnershipMarker(specDigest: "n")))
        #expect(kept.path("os/type")?[attribute: "machine"] == "pc-q35-7.2")
        #expect(LibvirtXML.markerElement(in: kept)?[attribute: "requested-machine"] == "q35")
        #expect(kept.child("devices")?.children(named: "controller").count == 4)
        model.machine = "pc"
        let changed = try XMLParser.parse(try LibvirtXML.updatedDomain(current: Samples.qemuDomain, model: model,
                                                                       marker: OwnershipMarker(specDigest: "n")))
        #expect(changed.path("os/type")?[attribute: "machine"] == "pc")
        // Another chipset: controllers and addresses go, libvirt lays the devices out again.
        let devices = try #require(changed.child("devices"))
        #expect(devices.children(named: "controller").isEmpty)
        #expect(devices.elements.allSatisfy { $0.child("address") == nil })
        #expect(LibvirtXML.machineFamily("pc-i440fx-7.2") == "i440fx")
        #expect(LibvirtXML.machineFamily("pc-q35-8.0") == "q35")
        #expect(LibvirtXML.machineFamily("virt-7.2") == "virt")
        #expect(LibvirtXML.machineFamily("s390-ccw-virtio") == "s390-ccw-virtio")
    }

    @Test("memory units other than KiB are converted")
    func units() throws {
        let xml = "<domain><name>x</name><memory unit='GiB'>2</memory><currentMemory unit='MiB'>512</currentMemory><vcpu>2</vcpu></domain>"
        let model = try LibvirtXML.parseDomain(xml).model
        #expect(model.maxMemory == .gib(2))
        #expect(model.memory == .mib(512))
        #expect(model.vcpus == 2)
        #expect(model.maxVcpus == 2)
    }

    @Test("disk encryption: a managed volume's is written and read back; one the spec does not manage survives an update")
    func diskEncryption() throws {
        let uuid = SecretObjectModel.uuid(consumer: "images/web-1-root.qcow2")
        var model = Models.fullDomain
        model.disks[0].encryption = uuid
        let written = try XMLParser.parse(try LibvirtXML.updatedDomain(current: Samples.qemuDomain, model: model,
                                                                       marker: OwnershipMarker(specDigest: "n")))
        let vda = try #require(written.child("devices")?.children(named: "disk").first { $0.child("target")?[attribute: "dev"] == "vda" })
        #expect(vda.child("source")?.child("encryption")?.child("secret")?[attribute: "uuid"] == uuid)
        #expect(LibvirtXML.parseDisk(vda)?.encryption == uuid)
        // The spec leaves the encryption of an adopted VM's disk alone: the update keeps it.
        model.disks[0].encryption = nil
        let kept = try XMLParser.parse(try LibvirtXML.updatedDomain(current: written.serialized(), model: model,
                                                                    marker: OwnershipMarker(specDigest: "n")))
        let again = try #require(kept.child("devices")?.children(named: "disk").first { $0.child("target")?[attribute: "dev"] == "vda" })
        #expect(LibvirtXML.parseDisk(again)?.encryption == uuid)
    }

    @Test("a display password: the spec's is written; one virtsync set and the spec dropped goes; one it never set (an adopted VM's) stays")
    func displayPassword() throws {
        var model = Models.fullDomain
        model.graphics = .vnc
        let password = SecretMaterial(name: "vnc", digest: "d1", value: SecretBytes(Array("pw-one".utf8)))
        func passwd(_ xml: String) throws -> String? {
            try XMLParser.parse(xml).child("devices")?.children(named: "graphics").first?[attribute: "passwd"]
        }
        // Set by virtsync (its marker records it), then dropped from the spec: removed.
        var withPassword = model
        withPassword.graphicsPassword = password
        let managed = LibvirtXML.domain(withPassword, marker: OwnershipMarker(specDigest: "a", graphicsPassword: password.markerValue), domainType: "kvm")
        #expect(try passwd(managed) == "pw-one")
        #expect(try passwd(try LibvirtXML.updatedDomain(current: managed, model: model, marker: OwnershipMarker(specDigest: "b"))) == nil)
        // Set outside virtsync (no record in the marker), spec silent: kept on every update.
        let adopted = LibvirtXML.domain(withPassword, marker: OwnershipMarker(specDigest: "a"), domainType: "kvm")
        #expect(try passwd(try LibvirtXML.updatedDomain(current: adopted, model: model, marker: OwnershipMarker(specDigest: "b"))) == "pw-one")
        // The spec names one: it replaces whatever was there.
        var other = model
        other.graphicsPassword = SecretMaterial(name: "vnc", digest: "d2", value: SecretBytes(Array("pw-two".utf8)))
        #expect(try passwd(try LibvirtXML.updatedDomain(current: adopted, model: other, marker: OwnershipMarker(specDigest: "b"))) == "pw-two")
    }

    @Test("a document that is not a domain is refused")
    func notADomain() {
        #expect(throws: LibvirtXMLError.self) { try LibvirtXML.parseDomain("<network><name>n</name></network>") }
        #expect(throws: LibvirtXMLError.self) { try LibvirtXML.parseDomain("<domain><memory>1</memory></domain>") }
    }

    @Test("an update keeps addresses, controllers, a generated MAC and foreign metadata")
    func mergeKeepsLibvirtDetails() throws {
        var model = Models.fullDomain
        model.memory = .mib(768)
        model.interfaces[1].linkUp = true
        let merged = try LibvirtXML.updatedDomain(current: Samples.qemuDomain, model: model,
                                                  marker: OwnershipMarker(specDigest: "new"))
        let root = try XMLParser.parse(merged)
        let devices = try #require(root.child("devices"))
        // The model with the generated MAC filled in is what reads back.
        var expected = model
        expected.interfaces[1].mac = "52:54:00:9a:bc:de"
        expected.autostart = false
        // Not managed by the model: kept as libvirt had them, but for the rng of the old extra
        // fragment (named in the marker), which the update removes.
        expected.platform = Models.qemuDomainPlatform
        expected.platform.rng = nil
        expected.graphicsListen = "127.0.0.1"
        #expect(try LibvirtXML.parseDomain(merged).model == expected)
        #expect(LibvirtXML.marker(in: root) == OwnershipMarker(specDigest: "new"))
        #expect(root.child("metadata")?.elements.map(\.name) == ["libosinfo:libosinfo", "virtsync:managed"])
        #expect(devices.children(named: "controller").count == 4)
        #expect(devices.child("memballoon") != nil)
        #expect(devices.child("emulator") != nil)
        #expect(root.child("seclabel") != nil)
        #expect(root.child("vcpu")?[attribute: "placement"] == "static")
        #expect(root.path("os/type")?[attribute: "arch"] == "x86_64")
        #expect(root.path("os/boot") != nil)
        let vda = try #require(devices.children(named: "disk").first { $0.child("target")?[attribute: "dev"] == "vda" })
        #expect(vda.child("address")?[attribute: "bus"] == "0x03")
        let bridge = try #require(devices.children(named: "interface").first { $0[attribute: "type"] == "bridge" })
        #expect(bridge.child("address")?[attribute: "bus"] == "0x04")
        #expect(bridge.child("link") == nil)
        // The passthrough disk is not the model's: it stays.
        #expect(devices.children(named: "disk").contains { $0[attribute: "type"] == "block" })
    }

    @Test("an update removes what the old extra fragment added and inserts the new one")
    func mergeReplacesFragments() throws {
        var model = Models.fullDomain
        model.extraXML = ExtraXML(devices: "<watchdog model='i6300esb' action='reset'/>", domain: "<features><acpi/></features>")
        let merged = try LibvirtXML.updatedDomain(current: Samples.qemuDomain, model: model, marker: OwnershipMarker(specDigest: "n"))
        let root = try XMLParser.parse(merged)
        #expect(root.child("devices")?.child("rng") == nil)
        #expect(root.child("devices")?.child("watchdog") != nil)
        #expect(root.child("features")?.child("acpi") != nil)
        let marker = try #require(LibvirtXML.markerElement(in: root))
        #expect(marker[attribute: "hatch-paths"] == "features devices/watchdog")
        #expect(marker[attribute: "extra-device-elements"] == nil && marker[attribute: "extra-domain-elements"] == nil)

        // The next update without fragments removes them again.
        model.extraXML = ExtraXML()
        let cleaned = try XMLParser.parse(try LibvirtXML.updatedDomain(current: merged, model: model, marker: OwnershipMarker(specDigest: "m")))
        #expect(cleaned.child("devices")?.child("watchdog") == nil)
        // Without a fragment for them, the features are virtsync's defaults again.
        #expect(cleaned.child("features") == LibvirtXML.defaultFeatures())
    }

    @Test("an update with open ceilings keeps the existing maximum memory and vCPUs")
    func mergeKeepsCeilings() throws {
        var model = Models.fullDomain
        model.maxMemory = nil
        model.maxVcpus = nil
        model.vcpus = 1
        let merged = try LibvirtXML.parseDomain(
            try LibvirtXML.updatedDomain(current: Samples.qemuDomain, model: model, marker: OwnershipMarker(specDigest: "n")))
        #expect(merged.model.maxMemory == .gib(1))
        #expect(merged.model.maxVcpus == 4)
        #expect(merged.model.vcpus == 1)
    }

    @Test("firmware changes rewrite only the owned parts of <os>")
    func mergeFirmware() throws {
        var model = Models.fullDomain
        model.firmware = .uefi
        model.loader = nil
        model.machine = nil
        let merged = try LibvirtXML.updatedDomain(current: Samples.qemuDomain, model: model, marker: OwnershipMarker(specDigest: "n"))
        let root = try XMLParser.parse(merged)
        #expect(root.child("os")?[attribute: "firmware"] == "efi")
        #expect(root.path("os/loader") == nil)
        #expect(root.path("os/type")?[attribute: "machine"] == "pc-q35-7.2")
        let parsed = try LibvirtXML.parseDomain(merged).model
        #expect(parsed.firmware == .uefi)
        #expect(parsed.loader == nil)
    }

    @Test("removing the console and graphics removes their devices")
    func mergeRemovesDevices() throws {
        var model = Models.fullDomain
        model.serialConsole = false
        model.graphics = .none
        model.disks.removeLast()
        model.interfaces.removeFirst()
        let merged = try LibvirtXML.updatedDomain(current: Samples.qemuDomain, model: model, marker: OwnershipMarker(specDigest: "n"))
        let parsed = try LibvirtXML.parseDomain(merged).model
        #expect(parsed.serialConsole == false)
        #expect(parsed.graphics == .none)
        #expect(parsed.disks.map(\.target) == ["vda", "sda"])
        // The remaining bridge NIC keeps its generated MAC.
        #expect(parsed.interfaces.map(\.mac) == ["52:54:00:9a:bc:de"])
    }
}
