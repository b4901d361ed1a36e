/// The host page cache mode of a disk (libvirt `<driver cache>`).
public enum DiskCache: String, Codable, Sendable, CaseIterable {
    case none, writethrough, writeback, directsync, unsafe
}

/// How QEMU does a disk's I/O (libvirt `<driver io>`).
public enum DiskIO: String, Codable, Sendable, CaseIterable {
    case native, threads
    case ioUring = "io_uring"
}

/// What a guest's discard (TRIM) does (libvirt `<driver discard>`).
public enum DiskDiscard: String, Codable, Sendable, CaseIterable {
    case unmap, ignore
}

/// Whether writes of zeroes are detected (libvirt `<driver detect_zeroes>`).
public enum DetectZeroes: String, Codable, Sendable, CaseIterable {
    case off, on, unmap
}

/// I/O limits of a disk (libvirt `<iotune>`); `nil` fields are not limited by the spec.
/// Changed live on a running guest (`virDomainSetBlockIoTune`).
public struct IOTune: Hashable, Codable, Sendable {
    public var totalBytesSec: UInt64?
    public var readBytesSec: UInt64?
    public var writeBytesSec: UInt64?
    public var totalIopsSec: UInt64?
    public var readIopsSec: UInt64?
    public var writeIopsSec: UInt64?

    public init(totalBytesSec: UInt64? = nil, readBytesSec: UInt64? = nil, writeBytesSec: UInt64? = nil,
                totalIopsSec: UInt64? = nil, readIopsSec: UInt64? = nil, writeIopsSec: UInt64? = nil) {
        self.totalBytesSec = totalBytesSec
        self.readBytesSec = readBytesSec
        self.writeBytesSec = writeBytesSec
        self.totalIopsSec = totalIopsSec
        self.readIopsSec = readIopsSec
        self.writeIopsSec = writeIopsSec
    }

    /// The limits by libvirt's element names (`total_bytes_sec`, ...), in a fixed order; a limit
    /// that is not set is 0 (libvirt's "no limit").
    public var fields: [(name: String, value: UInt64)] {
        [("total_bytes_sec", totalBytesSec), ("read_bytes_sec", readBytesSec), ("write_bytes_sec", writeBytesSec),
         ("total_iops_sec", totalIopsSec), ("read_iops_sec", readIopsSec), ("write_iops_sec", writeIopsSec)]
            .map { ($0.0, $0.1 ?? 0) }
    }

    /// `total_iops_sec=500 read_bytes_sec=100MiB`: the limits that are set.
    public var summary: String {
        fields.filter { $0.value > 0 }.map { $0.name.hasSuffix("bytes_sec") ? "\($0.name)=\(ByteSize(bytes: $0.value))" : "\($0.name)=\($0.value)" }
            .joined(separator: " ")
    }

    /// Zero limits are no limits: libvirt reports them as absent.
    public var normalized: IOTune? {
        func n(_ v: UInt64?) -> UInt64? { v == 0 ? nil : v }
        let out = IOTune(totalBytesSec: n(totalBytesSec), readBytesSec: n(readBytesSec), writeBytesSec: n(writeBytesSec),
                         totalIopsSec: n(totalIopsSec), readIopsSec: n(readIopsSec), writeIopsSec: n(writeIopsSec))
        return out == IOTune() ? nil : out
    }
}

/// How a disk is attached, beyond its source and bus: what operators tune daily. Every field is
/// optional; `nil` leaves libvirt's default and is not compared.
public struct DiskOptions: Hashable, Codable, Sendable {
    public var cache: DiskCache?
    public var io: DiskIO?
    public var discard: DiskDiscard?
    public var detectZeroes: DetectZeroes?
    /// The serial number the guest sees (`/dev/disk/by-id/virtio-<serial>`).
    public var serial: String?
    /// Several VMs may attach the disk at once (a cluster file system's disk).
    public var shareable: Bool?
    public var iotune: IOTune?
    /// The VM's I/O thread (1...`iothreads`) that runs this disk's I/O: a virtio disk's own
    /// (`<driver iothread>`), a virtio-scsi disk's through its controller (which all of the VM's
    /// virtio-scsi disks share).
    public var iothread: Int?

    public init(cache: DiskCache? = nil, io: DiskIO? = nil, discard: DiskDiscard? = nil, detectZeroes: DetectZeroes? = nil,
                serial: String? = nil, shareable: Bool? = nil, iotune: IOTune? = nil, iothread: Int? = nil) {
        self.iothread = iothread
        self.cache = cache
        self.io = io
        self.discard = discard
        self.detectZeroes = detectZeroes
        self.serial = serial
        self.shareable = shareable
        self.iotune = iotune
    }

    /// `true` when nothing is set.
    public var isEmpty: Bool { self == DiskOptions() }

    /// What of `self` (observed) the spec's `wanted` controls: the fields `wanted` leaves open
    /// are dropped, so libvirt's defaults are no drift. A shareable flag the spec leaves open is
    /// open; `shareable: false` is compared.
    public func masked(by wanted: DiskOptions?) -> DiskOptions? {
        guard let wanted else { return nil }
        let out = DiskOptions(cache: wanted.cache == nil ? nil : cache, io: wanted.io == nil ? nil : io,
                              discard: wanted.discard == nil ? nil : discard,
                              detectZeroes: wanted.detectZeroes == nil ? nil : detectZeroes,
                              serial: wanted.serial == nil ? nil : serial,
                              shareable: wanted.shareable == nil ? nil : (shareable ?? false),
                              iotune: wanted.iotune == nil ? nil : iotune,
                              iothread: wanted.iothread == nil ? nil : iothread)
        return out.isEmpty ? nil : out
    }

    /// ` cache=none io=native serial=db-data iotune(total_iops_sec=500)` for plan lines.
    public var summary: String {
        var parts: [String] = []
        if let cache { parts.append("cache=\(cache.rawValue)") }
        if let io { parts.append("io=\(io.rawValue)") }
        if let discard { parts.append("discard=\(discard.rawValue)") }
        if let detectZeroes { parts.append("detect_zeroes=\(detectZeroes.rawValue)") }
        if let serial { parts.append("serial=\(serial)") }
        if shareable == true { parts.append("shareable") }
        if let iotune, !iotune.summary.isEmpty { parts.append("iotune(\(iotune.summary))") }
        if let iothread { parts.append("iothread=\(iothread)") }
        return parts.isEmpty ? "" : " " + parts.joined(separator: " ")
    }
}
