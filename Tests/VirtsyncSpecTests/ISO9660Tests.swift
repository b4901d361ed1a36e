import Foundation
import Testing
import VirtsyncCore
import VirtsyncISO

/// The NoCloud seed writer, checked with real readers: `isoinfo` (genisoimage) reads the primary
/// and Joliet trees as Linux does; `blkid` reports the label cloud-init looks for.
@Suite("ISO9660")
struct ISO9660Tests {
    static let isoinfo = ["/usr/bin/isoinfo", "/usr/local/bin/isoinfo"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    static let seed: [(name: String, bytes: [UInt8])] = [
        ("user-data", Array("#cloud-config\nhostname: web-1\nusers: [default]\n".utf8)),
        ("meta-data", Array("instance-id: web-1\nlocal-hostname: web-1\n".utf8)),
        ("network-config", Array("version: 2\nethernets:\n  eth0: {dhcp4: true}\n".utf8)),
    ]

    // MARK: - Structure (no external tool)

    @Test func descriptorsAndSize() {
        let image = ISO9660.image(volumeID: "cidata", files: Self.seed)
        #expect(image.count % ISO9660.blockSize == 0)
        func descriptor(_ block: Int) -> (type: UInt8, magic: String) {
            let start = block * 2048
            return (image[start], String(decoding: image[start + 1 ..< start + 6], as: UTF8.self))
        }
        #expect(descriptor(16).type == 1 && descriptor(16).magic == "CD001")  // primary
        #expect(descriptor(17).type == 2 && descriptor(17).magic == "CD001")  // Joliet
        #expect(descriptor(18).type == 255 && descriptor(18).magic == "CD001")  // terminator
        #expect(Array(image[17 * 2048 + 88 ..< 17 * 2048 + 91]) == [0x25, 0x2F, 0x45])  // UCS-2 level 3
        let label = String(decoding: image[16 * 2048 + 40 ..< 16 * 2048 + 72], as: UTF8.self)
        #expect(label == "cidata" + String(repeating: " ", count: 26))
        // Volume space size (little-endian half) matches the image length.
        let blocks = image[16 * 2048 + 80 ..< 16 * 2048 + 84].reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(blocks * 2048 == image.count)
        #expect(image[0 ..< 16 * 2048].allSatisfy { $0 == 0 })  // system area
    }

    @Test func deterministicAndOrderIndependent() {
        let a = ISO9660.image(volumeID: "cidata", files: Self.seed)
        let b = ISO9660.image(volumeID: "cidata", files: Self.seed)
        let c = ISO9660.image(volumeID: "cidata", files: Self.seed.reversed())
        #expect(a == b)
        #expect(a == c)
        #expect(Digest.sha256(a) == Digest.sha256(c))
        let other = ISO9660.image(
            volumeID: "cidata", files: [("user-data", Array("#cloud-config\n".utf8))] + Self.seed.dropFirst())
        #expect(other != a)
    }

    @Test func noFiles() {
        let image = ISO9660.image(volumeID: "cidata", files: [])
        #expect(image.count == 25 * 2048)  // 16 system + 3 descriptors + 4 path tables + 2 roots
    }

    // MARK: - Read back with isoinfo

    @Test(.enabled(if: isoinfo != nil, "isoinfo (genisoimage) not installed"))
    func cidataSeedReadsBackExactly() throws {
        let path = try Self.write(ISO9660.image(volumeID: "cidata", files: Self.seed))
        defer { try? FileManager.default.removeItem(atPath: path) }

        let info = try Self.run(["-d", "-i", path]).text
        #expect(info.contains("Volume id: cidata\n"))
        #expect(info.contains("Joliet with UCS level 3 found"))
        #expect(info.contains("Logical block size is: 2048"))

        #expect(try Self.jolietListing(path) == ["meta-data": 41, "network-config": 44, "user-data": 47])
        for (name, bytes) in Self.seed {
            #expect(try Self.run(["-J", "-x", "/\(name)", "-i", path]).bytes == bytes, "\(name)")
        }
        // The primary tree holds the level-1 (8.3) names of the same files.
        let primary = try Self.run(["-l", "-i", path]).text
        for name in ["META_DAT.;1", "NETWORK_.;1", "USER_DAT.;1"] {
            #expect(primary.contains(name), "\(name)")
        }
        #expect(try Self.run(["-x", "/USER_DAT.;1", "-i", path]).bytes == Self.seed[0].bytes)
    }

    @Test(.enabled(if: isoinfo != nil, "isoinfo (genisoimage) not installed"))
    func emptyAndLargeFiles() throws {
        let large = (0 ..< 100 * 1024).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let files: [(name: String, bytes: [UInt8])] = [
            ("empty", []), ("large.bin", large), ("meta-data", Array("instance-id: x\n".utf8)),
        ]
        let image = ISO9660.image(volumeID: "cidata", files: files)
        let path = try Self.write(image)
        defer { try? FileManager.default.removeItem(atPath: path) }

        #expect(try Self.jolietListing(path) == ["empty": 0, "large.bin": 100 * 1024, "meta-data": 15])
        #expect(try Self.run(["-J", "-x", "/empty", "-i", path]).bytes.isEmpty)
        #expect(try Self.run(["-J", "-x", "/large.bin", "-i", path]).bytes == large)
        #expect(try Self.run(["-J", "-x", "/meta-data", "-i", path]).bytes == files[2].bytes)
        // 25 blocks of metadata, 50 for the large file, 1 for meta-data, none for the empty file.
        #expect(image.count == (25 + 50 + 1) * 2048)
    }

    @Test(.enabled(if: isoinfo != nil, "isoinfo (genisoimage) not installed"))
    func manyFilesSpanDirectoryBlocksAndKeepUniqueShortNames() throws {
        // 120 long names: both root directories span several blocks, and every level-1 name
        // (the same 8-character prefix for all) must be made unique.
        let files = (0 ..< 120).map { index in
            (name: "configuration-fragment-\(index).yaml", bytes: Array("fragment \(index)\n".utf8))
        }
        let path = try Self.write(ISO9660.image(volumeID: "cidata", files: files))
        defer { try? FileManager.default.removeItem(atPath: path) }

        let listing = try Self.jolietListing(path)
        #expect(listing.count == 120)
        for (name, bytes) in files {
            #expect(listing[name] == bytes.count, "\(name)")
        }
        for index in [0, 57, 119] {
            #expect(try Self.run(["-J", "-x", "/\(files[index].name)", "-i", path]).bytes == files[index].bytes)
        }
        let primaryNames = try Self.run(["-l", "-i", path]).text.split(separator: "\n")
            .filter { $0.hasSuffix(";1 ") }
            .map { $0.split(separator: " ").last! }
        #expect(primaryNames.count == 120)
        #expect(Set(primaryNames).count == 120)
    }

    @Test(.enabled(if: isoinfo != nil, "isoinfo (genisoimage) not installed"))
    func namesOutsideLevelOneSurviveInJoliet() throws {
        let files: [(name: String, bytes: [UInt8])] = [
            ("Mixed.Case-name_1.txt", [1]), ("über-data", [2]), ("a:b", [3]), ("user-data", [4]),
            ("user-data", [5]),  // a duplicate: the later one wins
        ]
        let path = try Self.write(ISO9660.image(volumeID: "cidata", files: files))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try Self.jolietListing(path)
            == ["Mixed.Case-name_1.txt": 1, "über-data": 1, "a_b": 1, "user-data": 1])
        #expect(try Self.run(["-J", "-x", "/user-data", "-i", path]).bytes == [5])
    }

    // MARK: - Helpers

    static func write(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("virtsync-iso-\(UUID().uuidString).iso").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Runs isoinfo; fails the test on a non-zero exit. isoinfo prints Joliet names in ISO 8859-1
    /// unless told otherwise (`-j`), so the text is decoded as such.
    static func run(_ arguments: [String]) throws -> (bytes: [UInt8], text: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: isoinfo!)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "isoinfo \(arguments)")
        return ([UInt8](data), String(data: data, encoding: .isoLatin1) ?? "")
    }

    /// Joliet root listing: name -> size, without `.` and `..`.
    static func jolietListing(_ path: String) throws -> [String: Int] {
        // Lines look like: "----------   0    0    0     47 Jan  1 1970 [     26 00]  user-data "
        var result: [String: Int] = [:]
        for line in try run(["-J", "-l", "-i", path]).text.split(separator: "\n") where line.hasPrefix("-") {
            guard let close = line.firstIndex(of: "]") else { continue }
            let name = line[line.index(close, offsetBy: 3)...].dropLast()  // trailing space
            let fields = line[..<close].split(separator: " ")
            result[String(name)] = Int(fields[4])
        }
        return result
    }
}
