import Foundation
import VirtsyncCore
import VirtsyncEngine

/// The progress line of image downloads and uploads on a terminal (stderr), rewritten in place:
/// `download default/debian-12: 120.0 MiB of 330.2 MiB (36%)`.
enum TransferLine {
    /// Erases the line (before a step's result is printed over it).
    static let erase = "\r\u{1B}[K"

    /// A sink that draws the line, or nil when stderr is not a terminal (logs say enough there).
    static func sink(enabled: Bool) -> TransferProgressSink? {
        guard enabled else { return nil }
        return { progress in
            FileHandle.standardError.write(Data((erase + text(progress)).utf8))
        }
    }

    /// The line's text.
    static func text(_ progress: TransferProgress) -> String {
        let done = ByteSize(bytes: progress.done).approximate
        switch progress.phase {
        case .convert:
            return "  convert \(progress.subject)"
        case .verify:
            return "  verified \(progress.subject) (\(done))"
        case .download, .upload:
            guard let total = progress.total, total > 0 else { return "  \(progress.phase.rawValue) \(progress.subject): \(done)" }
            let percent = Int(Double(progress.done) * 100 / Double(total))
            return "  \(progress.phase.rawValue) \(progress.subject): \(done) of \(ByteSize(bytes: total).approximate) (\(percent)%)"
        }
    }
}

extension ByteSize {
    /// `330.2 MiB`: one decimal, the largest binary unit that keeps the number at least 1.
    var approximate: String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}
