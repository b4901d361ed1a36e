/// Builds small ISO 9660 images in memory (the cloud-init NoCloud seed: volume label `cidata`,
/// files `user-data`, `meta-data`, `network-config`). Pure; no external tool, no Foundation.
///
/// Layout (2048-byte logical blocks), the same shape `genisoimage -J` produces:
///
/// ```
/// 0-15   system area (zeros)
/// 16     primary volume descriptor (ISO 9660 level 1 names: USER_DAT.;1)
/// 17     Joliet supplementary volume descriptor (UCS-2 names: user-data), escape %/E (level 3)
/// 18     volume descriptor set terminator
/// 19-22  path tables: primary L, primary M, Joliet L, Joliet M (one entry each: the root)
/// ...    primary root directory, Joliet root directory (as many blocks as the records need)
/// ...    file data, each file starting on a block boundary, shared by both directory trees
/// ```
///
/// Linux (and so cloud-init, via blkid and mount) reads the Joliet tree, so names are seen exactly
/// as written, lower case and dashes included. All timestamps are fixed (1970-01-01 00:00:00 UTC),
/// so the same input always gives the same bytes.
public enum ISO9660 {
    /// Size of a logical block (sector).
    public static let blockSize = 2048

    /// An image with the given volume identifier and files in the root directory.
    ///
    /// - `volumeID`: up to 32 ASCII characters are kept in the primary descriptor, up to 16 in the
    ///   Joliet one (the label blkid reports, e.g. `cidata`).
    /// - `files`: names are kept as given in the Joliet tree (up to 64 UTF-16 units; the characters
    ///   `* / : ; ? \`, control characters and characters outside the BMP become `_`). When two
    ///   files end up with the same Joliet name, the later one wins. Files must be smaller than
    ///   4 GiB. Their order does not matter: directories are sorted as ISO 9660 requires.
    public static func image(volumeID: String, files: [(name: String, bytes: [UInt8])]) -> [UInt8] {
        // Normalise names and drop duplicates (the later file wins), then sort by Joliet name.
        var byName: [[UInt16]: Int] = [:]
        var entries: [Entry] = []
        for (name, bytes) in files {
            precondition(bytes.count <= Int(UInt32.max), "ISO9660: file \(name) is 4 GiB or larger")
            let joliet = jolietName(name)
            if let index = byName[joliet] {
                entries[index].bytes = bytes
            } else {
                byName[joliet] = entries.count
                entries.append(Entry(joliet: joliet, primary: [], bytes: bytes))
            }
        }
        entries.sort { $0.joliet.lexicographicallyPrecedes($1.joliet) }
        assignPrimaryNames(&entries)
        // ISO 9660 9.3: records sorted by name (space padded), then extension, then version.
        let primaryOrder = entries.indices.sorted {
            primarySortKey(entries[$0].primary).lexicographicallyPrecedes(primarySortKey(entries[$1].primary))
        }

        // Block allocation.
        let pathTableBlock = 19  // L, M (primary), L, M (Joliet): one block each
        let primaryRootBlock = pathTableBlock + 4
        let primaryRootBlocks = directoryBlocks(nameLengths: primaryOrder.map { entries[$0].primary.count })
        let jolietRootBlock = primaryRootBlock + primaryRootBlocks
        let jolietRootBlocks = directoryBlocks(nameLengths: entries.map { $0.joliet.count * 2 })
        var next = jolietRootBlock + jolietRootBlocks
        var extents: [Int] = []
        for entry in entries {
            // An empty file occupies no block; it points at the next free one, as genisoimage does.
            extents.append(next)
            next += (entry.bytes.count + blockSize - 1) / blockSize
        }
        let totalBlocks = next
        // ... but never past the end of the volume (an empty file sorted last).
        for index in extents.indices where extents[index] >= totalBlocks { extents[index] = totalBlocks - 1 }

        var image = [UInt8](repeating: 0, count: totalBlocks * blockSize)

        // Directories.
        let primaryDir = directory(
            selfBlock: primaryRootBlock, blocks: primaryRootBlocks,
            records: primaryOrder.map { (entries[$0].primary, extents[$0], entries[$0].bytes.count) })
        image.replaceSubrange(primaryRootBlock * blockSize ..< primaryRootBlock * blockSize + primaryDir.count,
                              with: primaryDir)
        let jolietDir = directory(
            selfBlock: jolietRootBlock, blocks: jolietRootBlocks,
            records: entries.enumerated().map { (ucs2($1.joliet), extents[$0], $1.bytes.count) })
        image.replaceSubrange(jolietRootBlock * blockSize ..< jolietRootBlock * blockSize + jolietDir.count,
                              with: jolietDir)

        // Path tables.
        for (index, root) in [primaryRootBlock, primaryRootBlock, jolietRootBlock, jolietRootBlock].enumerated() {
            let table = pathTable(rootBlock: root, bigEndian: index % 2 == 1)
            let start = (pathTableBlock + index) * blockSize
            image.replaceSubrange(start ..< start + table.count, with: table)
        }

        // Volume descriptors.
        let pvd = volumeDescriptor(
            joliet: false, volumeID: volumeID, totalBlocks: totalBlocks,
            pathTableL: pathTableBlock, pathTableM: pathTableBlock + 1,
            rootBlock: primaryRootBlock, rootBlocks: primaryRootBlocks)
        image.replaceSubrange(16 * blockSize ..< 17 * blockSize, with: pvd)
        let svd = volumeDescriptor(
            joliet: true, volumeID: volumeID, totalBlocks: totalBlocks,
            pathTableL: pathTableBlock + 2, pathTableM: pathTableBlock + 3,
            rootBlock: jolietRootBlock, rootBlocks: jolietRootBlocks)
        image.replaceSubrange(17 * blockSize ..< 18 * blockSize, with: svd)
        let terminator: [UInt8] = [255] + Array("CD001".utf8) + [1]
        image.replaceSubrange(18 * blockSize ..< 18 * blockSize + terminator.count, with: terminator)

        // File data.
        for (index, entry) in entries.enumerated() where !entry.bytes.isEmpty {
            let start = extents[index] * blockSize
            image.replaceSubrange(start ..< start + entry.bytes.count, with: entry.bytes)
        }
        return image
    }

