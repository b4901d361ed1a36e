import VirtsyncXML
import Testing
@testable import VirtsyncLibvirt

@Suite("XML parser")
struct XMLParserTests {
    @Test("elements, attributes in both quote styles and nested children are read")
    func structure() throws {
        let root = try XMLParser.parse("<?xml version='1.0'?>\n<a x='1' y=\"two\"><b/><c k='v'>text</c></a>")
        #expect(root.name == "a")
        #expect(root[attribute: "x"] == "1")
        #expect(root[attribute: "y"] == "two")
        #expect(root.elements.map(\.name) == ["b", "c"])
        #expect(root.child("c")?.text == "text")
        #expect(root.path("c")?[attribute: "k"] == "v")
    }

    @Test("predefined and numeric entities are decoded in text and attributes")
    func entities() throws {
        let root = try XMLParser.parse("<a v='&lt;&amp;&gt;&quot;&apos;'>&#65;&#x42;&amp;c</a>")
        #expect(root[attribute: "v"] == "<&>\"'")
        #expect(root.text == "AB&c")
    }

    @Test("a bare or unknown '&' is kept literally, as libvirt sometimes writes it unescaped")
    func bareAmpersand() throws {
        let root = try XMLParser.parse("<host name='a&b' x='&bogus; & &#xZZ;'/>")
        #expect(root[attribute: "name"] == "a&b")
        #expect(root[attribute: "x"] == "&bogus; & &#xZZ;")
    }

    @Test("comments, CDATA, processing instructions and a DOCTYPE are handled")
    func miscellany() throws {
        let root = try XMLParser.parse("<!DOCTYPE a>\n<!-- c --><a><!-- inner --><![CDATA[<raw & stuff>]]><?pi x?></a>\n<!-- end -->")
        #expect(root.text == "<raw & stuff>")
        #expect(root.elements.isEmpty)
    }

    @Test("whitespace between elements is dropped, other text is kept")
    func whitespace() throws {
        let root = try XMLParser.parse("<a>\n  <b> x </b>\n</a>")
        #expect(root.children.count == 1)
        #expect(root.child("b")?.text == " x ")
    }

    @Test("nesting is limited to 256 levels: deeper documents are refused, not a stack overflow (found by fuzzing)")
    func depthLimit() throws {
        func nested(_ depth: Int) -> String { String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth) }
        _ = try XMLParser.parse(nested(256))
        #expect(throws: LibvirtXMLError.self) { try XMLParser.parse(nested(257)) }
        #expect(throws: LibvirtXMLError.self) { try XMLParser.parse(String(repeating: "<a>", count: 100_000)) }
        // Depth, not size: many deep siblings are fine.
        let wide = "<r>" + String(repeating: nested(255), count: 50) + "</r>"
        _ = try XMLParser.parse(wide)
    }

    @Test("malformed documents are refused with a position",
          arguments: ["", "<a>", "<a></b>", "<a x=1/>", "<a><b></a>", "<a/><b/>", "text", "<a x='1></a>"])
    func malformed(_ text: String) {
        #expect(throws: LibvirtXMLError.self) { try XMLParser.parse(text) }
    }

    @Test("serialization escapes all five special characters and round-trips")
    func serialization() throws {
        let hostile = "a&b<c>d\"e'f"
        let element = XElement("x", [("v", hostile)], children: [.element(XElement("t", text: hostile))])
        let text = element.serialized()
        #expect(text == "<x v='a&amp;b&lt;c&gt;d&quot;e&apos;f'>\n  <t>a&amp;b&lt;c&gt;d&quot;e&apos;f</t>\n</x>\n")
        #expect(try XMLParser.parse(text) == element)
    }

    @Test("a fragment yields its top-level elements")
    func fragment() throws {
        let elements = try XMLParser.parseFragment("  <rng model='virtio'/>\n<watchdog/>  ")
        #expect(elements.map(\.name) == ["rng", "watchdog"])
    }

    @Test("non-ASCII text survives parsing")
    func unicode() throws {
        let root = try XMLParser.parse("<a n='Zürich ✓'>日本</a>")
        #expect(root[attribute: "n"] == "Zürich ✓")
        #expect(root.text == "日本")
    }
}
