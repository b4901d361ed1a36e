import Foundation
import Subprocess
import SystemPackage
import VirtsyncCore
import VirtsyncEngine

/// What `qemu-img info` says about an image.
struct ImageInfo: Sendable, Equatable {
    /// The format qemu-img found (`qcow2`, `raw`, ...).
    var format: String
    /// The size of the disk the image describes.
    var virtualSize: UInt64
    /// A backing file named in the image's header.
    var backingFile: String?
    /// An external data file (qcow2 `data-file`).
    var dataFile: String?

    /// Reads `qemu-img info --output=json`.
    static func parse(_ json: [UInt8]) -> ImageInfo? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
              let format = object["format"] as? String,
              let size = (object["virtual-size"] as? NSNumber)?.uint64Value else { return nil }
        let specific = (object["format-specific"] as? [String: Any])?["data"] as? [String: Any]
        return ImageInfo(format: format, virtualSize: size,
                         backingFile: object["backing-filename"] as? String ?? object["full-backing-filename"] as? String,
                         dataFile: specific?["data-file"] as? String)
    }
}

/// QEMU's `qemu-img` (Debian's qemu-utils), run through swift-subprocess with a deadline and a
/// fixed environment. Paths come from virtsync's own cache, never from a spec.
struct QemuImg: Sendable {
    let tool: String

    /// `qemu-img` in the usual places, or nil.
    static func find() -> String? {
        ["/usr/bin/qemu-img", "/bin/qemu-img", "/usr/local/bin/qemu-img"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The image's info read as `format` (nil lets qemu-img probe).
    func info(_ path: String, format: String?) async throws -> ImageInfo {
        var arguments = ["info", "--output=json"]
        if let format { arguments += ["-f", format] }
        arguments.append(path)
        let (status, output, error) = try await run(arguments, timeout: .seconds(60))
        guard status == 0, let info = ImageInfo.parse(output) else {
            throw ImageError(.refused, format.map { "the image is not a \($0) image (qemu-img: \(Self.firstLine(error)))" }
                                 ?? "qemu-img cannot read the image (\(Self.firstLine(error)))")
        }
        return info
    }

    /// Converts `source` (in `from`) to `destination` (in `to`).
    func convert(_ source: String, from: String, to: String, destination: String) async throws {
        let (status, _, error) = try await run(["convert", "-q", "-f", from, "-O", to, source, destination], timeout: .seconds(3600))
        guard status == 0 else {
            throw ImageError(.other, "qemu-img could not convert the image from \(from) to \(to) (\(Self.firstLine(error)))")
        }
    }

    private func run(_ arguments: [String], timeout: Duration) async throws -> (Int32, [UInt8], String) {
        let tool = tool
        let outcome = try await withThrowingTaskGroup(of: (Int32, [UInt8], String)?.self) { group in
            group.addTask {
                let result = try await Subprocess.run(.path(FilePath(tool)), arguments: Arguments(arguments),
                                                      environment: .custom(["PATH": "/usr/bin:/bin", "LC_ALL": "C"]),
                                                      output: .bytes(limit: 1 << 20), error: .string(limit: 64 << 10))
                let status: Int32
                switch result.terminationStatus {
                case .exited(let code): status = code
                case .signaled(let signal): status = 128 + signal
                }
                return (status, result.standardOutput, result.standardError)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        guard let outcome else { throw ImageError(.other, "qemu-img \(arguments.first ?? "") did not finish within \(timeout)") }
        return outcome
    }

    static func firstLine(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return line.isEmpty ? "no message" : String(line.prefix(300))
    }
}
