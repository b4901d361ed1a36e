import VirtsyncCore

extension DocumentDecoder {
    static let diskOptionKeys = ["cache", "io", "discard", "detectZeroes", "serial", "shareable", "iotune", "iothread"]
    static let iotuneKeys = KeySet(["totalBytesPerSecond", "readBytesPerSecond", "writeBytesPerSecond",
                                    "totalIops", "readIops", "writeIops"])
    /// Longest serial QEMU gives a virtio disk.
    static let maxSerialLength = 20

    /// A disk's options (`cache`, `io`, `discard`, `detectZeroes`, `serial`, `shareable`,
    /// `iotune`), with the combinations QEMU refuses reported at their keys.
    func readDiskOptions(_ map: MapReader) -> DiskOptions? {
        var options = DiskOptions()
        options.cache = map.choice("cache", DiskCache.allCases)?.value
        let io = map.choice("io", DiskIO.allCases)
        options.io = io?.value
        options.discard = map.choice("discard", DiskDiscard.allCases)?.value
        options.detectZeroes = map.choice("detectZeroes", DetectZeroes.allCases)?.value
        options.shareable = map.bool("shareable")
        if let serial = map.string("serial") {
            let allowed = serial.value.unicodeScalars.allSatisfy {
                ($0.value >= 0x30 && $0.value <= 0x39) || ($0.value >= 0x41 && $0.value <= 0x5A) || ($0.value >= 0x61 && $0.value <= 0x7A)
                    || $0 == "-" || $0 == "_" || $0 == "."
            }
            if serial.value.isEmpty || serial.value.utf8.count > Self.maxSerialLength || !allowed {
                reporter.error(serial.location, map.keyPath("serial"),
                               "a disk serial is 1 to \(Self.maxSerialLength) characters of A-Z a-z 0-9 . _ - (what a guest shows in /dev/disk/by-id)")
            } else {
                options.serial = serial.value
            }
        }
        if let io, io.value == .native, let cache = options.cache, cache != .none && cache != .directsync {
            reporter.error(io.location, map.keyPath("io"), "io: native needs cache: none or directsync (QEMU refuses it with cache: \(cache.rawValue))")
        }
        if let tune = map.map("iotune", keys: Self.iotuneKeys) {
            options.iotune = readIOTune(tune)
        }
        // Checked against the VM's `iothreads` and the disk's bus by `decodeIOThreads`.
        options.iothread = map.int("iothread", range: 1...Self.maxIOThreads)?.value
        return options.isEmpty ? nil : options
    }

    private func readIOTune(_ map: MapReader) -> IOTune? {
        func bytes(_ key: String) -> UInt64? { map.size(key)?.value.bytes }
        func iops(_ key: String) -> UInt64? { map.int(key, range: 1...1_000_000_000).map { UInt64($0.value) } }
        let tune = IOTune(totalBytesSec: bytes("totalBytesPerSecond"), readBytesSec: bytes("readBytesPerSecond"),
                          writeBytesSec: bytes("writeBytesPerSecond"), totalIopsSec: iops("totalIops"),
                          readIopsSec: iops("readIops"), writeIopsSec: iops("writeIops"))
        // libvirt refuses a total limit beside a read or write limit of the same kind.
        for (total, parts) in [("totalBytesPerSecond", ["readBytesPerSecond", "writeBytesPerSecond"]), ("totalIops", ["readIops", "writeIops"])]
        where map.has(total) {
            for part in parts where map.has(part) {
                reporter.error(map.keyLocation(part), map.keyPath(part), "'\(part)' cannot be given beside '\(total)' (libvirt takes a total limit or read and write limits)")
            }
        }
        if tune == IOTune() {
            reporter.error(map.location, map.path, "iotune needs at least one limit (\(Self.iotuneKeys.ordered.joined(separator: ", ")))")
            return nil
        }
        return tune
    }
}
