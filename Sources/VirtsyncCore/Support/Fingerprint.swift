import Foundation

/// Stable digests of values, by SHA-256 over canonical JSON (sorted keys).
public enum Fingerprint {
    /// The digest of the observed state; changes whenever anything virtsync compares changes.
    public static func of<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(value) else { return "unencodable" }
        return SHA256.hex(Array(data))
    }
}
