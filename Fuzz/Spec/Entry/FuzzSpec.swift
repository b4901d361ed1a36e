// libFuzzer entry point for the spec loader and validator (`SpecLoader.load`): YAML through
// Yams and libyaml, the limits of `YAMLDocuments`, explicit tags, the decoders, the escape-hatch
// XML check, normalization and validation. See Fuzz/README.md and scripts/fuzz.sh.
//
// Built two ways from this one file:
// - by scripts/fuzz.sh with `-sanitize=fuzzer,address -D FUZZING`: libFuzzer's `main` calls
//   `LLVMFuzzerTestOneInput` with each input;
// - by a plain `swift build` as `virtsync-fuzz-spec FILE...`, which runs the same checks once per
//   file. The checks themselves are in Fuzz/Spec/Checks (the module SpecFuzzChecks), which the
//   spec tests also run on every file of Fuzz/Spec/corpus, so the target never rots unseen.
//
// For each input, taken as the bytes of one spec file `fuzz.yaml` (split into two files at a
// line `#--- file`, so references across files are exercised too):
// - loading returns, never traps (libFuzzer's -timeout and -malloc_limit_mb bound time and
//   single allocations);
// - the result is consistent: a desired state exactly when there is no error, and every
//   diagnostic names one of the input files with a line inside it (or line 0 for a whole-file
//   problem), or the spec as a whole (".");
// - loading is deterministic: the same bytes give the same diagnostics again.
import SpecFuzzChecks

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
