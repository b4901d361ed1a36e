import VirtsyncCore
import VirtsyncXML

extension LibvirtXML {
    /// `<driver>` attributes of a disk's options, in libvirt's order.
    static func driverAttributes(_ options: DiskOptions?) -> [(String, String)] {
        guard let options else { return [] }
        var out: [(String, String)] = []
        if let cache = options.cache { out.append(("cache", cache.rawValue)) }
        if let io = options.io { out.append(("io", io.rawValue)) }
        if let discard = options.discard { out.append(("discard", discard.rawValue)) }
        if let zeroes = options.detectZeroes { out.append(("detect_zeroes", zeroes.rawValue)) }
        return out
    }

    /// The elements of a disk's options after its `<target>`: `<iotune>`, `<shareable/>`, `<serial>`.
    static func optionElements(_ options: DiskOptions?) -> [XElement] {
        guard let options else { return [] }
        var out: [XElement] = []
        if let iotune = options.iotune?.normalized {
            var element = XElement("iotune")
            for (name, value) in iotune.fields where value > 0 { element.append(XElement(name, text: String(value))) }
            out.append(element)
        }
        if options.shareable == true { out.append(XElement("shareable")) }
        if let serial = options.serial { out.append(XElement("serial", text: serial)) }
        return out
    }

    /// A disk's options as libvirt reports them; nil when it reports none of them.
    static func parseDiskOptions(_ disk: XElement) -> DiskOptions? {
        let driver = disk.child("driver")
        var iotune: IOTune?
        if let element = disk.child("iotune") {
            func value(_ name: String) -> UInt64? { element.child(name).flatMap { UInt64(String($0.text.filter { !$0.isWhitespace })) } }
            iotune = IOTune(totalBytesSec: value("total_bytes_sec"), readBytesSec: value("read_bytes_sec"), writeBytesSec: value("write_bytes_sec"),
                            totalIopsSec: value("total_iops_sec"), readIopsSec: value("read_iops_sec"), writeIopsSec: value("write_iops_sec")).normalized
        }
        let options = DiskOptions(cache: driver?[attribute: "cache"].flatMap(DiskCache.init(rawValue:)),
                                  io: driver?[attribute: "io"].flatMap(DiskIO.init(rawValue:)),
                                  discard: driver?[attribute: "discard"].flatMap(DiskDiscard.init(rawValue:)),
                                  detectZeroes: driver?[attribute: "detect_zeroes"].flatMap(DetectZeroes.init(rawValue:)),
                                  serial: disk.child("serial").map(\.text),
                                  shareable: disk.child("shareable") != nil ? true : nil,
                                  iotune: iotune,
                                  iothread: driver?[attribute: "iothread"].flatMap { Int($0) })
        return options.isEmpty ? nil : options
    }
}
