// libFuzzer entry point for the spec loader and validator (`SpecLoader.load`): YAML through
// Yams and libyaml, the limits of `YAMLDocuments`, explicit tags, the decoders, the escape-hatch
// XML check, normalization and validation. See Fuzz/README.md and scripts/fuzz.sh.
//
// Built two ways from this one file:
// - by scripts/fuzz.sh with `-sanitize=fuzzer,address -D FUZZING`: libFuzzer's `main` calls
//   `LLVMFuzzerTestOneInput` with each input;
// - by a plain `swift build` as `virtsync-fuzz-spec FILE...`, which runs the same checks once per
//   file (the regression corpus is replayed that way by the spec tests' fuzz suite), so the
//   target never rots unseen.
//
// For each input, taken as the bytes of one spec file `fuzz.yaml` (split into two files at a
// line `#--- file`, so references across files are exercised too):
// - loading returns, never traps (libFuzzer's -timeout and -malloc_limit_mb bound time and
//   single allocations);
// - the result is consistent: a desired state exactly when there is no error, and every
//   diagnostic names one of the input files with a line inside it (or line 0 for a whole-file
//   problem), or the spec as a whole (".");
// - loading is deterministic: the same bytes give the same diagnostics again.
import VirtsyncCore
import VirtsyncSpec

/// The files an input stands for.
func specFiles(_ bytes: [UInt8]) -> [SpecFile] {
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
func checkSpec(_ bytes: [UInt8]) {
    let files = specFiles(bytes)
    let result = SpecLoader.load(files: files)
    let errors = result.diagnostics.errors
    if errors.isEmpty != (result.desired != nil) {
        fatalError("inconsistent result: \(errors.count) errors but desired state \(result.desired == nil ? "missing" : "present")")
    }
    var lines: [String: Int] = [:]
    for file in files { lines[file.path] = file.bytes.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) } }
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
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSpec(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    checkSpec(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#else
import Foundation

@main
struct ReplaySpecInputs {
    static func main() {
        let paths = CommandLine.arguments.dropFirst()
        guard !paths.isEmpty else {
            FileHandle.standardError.write(Data("usage: virtsync-fuzz-spec FILE... (runs the spec fuzz target's checks on each file)\n".utf8))
            exit(2)
        }
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("virtsync-fuzz-spec: cannot read \(path)\n".utf8))
                exit(1)
            }
            checkSpec(Array(data))
            print("ok \(path)")
        }
    }
}
#endif
