// libFuzzer entry point for the git adapter's known_hosts parser.
//
// Compiled together with the real Sources/VirtsyncGit/SSH/KnownHosts.swift (so the internal
// `entries`, `glob` are visible) against the stub modules in Fuzz/Stubs; see Fuzz/README.md and
// scripts/fuzz.sh.
//
// For each input, as UTF-8 text: `KnownHosts(text:)` parses it, then `verdict(name:key:)` is
// asked for host names taken from the input itself (its whitespace- and comma-separated tokens,
// also without a leading `!` or `@`, so a comment line `# host` names a host for a hashed entry)
// and for the parsed keys plus one key that is in no entry. Checked, besides "no trap, no hang":
// - a key in no entry is never trusted nor revoked;
// - a key is revoked for every name exactly when an `@revoked` line lists it;
// - an unmarked entry with a single plain pattern (no `* ? ! |`) trusts its own key for that
//   name, unless the key is revoked;
// - `glob(x, x)` and `glob("*", x)` hold for every token.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKnownHosts(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let hosts = KnownHosts(text: text)

    var names: [String] = []
    for token in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," || $0.isNewline }) {
        let name = String(token)
        check(KnownHosts.glob(name, name), "glob(x, x) is false for \(name.debugDescription)")
        check(KnownHosts.glob("*", name), "glob(\"*\", x) is false for \(name.debugDescription)")
        for candidate in [name, String(name.drop { $0 == "!" || $0 == "@" })] where !names.contains(candidate) {
            names.append(candidate)
        }
        if names.count >= 16 { break }
    }

    var keys: [[UInt8]] = []
    for entry in hosts.entries where !keys.contains(entry.key) {
        keys.append(entry.key)
        if keys.count >= 4 { break }
    }
    let absent = [UInt8](repeating: 0xA5, count: 1 + (hosts.entries.map(\.key.count).max() ?? 0))

    for name in names {
        let verdict = hosts.verdict(name: name, key: absent)
        check(verdict == .unknown || verdict == .changed, "absent key is \(verdict) for \(name.debugDescription)")
        for key in keys {
            let revoked = hosts.entries.contains { $0.marker == "@revoked" && $0.key == key }
            check((hosts.verdict(name: name, key: key) == .revoked) == revoked,
                         "revocation of a key depends on the name \(name.debugDescription)")
        }
    }

    for entry in hosts.entries.prefix(8) where entry.marker == nil && entry.patterns.count == 1 {
        let pattern = entry.patterns[0]
        guard !pattern.utf8.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "!") || $0 == UInt8(ascii: "|") }) else { continue }
        let verdict = hosts.verdict(name: pattern, key: entry.key)
        check(verdict == .trusted || verdict == .revoked, "own key is \(verdict) for \(pattern.debugDescription)")
    }
    return 0
}

/// Stops with `message` when `condition` is false; unlike `precondition`, which traps without its
/// message in the `-O` build the fuzz target is.
private func check(_ condition: Bool, _ message: @autoclosure () -> String,
                   file: StaticString = #fileID, line: UInt = #line) {
    if !condition { fatalError(message(), file: file, line: line) }
}