    // MARK: - Names

    private struct Entry {
        var joliet: [UInt16]   // UTF-16 code units (all in the BMP, so UCS-2)
        var primary: [UInt8]   // level-1 identifier with version, e.g. "USER_DAT.;1"
        var bytes: [UInt8]
    }

    /// The Joliet identifier: the name as written, minus what Joliet forbids, at most 64 units.
    static func jolietName(_ name: String) -> [UInt16] {
        let forbidden: Set<UInt32> = [0x2A, 0x2F, 0x3A, 0x3B, 0x3F, 0x5C]  // * / : ; ? \
        var units: [UInt16] = []
        for scalar in name.unicodeScalars {
            let value = scalar.value
            if value < 0x20 || value == 0x7F || value > 0xFFFF || forbidden.contains(value)
                || (0xD800...0xDFFF).contains(value) {
                units.append(0x5F)
            } else {
                units.append(UInt16(value))
            }
        }
        if units.isEmpty { units = [0x5F] }
        if units == [0x2E] || units == [0x2E, 0x2E] { units = units.map { _ in 0x5F } }
        return Array(units.prefix(64))
    }

    /// Level-1 (8.3, upper case, d-characters) identifiers, unique within the directory, assigned
    /// in Joliet-name order so the result is deterministic.
    private static func assignPrimaryNames(_ entries: inout [Entry]) {
        var used = Set<[UInt8]>()
        for index in entries.indices {
            let name = String(decoding: entries[index].joliet, as: UTF16.self)
            var base = name
            var ext = ""
            if let dot = name.lastIndex(of: "."), dot != name.startIndex {
                base = String(name[..<dot])
                ext = String(name[name.index(after: dot)...])
            }
            let baseChars = Array(dCharacters(base).prefix(8))
            let extChars = Array(dCharacters(ext).prefix(3))
            var candidate = identifier(base: baseChars.isEmpty ? Array("_".utf8) : baseChars, ext: extChars)
            var counter = 1
            while used.contains(candidate) {
                let digits = Array(String(counter).utf8)
                let kept = Array(baseChars.prefix(max(0, 8 - digits.count)))
                candidate = identifier(base: kept + digits, ext: extChars)
                counter += 1
            }
            used.insert(candidate)
            entries[index].primary = candidate
        }
    }

