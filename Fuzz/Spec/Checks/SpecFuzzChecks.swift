// The checks of the spec fuzz target (Fuzz/Spec/Entry), in a module of their own so the spec
// tests run them on the regression corpus too. See Fuzz/Spec/Entry/FuzzSpec.swift for what they
// check.
import VirtsyncCore
import VirtsyncSpec

/// The files an input stands for.
public func specFiles(_ bytes: [UInt8]) -> [SpecFile] {
    let marker = Array("\n#--- file\n".utf8)
    if let at = firstRange(of: marker, in: bytes) {
        return [SpecFile(path: "fuzz.yaml", bytes: Array(bytes[..<at])),
                SpecFile(path: "more/fuzz-2.yaml", bytes: Array(bytes[(at + marker.count)...]))]
    }
    return [SpecFile(path: "fuzz.yaml", bytes: bytes)]
}

private func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
        if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
    }
    return nil
}

/// Runs the checks on one input; traps (a finding) when a property does not hold.
public func checkSpec(_ bytes: [UInt8]) {
    let files = specFiles(bytes)
    let result = SpecLoader.load(files: files)
    let errors = result.diagnostics.errors
    if errors.isEmpty != (result.desired != nil) {
        fatalError("inconsistent result: \(errors.count) errors but desired state \(result.desired == nil ? "missing" : "present")")
    }
    var lines: [String: Int] = [:]
    for file in files { lines[file.path] = YAMLDocuments.lines(in: file.bytes).count }
    for diagnostic in result.diagnostics.items {
        let location = diagnostic.location
        // "." is the spec as a whole ("empty spec").
        guard let count = lines[location.file] ?? (location.file == "." ? 0 : nil) else {
            fatalError("diagnostic names a file that is not in the spec: \(diagnostic)")
        }
        guard location.line >= 0, location.line <= count else {
            fatalError("diagnostic line \(location.line) is outside \(location.file) (\(count) lines): \(diagnostic)")
        }
    }
    let again = SpecLoader.load(files: files)
    guard again.diagnostics.description == result.diagnostics.description else {
        fatalError("not deterministic:\n\(result.diagnostics)\n--- then:\n\(again.diagnostics)")
    }
    if let desired = result.desired { checkSecrets(desired) }
}

/// Every secret bound with a marker value: nothing stays pending, and the marker is in no plan.
private func checkSecrets(_ desired: DesiredState) {
    let marker = "FUZZ-SECRET-VALUE"
    let needed = SecretBinder.needed(desired)
    guard !needed.isEmpty else { return }
    let values = Dictionary(needed.map { ($0.name, Result<SecretBytes, SecretProblem>.success(SecretBytes(Array(marker.utf8)))) },
                            uniquingKeysWith: { a, _ in a })
    let bound = SecretBinder.bind(desired, values: values, key: .success(Array(repeating: 1, count: 32)))
    if !bound.pendingSecrets.isEmpty || !bound.pendingVolumeSecrets.isEmpty || bound.held.contains(where: { $0.reason == HeldResource.pendingReason }) {
        fatalError("secrets still pending after binding every one of them")
    }
    let plan = Planner.plan(desired: bound, observed: bound.emptyCluster)
    let shown = ((try? JSONRenderer().render(plan)) ?? "") + TextRenderer(color: false).render(plan) + MarkdownRenderer().render(plan)
    if shown.contains(marker) { fatalError("a secret's value is in a plan") }
}

