import Testing
import VirtsyncSpec

/// The escape hatch's rules on parsed fragments (the spec-level errors are golden:
/// Fixtures/diagnostics/raw-xml-hostile).
@Suite("escape hatch")
struct EscapeHatchTests {
    @Test("owned elements are refused at any depth, in either field")
    func ownedAtAnyDepth() {
        #expect(EscapeHatch.check("<watchdog model='i6300esb'/>", as: .devices).isEmpty)
        #expect(EscapeHatch.check("<disk type='file'/>", as: .devices).map(\.message)
                == ["raw XML may not hold <disk>: the spec has fields for that (use them instead)"])
        #expect(EscapeHatch.check("<features><devices><disk/></devices></features>", as: .domain).map(\.message)
                == ["raw XML may not hold <devices>, <disk>: the spec has fields for that (use them instead)"])
        #expect(EscapeHatch.check("<sysinfo type='smbios'><os/></sysinfo>", as: .domain).first?.message.contains("<os>") == true)
        // An owned name inside a comment or CDATA is not an element.
        #expect(EscapeHatch.check("<!-- <cpu/> --><description><![CDATA[<disk/>]]></description>", as: .domain).isEmpty)
    }

    @Test("the two nestings libvirt reads as something else pass: <numatune><memory> and the memory device")
    func allowedNestings() {
        #expect(EscapeHatch.check("<numatune><memory mode='strict' nodeset='0'/></numatune>", as: .domain).isEmpty)
        #expect(EscapeHatch.check("<memory model='dimm'><target><size unit='MiB'>64</size></target></memory>", as: .devices).isEmpty)
        #expect(!EscapeHatch.check("<memory unit='MiB'>64</memory>", as: .domain).isEmpty, "the domain's own <memory>")
    }

    @Test("a problem names its line within the fragment; text outside any element is refused")
    func linesAndText() {
        let problems = EscapeHatch.check("<watchdog model='i6300esb'/>\n<rng>\n<backend>x</rng>\n", as: .devices)
        #expect(problems.map(\.description) == ["line 3 of the XML: </rng> does not close <backend>"])
        #expect(EscapeHatch.check("on_crash: destroy", as: .domain).map(\.message)
                == ["text outside any element ('on_crash: destroy'): a fragment holds elements only"])
    }
}
