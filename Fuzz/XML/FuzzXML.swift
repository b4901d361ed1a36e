// libFuzzer entry point for the libvirt adapter's XML parser.
//
// Compiled together with the real Sources/VirtsyncXML/XMLParser.swift and XMLTree.swift
// (so the internal `XMLParser` and `XElement` are visible); see Fuzz/README.md and scripts/fuzz.sh.
//
// For each input, as UTF-8 text (invalid bytes become U+FFFD, as with any Swift String):
// - `XMLParser.parse`, `parseFragment` and `parseStrictFragment` must return or throw, never trap or hang;
// - round trip: whatever `parse` accepts, `XElement.serialized()` must write a document that
//   `parse` accepts again and that gives the same tree, up to the whitespace inside text that the
//   serializer's indentation adds (see `normalized`);
// - fragment round trip, the way `virtsync import` keeps elements as extra XML: the elements of
//   a fragment, each serialized and the results concatenated, must give the same elements again
//   through `parseFragment`; a fragment the strict reader accepts (a spec's escape hatch) holds
//   no declaration outside comments and CDATA, and the lenient reader sees the same elements in
//   it. (Not each element as a document of its own: the parser reads
//   `<!DOCTYPE ...>` as an element inside content but as a DOCTYPE before the root, and no
//   caller parses a child element as a root.)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXML(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let root = try? XMLParser.parse(text) {
        checkRoundTrip(root)
    }
    if let elements = try? XMLParser.parseFragment(text) {
        checkFragmentRoundTrip(elements)
    }
    if let nodes = try? XMLParser.parseStrictFragment(text) {
        checkStrictFragment(text, nodes)
    }
    return 0
}

/// What the strict reader (a spec's escape hatch) accepts is what libvirt will be given
/// verbatim, so it must hold no markup the strict rules refuse, and the lenient reader (which
/// reads the defined domain back) must see the same elements in it.
private func checkStrictFragment(_ text: String, _ nodes: [XNode]) {
    for marker in ["<!DOCTYPE", "<!ENTITY", "<!ELEMENT", "<!ATTLIST"] where text.contains(marker) {
        // Only inside a comment or CDATA, which the strict reader skips as text.
        guard text.contains("<!--") || text.contains("<![CDATA[") else {
            fatalError("strict fragment: accepted a declaration \(marker)\n--- text:\n\(text)")
        }
    }
    let strictElements = nodes.compactMap { node -> XElement? in if case .element(let e) = node { return e } else { return nil } }
    let lenient: [XElement]
    do {
        lenient = try XMLParser.parseFragment(text)
    } catch {
        fatalError("strict fragment: accepted, but the lenient reader refuses it: \(error)\n--- text:\n\(text)")
    }
    guard lenient.map(normalized) == strictElements.map(normalized) else {
        fatalError("strict fragment: the two readers see different elements\n--- text:\n\(text)")
    }
}

private func checkFragmentRoundTrip(_ elements: [XElement]) {
    let written = elements.map { $0.serialized() }.joined()
    let again: [XElement]
    do {
        again = try XMLParser.parseFragment(written)
    } catch {
        fatalError("fragment round trip: the serialized elements do not parse: \(error)\n--- serialized:\n\(written)")
    }
    let expected = elements.map(normalized), actual = again.map(normalized)
    guard expected == actual else {
        fatalError("fragment round trip: the elements changed\n--- serialized:\n\(written)\n--- before: \(expected)\n--- after: \(actual)")
    }
}

private func checkRoundTrip(_ tree: XElement) {
    let written = tree.serialized()
    let again: XElement
    do {
        again = try XMLParser.parse(written)
    } catch {
        fatalError("round trip: the serialized tree does not parse: \(error)\n--- serialized:\n\(written)")
    }
    let expected = normalized(tree), actual = normalized(again)
    guard expected == actual else {
        fatalError("round trip: the tree changed\n--- serialized:\n\(written)\n--- before: \(expected)\n--- after: \(actual)")
    }
}

/// The tree as the round trip can keep it: names and attributes exactly; text with the parser's
/// whitespace (space, tab, LF, CR) removed, adjacent text nodes merged and empty ones dropped.
/// The serializer indents mixed content and the parser drops whitespace-only text, so text
/// whitespace is the one thing a round trip may change.
private func normalized(_ element: XElement) -> XElement {
    var children: [XNode] = []
    var pending = ""
    func flush() {
        if !pending.isEmpty { children.append(.text(pending)) }
        pending = ""
    }
    for child in element.children {
        switch child {
        case .element(let e):
            flush()
            children.append(.element(normalized(e)))
        case .text(let t):
            pending += String(String.UnicodeScalarView(t.unicodeScalars.filter { !isXMLSpace($0) }))
        case .raw(let r):
            flush()
            children.append(.raw(r))
        }
    }
    flush()
    var result = element
    result.children = children
    return result
}

private func isXMLSpace(_ s: Unicode.Scalar) -> Bool {
    s == " " || s == "\t" || s == "\n" || s == "\r"
}
