import Foundation
import Testing
import VirtsyncCore
import VirtsyncSpec

@Suite("directory source")
struct DirectorySourceTests {
    static let settings = "apiVersion: virtsync/v1\nkind: Settings\n"

    @Test("files are read recursively with sorted relative paths, hidden files and folders skipped")
    func recursiveAndHidden() throws {
        let dir = try TemporaryDirectory()
        try dir.write("b.yaml", Self.settings)
        try dir.write("vms/a.yml", "# nothing\n")
        try dir.write("cloud/user-data.cfg", "#cloud-config\n")
        try dir.write(".hidden.yaml", "not: [valid")
        try dir.write(".git/config", "x")
        try dir.write("vms/.swap.yaml", "x")
        let (files, diagnostics) = DirectorySource(root: dir.path).files()
        #expect(diagnostics.items.isEmpty, "\(diagnostics)")
        #expect(files.map(\.path) == ["b.yaml", "cloud/user-data.cfg", "vms/a.yml"])
        #expect(files.first?.bytes == Array(Self.settings.utf8))
    }

    @Test("a symbolic link that resolves outside the root is an error; one inside is read")
    func symlinks() throws {
        let outside = try TemporaryDirectory()
        try outside.write("secret.yaml", Self.settings)
        let dir = try TemporaryDirectory()
        try dir.write("real/settings.yaml", Self.settings)
        let manager = FileManager.default
        try manager.createSymbolicLink(atPath: dir.path + "/escape.yaml", withDestinationPath: outside.path + "/secret.yaml")
        try manager.createSymbolicLink(atPath: dir.path + "/escape-dir", withDestinationPath: outside.path)
        try manager.createSymbolicLink(atPath: dir.path + "/inside.yaml", withDestinationPath: "real/settings.yaml")
        try manager.createSymbolicLink(atPath: dir.path + "/loop", withDestinationPath: ".")
        let (files, diagnostics) = DirectorySource(root: dir.path).files()
        #expect(files.map(\.path) == ["inside.yaml", "real/settings.yaml"])
        #expect(diagnostics.errors.map(\.location.file) == ["escape-dir", "escape.yaml"])
        #expect(diagnostics.errors.allSatisfy { $0.message.hasPrefix("symbolic link resolves outside the spec directory") })
    }

    @Test("a .yaml file that is not UTF-8 text or holds NUL bytes is a binary file")
    func binary() throws {
        let dir = try TemporaryDirectory()
        try dir.write("good.yaml", Self.settings)
        try dir.write("nul.yaml", bytes: Array("kind: Host\n".utf8) + [0, 1, 2])
        try dir.write("latin1.yml", bytes: [0x6E, 0x61, 0x6D, 0x65, 0x3A, 0x20, 0xE9, 0x0A])
        try dir.write("image.png", bytes: [0x89, 0x50, 0x4E, 0x47, 0, 0xFF])
        let (files, diagnostics) = DirectorySource(root: dir.path).files()
        #expect(files.map(\.path) == ["good.yaml", "image.png"])
        #expect(diagnostics.description == """
            latin1.yml: error: binary file: a spec file must be UTF-8 text
            nul.yaml: error: binary file: a spec file must be UTF-8 text
            """)
    }

    @Test("a file larger than 1 MiB is an error")
    func tooLarge() throws {
        let dir = try TemporaryDirectory()
        try dir.write("good.yaml", Self.settings)
        try dir.write("huge.yaml", String(repeating: "# padding\n", count: 110_000))
        let (files, diagnostics) = DirectorySource(root: dir.path).files()
        #expect(files.map(\.path) == ["good.yaml"])
        #expect(diagnostics.errors.count == 1)
        #expect(diagnostics.errors.first?.location.file == "huge.yaml")
        #expect(diagnostics.errors.first?.message.hasPrefix("file is larger than 1 MiB") == true)
    }

    @Test("a spec over 64 MiB in all is an error at the file that crosses the limit, and nothing after it is read")
    func tooLargeInAll() throws {
        let dir = try TemporaryDirectory()
        let mebibyte = String(repeating: "# padding, a comment line of sixty-four bytes in all, padding!!\n", count: 16_384)
        for index in 0..<66 { try dir.write(String(format: "f%03d.yaml", index), mebibyte) }
        let (files, diagnostics) = DirectorySource(root: dir.path).files()
        #expect(files.count == 64)
        #expect(diagnostics.errors.map(\.location.file) == ["f064.yaml"])
        #expect(diagnostics.errors.first?.message == "the spec is larger than 64 MiB in all; nothing from this file on is read")
    }

    @Test("a spec of more than 10,000 files is an error")
    func tooManyFiles() throws {
        let dir = try TemporaryDirectory()
        for index in 0..<10_001 { try dir.write(String(format: "f%05d.yaml", index), "# empty\n") }
        let (files, diagnostics) = DirectorySource(root: dir.path).files()
        #expect(files.count == 10_000)
        #expect(diagnostics.errors.map(\.message) == ["the spec holds more than 10000 files; nothing after this one is read"])
    }

    @Test("an empty directory, or one without .yaml files, has no spec files")
    func empty() throws {
        let dir = try TemporaryDirectory()
        let (none, noneDiagnostics) = DirectorySource(root: dir.path).files()
        #expect(none.isEmpty)
        #expect(noneDiagnostics.errors.first?.message.hasPrefix("no spec files") == true)
        try dir.write("README.md", "# cluster\n")
        let (_, readmeDiagnostics) = DirectorySource(root: dir.path).files()
        #expect(readmeDiagnostics.errors.count == 1)
    }

    @Test("a missing root, or a file that is not .yaml, is a clear error")
    func missingOrFile() throws {
        let dir = try TemporaryDirectory()
        let (_, missing) = DirectorySource(root: dir.path + "/nope").files()
        #expect(missing.description == "\(dir.path)/nope: error: spec directory does not exist")
        try dir.write("notes.txt", "x")
        let (_, notDirectory) = DirectorySource(root: dir.path + "/notes.txt").files()
        #expect(notDirectory.errors.first?.message.hasPrefix("not a directory") == true)
    }

    @Test("a single .yaml file is a one-file spec")
    func singleFile() throws {
        let dir = try TemporaryDirectory()
        try dir.write("cluster.yaml", Self.settings)
        let (files, diagnostics) = DirectorySource(root: dir.path + "/cluster.yaml").files()
        #expect(diagnostics.items.isEmpty)
        #expect(files == [SpecFile(path: "cluster.yaml", bytes: Array(Self.settings.utf8))])
    }
}

extension DirectorySourceTests {
    @Test("a FIFO or socket in the spec directory, or given as the spec, is an error and is never opened")
    func specialFiles() throws {
        let dir = try TemporaryDirectory()
        try dir.write("good.yaml", Self.settings)
        #expect(mkfifo(dir.path + "/vms.yaml", 0o644) == 0)
        let socket = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = dir.path + "/net.yaml"
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        // Reading a FIFO with no writer would block forever: the walk must not open it.
        let (files, diagnostics) = DirectorySource(root: dir.path).files()
        #expect(files.map(\.path) == ["good.yaml"])
        #expect(diagnostics.description == """
            net.yaml: error: a socket: a spec directory holds only regular files, directories and symbolic links to them
            vms.yaml: error: a FIFO: a spec directory holds only regular files, directories and symbolic links to them
            """)
        let (single, singleDiagnostics) = DirectorySource(root: dir.path + "/vms.yaml").files()
        #expect(single.isEmpty)
        #expect(singleDiagnostics.errors.first?.message.hasPrefix("a FIFO") == true)
    }
}
