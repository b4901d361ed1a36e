import Foundation

/// A Prometheus scrape, checked by Prometheus's own `promtool` and read by exact series name:
/// no parser of the text format of our own.
public struct Exposition: Sendable {
    /// The scraped text.
    public let text: String

    public init(_ text: String) { self.text = text }

    /// `promtool check metrics` (Debian's `prometheus` package): the exit status and what it
    /// printed. It fails on malformed text and on lint problems (missing help, bad suffixes).
    public func promtool() async throws -> CommandResult {
        let scratch = try ScratchDirectory(prefix: "promtool")
        let file = scratch.path("metrics.txt")
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return try await Command.run("/bin/sh", ["-c", "promtool check metrics < \"$0\"", file])
    }

    /// The value of the sample whose series is exactly `name{labels}` (labels in key order, as
    /// virtsync writes them), or nil.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let series = labels.isEmpty ? name
            : name + "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ",") + "}"
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1).split(separator: " ").first ?? "")
        }
        return nil
    }
}
