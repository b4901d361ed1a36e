import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One QEMU process as /proc shows it.
struct QEMUProcess: Sendable, Equatable {
    let pid: Int32
    /// From `-name guest=NAME,...` (or the older `-name NAME`).
    let guest: String
    /// The inode of its network namespace (`/proc/PID/ns/net` reads `net:[INODE]`).
    let netNamespace: UInt64
    /// Whether it was started with `-incoming` (a live-migration destination).
    let incoming: Bool
    /// When it started, in clock ticks since boot (field 22 of /proc/PID/stat).
    let startTicks: UInt64
}

/// Lists QEMU processes from /proc, cheaply enough to run 40 times a second: one `readlink` of
/// `exe` per process per scan, and the command line, namespace and start time read once per QEMU
/// process.
///
/// Used by one thread at a time (the checker's first poll runs before its thread starts).
final class ProcessScanner: @unchecked Sendable {
    /// What is known of each QEMU process seen at the previous scan (nil: a QEMU whose command line
    /// names no guest).
    private var known: [Int32: QEMUProcess?] = [:]
    private var buffer = [UInt8](repeating: 0, count: 4096)

    /// The QEMU processes alive now.
    func scan() -> [QEMUProcess] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var found: [QEMUProcess] = []
        var seen: [Int32: QEMUProcess?] = [:]
        while let entry = readdir(directory) {
            let pid = withUnsafeBytes(of: entry.pointee.d_name) { Self.pid(from: $0) }
            guard pid > 0, isQEMU(pid) else { continue }
            // The executable is checked every time (a pid can be reused, a process can exec);
            // the rest is fixed for the life of a QEMU process, once it can be read.
            let process: QEMUProcess?
            if let cached = known[pid] {
                process = cached
            } else {
                switch describe(pid) {
                case .qemu(let described): process = described
                case .noGuest: process = nil
                case .unreadable: continue  // not remembered: tried again at the next scan
                }
            }
            seen.updateValue(process, forKey: pid)
            if let process { found.append(process) }
        }
        known = seen
        return found
    }

    /// A /proc entry's name as a pid, or 0 when it is not all digits.
    private static func pid(from name: UnsafeRawBufferPointer) -> Int32 {
        var value: Int32 = 0
        for byte in name {
            if byte == 0 { break }
            guard byte >= 0x30, byte <= 0x39, value < 100_000_000 else { return 0 }
            value = value * 10 + Int32(byte - 0x30)
        }
        return value
    }

    /// Whether /proc/PID/exe is a `qemu-system-*` binary (false for kernel threads and zombies).
    private func isQEMU(_ pid: Int32) -> Bool {
        let length = readLink("/proc/\(pid)/exe")
        guard length > 0 else { return false }
        let prefix = Array("qemu-system-".utf8)
        var start = 0
        for index in 0..<length where buffer[index] == 0x2F { start = index + 1 }
        guard length - start >= prefix.count else { return false }
        return (0..<prefix.count).allSatisfy { buffer[start + $0] == prefix[$0] }
    }

    /// What `describe` learnt of a QEMU process.
    private enum Description {
        case qemu(QEMUProcess)
        /// Its command line names no guest: nothing to watch.
        case noGuest
        /// Its command line or namespace could not be read: it has gone, or it is inside
        /// `execve` (the new executable is already in /proc/PID/exe, its arguments not yet in
        /// /proc/PID/cmdline), so the next scan tries again.
        case unreadable
    }

    /// The guest, namespace, `-incoming` flag and start time of QEMU process `pid`.
    private func describe(_ pid: Int32) -> Description {
        guard let arguments = Self.commandLine(pid) else { return .unreadable }
        guard let guest = Self.guestName(arguments) else { return .noGuest }
        let length = readLink("/proc/\(pid)/ns/net")
        guard length > 0 else { return .unreadable }
        let text = String(decoding: buffer[0..<length], as: UTF8.self)  // net:[4026532289]
        guard let open = text.firstIndex(of: "["), let close = text.lastIndex(of: "]"),
              let inode = UInt64(text[text.index(after: open)..<close]),
              let stat = Self.contents("/proc/\(pid)/stat"),
              let started = Self.startTicks(stat: String(decoding: stat, as: UTF8.self)) else { return .unreadable }
        return .qemu(QEMUProcess(pid: pid, guest: guest, netNamespace: inode, incoming: arguments.contains("-incoming"),
                                 startTicks: started))
    }

    /// readlink into `buffer`; the length, or -1.
    private func readLink(_ path: String) -> Int {
        let capacity = buffer.count
        return buffer.withUnsafeMutableBufferPointer { bytes in
            bytes.baseAddress.map { base in
                base.withMemoryRebound(to: CChar.self, capacity: capacity) { readlink(path, $0, capacity) }
            } ?? -1
        }
    }

    /// /proc/PID/cmdline split at its NULs.
    static func commandLine(_ pid: Int32) -> [String]? {
        guard let data = contents("/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        return data.split(separator: 0, omittingEmptySubsequences: false).dropLast(data.last == 0 ? 1 : 0)
            .map { String(decoding: $0, as: UTF8.self) }
    }

    /// All of a /proc file (whose size stat reports as 0), or nil when it cannot be opened.
    private static func contents(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            data += chunk[0..<count]
        }
        return data
    }

    /// The start time in a /proc/PID/stat line (field 22, clock ticks since boot). Counted from
    /// the last `)`: the command name before it (field 2) may hold spaces and parentheses.
    static func startTicks(stat line: String) -> UInt64? {
        guard let close = line.lastIndex(of: ")") else { return nil }
        let fields = line[line.index(after: close)...].split(whereSeparator: \.isWhitespace)
        // fields[0] is field 3 (the state).
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// The guest name of a QEMU command line: `-name guest=NAME,debug-threads=on` (libvirt; a
    /// comma inside NAME is doubled) or `-name NAME`.
    static func guestName(_ arguments: [String]) -> String? {
        guard let flag = arguments.firstIndex(of: "-name"), flag + 1 < arguments.count else { return nil }
        let value = arguments[flag + 1]
        guard value.hasPrefix("guest=") || !value.contains("=") else { return nil }
        var name = ""
        var characters = value.dropFirst(value.hasPrefix("guest=") ? 6 : 0).makeIterator()
        while let character = characters.next() {
            if character == "," {
                // ",," is a literal comma; a single one ends the value.
                guard characters.next() == "," else { break }
            }
            name.append(character)
        }
        return name.isEmpty ? nil : name
    }
}
