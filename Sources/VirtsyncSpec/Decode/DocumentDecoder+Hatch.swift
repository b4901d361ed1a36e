import VirtsyncCore

extension DocumentDecoder {
    /// `xml: {<key>: ...}` of a network (`network`) or pool (`pool`): the fragment, checked as
    /// the escape hatch's rules say (`EscapeHatch`); `nil` when absent or refused.
    func decodeHatch(_ map: MapReader, key: String, as field: EscapeHatch.Field) -> Located<String>? {
        guard let xml = map.map("xml", keys: KeySet([key])), let fragment = xml.string(key) else { return nil }
        var problems = EscapeHatch.check(fragment.value, as: field)
        if fragment.value.contains("((secret-uuid:") {
            problems.append(EscapeHatch.Problem(line: 1, message: "((secret-uuid:...)) placeholders are for a VM's raw XML only"))
        }
        for problem in problems {
            reporter.error(fragment.location, xml.keyPath(key), problem.description)
        }
        return problems.isEmpty ? fragment : nil
    }
}
