import Foundation

/// Stable digests of values, by SHA-256.
public enum Fingerprint {
    /// The digest of any encodable value, over its canonical JSON (sorted keys): the same
    /// across versions of virtsync for the same JSON, so it may be kept in state files.
    public static func of<T: Encodable>(_ value: T) -> String {
        Digest.sha256Hex(canonicalJSON(value))
    }

    /// The digest of an observed state; changes whenever anything virtsync compares changes.
    /// Over `CanonicalBytes`, not JSON: it is made on every plan and compared only with plans
    /// of the same version (a saved plan), so it favours speed. Domains, most of the state, are
    /// encoded in chunks side by side.
    public static func of(_ observed: ObservedState) -> String {
        var parts: [[UInt8]] = [canonical(observed.unreachable)]
        for name in observed.hosts.keys.sorted() {
            guard let host = observed.hosts[name] else { continue }
            var rest = host
            rest.domains = [:]
            parts.append(Array(name.utf8))
            parts.append(canonical(rest))
            let keys = host.domains.keys.sorted()
            let chunks = max(1, min(ProcessInfo.processInfo.activeProcessorCount, keys.count / 256))
            let size = (keys.count + chunks - 1) / chunks
            let encoded = ChunkDigests(count: chunks)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let slice = keys[min(keys.count, c * size)..<min(keys.count, (c + 1) * size)]
                encoded.set(c, Digest.sha256(canonical(slice.compactMap { host.domains[$0] })))
            }
            parts += encoded.values
        }
        var all: [UInt8] = []
        for p in parts {
            let n = UInt64(p.count)
            for s in stride(from: 56, through: 0, by: -8) { all.append(UInt8(truncatingIfNeeded: n >> UInt64(s))) }
            all += p
        }
        return Digest.sha256Hex(all)
    }

    private static func canonical<T: Encodable>(_ value: T) -> [UInt8] {
        CanonicalBytes.of(value) ?? Array("unencodable".utf8)
    }

    private static func canonicalJSON<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(value) else { return Array("unencodable".utf8) }
        return Array(data)
    }
}

/// Results of the parallel chunks; each index is written by one worker only.
private final class ChunkDigests: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [[UInt8]]
    init(count: Int) { storage = Array(repeating: [], count: count) }
    func set(_ i: Int, _ v: [UInt8]) { lock.withLock { storage[i] = v } }
    var values: [[UInt8]] { lock.withLock { storage } }
}
