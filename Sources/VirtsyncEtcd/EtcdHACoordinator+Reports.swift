import Foundation

extension EtcdHACoordinator {
    /// Where hosts publish their reports for the cluster view: beside the HA keys, not under
    /// them (`/virtsync-reports/HOST` for the prefix `/virtsync`), so a report never wakes the
    /// HA watch. A report has no lease: a dead host's last word stays readable.
    public var reportsPrefix: String { prefix + "-reports/" }

    /// Writes a host's report (JSON bytes).
    public func publishReport(host: String, bytes: [UInt8]) async throws {
        try await client.put(key: reportsPrefix + host, value: bytes)
    }

    /// Every host's report, by host.
    public func reportBytes() async throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for keyValue in try await client.get(prefix: reportsPrefix).keyValues {
            out[String(keyValue.key.dropFirst(reportsPrefix.count))] = keyValue.value
        }
        return out
    }
}
