import Testing
import VirtsyncLibvirt
import VirtsyncSpec
import VirtsyncXML

/// The strict reading of a spec's escape-hatch fragments (`XMLParser.parseStrictFragment`).
@Suite("XML strict fragments")
struct XMLStrictFragmentTests {
    func refusal(_ text: String) -> XMLParseError? {
        do {
            _ = try XMLParser.parseStrictFragment(text)
            return nil
        } catch {
            return error
        }
    }

    @Test("well-formed content is read: several elements, comments, CDATA, entities and character references")
    func accepted() throws {
        let nodes = try XMLParser.parseStrictFragment("""
            <watchdog model='i6300esb'/>
            <!-- a comment -->
            <rng model="virtio"><backend model='random'>/dev/urandom</backend></rng>
            <description><![CDATA[a <b> & c]]> &amp; &#65;&#x1F600;</description>
            """)
        let elements = nodes.compactMap { if case .element(let e) = $0 { return e } else { return nil } }
        #expect(elements.map(\.name) == ["watchdog", "rng", "description"])
        #expect(elements[2].text == "a <b> & c & A😀")
        #expect(try XMLParser.parseStrictFragment("").isEmpty)
        #expect(try XMLParser.parseStrictFragment("  \n ").isEmpty)
    }

    @Test("what the lenient reader lets through is refused, with the byte where it is",
          arguments: [
            ("</devices><cpu mode='host-passthrough'/><devices>", 0, "</devices> closes an element this fragment did not open"),
            ("<a/></fragment><fragment>", 4, "</fragment> closes an element this fragment did not open"),
            ("<!DOCTYPE d [<!ENTITY x 'y'>]><a/>", 0, "declarations (<!DOCTYPE>, <!ENTITY>, <!ELEMENT>) are not allowed"),
            ("<a/><!ENTITY x 'y'>", 4, "declarations"),
            ("<a><?php echo 1 ?></a>", 3, "processing instructions (<?...?>) are not allowed"),
            ("<?xml version='1.0'?><a/>", 0, "processing instructions"),
            ("<a v='&x;'/>", 6, "entity &x; is not defined"),
            ("<a>&nbsp;</a>", 3, "entity &nbsp; is not defined"),
            ("<a>fish & chips</a>", 8, "a bare '&' must be written &amp;"),
            ("<a>&#0;</a>", 3, "&#0; does not refer to a character XML allows"),
            ("<a>&#xD800;</a>", 3, "does not refer to a character"),
            ("<a v='1<2'/>", 7, "'<' in the value of attribute v must be written &lt;"),
            ("<a v='1' v='2'/>", 12, "attribute v given twice on <a>"),
            ("<!x/>", 0, "declarations"),
            ("<1a/>", 1, "'1' is not an XML name"),
            ("<a b&c='1'/>", 4, "is not an XML name"),
            ("<a>\u{1}</a>", 3, "control character U+0001 is not allowed in XML"),
            ("<a><b></a>", 9, "</a> does not close <b>"),
            ("<a>", 3, "element <a> is not closed"),
            ("<a v='x>", 8, "unterminated attribute value"),
          ])
    func refused(_ text: String, _ offset: Int, _ message: String) {
        let error = refusal(text)
        #expect(error != nil, "accepted: \(text)")
        #expect(error?.message.contains(message) == true, "\(text): \(error?.message ?? "")")
        #expect(error?.offset == offset, "\(text): \(error?.message ?? "")")
    }

    @Test("the lenient reader of libvirt's own documents is unchanged: DOCTYPE, PIs and a bare '&' still pass")
    func lenientUnchanged() throws {
        let root = try XMLParser.parse("<?xml version='1.0'?><!DOCTYPE d><d><?pi x?><h name='a&b'/></d>")
        #expect(root.child("h")?[attribute: "name"] == "a&b")
    }
}

/// What `virtsync import` carries into the escape hatch passes the same check validation applies.
@Suite("import and the escape hatch")
struct ImportEscapeHatchTests {
    @Test("uncovered elements pass the check and are what import carries: <memtune> and <sysinfo><os> are not the model's; <numatune> is (numa.tune)")
    func importCheck() throws {
        let xml = """
            <domain type='kvm'><name>web</name><memory unit='KiB'>65536</memory><vcpu>1</vcpu>
              <os><type arch='x86_64'>hvm</type></os>
              <numatune><memory mode='strict' nodeset='0'/><memnode cellid='0' mode='strict' nodeset='0'/></numatune>
              <memtune><hard_limit unit='KiB'>1048576</hard_limit></memtune>
              <sysinfo type='smbios'><os/></sysinfo>
              <clock offset='utc'/>
              <devices><watchdog model='i6300esb' action='reset'/></devices>
            </domain>
            """
        let uncovered = try LibvirtXML.uncovered(domainXML: xml)
        let carried = uncovered.domainElements.filter { EscapeHatch.check($0, as: .domain).isEmpty }
        let refused = uncovered.domainElements.filter { !EscapeHatch.check($0, as: .domain).isEmpty }
        #expect(carried.map { $0.split(separator: ">").first.map(String.init) ?? "" } == ["<memtune", "<sysinfo type='smbios'", "<clock offset='utc'/"])
        // `numa.tune` covers <numatune><memory>; the rest of it stays on the host and is named.
        #expect(uncovered.partlyCovered == ["<numatune>: <memnode>"])
        #expect(refused.isEmpty)
        #expect(uncovered.deviceElements.allSatisfy { EscapeHatch.check($0, as: .devices).isEmpty })
    }
}
