import VirtsyncCore

extension SpecWriter {
    /// The lines of a disk's options, indented for a `disks` entry; none when it has none.
    static func diskOptionLines(_ options: DiskOptions?) -> [String] {
        guard let options else { return [] }
        var lines: [String] = []
        if let cache = options.cache { lines.append("    cache: \(cache.rawValue)") }
        if let io = options.io { lines.append("    io: \(io.rawValue)") }
        if let discard = options.discard { lines.append("    discard: \(discard.rawValue)") }
        if let zeroes = options.detectZeroes { lines.append("    detectZeroes: \(zeroes.rawValue)") }
        if let serial = options.serial { lines.append("    serial: \(scalar(serial))") }
        if let shareable = options.shareable { lines.append("    shareable: \(shareable)") }
        if let thread = options.iothread { lines.append("    iothread: \(thread)") }
        if let tune = options.iotune?.normalized {
            var parts: [String] = []
            func bytes(_ key: String, _ value: UInt64?) { if let value { parts.append("\(key): \(ByteSize(bytes: value))") } }
            func count(_ key: String, _ value: UInt64?) { if let value { parts.append("\(key): \(value)") } }
            bytes("totalBytesPerSecond", tune.totalBytesSec)
            bytes("readBytesPerSecond", tune.readBytesSec)
            bytes("writeBytesPerSecond", tune.writeBytesSec)
            count("totalIops", tune.totalIopsSec)
            count("readIops", tune.readIopsSec)
            count("writeIops", tune.writeIopsSec)
            lines.append("    iotune: {\(parts.joined(separator: ", "))}")
        }
        return lines
    }
}