    private static func dCharacters(_ text: String) -> [UInt8] {
        text.unicodeScalars.map { scalar -> UInt8 in
            switch scalar.value {
            case 0x30...0x39, 0x41...0x5A, 0x5F: UInt8(scalar.value)
            case 0x61...0x7A: UInt8(scalar.value - 0x20)
            default: 0x5F
            }
        }
    }

    private static func identifier(base: [UInt8], ext: [UInt8]) -> [UInt8] {
        base + [0x2E] + ext + Array(";1".utf8)
    }

    private static func primarySortKey(_ identifier: [UInt8]) -> [UInt8] {
        let dot = identifier.firstIndex(of: 0x2E)!
        let semicolon = identifier.firstIndex(of: 0x3B)!
        let base = Array(identifier[..<dot])
        let ext = Array(identifier[(dot + 1)..<semicolon])
        return base + [UInt8](repeating: 0x20, count: 8 - base.count)
            + ext + [UInt8](repeating: 0x20, count: 3 - ext.count)
    }

    private static func ucs2(_ units: [UInt16]) -> [UInt8] {
        units.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    // MARK: - Structures

    private static func directoryRecordLength(nameLength: Int) -> Int {
        let length = 33 + nameLength
        return length + (length % 2)
    }

    /// Blocks a root directory needs: `.` and `..` then one record per file; records never
    /// cross a block boundary.
    private static func directoryBlocks(nameLengths: [Int]) -> Int {
        var blocks = 1
        var used = 34 + 34
        for length in nameLengths {
            let record = directoryRecordLength(nameLength: length)
            if used + record > blockSize {
                blocks += 1
                used = 0
            }
            used += record
        }
        return blocks
    }

    private static func directory(selfBlock: Int, blocks: Int, records: [([UInt8], Int, Int)]) -> [UInt8] {
        var data = [UInt8](repeating: 0, count: blocks * blockSize)
        var offset = 0
        func put(_ record: [UInt8]) {
            if offset % blockSize + record.count > blockSize {
                offset = (offset / blockSize + 1) * blockSize
            }
            data.replaceSubrange(offset ..< offset + record.count, with: record)
            offset += record.count
        }
        let size = blocks * blockSize
        put(directoryRecord(name: [0], extent: selfBlock, size: size, isDirectory: true))
        put(directoryRecord(name: [1], extent: selfBlock, size: size, isDirectory: true))
        for (name, extent, length) in records {
            put(directoryRecord(name: name, extent: extent, size: length, isDirectory: false))
        }
        return data
    }

    private static func directoryRecord(name: [UInt8], extent: Int, size: Int, isDirectory: Bool) -> [UInt8] {
        var record: [UInt8] = []
        record.append(UInt8(directoryRecordLength(nameLength: name.count)))
        record.append(0)  // extended attribute record length
        record += both32(extent)
        record += both32(size)
        record += recordingDate
        record.append(isDirectory ? 2 : 0)  // file flags
        record.append(0)  // file unit size
        record.append(0)  // interleave gap size
        record += both16(1)  // volume sequence number
        record.append(UInt8(name.count))
        record += name
        if record.count % 2 == 1 { record.append(0) }
        return record
    }

    private static func pathTable(rootBlock: Int, bigEndian: Bool) -> [UInt8] {
        // One entry: the root (identifier 0x00, parent directory number 1), padded to even length.
        var entry: [UInt8] = [1, 0]
        entry += bigEndian ? be32(rootBlock) : le32(rootBlock)
        entry += bigEndian ? [0, 1] : [1, 0]
        entry += [0, 0]
        return entry
    }

    private static let pathTableSize = 10

    private static func volumeDescriptor(
        joliet: Bool, volumeID: String, totalBlocks: Int,
        pathTableL: Int, pathTableM: Int, rootBlock: Int, rootBlocks: Int
    ) -> [UInt8] {
        var d = [UInt8](repeating: 0, count: blockSize)
        func put(_ bytes: [UInt8], at offset: Int) {
            d.replaceSubrange(offset ..< offset + bytes.count, with: bytes)
        }
        /// A text field: ASCII padded with spaces, or UCS-2 padded with UCS-2 spaces (an odd
        /// length keeps a final zero byte, as genisoimage writes it).
        func text(_ value: String, width: Int) -> [UInt8] {
            if joliet {
                var bytes = value.isEmpty ? [] : ucs2(Array(jolietName(value).prefix(width / 2)))
                while bytes.count + 2 <= width { bytes += [0x00, 0x20] }
                while bytes.count < width { bytes.append(0) }
                return bytes
            } else {
                var bytes = Array(value.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? UInt8($0.value) : 0x5F }
                    .prefix(width))
                while bytes.count < width { bytes.append(0x20) }
                return bytes
            }
        }
        put([joliet ? 2 : 1] + Array("CD001".utf8) + [1], at: 0)
        put(text("", width: 32), at: 8)  // system identifier
        put(text(volumeID, width: 32), at: 40)
        put(both32(totalBlocks), at: 80)
        if joliet { put([0x25, 0x2F, 0x45], at: 88) }  // UCS-2 level 3
        put(both16(1), at: 120)  // volume set size
        put(both16(1), at: 124)  // volume sequence number
        put(both16(blockSize), at: 128)
        put(both32(pathTableSize), at: 132)
        put(le32(pathTableL), at: 140)
        put(be32(pathTableM), at: 148)
        put(directoryRecord(name: [0], extent: rootBlock, size: rootBlocks * blockSize, isDirectory: true), at: 156)
        put(text("", width: 128), at: 190)  // volume set identifier
        put(text("", width: 128), at: 318)  // publisher
        put(text("", width: 128), at: 446)  // data preparer
        put(text(joliet ? "" : "VIRTSYNC", width: 128), at: 574)  // application
        put(text("", width: 37), at: 702)  // copyright file
        put(text("", width: 37), at: 739)  // abstract file
        put(text("", width: 37), at: 776)  // bibliographic file
        put(volumeDate, at: 813)  // creation
        put(volumeDate, at: 830)  // modification
        put(unsetDate, at: 847)  // expiration
        put(unsetDate, at: 864)  // effective
        d[881] = 1  // file structure version
        return d
    }

    // MARK: - Numbers and dates

    /// 1970-01-01 00:00:00, GMT offset 0 (directory record form: years since 1900, ...).
    private static let recordingDate: [UInt8] = [70, 1, 1, 0, 0, 0, 0]
    private static let volumeDate: [UInt8] = Array("1970010100000000".utf8) + [0]
    private static let unsetDate: [UInt8] = Array("0000000000000000".utf8) + [0]

    private static func le32(_ v: Int) -> [UInt8] {
        let u = UInt32(v)
        return [UInt8(u & 0xFF), UInt8((u >> 8) & 0xFF), UInt8((u >> 16) & 0xFF), UInt8(u >> 24)]
    }

    private static func be32(_ v: Int) -> [UInt8] { le32(v).reversed() }

    private static func both32(_ v: Int) -> [UInt8] { le32(v) + be32(v) }

    private static func both16(_ v: Int) -> [UInt8] {
        let u = UInt16(v)
        return [UInt8(u & 0xFF), UInt8(u >> 8), UInt8(u >> 8), UInt8(u & 0xFF)]
    }
}
